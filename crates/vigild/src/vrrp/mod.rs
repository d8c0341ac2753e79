//! The VRRP subsystem: one task owns every instance's state machine; thin tasks read the
//! sockets, the kernel's link and address events and the tracking scripts, and feed it inputs.
//! Every protocol decision is in `vigil_vrrp::router`'s [`Router`], which owns the state
//! machines, the peers' readings, the sync groups and the VIPs' hold; this module feeds it and
//! carries out its actions.
//!
//! A reload hands the task a new configuration: an unchanged instance goes on untouched (its
//! state, timers and VIPs); a changed one stays in its state with the new settings (priority,
//! advert interval, VIPs in any attribute, preemption, tracked items, virtual routes, notify
//! scripts, ...), touching only the VIPs and routes that differ, unless what changed is what
//! the instance is (interface, VRID, version, socket, sync group): then it resigns and starts
//! again; a removed one resigns, a new one starts. Tracking scripts whose definition did not change
//! keep running and keep their state.

mod delays;
mod firewall;
mod garp;
mod owned;
mod process;
mod routes;
mod setup;
mod statics;
mod syncd;
mod track;
mod vmac;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use vigil_config::model::{Config, Track, TrackFile, TrackProcess, VrrpInstance, VrrpScript};
use vigil_config::span::same_ignoring_spans;
use vigil_vrrp::fsm::{self, Action, Input, NotifyState, State, TrackerReport};
use vigil_vrrp::io::{AddOutcome, Addresses, FrameSender, Monitor, NetEvent, RemoveOutcome, Routes, Vip, VrrpSocket};
use vigil_vrrp::plan::{tracker_id, Address, TrackedKind};
use vigil_vrrp::receive::{self, Accepted, Drop};
use vigil_vrrp::router::master_gone::Veto;
use vigil_vrrp::router::peers::{Checksum, Note, Settings as PeerSettings};
use vigil_vrrp::router::reload::{self, Reconfigure};
use vigil_vrrp::router::{InstanceId, Router, RouterAction, RouterInput};
use vigil_vrrp::wire::{self, arp, ethernet, ndisc, VrrpPacket, VrrpRepr};

use self::delays::LinkDelays;
use self::firewall::Firewall;
use self::garp::Garp;
use self::process::ProcessStatus;
use self::routes::{Owner, RouteSet};
use self::statics::StaticAddresses;
use self::track::{FileStatus, ScriptStatus};
use crate::events::{Events, Kind};
use crate::notify::Notifier;
use crate::status::{unix_time, InstanceStatus, PeerSeen, PriorityTerm, Reloaded, Transition};
use vigil_check::alert::{vrrp_group_mail, vrrp_mail, Alerter};

/// How long before a timer's deadline the task stops relying on tokio's millisecond timer.
const PRECISE_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// How late a timer is seen when the loop was busy rather than merely woken: well above the
/// precise wait's error, well below any advert interval.
const LATE: std::time::Duration = std::time::Duration::from_millis(20);

/// An input for the owning task.
enum Event {
    /// A message on the socket of the instance whose [`Running::id`] is `id`, checked.
    Packet { id: InstanceId, src: IpAddr, result: Result<Accepted, Drop> },
    /// The kernel reported a change.
    Net(NetEvent),
    /// A tracking script changed state.
    Script(ScriptStatus),
    /// A tracked file's value changed.
    File(FileStatus),
    /// A tracked process set reached or lost its quorum.
    Process(ProcessStatus),
    /// BFD sessions came Up or fell from Up: each session's state as last reported.
    Bfd(crate::bfd::Up),
}

/// A request from the daemon to the VRRP task.
pub enum Control {
    /// Run `config` (already read and checked) from now on.
    Reload { config: Arc<Config>, reply: oneshot::Sender<Reloaded> },
    /// Report every instance.
    Status { reply: oneshot::Sender<Vec<InstanceStatus>> },
    /// Zero every instance's counters (keepalived's STATS_CLEAR signal).
    ClearStats,
}

/// Why an instance resigns.
#[derive(Clone, Copy)]
enum Resign {
    /// vigild stops.
    Stop,
    /// A reload removed it, or changed it into another instance (restarted).
    Removed,
}

/// One running instance.
struct Running {
    /// Names the instance to the router and in [`Event::Packet`] across reloads (indices move).
    id: InstanceId,
    /// The plan as resolved from the configuration: what the sockets and frames are built
    /// from. The router holds the same one, except during a reload, where it has the new one
    /// first; adverts are built from the router's (see `send_advert`).
    plan: setup::Plan,
    model: VrrpInstance,
    ifindex: u32,
    ifname: String,
    /// Whether the interface was up when the instance was resolved (its link is read once).
    link_up_at_start: bool,
    mac: Option<wire::MacAddr>,
    socket: Arc<VrrpSocket>,
    reader: Option<AbortHandle>,
    garp: Option<Arc<FrameSender>>,
    /// VIPs this instance added (and so may remove); others were there before.
    added: HashSet<IpAddr>,
    notifier: Notifier,
    drops: HashMap<&'static str, u64>,
    /// (sender, problem) pairs already logged at warning level; repeats go to debug.
    warned: HashSet<(IpAddr, &'static str)>,
    /// Tracked interfaces: index, position in the instance's list, and the line.
    track_if: Vec<(u32, usize, Track)>,
    /// VIPs with a `dev` other than the instance's interface, and that device.
    vip_dev: HashMap<IpAddr, Device>,
    /// `virtual_routes` and `virtual_rules`, installed while MASTER.
    routes: RouteSet,
    /// Alert mails on transitions (`smtp_alert`), when enabled and possible.
    alerts: Option<Alerter>,
    /// When the current state was entered, and the last transition.
    since: SystemTime,
    last_transition: Option<Transition>,
    /// VIPs re-added after something else removed them while MASTER.
    vips_restored: u64,
    /// VIPs whose last add failed: never announced.
    unheld: HashSet<IpAddr>,
    /// The macvlan interface of `use_vmac`, removed when the instance stops.
    vmac: Option<vmac::Made>,
}

/// What the owning task changes in the kernel, and its records of what it added.
struct Kernel {
    addresses: Addresses,
    routes: Routes,
    /// VIPs added ([`owned::vip`] keys).
    vips: owned::Owned,
    /// Routes and rules added.
    routes_record: owned::Owned,
    /// The IPVS sync daemon following `lvs_sync_daemon`'s instance.
    syncd: Option<syncd::Follower>,
    /// Gratuitous ARPs and NAs, spaced per interface.
    garp: Garp,
    /// The drop rules of MASTERs without accept mode, while an instance may need them.
    firewall: Option<Firewall>,
    /// What the vmacs changed on the host, to put back.
    vmacs: vmac::HostChanges,
}

impl Kernel {
    /// Writes the records of what was added, after the work of one event is done.
    fn flush_records(&mut self) {
        self.vips.flush();
        self.routes_record.flush();
    }
}

/// An interface a VIP lives on when its `dev` is not the instance's.
struct Device {
    ifindex: u32,
    name: String,
    mac: Option<wire::MacAddr>,
    garp: Option<Arc<FrameSender>>,
}

impl Running {
    /// Every VIP of the instance, excluded ones too.
    fn vip_addrs(&self) -> Vec<IpAddr> {
        self.model.virtual_ipaddress.iter().chain(&self.model.virtual_ipaddress_excluded).map(|v| v.addr).collect()
    }

    /// The interface (index, name) VIP `ip` lives on.
    fn vip_link(&self, ip: IpAddr) -> (u32, &str) {
        match self.vip_dev.get(&ip) {
            Some(d) => (d.ifindex, &d.name),
            None => (self.ifindex, &self.ifname),
        }
    }

    /// Every router heard, and every unicast peer (heard or not).
    fn peers_seen(&self, peers: &vigil_vrrp::router::peers::Peers) -> Vec<PeerSeen> {
        let configured: &[IpAddr] = match &self.plan.socket.mode {
            vigil_vrrp::io::Mode::Unicast { peers } => peers,
            vigil_vrrp::io::Mode::Multicast { .. } => &[],
        };
        let mut addresses: Vec<IpAddr> = peers.heard().keys().chain(configured).copied().collect();
        addresses.sort();
        addresses.dedup();
        addresses
            .into_iter()
            .map(|address| {
                let heard = peers.heard().get(&address);
                PeerSeen {
                    address,
                    priority: heard.map(|h| h.priority),
                    last_seen: heard.map(|h| unix_time(h.at)),
                    checksum: peers.checksum_of(address).map(Checksum::name),
                }
            })
            .collect()
    }

    fn status(&self, router: &Router) -> Option<InstanceStatus> {
        let (fsm, peers) = (router.fsm(self.id)?, router.peers(self.id)?);
        let state = fsm.state();
        let master = match state {
            State::Master => Some(self.plan.fsm.primary_address),
            // The latest sender heard with a priority above 0 (one leaving sends 0).
            State::Backup => peers.last_master(),
            State::Initialize | State::Fault => None,
        };
        let stats = fsm.stats();
        Some(InstanceStatus {
            name: self.model.name.clone(),
            interface: self.ifname.clone(),
            vrid: self.plan.fsm.vrid,
            version: match self.plan.fsm.version {
                fsm::Version::V2 => 2,
                fsm::Version::V3 => 3,
            },
            state: state.to_string(),
            priority: self.plan.fsm.priority,
            effective_priority: fsm.effective_priority(),
            master,
            vips: self.plan.fsm.vips.clone(),
            accept_mode: self.plan.fsm.accepts(),
            since: unix_time(self.since),
            last_transition: self.last_transition.clone(),
            adverts_sent: stats.adverts_sent,
            adverts_received: stats.adverts_received,
            became_master: stats.became_master,
            released_master: stats.released_master,
            transitions: stats.transitions,
            vips_restored: self.vips_restored,
            conflicts: peers.conflicts(),
            // The receiver's drops, and the adverts the state machine discards (RFC 3768 7.1).
            drops: self
                .drops
                .iter()
                .map(|(k, v)| (*k, *v))
                .chain([("address_list", stats.address_list_errors), ("advert_interval", stats.advert_interval_errors)])
                .filter(|(_, v)| *v > 0)
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            peers: self.peers_seen(peers),
            priority_terms: self.priority_terms(fsm),
            vmac: self.plan.vmac.as_ref().map(|v| v.name.clone()),
        })
    }

