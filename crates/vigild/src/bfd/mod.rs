//! The BFD task: every `bfd_instance`'s session (the pure [`Sessions`] of vigil-bfd) on its
//! UDP sockets, as keepalived's BFD process runs them. It has a thread and a runtime of its own,
//! as keepalived's BFD has a process: a 10 ms session must not wait behind VRRP's timers, a
//! status request or a reload, and `bfd_rt_priority` and its kin apply to this thread alone.
//! What VRRP and the checkers act on is published as a map from instance name to "Up as last
//! reported": keepalived sends its other processes a session's coming Up and its falling from
//! Up (not when the remote system went AdminDown), and a session is down until it first comes
//! Up.

mod socket;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use vigil_bfd::fsm::Params;
use vigil_bfd::sessions::{Output, Peer, Sessions};
use vigil_bfd::wire::State;
use vigil_config::model::{BfdInstance, Config};

use crate::scheduling::Realtime;
use crate::status::BfdStatus;

/// Each session's state as VRRP and the checkers see it: Up as last reported.
pub type Up = Arc<BTreeMap<String, bool>>;

/// A session fell from Up because nothing came from its neighbour for a Detection Time: what
/// Vigil's `master_down_bfd` acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fall {
    pub name: String,
    pub neighbor: IpAddr,
    /// When the neighbour's first missing packet was due.
    pub missing_since: Instant,
}

/// A request to the BFD task.
pub enum Control {
    /// Run the `bfd_instance`s of this configuration from now on.
    Reload(Arc<Config>),
    /// Report every session, and the packets no session took.
    Status(oneshot::Sender<(Vec<BfdStatus>, BTreeMap<String, u64>)>),
}

/// The running task, as the daemon holds it.
pub struct Bfd {
    control: mpsc::Sender<Control>,
    up: watch::Receiver<Up>,
    falls: broadcast::Sender<Fall>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Bfd {
    /// Starts the task with `config`'s sessions on the `bfd` thread, scheduled as `config`'s
    /// `bfd_*` keywords ask; it ends when `stop` becomes true.
    pub fn start(config: &Config, stop: watch::Receiver<bool>) -> Bfd {
        let (control, control_rx) = mpsc::channel(16);
        let (up_tx, up) = watch::channel(Up::default());
        let (falls, _) = broadcast::channel(64);
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let peers = peers(config);
        let scheduling = config.global.bfd_scheduling.clone();
        let task_falls = falls.clone();
        let thread = std::thread::Builder::new()
            .name("bfd".into())
            .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(async move {
                    // RLIMIT_RTTIME's warning (bfd_rt_priority): heard before the limit is set.
                    let xcpu = signal(SignalKind::from_raw(nix::libc::SIGXCPU))
                        .map_err(|e| tracing::warn!("BFD: SIGXCPU handler: {e}"))
                        .ok();
                    crate::scheduling::apply("bfd", &scheduling, Realtime::Allowed);
                    run(peers, seed, stop, control_rx, up_tx, task_falls, xcpu).await
                }),
                Err(e) => tracing::error!("BFD: cannot start its runtime: {e}"),
            })
            .map_err(|e| tracing::error!("BFD: cannot start its thread: {e}"))
            .ok();
        Bfd { control, up, falls, thread }
    }

    /// What VRRP and the checkers act on, and its changes.
    pub fn up(&self) -> watch::Receiver<Up> {
        self.up.clone()
    }

    /// Each fall of a session from Up by expiry, from now on.
    pub fn falls(&self) -> broadcast::Receiver<Fall> {
        self.falls.subscribe()
    }

    /// Applies a new configuration's `bfd_instance`s.
    pub async fn reload(&self, config: Arc<Config>) {
        let _ = self.control.send(Control::Reload(config)).await;
    }

    /// Every session's state and counters, and the packets no session took by reason.
    pub async fn status(&self) -> (Vec<BfdStatus>, BTreeMap<String, u64>) {
        let (reply, answer) = oneshot::channel();
        if self.control.send(Control::Status(reply)).await.is_err() {
            return Default::default();
        }
        answer.await.unwrap_or_default()
    }

    /// Waits for the task to end (after the stop signal).
    pub async fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            if !matches!(tokio::task::spawn_blocking(move || thread.join().is_ok()).await, Ok(true)) {
                tracing::error!("BFD: its thread ended abnormally");
            }
        }
    }
}