    /// Each tracked item's part in the priority, named from the plan's tracked lines.
    fn priority_terms(&self, fsm: &fsm::Instance) -> Vec<PriorityTerm> {
        let counted: Vec<(u32, bool, i64)> = fsm.tracked().collect();
        let mut positions: HashMap<TrackedKind, usize> = HashMap::new();
        self.plan
            .tracked
            .iter()
            .filter_map(|t| {
                let n = positions.entry(t.kind).or_default();
                let id = tracker_id(t.kind, *n);
                *n += 1;
                let word = match t.kind {
                    TrackedKind::Interface => "interface",
                    TrackedKind::Script => "script",
                    TrackedKind::File => "file",
                    TrackedKind::Bfd => "bfd",
                    TrackedKind::Process => "process",
                };
                let &(_, up, adds) = counted.iter().find(|(i, _, _)| *i == id)?;
                Some(PriorityTerm {
                    tracker: format!("{word} {}", t.name),
                    adds,
                    state: if up { "up" } else { "down" }.into(),
                })
            })
            .collect()
    }
}

/// The definitions tracked items refer to, and the BFD sessions' states.
struct Trackers {
    files: Vec<TrackFile>,
    scripts: Vec<VrrpScript>,
    processes: Vec<TrackProcess>,
    /// Each tracked process set's state as last reported.
    process_up: HashMap<String, bool>,
    /// Each BFD session's state as last reported: down until it first comes Up.
    bfd_up: crate::bfd::Up,
}

/// A `vrrp_sync_group` that runs: its notify scripts and mails (the router moves its members).
struct Group {
    name: String,
    notify: vigil_config::model::Notify,
    notifier: Notifier,
    alerts: Option<Alerter>,
}

/// A running tracker task, its definition, and what it last reported.
struct TrackerTask<D, S> {
    def: D,
    task: AbortHandle,
    last: Option<S>,
}

/// Everything the owning task holds.
struct Vrrp {
    config: Arc<Config>,
    running: Vec<Running>,
    groups: Vec<Group>,
    router: Router,
    kernel: Kernel,
    trackers: Trackers,
    scripts: HashMap<String, TrackerTask<VrrpScript, ScriptStatus>>,
    files: HashMap<String, TrackerTask<TrackFile, FileStatus>>,
    /// The /proc scanner of the tracked `vrrp_track_process`es, while there are any.
    processes: Option<AbortHandle>,
    statics: RouteSet,
    /// `static_ipaddress`, on their interfaces from start to stop.
    static_addresses: StaticAddresses,
    priorities: HashMap<vigil_config::span::Span, u32>,
    alerter: Alerter,
    events: Events,
    tx: mpsc::Sender<Event>,
    next_id: u64,
    /// Instances whose interface does not exist (yet): each starts when it appears.
    waiting: Vec<VrrpInstance>,
    /// `interface_up_down_delays`: link changes held before the instances hear of them.
    delays: LinkDelays,
}

/// Runs every vrrp_instance until `stop` becomes true, then resigns (priority 0 adverts,
/// VIPs, routes and rules removed) and returns. `static_routes` and `static_rules` are in the
/// kernel from start to stop. `control` brings reloads and status requests.
pub async fn run(
    config: Arc<Config>,
    mut stop: watch::Receiver<bool>,
    mut control: mpsc::Receiver<Control>,
    events: Events,
    mut bfd: watch::Receiver<crate::bfd::Up>,
    mut falls: tokio::sync::broadcast::Receiver<crate::bfd::Fall>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let kernel = Kernel {
        addresses: Addresses::new().context("opening rtnetlink")?,
        routes: Routes::new().context("opening rtnetlink")?,
        vips: owned::Owned::load("vips"),
        routes_record: owned::Owned::load("routes"),
        syncd: None,
        garp: Garp::new(&config),
        firewall: None,
        vmacs: vmac::HostChanges::default(),
    };
    let mut monitor = Monitor::open().await.context("subscribing to link and address events")?;
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = monitor.next().await {
                if tx.send(Event::Net(ev)).await.is_err() {
                    break;
                }
            }
        });
    }
    let priorities = routes::default_rule_priorities(&config);
    routes::log_default_rule_priorities(&priorities);
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    let alerter = Alerter::new(vigil_check::plan::alert_settings(&config), hostname);
    let mut v = Vrrp {
        config: config.clone(),
        running: Vec::new(),
        groups: Vec::new(),
        router: Router::new(),
        kernel,
        trackers: Trackers {
            files: config.track_files.clone(),
            scripts: config.vrrp_scripts.clone(),
            processes: Vec::new(),
            process_up: HashMap::new(),
            bfd_up: bfd.borrow_and_update().clone(),
        },
        scripts: HashMap::new(),
        files: HashMap::new(),
        processes: None,
        statics: RouteSet::empty(Owner::Static),
        static_addresses: StaticAddresses::default(),
        priorities,
        alerter,
        events,
        tx,
        next_id: 0,
        waiting: Vec::new(),
        delays: LinkDelays::default(),
    };
    let mut fresh = Vec::new();
    for i in &config.instances {
        if let Some(r) = v.open_or_wait(i).await {
            fresh.push(r.id);
            v.running.push(r);
        }
    }
    if v.running.is_empty() && v.waiting.is_empty() && !config.instances.is_empty() {
        vmac::restore(&mut v.kernel.vmacs);
        anyhow::bail!("no vrrp_instance could start");
    }
    v.groups = sync_groups(&config, &v.running, &mut v.router, &v.alerter, &v.events);
    v.delays = LinkDelays::new(&config, &v.kernel.addresses, &v.links()).await;
    v.start_firewall().await;
    v.kernel.syncd = syncd::Follower::start(&config, |name| {
        v.running.iter().find(|r| r.model.name == name).map(|r| r.plan.fsm.vrid)
    });
    v.track();
    v.static_addresses = StaticAddresses::install(&config, &v.kernel.addresses, &mut v.kernel.vips).await;
    v.install_statics().await;
    for id in fresh {
        v.begin(id).await;
    }
    v.kernel.flush_records();

    loop {
        let deadline = v.router.poll_timeout();
        let sleep = async {
            match deadline {
                // tokio's timer wheel has millisecond ticks and fires up to a tick late; that
                // lateness would add to every advert interval and to the takeover time. Wake a
                // little early on it and finish with a precise sleep (a millisecond or two,
                // during which arriving packets wait in the socket buffer).
                Some(d) => {
                    tokio::time::sleep_until(Instant::from_std(d) - PRECISE_WAIT).await;
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if !left.is_zero() {
                        std::thread::sleep(left);
                    }
                }
                None => std::future::pending().await,
            }
        };
        let held = v.delays.next_due();
        let held_due = async {
            match held {
                Some(due) => tokio::time::sleep_until(Instant::from_std(due)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            Some(c) = control.recv() => match c {
                Control::Reload { config, reply } => {
                    let done = v.reload(config).await;
                    let _ = reply.send(done);
                }
                Control::Status { reply } => {
                    let _ = reply.send(v.running.iter().filter_map(|r| r.status(&v.router)).collect());
                }
                Control::ClearStats => {
                    v.router.clear_stats();
                    for r in &mut v.running {
                        r.drops.clear();
                        r.vips_restored = 0;
                    }
                }
            },
            ev = rx.recv() => match ev {
                Some(ev) => v.event(ev).await,
                None => break,
            },
            Ok(()) = bfd.changed() => {
                let up = bfd.borrow_and_update().clone();
                v.event(Event::Bfd(up)).await;
            }
            Ok(fall) = falls.recv() => {
                v.master_gone(&fall);
                execute(&mut v.running, &v.groups, &mut v.router, &mut v.kernel).await;
            }
            () = sleep => {
                // A timer seen late (the loop was busy with a reload, or the process stopped)
                // comes after what arrived meanwhile: an advert in time resets the
                // Master_Down_Timer instead of losing the race to it. The readers run first
                // (they share this thread), then what they queued is taken, no more than was
                // there. A timer seen on time is not held up behind them.
                if deadline.is_some_and(|d| std::time::Instant::now() > d + LATE) {
                    tokio::task::yield_now().await;
                    for _ in 0..rx.len() {
                        let Ok(ev) = rx.try_recv() else { break };
                        v.event(ev).await;
                    }
                }
                v.router.handle_timeout(Instant::now().into_std());
                execute(&mut v.running, &v.groups, &mut v.router, &mut v.kernel).await;
            }
            () = held_due => {
                for (ifindex, up) in v.delays.due(Instant::now().into_std()) {
                    let ev = if up { NetEvent::LinkUp { ifindex } } else { NetEvent::LinkDown { ifindex } };
                    v.apply(Event::Net(ev)).await;
                }
            }
        }
        v.kernel.flush_records();
    }
    let now = Instant::now().into_std();
    for idx in 0..v.running.len() {
        v.resign(idx, now, Resign::Stop).await;
    }
    vmac::restore(&mut v.kernel.vmacs);
    v.statics.remove(&v.kernel.routes, &mut v.kernel.routes_record).await;
    v.static_addresses.remove_all(&v.kernel.addresses, &mut v.kernel.vips).await;
    if let Some(fw) = &mut v.kernel.firewall {
        fw.finish().await;
    }
    v.kernel.flush_records();
    if let Some(s) = v.kernel.syncd.take() {
        s.stop().await;
    }
    Ok(())
}

impl Vrrp {
    /// [`open`](Self::open), or, when the instance's interface does not exist, a note that
    /// it waits for it (keepalived's dynamic interfaces: a VLAN, bond or tunnel created after
    /// the daemon).
    async fn open_or_wait(&mut self, i: &VrrpInstance) -> Option<Running> {
        if let Some((ifname, _)) = &i.interface {
            if self.kernel.addresses.link_by_name(ifname).await.is_err() {
                tracing::warn!(
                    "({}) interface {ifname} does not exist (yet); the instance starts when it appears",
                    i.name
                );
                self.waiting.push(i.clone());
                return None;
            }
        }
        match self.open(i).await {
            Ok(r) => Some(r),
            Err(e) if matches!(e.downcast_ref(), Some(setup::SetupError::NoSource { .. })) => {
                tracing::warn!("({}) {e:#}; the instance starts when the interface has one", i.name);
                self.waiting.push(i.clone());
                None
            }
            Err(e) => {
                tracing::error!("({}) cannot start: {e:#}", i.name);
                None
            }
        }
    }

    /// Starts the waiting instances whose interface is `name` (it appeared), or all of them
    /// that can start (`None`: an address was added somewhere).
    async fn start_waiting(&mut self, name: Option<&str>) {
        let mut ready = Vec::new();
        for i in std::mem::take(&mut self.waiting) {
            let ifname = i.interface.as_ref().map(|(n, _)| n.as_str()).unwrap_or_default();
            let now = match name {
                Some(name) => ifname == name,
                None => self.kernel.addresses.link_by_name(ifname).await.is_ok(),
            };
            if now {
                ready.push(i);
            } else {
                self.waiting.push(i);
            }
        }
        if ready.is_empty() {
            return;
        }
        let mut fresh = Vec::new();
        for i in &ready {
            if let Some(name) = name {
                tracing::info!("({}) interface {name} appeared: starting", i.name);
            }
            if let Some(r) = self.open_or_wait(i).await {
                fresh.push(r.id);
                self.running.push(r);
            }
        }
        let config = self.config.clone();
        self.groups = sync_groups(&config, &self.running, &mut self.router, &self.alerter, &self.events);
        self.track();
        for id in fresh {
            self.begin(id).await;
        }
    }

    /// Resolves and opens one instance and starts reading its socket; it stays in
    /// Initialize until [`begin`](Self::begin).
    async fn open(&mut self, i: &VrrpInstance) -> anyhow::Result<Running> {
        let addresses = &self.kernel.addresses;
        let (ifname, _) = i.interface.as_ref().ok_or_else(|| setup::SetupError::NoInterface(i.name.clone()))?;
        let link = addresses.link_by_name(ifname).await.with_context(|| format!("interface {ifname}"))?;
        let choice = match &i.use_vmac {
            Some(_) => {
                let existing = addresses.interfaces().await.context("listing interfaces for use_vmac")?;
                Some(vmac::choose(i, setup::family(i), link.ifindex, &existing, &self.vmac_names(None)))
            }
            None => None,
        };
        let plan = setup::plan(
            &self.config.global,
            i,
            &link,
            sync_group_of(&self.config, &i.name),
            &self.config.bfd_instances,
            choice.as_ref().map(|c| c.name.as_str()),
        )?;
        let made = match (&choice, &plan.vmac) {
            (Some(c), Some(v)) => Some(
                vmac::make(addresses, &mut self.kernel.vmacs, &i.name, c, plan.family, v, link.ifindex)
                    .await
                    .with_context(|| format!("VMAC interface {}", c.name))?,
            ),
            _ => None,
        };
        let socket = match VrrpSocket::open(&plan.socket) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                if let Some(m) = &made {
                    vmac::remove(&self.kernel.addresses, &mut self.kernel.vmacs, &i.name, m).await;
                }
                return Err(e).with_context(|| format!("VRRP socket on {}", plan.socket.interface));
            }
        };
        let garp = match FrameSender::open(ifname) {
            Ok(g) => Some(Arc::new(g)),
            Err(e) => {
                tracing::warn!("({}) cannot send gratuitous ARP on {ifname}: {e}", i.name);
                None
            }
        };
        let track_if = interface_bindings(addresses, i).await;
        tracing::info!(
            "({}) starting: {} on {ifname}, VRID {}, priority {}, {} VIP(s)",
            i.name,
            plan.fsm.version,
            i.virtual_router_id,
            i.priority,
            plan.vips.len()
        );
        let mut vip_dev = HashMap::new();
        for a in &plan.vips {
            if let Some(d) = device(addresses, &i.name, ifname, a).await {
                vip_dev.insert(a.vip.ip, d);
            }
        }
        // Our VIPs still on their interface from a previous run that ended without cleaning up.
        let mut added = HashSet::new();
        let mut present: HashMap<u32, Vec<(IpAddr, u8)>> = HashMap::new();
        for a in &plan.vips {
            let v = &a.vip;
            let (index, name) = vip_dev.get(&v.ip).map_or((link.ifindex, ifname.as_str()), |d| (d.ifindex, &d.name));
            if let std::collections::hash_map::Entry::Vacant(e) = present.entry(index) {
                e.insert(addresses.list(index).await.unwrap_or_default());
            }
            let there = present.get(&index).is_some_and(|p| p.iter().any(|(p, _)| *p == v.ip));
            if there && self.kernel.vips.contains(&owned::vip(name, v.ip)) {
                added.insert(v.ip);
            }
        }
        let routes = RouteSet::resolve(
            Owner::Instance(i.name.clone()),
            &i.virtual_routes,
            &i.virtual_rules,
            Some((ifname, link.ifindex)),
            &self.priorities,
            addresses,
            &self.kernel.routes_record,
        )
        .await;
        if !plan.fsm.accepts() {
            // keepalived #2339: with vrrp_strict (or no_accept) keepalived drops every packet
            // addressed to the VIPs on a MASTER that is not their owner, and users find their
            // VIP unreachable without knowing why.
            tracing::warn!(
                "({}) Accept_Mode is off (vrrp_strict or no_accept): keepalived would drop traffic addressed to the VIPs while this router is a MASTER below priority 255; Vigil does not filter it, so the VIPs stay reachable. Set `accept` to say so explicitly.",
                i.name
            );
        }
        let id = InstanceId(self.next_id);
        self.next_id += 1;
        let now = Instant::now().into_std();
        let peers = peer_settings(&plan, i);
        if let Err(e) = self.router.handle(now, RouterInput::Add { id, plan: Box::new(plan.clone()), peers }) {
            if let Some(m) = &made {
                vmac::remove(&self.kernel.addresses, &mut self.kernel.vmacs, &i.name, m).await;
            }
            anyhow::bail!("({}) {e}", i.name);
        }
        let reader = spawn_reader(id, socket.clone(), plan.expect.clone(), self.tx.clone());
        Ok(Running {
            id,
            ifindex: link.ifindex,
            ifname: ifname.clone(),
            link_up_at_start: link.up,
            mac: link.mac,
            notifier: Notifier::spawn(i.name.clone(), self.config.global.script_user.clone(), self.events.clone()),
            model: i.clone(),
            plan,
            socket,
            reader: Some(reader),
            garp,
            added,
            drops: HashMap::new(),
            warned: HashSet::new(),
            track_if,
            vip_dev,
            routes,
            alerts: smtp_alert(&self.config, i.smtp_alert).then(|| self.alerter.clone()),
            since: SystemTime::now(),
            last_transition: None,
            vips_restored: 0,
            unheld: HashSet::new(),
            vmac: made,
        })
    }

    /// The names of the running instances' vmacs, but `except`'s.
    fn vmac_names(&self, except: Option<InstanceId>) -> Vec<String> {
        self.running
            .iter()
            .filter(|r| Some(r.id) != except)
            .filter_map(|r| r.vmac.as_ref())
            .map(|m| m.name.clone())
            .collect()
    }

    /// Starts the protocol of the opened instance `id`: its link state and the trackers'
    /// last reports first, then the Startup event; VIPs, routes and rules a previous run left
    /// behind go unless it became Master.
    async fn begin(&mut self, id: InstanceId) {
        let Some(idx) = self.running.iter().position(|r| r.id == id) else { return };
        let now = Instant::now().into_std();
        let mut inputs = Vec::new();
        if !self.running[idx].link_up_at_start {
            inputs.push(Input::LinkDown);
        }
        let config = self.config.clone();
        inputs.extend(self.item_reports(&self.running[idx].model, &config).into_iter().map(change));
        inputs.push(Input::Startup);
        for input in inputs {
            feed(&mut self.router, now, id, input);
        }
        execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
        if state_of(&self.router, id) == State::Master {
            return;
        }
        let r = &mut self.running[idx];
        if r.routes.has_added() {
            tracing::info!("({}) removing virtual routes and rules left by a previous run", r.model.name);
            r.routes.remove(&self.kernel.routes, &mut self.kernel.routes_record).await;
        }
        if !r.added.is_empty() {
            tracing::info!("({}) removing VIPs left by a previous run", r.model.name);
            remove_vips(r, &mut self.kernel).await;
        }
    }

    /// Resigns instance `idx` (priority 0 advert if Master, VIPs and routes removed); its
    /// notify scripts hear STOP at a stop, and FAULT or DELETED when a reload removes it
    /// (`Input::Removed`), once each.
    async fn resign(&mut self, idx: usize, now: std::time::Instant, why: Resign) {
        let input = match why {
            Resign::Stop => Input::Shutdown,
            Resign::Removed => Input::Removed { notify_deleted: self.running[idx].model.notify.notify_deleted },
        };
        feed(&mut self.router, now, self.running[idx].id, input);
        execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
        let r = &self.running[idx];
        if let Some(reader) = &r.reader {
            reader.abort();
        }
        let name = r.model.name.clone();
        if let Some(m) = self.running[idx].vmac.take() {
            vmac::remove(&self.kernel.addresses, &mut self.kernel.vmacs, &name, &m).await;
        }
    }

    /// Starts or stops the tracking scripts and files so that each one some instance tracks
    /// runs once; one whose definition did not change keeps running and keeps its state.
    fn track(&mut self) {
        let tracked = |name: &str, files: bool| {
            self.running.iter().any(|r| {
                if files {
                    r.model.track_file.iter().any(|t| t.name == name)
                } else {
                    r.model.track_script.iter().any(|t| t.name == name)
                }
            })
        };
        let script_user = self.config.global.script_user.clone();
        let mut scripts = HashMap::new();
        for s in self.config.vrrp_scripts.iter().filter(|s| tracked(&s.name, false)) {
            match self.scripts.remove(&s.name) {
                Some(t) if same_ignoring_spans(&t.def, s) => {
                    scripts.insert(s.name.clone(), t);
                }
                old => {
                    if let Some(old) = old {
                        old.task.abort();
                    }
                    if let Some(task) = track::spawn(s.clone(), script_user.clone(), self.tx.clone()) {
                        scripts.insert(s.name.clone(), TrackerTask { def: s.clone(), task, last: None });
                    }
                }
            }
        }
        let mut files = HashMap::new();
        for f in self.config.track_files.iter().filter(|f| tracked(&f.name, true)) {
            let Some(path) = &f.file else { continue };
            match self.files.remove(&f.name) {
                Some(t) if same_ignoring_spans(&t.def, f) => {
                    files.insert(f.name.clone(), t);
                }
                old => {
                    if let Some(old) = old {
                        old.task.abort();
                    }
                    let task = track::spawn_file(f.name.clone(), path.clone(), self.tx.clone());
                    files.insert(f.name.clone(), TrackerTask { def: f.clone(), task, last: None });
                }
            }
        }
        for (_, t) in self.scripts.drain() {
            t.task.abort();
        }
        for (_, t) in self.files.drain() {
            t.task.abort();
        }
        self.scripts = scripts;
        self.files = files;
        self.trackers.files = self.config.track_files.clone();
        self.trackers.scripts = self.config.vrrp_scripts.clone();
        // One scanner for every tracked process set; started again when the sets change.
        let processes: Vec<TrackProcess> = self
            .config
            .track_processes
            .iter()
            .filter(|p| self.running.iter().any(|r| r.model.track_process.iter().any(|t| t.name == p.name)))
            .cloned()
            .collect();
        if processes != self.trackers.processes || self.processes.is_none() {
            if let Some(old) = self.processes.take() {
                old.abort();
            }
            self.trackers.process_up.clear();
            if !processes.is_empty() {
                self.processes = Some(process::spawn(processes.clone(), self.tx.clone()));
            }
        }
        self.trackers.processes = processes;
    }

    async fn install_statics(&mut self) {
        self.statics = RouteSet::resolve(
            Owner::Static,
            &self.config.static_routes,
            &self.config.static_rules,
            None,
            &self.priorities,
            &self.kernel.addresses,
            &self.kernel.routes_record,
        )
        .await;
        self.statics.install(&self.kernel.routes, &mut self.kernel.routes_record).await;
    }

    /// An event, link changes first through `interface_up_down_delays`.
    async fn event(&mut self, ev: Event) {
        if let Event::Net(NetEvent::LinkUp { ifindex } | NetEvent::LinkDown { ifindex }) = ev {
            let up = matches!(ev, Event::Net(NetEvent::LinkUp { .. }));
            if !self.delays.pass(Instant::now().into_std(), ifindex, up) {
                return;
            }
        }
        self.apply(ev).await;
    }

    /// Starts the drop rules when an instance may need them: a MASTER that neither owns its
    /// VIPs nor has accept mode, or `nftables` in global_defs (keepalived then sets them up
    /// whatever the instances).
    async fn start_firewall(&mut self) {
        let needed = self.config.global.nftables.is_some() || self.running.iter().any(|r| !r.plan.fsm.accepts());
        if needed && self.kernel.firewall.is_none() {
            let table = self.config.global.nftables.clone().unwrap_or_else(|| firewall::DEFAULT_TABLE.to_string());
            self.kernel.firewall = Some(Firewall::start(&table).await);
        }
    }

    /// Each running instance's name, interface index and advert interval.
    fn links(&self) -> Vec<(String, u32, std::time::Duration)> {
        self.running.iter().map(|r| (r.model.name.clone(), r.ifindex, r.model.advert_int)).collect()
    }

    async fn apply(&mut self, ev: Event) {
        match &ev {
            Event::Script(s) => {
                if let Some(t) = self.scripts.get_mut(&s.name) {
                    t.last = Some(s.clone());
                }
            }
            Event::File(f) => {
                if let Some(t) = self.files.get_mut(&f.name) {
                    t.last = Some(f.clone());
                }
            }
            Event::Process(p) => {
                self.trackers.process_up.insert(p.name.clone(), p.up);
            }
            Event::Net(NetEvent::LinkAdded { name, .. }) if !self.waiting.is_empty() => {
                let name = name.clone();
                self.start_waiting(Some(&name)).await;
            }
            Event::Net(NetEvent::AddrAdded { .. }) if !self.waiting.is_empty() => self.start_waiting(None).await,
            Event::Net(NetEvent::AddrRemoved { ifindex, ip, .. }) => {
                self.static_addresses.restore(*ifindex, *ip, &self.kernel.addresses, &mut self.kernel.vips).await;
            }
            Event::Bfd(up) => self.bfd_changed(up.clone()),
            Event::Packet { .. } | Event::Net(_) => {}
        }
        handle_event(&mut self.running, &mut self.router, &self.trackers, ev, &mut self.kernel).await;
        execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
    }

    /// A BFD session fell by expiry: each instance that names it in `master_down_bfd` asks the
    /// router whether to take over now.
    fn master_gone(&mut self, fall: &crate::bfd::Fall) {
        let now = Instant::now().into_std();
        for r in self.running.iter().filter(|r| r.model.master_down_bfd.as_ref().is_some_and(|(n, _)| *n == fall.name))
        {
            let input =
                RouterInput::MasterGone { id: r.id, neighbor: fall.neighbor, missing_since: fall.missing_since };
            if let Err(e) = self.router.handle(now, input) {
                tracing::error!("({}) {e}", r.model.name);
            }
        }
    }

    /// BFD sessions came Up or fell from Up: each instance tracking one that changed logs it
    /// as keepalived does and its state machine counts the new state.
    fn bfd_changed(&mut self, up: crate::bfd::Up) {
        let old = std::mem::replace(&mut self.trackers.bfd_up, up.clone());
        let now = Instant::now().into_std();
        for r in &self.running {
            let list =
                setup::track_bfd(&r.model, sync_group_of(&self.config, &r.model.name), &self.config.bfd_instances);
            for (n, t) in list.iter().enumerate() {
                let is = up.get(&t.name).copied().unwrap_or(false);
                if old.get(&t.name).copied().unwrap_or(false) == is {
                    continue;
                }
                tracing::info!(
                    "VRRP_Instance({}) Tracked BFD instance {} is {}",
                    r.model.name,
                    t.name,
                    if is { "UP" } else { "DOWN" }
                );
                feed(&mut self.router, now, r.id, change(bfd_report(n, t, &up)));
            }
        }
    }

    /// Applies a new configuration; see the module's documentation.
    async fn reload(&mut self, config: Arc<Config>) -> Reloaded {
        let mut done = Reloaded::default();
        let old_config = std::mem::replace(&mut self.config, config.clone());
        self.priorities = routes::default_rule_priorities(&config);
        // Which running instances stay: untouched, or changed in place.
        let mut keep = HashSet::new();
        let mut change = Vec::new();
        let now = Instant::now().into_std();
        // The interfaces the vmacs are chosen among; without them, each running instance
        // keeps its own vmac.
        let interfaces = if config.instances.iter().any(|i| i.use_vmac.is_some()) {
            match self.kernel.addresses.interfaces().await {
                Ok(list) => Some(list),
                Err(e) => {
                    tracing::warn!("cannot list the interfaces for use_vmac ({e}): the running vmacs are kept");
                    None
                }
            }
        } else {
            Some(Vec::new())
        };
        for idx in 0..self.running.len() {
            let r = &self.running[idx];
            let Some(new) = config.instances.iter().find(|i| i.name == r.model.name) else { continue };
            // The new file's interface: another one makes another instance.
            let Some((ifname, _)) = &new.interface else { continue };
            let plan = match self.kernel.addresses.link_by_name(ifname).await {
                Ok(mut link) => {
                    // A source address the instance chose itself at start stays its source: a
                    // VIP added since (a /16 VIP is the primary address of a subnet of its own)
                    // must not take its place and make it another instance.
                    if *ifname == r.ifname && new.unicast_src_ip.or(new.mcast_src_ip).is_none() {
                        match r.plan.fsm.primary_address {
                            IpAddr::V4(a) => link.primary_ipv4 = Some(a),
                            IpAddr::V6(a) => link.link_local_ipv6 = Some(a),
                        }
                    }
                    // The vmac it would choose now: its own, found as it made it, unless what it
                    // asks for changed.
                    let vmac = new.use_vmac.as_ref().map(|_| {
                        let taken = self.vmac_names(Some(r.id));
                        let running = (&r.model, r.vmac.as_ref());
                        match (&interfaces, running.1) {
                            (None, Some(own)) => own.name.clone(),
                            (list, _) => {
                                let list = list.as_deref().unwrap_or_default();
                                vmac::choose_again(new, running, setup::family(new), link.ifindex, list, &taken).name
                            }
                        }
                    });
                    let group = sync_group_of(&config, &new.name);
                    setup::plan(&config.global, new, &link, group, &config.bfd_instances, vmac.as_deref()).ok()
                }
                Err(_) => None,
            };
            let Some(plan) = plan else { continue };
            let trackers = self.tracker_reports(new, &config).await;
            let r = &self.running[idx];
            match self.router.reconfigure(now, r.id, plan.clone(), peer_settings(&plan, new), trackers) {
                None => {}
                Some(Err(e)) => tracing::warn!("({}) cannot change in place ({e}); restarting it", new.name),
                Some(Ok(Reconfigure::Restart(reason))) => tracing::info!("({}) {reason}: restarting", new.name),
                Some(Ok(Reconfigure::Unchanged)) if same_ignoring_spans(&r.model, new) => {
                    keep.insert(r.model.name.clone());
                }
                Some(Ok(Reconfigure::Unchanged)) => {
                    keep.insert(r.model.name.clone());
                    change.push((idx, new.clone(), plan, None));
                }
                Some(Ok(Reconfigure::InPlace(p))) => {
                    keep.insert(r.model.name.clone());
                    change.push((idx, new.clone(), plan, Some(p)));
                }
            }
        }
        // What the new settings made the state machines do (a tracked item that is down puts
        // a MASTER in FAULT) is carried out with the running plans, VIPs and routes; an advert
        // goes out with the new settings (the router's plan), before the new VIPs are added.
        execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
        // Every VIP that goes is removed before any is added, so that one moving from an
        // instance to another is added by its new owner as its own: the changed instances'
        // removals, then the resignations, then the additions.
        let mut adds = Vec::new();
        for (idx, new, plan, p) in change {
            let add = self.reconfigure(idx, new, plan, p).await;
            done.changed.push(self.running[idx].model.name.clone());
            adds.push((idx, add));
        }
        let mut resigned = Vec::new();
        for idx in 0..self.running.len() {
            if !keep.contains(&self.running[idx].model.name) {
                self.resign(idx, now, Resign::Removed).await;
                resigned.push(idx);
            }
        }
        for (idx, (add, routes_moved)) in adds {
            self.add_in_place(idx, &add, routes_moved).await;
        }
        for idx in resigned {
            let name = self.running[idx].model.name.clone();
            if config.instances.iter().any(|i| i.name == name) {
                done.restarted.push(name);
            } else {
                tracing::info!("({name}) removed from the configuration: stopped");
                done.stopped.push(name);
            }
        }
        self.waiting.clear();
        let mut old: HashMap<String, Running> = self.running.drain(..).map(|r| (r.model.name.clone(), r)).collect();
        // Every instance that keeps running is back before any other opens, so that none of
        // those takes (changes, then deletes) a vmac one of them still uses.
        let mut back = vec![false; config.instances.len()];
        for (n, i) in config.instances.iter().enumerate() {
            let Some(mut r) = old.remove(&i.name).filter(|_| keep.contains(&i.name)) else { continue };
            r.model = i.clone();
            r.alerts = smtp_alert(&config, i.smtp_alert).then(|| self.alerter.clone());
            if !done.changed.contains(&i.name) {
                done.kept.push(i.name.clone());
            }
            self.running.push(r);
            back[n] = true;
        }
        let mut fresh = Vec::new();
        for (i, _) in config.instances.iter().zip(&back).filter(|(_, back)| !**back) {
            if let Some(r) = old.remove(&i.name) {
                forget(&mut self.router, now, r.id);
            }
            if let Some(r) = self.open_or_wait(i).await {
                if !done.restarted.contains(&i.name) {
                    done.started.push(i.name.clone());
                }
                fresh.push(r.id);
                self.running.push(r);
            }
        }
        self.running.sort_by_key(|r| config.instances.iter().position(|i| i.name == r.model.name));
        for r in old.into_values() {
            forget(&mut self.router, now, r.id);
        }
        // A group with the same members keeps the state they last agreed on (the router
        // keeps it), so its notify scripts do not run again.
        self.groups = sync_groups(&config, &self.running, &mut self.router, &self.alerter, &self.events);
        self.kernel.garp.reload(&config);
        self.start_firewall().await;
        if !same_ignoring_spans(&old_config.interface_delays, &config.interface_delays) {
            self.delays = LinkDelays::new(&config, &self.kernel.addresses, &self.links()).await;
        }
        if !same_ignoring_spans(&old_config.global.lvs_sync_daemon, &config.global.lvs_sync_daemon) {
            if let Some(s) = self.kernel.syncd.take() {
                s.stop().await;
            }
            self.kernel.syncd = syncd::Follower::start(&config, |name| {
                self.running.iter().find(|r| r.model.name == name).map(|r| r.plan.fsm.vrid)
            });
            if let Some(s) = &self.kernel.syncd {
                for r in &self.running {
                    s.follow(&r.model.name, state_of(&self.router, r.id));
                }
            }
        }
        let statics_changed = !same_ignoring_spans(&old_config.static_routes, &config.static_routes)
            || !same_ignoring_spans(&old_config.static_rules, &config.static_rules);
        self.static_addresses.reload(&old_config, &config, &self.kernel.addresses, &mut self.kernel.vips).await;
        if statics_changed {
            self.statics.remove(&self.kernel.routes, &mut self.kernel.routes_record).await;
            self.install_statics().await;
        }
        self.track();
        for id in fresh {
            self.begin(id).await;
        }
        done
    }
}

impl Vrrp {
    /// Instance `i`'s tracked items as they stand now: its interfaces' links, and the last
    /// report of each script and file it tracks, weighed by `config`'s definitions.
    async fn tracker_reports(&self, i: &VrrpInstance, config: &Config) -> Vec<TrackerReport> {
        let interfaces = tracked_interfaces(&self.kernel.addresses, i).await;
        interfaces
            .iter()
            .map(|(_, n, t, up)| interface_report(t, *n, *up))
            .chain(self.item_reports(i, config))
            .collect()
    }

    /// Instance `i`'s scripts and files as last reported, and its BFD sessions as they stand,
    /// weighed by `config`'s definitions.
    fn item_reports(&self, i: &VrrpInstance, config: &Config) -> Vec<TrackerReport> {
        self.scripts
            .values()
            .filter_map(|t| t.last.as_ref())
            .filter_map(|s| script_report(i, &config.vrrp_scripts, s))
            .chain(
                self.files
                    .values()
                    .filter_map(|t| t.last.as_ref())
                    .filter_map(|s| file_report(i, &config.track_files, s)),
            )
            .chain(
                self.trackers
                    .process_up
                    .iter()
                    .filter_map(|(name, up)| process_report(i, &config.track_processes, name, *up)),
            )
            .chain(
                setup::track_bfd(i, sync_group_of(config, &i.name), &config.bfd_instances)
                    .iter()
                    .enumerate()
                    .map(|(n, t)| bfd_report(n, t, &self.trackers.bfd_up)),
            )
            .collect()
    }