/// The sessions `config` asks for.
fn peers(config: &Config) -> Vec<Peer> {
    config.bfd_instances.iter().map(peer).collect()
}

fn peer(b: &BfdInstance) -> Peer {
    Peer {
        name: b.name.clone(),
        neighbor: b.neighbor,
        source: b.source,
        params: Params {
            desired_min_tx: b.min_tx_us,
            required_min_rx: b.min_rx_us,
            idle_tx: b.idle_tx_us,
            detect_mult: b.multiplier,
        },
        passive: b.passive,
        ttl: b.ttl,
        max_hops: b.max_hops,
    }
}

/// How long a reader waits after a receive error before it reads again.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// A datagram a reader task passed on, with when it arrived.
struct Received {
    at: Instant,
    meta: socket::Datagram,
    bytes: Vec<u8>,
}

/// A session's sending socket and what it was opened for.
struct Sender {
    key: (IpAddr, Option<IpAddr>, u8),
    socket: std::net::UdpSocket,
    /// Whether the last send failed (logged once until one succeeds).
    failing: bool,
}

struct Task {
    sessions: Sessions,
    senders: HashMap<String, Sender>,
    /// Whether the receiving socket of each family (IPv4, IPv6) is open.
    receiving: [bool; 2],
    received_tx: mpsc::Sender<Received>,
    up: BTreeMap<String, bool>,
    up_tx: watch::Sender<Up>,
    falls: broadcast::Sender<Fall>,
    /// Datagrams no session took, by reason.
    dropped: BTreeMap<&'static str, u64>,
    next_port: u16,
}

async fn run(
    peers: Vec<Peer>,
    seed: u64,
    mut stop: watch::Receiver<bool>,
    mut control: mpsc::Receiver<Control>,
    up_tx: watch::Sender<Up>,
    falls: broadcast::Sender<Fall>,
    mut xcpu: Option<Signal>,
) {
    let (received_tx, mut received) = mpsc::channel(1024);
    let mut t = Task {
        sessions: Sessions::new(seed),
        senders: HashMap::new(),
        receiving: [false, false],
        received_tx,
        up: BTreeMap::new(),
        up_tx,
        falls,
        dropped: BTreeMap::new(),
        next_port: 49152 + (seed % 16384) as u16,
    };
    t.set(peers);
    loop {
        let deadline = t.sessions.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            Some(c) = control.recv() => match c {
                Control::Reload(config) => {
                    crate::scheduling::apply("bfd", &config.global.bfd_scheduling, Realtime::Allowed);
                    t.set(self::peers(&config))
                }
                Control::Status(reply) => {
                    let dropped = t.dropped.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
                    let _ = reply.send((t.status(), dropped));
                }
            },
            Some(r) = received.recv() => t.receive(r),
            () = sleep => t.sessions.handle_timeout(Instant::now()),
            Some(()) = async { xcpu.as_mut()?.recv().await } => {
                tracing::info!("BFD process has used too much CPU time, bfd_rlimit_rttime may need to be increased");
            }
        }
        t.flush();
    }
}

impl Task {
    fn set(&mut self, peers: Vec<Peer>) {
        for (name, e) in self.sessions.set(Instant::now(), peers.clone()) {
            tracing::error!("({name}) not started: {e}");
        }
        self.senders.retain(|name, _| peers.iter().any(|p| &p.name == name));
        let before = self.up.len();
        self.up.retain(|name, _| peers.iter().any(|p| &p.name == name));
        if self.up.len() != before {
            self.up_tx.send_replace(Arc::new(self.up.clone()));
        }
        for v6 in [false, true] {
            if !self.receiving[usize::from(v6)] && peers.iter().any(|p| p.neighbor.is_ipv6() == v6) {
                self.receiving[usize::from(v6)] = self.open_receiver(v6);
            }
        }
        self.flush();
    }