    /// Runs instance `idx` with its new settings, which the router already gave its state
    /// machine; a MASTER removes the VIPs that went or changed, and moves its virtual routes
    /// and rules to the new ones when they changed. Returns the VIPs to add once every
    /// instance has removed its own (see [`Vrrp::add_in_place`]).
    async fn reconfigure(
        &mut self,
        idx: usize,
        new: VrrpInstance,
        plan: setup::Plan,
        change: Option<reload::InPlace>,
    ) -> (Vec<Address>, bool) {
        let master = state_of(&self.router, self.running[idx].id) == State::Master;
        let r = &self.running[idx];
        let routes_moved = !same_ignoring_spans(&r.model.virtual_routes, &new.virtual_routes)
            || !same_ignoring_spans(&r.model.virtual_rules, &new.virtual_rules);
        if routes_moved {
            let routes = RouteSet::resolve(
                Owner::Instance(new.name.clone()),
                &new.virtual_routes,
                &new.virtual_rules,
                Some((&r.ifname, r.ifindex)),
                &self.priorities,
                &self.kernel.addresses,
                &self.kernel.routes_record,
            )
            .await;
            let r = &mut self.running[idx];
            let mut old = std::mem::replace(&mut r.routes, routes);
            if master {
                // The new ones go in after the new VIPs (add_in_place): a route may name one.
                tracing::info!("({}) virtual_routes or virtual_rules changed: moving to the new ones", new.name);
                old.remove(&self.kernel.routes, &mut self.kernel.routes_record).await;
            }
        }
        let r = &mut self.running[idx];
        let Some(change) = change else {
            // Only what the plan does not carry (notify scripts, smtp_alert, routes, ...).
            r.model = new;
            return (Vec::new(), routes_moved);
        };
        if change.trackers_changed {
            r.track_if = interface_bindings(&self.kernel.addresses, &new).await;
        }
        tracing::info!("({}) configuration changed; staying in {} STATE", new.name, state_of(&self.router, r.id));
        if master {
            for a in &change.remove {
                remove_vip(r, &mut self.kernel, &a.vip).await;
            }
        }
        for a in &change.remove {
            r.vip_dev.remove(&a.vip.ip);
        }
        for a in &change.add {
            if let Some(d) = device(&self.kernel.addresses, &new.name, &r.ifname, a).await {
                r.vip_dev.insert(a.vip.ip, d);
            }
        }
        r.plan = plan;
        r.model = new;
        if change.expect_changed {
            if let Some(reader) = r.reader.take() {
                reader.abort();
            }
            r.reader = Some(spawn_reader(r.id, r.socket.clone(), r.plan.expect.clone(), self.tx.clone()));
        }
        execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
        (change.add, routes_moved)
    }