    /// Opens the receiving socket of a family and starts its reader; false when it cannot.
    fn open_receiver(&self, v6: bool) -> bool {
        let family = if v6 { "IPv6" } else { "IPv4" };
        let sock = match socket::open_receiver(v6) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("BFD: cannot receive on {family} UDP port {}: {e}", socket::CONTROL_PORT);
                return false;
            }
        };
        let tx = self.received_tx.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                match socket::receive(&sock, &mut buf).await {
                    Ok(meta) => {
                        let bytes = buf[..meta.len.min(buf.len())].to_vec();
                        if tx.send(Received { at: Instant::now(), meta, bytes }).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        // A socket error that would repeat at once must not spin the CPU.
                        tracing::debug!("BFD: {family} receive error: {e}");
                        tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
                    }
                }
            }
        });
        true
    }

    fn receive(&mut self, r: Received) {
        let m = &r.meta;
        if let Err(e) = self.sessions.receive(r.at, m.from, m.to, m.ttl, &r.bytes) {
            use vigil_bfd::sessions::Dropped;
            let reason = match e {
                Dropped::Malformed(_) => "malformed",
                Dropped::UnknownDiscriminator(_) => "unknown_discriminator",
                Dropped::UnknownNeighbor { .. } => "unknown_neighbor",
                Dropped::Session(_) => "session",
            };
            *self.dropped.entry(reason).or_default() += 1;
            tracing::debug!("BFD: dropped a packet from {}: {e}", m.from);
        }
    }

    /// Carries out what the sessions asked for.
    fn flush(&mut self) {
        let mut changed = false;
        while let Some(out) = self.sessions.poll_output() {
            match out {
                Output::Transmit { name, to, from, ttl, packet } => self.send(&name, to, from, ttl, &packet),
                Output::Log { line, warning: true, .. } => tracing::warn!("{line}"),
                Output::Log { line, warning: false, .. } => tracing::info!("{line}"),
                Output::Changed { name, transition, missed_for } => {
                    let neighbor = self.sessions.peer(&name).map(|p| p.neighbor);
                    if let (true, State::Down, Some(missed_for), Some(neighbor)) =
                        (transition.reported(), transition.to, missed_for, neighbor)
                    {
                        // Nobody listening (no master_down_bfd) is no error.
                        // The expiry was handled just now: its time less how long before it the
                        // packet was due.
                        let now = Instant::now();
                        let missing_since = now.checked_sub(missed_for).unwrap_or(now);
                        let _ = self.falls.send(Fall { name: name.clone(), neighbor, missing_since });
                    }
                    if transition.reported() {
                        let up = transition.to == State::Up;
                        changed |= self.up.insert(name, up) != Some(up);
                    }
                }
            }
        }
        if changed {
            self.up_tx.send_replace(Arc::new(self.up.clone()));
        }
    }

    fn send(&mut self, name: &str, to: IpAddr, from: Option<IpAddr>, ttl: u8, packet: &[u8]) {
        let key = (to, from, ttl);
        if self.senders.get(name).is_none_or(|s| s.key != key) {
            match socket::open_sender(to, from, ttl, self.next_port) {
                Ok(socket) => {
                    self.next_port = self.next_port.wrapping_add(1).max(49152);
                    self.senders.insert(name.to_string(), Sender { key, socket, failing: false });
                }
                Err(e) => {
                    tracing::error!("({name}) cannot open a socket to send to {to}: {e}");
                    return;
                }
            }
        }
        let Some(s) = self.senders.get_mut(name) else { return };
        match s.socket.send_to(packet, std::net::SocketAddr::new(to, socket::CONTROL_PORT)) {
            Ok(_) => s.failing = false,
            Err(e) => {
                if !s.failing {
                    tracing::warn!("({name}) cannot send to {to}: {e}");
                }
                s.failing = true;
            }
        }
    }

    fn status(&self) -> Vec<BfdStatus> {
        self.sessions
            .views()
            .into_iter()
            .map(|v| BfdStatus {
                up: self.up.get(&v.name).copied().unwrap_or(false),
                name: v.name,
                neighbor: v.neighbor,
                state: v.state.to_string(),
                remote_state: v.remote_state.to_string(),
                local_discriminator: v.local_discriminator,
                remote_discriminator: v.remote_discriminator,
                tx_interval_ms: v.tx_interval_us as f64 / 1000.0,
                detection_time_ms: v.detection_time_us.map(|us| us as f64 / 1000.0),
                received: v.stats.received,
                sent: v.stats.sent,
                discarded: v.stats.discarded,
                went_up: v.stats.up,
                went_down: v.stats.down,
            })
            .collect()
    }
}