    /// Adds and announces the VIPs of a reload's in-place change to instance `idx`, if MASTER,
    /// then its new virtual routes and rules when they changed; the VIPs that did not change are
    /// neither touched nor announced.
    async fn add_in_place(&mut self, idx: usize, add: &[Address], routes_moved: bool) {
        let r = &mut self.running[idx];
        if state_of(&self.router, r.id) != State::Master {
            return;
        }
        if add.is_empty() {
            if routes_moved {
                r.routes.install(&self.kernel.routes, &mut self.kernel.routes_record).await;
            }
            return;
        }
        let mut fresh = Vec::new();
        for a in add {
            if add_vip(r, &mut self.kernel, &a.vip).await {
                fresh.push(a.vip.ip);
            }
        }
        let held = r.unheld.is_empty();
        let now = Instant::now().into_std();
        if let Err(e) = self.router.handle(now, RouterInput::VipsHeld { id: r.id, held }) {
            tracing::error!("({}) {e}", r.model.name);
        }
        if !held {
            execute(&mut self.running, &self.groups, &mut self.router, &mut self.kernel).await;
        } else {
            if routes_moved {
                r.routes.install(&self.kernel.routes, &mut self.kernel.routes_record).await;
            }
            if !fresh.is_empty() {
                send_garp(r, &fresh, r.plan.fsm.garp_master_repeat, &mut self.kernel.garp).await;
            }
        }
        self.kernel.flush_records();
    }
}

/// The interface VIP `a` lives on when it is not the instance's own `ifname`; `None` when it
/// is, or when the device does not exist (the VIP then goes on `ifname`, as keepalived does).
async fn device(addresses: &Addresses, instance: &str, ifname: &str, a: &Address) -> Option<Device> {
    if a.device == ifname {
        return None;
    }
    match addresses.link_by_name(&a.device).await {
        Ok(l) => {
            let garp = FrameSender::open(&a.device).ok().map(Arc::new);
            Some(Device { ifindex: l.ifindex, name: a.device.clone(), mac: l.mac, garp })
        }
        Err(e) => {
            tracing::error!("({instance}) VIP {} dev {}: {e}; it goes on {ifname}", a.vip.ip, a.device);
            None
        }
    }
}

/// The sync group `instance` is a member of, as keepalived reads them: the first group naming
/// it.
fn sync_group_of<'a>(config: &'a Config, instance: &str) -> Option<&'a vigil_config::model::SyncGroup> {
    config.sync_groups.iter().find(|g| g.members.iter().any(|(m, _)| m == instance))
}

/// Whether transitions are mailed: the instance's or group's `smtp_alert`, else
/// `smtp_alert_vrrp`, else `smtp_alert`, else not (keepalived's order).
fn smtp_alert(config: &Config, own: Option<bool>) -> bool {
    own.or(config.global.smtp_alert_vrrp).or(config.global.smtp_alert).unwrap_or(false)
}

/// Builds the sync groups over the running instances; a member's state machine is made a
/// group member once (a kept member keeps its state).
fn sync_groups(
    config: &Config,
    running: &[Running],
    router: &mut Router,
    alerter: &Alerter,
    events: &Events,
) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut members = Vec::new();
    for g in &config.sync_groups {
        let ids: Vec<InstanceId> =
            g.members.iter().filter_map(|(m, _)| running.iter().find(|r| &r.model.name == m)).map(|r| r.id).collect();
        if ids.len() < 2 {
            continue;
        }
        members.push((g.name.clone(), ids));
        groups.push(Group {
            name: g.name.clone(),
            notify: g.notify.clone(),
            notifier: Notifier::spawn(g.name.clone(), config.global.script_user.clone(), events.clone()),
            alerts: smtp_alert(config, g.smtp_alert).then(|| alerter.clone()),
        });
    }
    if let Err(e) = router.handle(Instant::now().into_std(), RouterInput::Groups(members)) {
        tracing::error!("sync groups: {e}");
    }
    groups
}

/// Reads one instance's socket and sends checked messages to the owning task.
fn spawn_reader(
    id: InstanceId,
    socket: Arc<VrrpSocket>,
    expect: receive::Expect,
    tx: mpsc::Sender<Event>,
) -> AbortHandle {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        loop {
            let received = match socket.recv(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("VRRP socket receive error on {}: {e}", socket.interface());
                    continue;
                }
            };
            let payload = received.payload(&buf);
            let result = receive::check(payload, received.src, received.dst, received.ttl, &expect);
            if tx.send(Event::Packet { id, src: received.src, result }).await.is_err() {
                break;
            }
        }
    })
    .abort_handle()
}

/// Instance `i`'s tracked script `status` as its state machine counts it, if `i` tracks it:
/// the instance's `weight` overrides the script's own (and its `reverse`).
fn script_report(i: &VrrpInstance, defs: &[VrrpScript], status: &ScriptStatus) -> Option<TrackerReport> {
    let pos = i.track_script.iter().position(|t| t.name == status.name)?;
    let t = &i.track_script[pos];
    let def = defs.iter().find(|s| s.name == status.name);
    let (base, reverse) = match t.weight {
        Some(w) => (w, t.reverse),
        None => def.map(|d| (d.weight, d.weight_reverse)).unwrap_or((0, false)),
    };
    let (up, weight) = if reverse { (!status.up, -base) } else { (status.up, base) };
    Some(TrackerReport { id: tracker_id(TrackedKind::Script, pos), up, weight })
}

/// Instance `i`'s tracked process set `name`, `up` or not, as its state machine counts it,
/// if `i` tracks it.
fn process_report(i: &VrrpInstance, defs: &[TrackProcess], name: &str, up: bool) -> Option<TrackerReport> {
    let pos = i.track_process.iter().position(|t| t.name == name)?;
    let t = &i.track_process[pos];
    let def = defs.iter().find(|p| p.name == name);
    let (base, reverse) = match t.weight {
        Some(w) => (w, t.reverse),
        None => def.map(|d| (d.weight, d.weight_reverse)).unwrap_or((0, false)),
    };
    let (up, weight) = if reverse { (!up, -base) } else { (up, base) };
    Some(TrackerReport { id: tracker_id(TrackedKind::Process, pos), up, weight })
}

/// Instance `i`'s tracked file `status` as its state machine counts it, if `i` tracks it.
fn file_report(i: &VrrpInstance, defs: &[TrackFile], status: &FileStatus) -> Option<TrackerReport> {
    let file = defs.iter().find(|f| f.name == status.name)?;
    let pos = i.track_file.iter().position(|t| t.name == status.name)?;
    let t = &i.track_file[pos];
    let weight = t.weight.unwrap_or(file.weight);
    let (up, weight) = track::file_input(status.value, weight, t.reverse || file.weight_reverse);
    Some(TrackerReport { id: tracker_id(TrackedKind::File, pos), up, weight })
}

/// The BFD session tracked at `position` in an instance's effective `track_bfd` list, its
/// weight resolved (see [`setup::track_bfd`]), as its state machine counts it.
fn bfd_report(position: usize, t: &Track, states: &crate::bfd::Up) -> TrackerReport {
    let up = states.get(&t.name).copied().unwrap_or(false);
    let (up, weight) = track::bfd_input(up, t.weight.unwrap_or(0), t.reverse);
    TrackerReport { id: tracker_id(TrackedKind::Bfd, position), up, weight }
}

/// The tracked interface at `position` in an instance's list, whose link is `up`, as its
/// state machine counts it.
fn interface_report(t: &Track, position: usize, up: bool) -> TrackerReport {
    let weight = t.weight.unwrap_or(0);
    let (up, weight) = if t.reverse { (!up, -weight) } else { (up, weight) };
    TrackerReport { id: tracker_id(TrackedKind::Interface, position), up, weight }
}

/// Instance `i`'s tracked interfaces that exist: index, position in its list, the line, and
/// whether the link is up.
async fn tracked_interfaces(addresses: &Addresses, i: &VrrpInstance) -> Vec<(u32, usize, Track, bool)> {
    let mut found = Vec::new();
    for (n, t) in i.track_interface.iter().enumerate() {
        match addresses.link_by_name(&t.name).await {
            Ok(l) => found.push((l.ifindex, n, t.clone(), l.up)),
            Err(e) => tracing::warn!("({}) track_interface {}: {e}", i.name, t.name),
        }
    }
    found
}

/// Instance `i`'s tracked interfaces as [`Running::track_if`] keeps them.
async fn interface_bindings(addresses: &Addresses, i: &VrrpInstance) -> Vec<(u32, usize, Track)> {
    tracked_interfaces(addresses, i).await.into_iter().map(|(index, n, t, _)| (index, n, t)).collect()
}

/// A tracked item's report as a state machine input.
fn change(report: TrackerReport) -> Input {
    Input::TrackerChange { id: report.id, up: report.up, weight: report.weight }
}

/// Hands one event to the router (after it, [`execute`] carries out what follows).
async fn handle_event(
    running: &mut [Running],
    router: &mut Router,
    trackers: &Trackers,
    ev: Event,
    kernel: &mut Kernel,
) {
    let now = Instant::now().into_std();
    match ev {
        Event::Packet { id, src, result } => {
            let Some(r) = running.iter_mut().find(|r| r.id == id) else { return };
            match result {
                Ok(accepted) => {
                    if let Err(e) = router.handle(now, RouterInput::Advert { id, src, accepted, at: SystemTime::now() })
                    {
                        tracing::error!("({}) {e}", r.model.name);
                    }
                }
                Err(Drop::OtherVrid(_)) => {}
                Err(reason) => {
                    *r.drops.entry(reason.name()).or_default() += 1;
                    if r.warned.insert((src, reason.name())) {
                        tracing::warn!("({}) dropped a VRRP packet from {src}: {}", r.model.name, describe(reason));
                    } else {
                        tracing::debug!("({}) dropped a VRRP packet from {src}: {}", r.model.name, describe(reason));
                    }
                }
            }
        }
        Event::Net(NetEvent::LinkDown { ifindex }) | Event::Net(NetEvent::LinkUp { ifindex }) => {
            let up = matches!(ev, Event::Net(NetEvent::LinkUp { .. }));
            for r in running.iter() {
                if r.ifindex == ifindex && !r.model.dont_track_primary {
                    feed(router, now, r.id, if up { Input::LinkUp } else { Input::LinkDown });
                }
                for (tif, position, t) in &r.track_if {
                    if *tif == ifindex {
                        feed(router, now, r.id, change(interface_report(t, *position, up)));
                    }
                }
            }
        }
        Event::Net(NetEvent::AddrRemoved { ifindex, ip, .. }) => {
            for r in running.iter_mut().filter(|r| r.vip_link(ip).0 == ifindex && r.added.contains(&ip)) {
                r.added.remove(&ip);
                kernel.vips.record(&owned::vip(r.vip_link(ip).1, ip), false);
                if let Err(e) = router.handle(now, RouterInput::VipRemoved { id: r.id, ip }) {
                    tracing::error!("({}) {e}", r.model.name);
                }
            }
        }
        Event::Net(_) => {}
        Event::Script(status) => {
            for r in running.iter() {
                if let Some(report) = script_report(&r.model, &trackers.scripts, &status) {
                    feed(router, now, r.id, change(report));
                }
            }
        }
        Event::File(status) => {
            for r in running.iter() {
                if let Some(report) = file_report(&r.model, &trackers.files, &status) {
                    feed(router, now, r.id, change(report));
                }
            }
        }
        Event::Process(status) => {
            for r in running.iter() {
                if let Some(report) = process_report(&r.model, &trackers.processes, &status.name, status.up) {
                    feed(router, now, r.id, change(report));
                }
            }
        }
        // Applied by Vrrp::bfd_changed, which knows the sync groups.
        Event::Bfd(_) => {}
    }
}

/// An input for one instance's state machine, through the router.
fn feed(router: &mut Router, now: std::time::Instant, id: InstanceId, input: Input) {
    if let Err(e) = router.handle(now, RouterInput::Fsm { id, input }) {
        tracing::error!("{e}");
    }
}

/// Tells the router an instance is gone.
fn forget(router: &mut Router, now: std::time::Instant, id: InstanceId) {
    if let Err(e) = router.handle(now, RouterInput::Remove { id }) {
        tracing::error!("{e}");
    }
}

/// Instance `id`'s state, as the router has it.
fn state_of(router: &Router, id: InstanceId) -> State {
    router.fsm(id).map_or(State::Initialize, fsm::Instance::state)
}

/// Carries out everything the router has queued, including what carrying it out makes it
/// queue (a MASTER that could not add its VIPs).
async fn execute(running: &mut [Running], groups: &[Group], router: &mut Router, kernel: &mut Kernel) {
    while let Some((id, action)) = router.poll_action() {
        if let Some(r) = running.iter_mut().find(|r| r.id == id) {
            act(r, groups, router, action, kernel).await;
        }
    }
}

/// Performs one action of instance `r`.
async fn act(r: &mut Running, groups: &[Group], router: &mut Router, action: RouterAction, kernel: &mut Kernel) {
    let name = r.model.name.clone();
    match action {
        RouterAction::Fsm(action) => fsm_action(r, router, action, kernel).await,
        RouterAction::Note(note) => log_note(&name, r.plan.family, &note),
        RouterAction::Group { group, state } => {
            if let Some(g) = groups.iter().find(|g| g.name == group) {
                notify_group(g, state);
            }
        }
        RouterAction::CannotHold { retry_in } => {
            let mut unheld: Vec<IpAddr> = r.unheld.iter().copied().collect();
            unheld.sort();
            tracing::error!(
                "({name}) cannot hold VIP(s) {}: entering FAULT so that another router takes over; trying again in {} s",
                join(&unheld),
                retry_in.as_secs()
            );
        }
        RouterAction::Syncing { group, state } => {
            tracing::info!("VRRP_Group({group}) Syncing instances to {state} state");
        }
        RouterAction::RestoreVip { ip, repeat } => {
            tracing::warn!("({name}) VIP {ip} was removed from the interface behind our back; adding it again");
            let held = add_vips(r, kernel).await;
            if r.added.contains(&ip) {
                r.vips_restored += 1;
                send_garp(r, &[ip], repeat, &mut kernel.garp).await;
            }
            if let Err(e) = router.handle(Instant::now().into_std(), RouterInput::VipsHeld { id: r.id, held }) {
                tracing::error!("({name}) {e}");
            }
        }
        RouterAction::RetryHold => {
            tracing::info!("({name}) trying again to hold its VIPs");
            r.unheld.clear();
        }
        RouterAction::MasterGone { neighbor, verdict: Ok(()) } => {
            tracing::warn!("({name}) BFD session to the MASTER {neighbor} fell: taking over now (master_down_bfd)");
        }
        RouterAction::MasterGone { neighbor, verdict: Err(veto @ Veto::AdvertsStillArriving { .. }) } => {
            tracing::info!(
                "({name}) BFD session to {neighbor} fell; not taking over: {veto}; taking over if its next advert is late"
            );
        }
        RouterAction::MasterGone { neighbor, verdict: Err(veto) } => {
            tracing::info!("({name}) BFD session to {neighbor} fell; not taking over: {veto}");
        }
    }
}

/// Performs what instance `r`'s state machine asked for.
async fn fsm_action(r: &mut Running, router: &mut Router, action: Action, kernel: &mut Kernel) {
    let name = r.model.name.clone();
    match action {
        Action::SendAdvert { priority } => send_advert(r, router, priority).await,
        Action::AddVips { .. } => {
            if let (false, Some(fw)) = (r.plan.fsm.accepts(), &mut kernel.firewall) {
                fw.add(&r.vip_addrs()).await;
            }
            let held = add_vips(r, kernel).await;
            if held {
                r.routes.install(&kernel.routes, &mut kernel.routes_record).await;
            }
            if let Err(e) = router.handle(Instant::now().into_std(), RouterInput::VipsHeld { id: r.id, held }) {
                tracing::error!("({name}) {e}");
            }
        }
        Action::RemoveVips { .. } => {
            let vips = r.vip_addrs();
            kernel.garp.cancel(&vips);
            if let Some(fw) = &mut kernel.firewall {
                fw.remove(&vips).await;
            }
            r.routes.remove(&kernel.routes, &mut kernel.routes_record).await;
            remove_vips(r, kernel).await;
        }
        Action::SendGarp { vips, repeat } => {
            let held: Vec<IpAddr> = vips.into_iter().filter(|ip| !r.unheld.contains(ip)).collect();
            send_garp(r, &held, repeat, &mut kernel.garp).await;
        }
        Action::Notify { state, priority } => {
            let n = &r.model.notify;
            let script = match state {
                NotifyState::Master => n.master.as_ref(),
                NotifyState::Backup => n.backup.as_ref(),
                NotifyState::Fault => n.fault.as_ref(),
                NotifyState::Stop => n.stop.as_ref(),
                NotifyState::Removed { deleted } => n.deleted.as_ref().filter(|_| deleted),
                NotifyState::MasterRxLowerPri => n.master_rx_lower_pri.as_ref(),
            };
            if let Some(s) = script {
                r.notifier.run(s, &[]);
            }
            if let Some(word) = notify_word(state) {
                if let Some(any) = &n.any {
                    r.notifier.run(any, &["INSTANCE".into(), name.clone(), word.into(), priority.to_string()]);
                }
                r.notifier.publish(Kind::Instance { name: name.clone(), state: word, priority });
            }
        }
        Action::StateChanged { from, to, reason } => {
            tracing::info!(instance = %name, vrid = r.plan.fsm.vrid, state = %to, "({name}) Entering {to} STATE");
            let at = SystemTime::now();
            r.since = at;
            r.last_transition = Some(Transition {
                at: unix_time(at),
                from: from.to_string(),
                to: to.to_string(),
                reason: format!("{reason:?}"),
            });
            if let Some(s) = &kernel.syncd {
                s.follow(&name, to);
            }
            if let (Some(a), State::Master | State::Backup | State::Fault) = (&r.alerts, to) {
                a.send(vrrp_mail(a.router_id(), &name, &to.to_string()));
            }
            tracing::debug!("({name}) {from} -> {to}: {reason:?}");
        }
        Action::PriorityChanged { from, to } => {
            tracing::info!("({name}) Changing effective priority from {from} to {to}");
        }
        // The router moves the group.
        Action::GroupWants { .. } => {}
    }
}

fn describe(reason: Drop) -> String {
    match reason {
        Drop::Malformed(e) => format!("malformed ({e})"),
        Drop::BadTtl(ttl) => format!("TTL/hop limit {ttl}, expected 255"),
        Drop::OtherVrid(v) => format!("VRID {v} is not ours"),
        Drop::OtherVersion => "another VRRP version".into(),
        Drop::AuthMismatch => "authentication type or password does not match".into(),
    }
}

/// Runs a sync group's notify scripts once all its members are in `state`; `notify` is called
/// with `GROUP name STATE 0`, as keepalived does.
fn notify_group(g: &Group, state: State) {
    let (script, word) = match state {
        State::Master => (g.notify.master.as_ref(), "MASTER"),
        State::Backup => (g.notify.backup.as_ref(), "BACKUP"),
        State::Fault => (g.notify.fault.as_ref(), "FAULT"),
        State::Initialize => (g.notify.stop.as_ref(), "STOP"),
    };
    if let Some(s) = script {
        g.notifier.run(s, &[]);
    }
    if let Some(any) = &g.notify.any {
        g.notifier.run(any, &["GROUP".into(), g.name.clone(), word.into(), "0".into()]);
    }
    g.notifier.publish(Kind::Group { name: g.name.clone(), state: word });
    if let (Some(a), false) = (&g.alerts, state == State::Initialize) {
        a.send(vrrp_group_mail(a.router_id(), &g.name, word));
    }
}

fn notify_word(state: NotifyState) -> Option<&'static str> {
    match state {
        NotifyState::Master => Some("MASTER"),
        NotifyState::Backup => Some("BACKUP"),
        NotifyState::Fault => Some("FAULT"),
        NotifyState::Stop => Some("STOP"),
        NotifyState::Removed { deleted: true } => Some("DELETED"),
        NotifyState::Removed { deleted: false } => Some("FAULT"),
        NotifyState::MasterRxLowerPri => None,
    }
}

/// A member moved down on its own (Master to Backup, anything to Fault): the others follow.
/// Adds the VIPs this instance does not hold yet; false if one could not be added.
async fn add_vips(r: &mut Running, kernel: &mut Kernel) -> bool {
    for a in r.plan.vips.clone() {
        if !r.added.contains(&a.vip.ip) {
            add_vip(r, kernel, &a.vip).await;
        }
    }
    r.unheld.is_empty()
}

/// Adds `vip` on its interface; true if this instance added it (and so may remove it).
async fn add_vip(r: &mut Running, kernel: &mut Kernel, vip: &Vip) -> bool {
    let name = &r.model.name;
    let (ifindex, ifname) = r.vip_link(vip.ip);
    let ifname = ifname.to_string();
    match kernel.addresses.add(ifindex, vip).await {
        Ok(AddOutcome::Added) => {
            r.unheld.remove(&vip.ip);
            r.added.insert(vip.ip);
            kernel.vips.record(&owned::vip(&ifname, vip.ip), true);
            true
        }
        Ok(AddOutcome::AlreadyPresent) => {
            r.unheld.remove(&vip.ip);
            tracing::warn!(
                "({name}) VIP {}/{} was already on the interface; it will not be removed by Vigil",
                vip.ip,
                vip.prefix
            );
            false
        }
        Err(e) => {
            tracing::error!("({name}) cannot add VIP {}/{}: {e}", vip.ip, vip.prefix);
            r.unheld.insert(vip.ip);
            false
        }
    }
}

/// Removes the VIPs this instance added (never ones it found on the interface).
async fn remove_vips(r: &mut Running, kernel: &mut Kernel) {
    for a in r.plan.vips.clone() {
        remove_vip(r, kernel, &a.vip).await;
    }
}

/// Removes `vip` if this instance added it.
async fn remove_vip(r: &mut Running, kernel: &mut Kernel, vip: &Vip) {
    if !r.added.remove(&vip.ip) {
        return;
    }
    let (ifindex, ifname) = r.vip_link(vip.ip);
    let ifname = ifname.to_string();
    match kernel.addresses.remove(ifindex, vip.ip, vip.prefix).await {
        Ok(RemoveOutcome::Removed | RemoveOutcome::Absent) => kernel.vips.record(&owned::vip(&ifname, vip.ip), false),
        Err(e) => tracing::error!("({}) cannot remove VIP {}/{}: {e}", r.model.name, vip.ip, vip.prefix),
    }
}

/// Logs what an accepted advert told, in keepalived's words where it has them.
fn log_note(name: &str, family: wire::Family, note: &Note) {
    match note {
        Note::AddressList { src, priority } => tracing::warn!(
            "({name}) received an advert from {src} (priority {priority}) whose address list does not match our virtual_ipaddress: same VRID, different configuration?"
        ),
        Note::AdvertInterval { src, theirs, ours } => tracing::warn!(
            "({name}) advertisement interval mismatch: {src} sends every {}s, ours is {}s",
            theirs.as_secs_f64(),
            ours.as_secs_f64()
        ),
        Note::OldUnicastAdopted => tracing::info!("({name}) Setting unicast VRRPv3 checksum to old version"),
        Note::Checksum { src, theirs, ours } if theirs == ours => {
            tracing::info!("({name}) {src} computes its VRRPv3 checksum {}, as we do", theirs.describe(family))
        }
        Note::Checksum { src, theirs, ours } => tracing::warn!(
            "({name}) {src} computes its VRRPv3 checksum {}; we send ours {}: we accept both, but a peer that accepts only its own reading drops our adverts",
            theirs.describe(family),
            ours.describe(family)
        ),
        Note::LowerPriority { src, priority, ours } => tracing::info!(
            "({name}) Received advert from {src} with lower priority {priority}, ours {ours}, forcing new election"
        ),
    }
}

/// What the router's peer readings need of an instance's plan and configuration.
fn peer_settings(plan: &setup::Plan, i: &VrrpInstance) -> PeerSettings {
    PeerSettings {
        primary: plan.fsm.primary_address,
        version: plan.fsm.version,
        family: plan.family,
        advert_int: plan.fsm.advert_int,
        v3_checksum_as_v2: i.v3_checksum_as_v2,
        old_unicast_checksum: i.old_unicast_checksum,
    }
}

async fn send_advert(r: &mut Running, router: &Router, priority: u8) {
    let (Some(peers), Some(plan)) = (router.peers(r.id), router.plan(r.id)) else { return };
    // The router's plan, not `r.plan`: in a reload the router has every instance's new plan
    // before the daemon moves each one to it, and an advert the new settings asked for
    // (priority, interval, address list) is sent as soon as any instance's actions run.
    let repr = VrrpRepr {
        version: plan.wire_version,
        vrid: plan.fsm.vrid,
        priority,
        advert_int: match plan.wire_version {
            wire::Version::V2 => {
                wire::AdvertInterval::from_secs(u8::try_from(plan.fsm.advert_int.as_secs()).unwrap_or(u8::MAX))
            }
            wire::Version::V3 => {
                wire::AdvertInterval::from_centis(u16::try_from(plan.fsm.advert_int.as_millis() / 10).unwrap_or(4095))
            }
        },
        addresses: plan.fsm.vips.clone(),
        auth: plan.auth,
        // Only VRRPv3 over IPv4 has the choice (IPv6 always sums the pseudo-header).
        v3_checksum_as_v2: plan.wire_version == wire::Version::V3 && peers.ours() == Checksum::AsV2,
        old_unicast_checksum: peers.old_unicast_checksum(),
    };
    let src = plan.fsm.primary_address;
    let dsts: Vec<IpAddr> = match &plan.socket.mode {
        vigil_vrrp::io::Mode::Multicast { group } => vec![*group],
        vigil_vrrp::io::Mode::Unicast { peers } => peers.clone(),
    };
    for dst in dsts {
        let mut buf = vec![0u8; repr.buffer_len()];
        let mut packet = VrrpPacket::new_unchecked(&mut buf[..], plan.family);
        if let Err(e) = repr.emit(&mut packet, src, dst) {
            tracing::error!("({}) cannot build an advert: {e}", r.model.name);
            return;
        }
        if let Err(e) = r.socket.send(&buf, Some(dst)).await {
            tracing::warn!("({}) cannot send an advert to {dst}: {e}", r.model.name);
        }
    }
}

/// Sends gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) for `vips`,
/// each on the interface its VIP lives on, `repeat` times.
async fn send_garp(r: &Running, vips: &[IpAddr], repeat: u32, garp: &mut Garp) {
    let mut by_dev: Vec<(&Arc<FrameSender>, wire::MacAddr, Vec<IpAddr>)> = Vec::new();
    for vip in vips {
        let (sender, mac) = match r.vip_dev.get(vip) {
            Some(d) => (d.garp.as_ref(), d.mac),
            None => (r.garp.as_ref(), r.mac),
        };
        let (Some(sender), Some(mac)) = (sender, mac) else { continue };
        match by_dev.iter_mut().find(|(s, _, _)| Arc::ptr_eq(s, sender)) {
            Some((_, _, ips)) => ips.push(*vip),
            None => by_dev.push((sender, mac, vec![*vip])),
        }
    }
    for (sender, mac, ips) in by_dev {
        for _ in 0..repeat.max(1) {
            for vip in &ips {
                let frame = match vip {
                    IpAddr::V4(ip) => {
                        let f = arp::FrameRepr::gratuitous(mac, *ip);
                        let mut buf = vec![0u8; f.buffer_len()];
                        f.emit(&mut ethernet::Frame::new_unchecked(&mut buf[..])).map(|()| buf)
                    }
                    IpAddr::V6(ip) => {
                        let f = ndisc::FrameRepr::unsolicited(*ip, mac);
                        let mut buf = vec![0u8; f.buffer_len()];
                        f.emit(&mut ethernet::Frame::new_unchecked(&mut buf[..])).map(|()| buf)
                    }
                };
                match frame {
                    Ok(buf) => {
                        if let Err(e) = garp.send(sender, buf, *vip).await {
                            tracing::warn!("({}) cannot send gratuitous ARP for {vip}: {e}", r.model.name);
                        }
                    }
                    Err(e) => tracing::error!("({}) cannot build gratuitous ARP for {vip}: {e}", r.model.name),
                }
            }
        }
        let kind =
            if ips.iter().any(IpAddr::is_ipv6) { "unsolicited neighbour advertisements" } else { "gratuitous ARPs" };
        tracing::info!("({}) Sending {kind} on {} for {}", r.model.name, sender.interface(), join(&ips));
    }
}

fn join(ips: &[IpAddr]) -> String {
    ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
