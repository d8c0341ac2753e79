//! The VRRP subsystem: one task owns every instance's state machine; thin tasks read the
//! sockets, the kernel's link and address events and the tracking scripts, and feed it inputs.

mod owned;
mod routes;
mod setup;
mod syncd;
mod track;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use vigil_config::model::{Config, Track, VrrpInstance};
use vigil_vrrp::fsm::{self, Action, Input, NotifyState, State};
use vigil_vrrp::io::{AddOutcome, Addresses, FrameSender, Monitor, NetEvent, RemoveOutcome, Routes, VrrpSocket};
use vigil_vrrp::receive::{self, Accepted, Drop};
use vigil_vrrp::wire::{self, arp, ethernet, ndisc, VrrpPacket, VrrpRepr};

use self::routes::{Owner, RouteSet};
use self::track::{FileStatus, ScriptStatus};
use crate::notify::Notifier;
use vigil_check::alert::{vrrp_group_mail, vrrp_mail, Alerter};

/// How long before a timer's deadline the task stops relying on tokio's millisecond timer.
const PRECISE_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// An input for the owning task.
enum Event {
    /// A message on instance `idx`'s socket, checked.
    Packet { idx: usize, src: IpAddr, result: Result<Accepted, Drop> },
    /// The kernel reported a change.
    Net(NetEvent),
    /// A tracking script changed state.
    Script(ScriptStatus),
    /// A tracked file's value changed.
    File(FileStatus),
}

/// One running instance.
struct Running {
    plan: setup::Plan,
    model: VrrpInstance,
    fsm: fsm::Instance,
    ifindex: u32,
    ifname: String,
    /// Whether the interface was up when the instance was resolved (its link is read once).
    link_up_at_start: bool,
    mac: Option<wire::MacAddr>,
    socket: Arc<VrrpSocket>,
    garp: Option<Arc<FrameSender>>,
    /// VIPs this instance added (and so may remove); others were there before.
    added: HashSet<IpAddr>,
    notifier: Notifier,
    drops: HashMap<&'static str, u64>,
    /// (sender, problem) pairs already logged at warning level; repeats go to debug.
    warned: HashSet<(IpAddr, &'static str)>,
    /// Tracked interfaces by index, with their ids for the state machine.
    track_if: Vec<(u32, u32, Track)>,
    group: Option<usize>,
    /// VIPs with a `dev` other than the instance's interface, and that device.
    vip_dev: HashMap<IpAddr, Device>,
    /// `virtual_routes` and `virtual_rules`, installed while MASTER.
    routes: RouteSet,
    /// Alert mails on transitions (`smtp_alert`), when enabled and possible.
    alerts: Option<Alerter>,
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
}

/// An interface a VIP lives on when its `dev` is not the instance's.
struct Device {
    ifindex: u32,
    name: String,
    mac: Option<wire::MacAddr>,
    garp: Option<Arc<FrameSender>>,
}

impl Running {
    /// The interface (index, name) VIP `ip` lives on.
    fn vip_link(&self, ip: IpAddr) -> (u32, &str) {
        match self.vip_dev.get(&ip) {
            Some(d) => (d.ifindex, &d.name),
            None => (self.ifindex, &self.ifname),
        }
    }
}

/// The definitions tracked items refer to.
struct Trackers {
    files: Vec<vigil_config::model::TrackFile>,
    scripts: Vec<vigil_config::model::VrrpScript>,
}

/// A `vrrp_sync_group`: its members' indices and its notify scripts.
struct Group {
    name: String,
    members: Vec<usize>,
    /// The state all members last agreed on, for the group's notify scripts.
    state: std::sync::Mutex<Option<State>>,
    notify: vigil_config::model::Notify,
    notifier: Notifier,
    alerts: Option<Alerter>,
}

/// Runs every vrrp_instance until `stop` becomes true, then resigns (priority 0 adverts,
/// VIPs, routes and rules removed) and returns. `static_routes` and `static_rules` are in the
/// kernel from start to stop.
pub async fn run(config: Arc<Config>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut kernel = Kernel {
        addresses: Addresses::new().context("opening rtnetlink")?,
        routes: Routes::new().context("opening rtnetlink")?,
        vips: owned::Owned::load("vips"),
        routes_record: owned::Owned::load("routes"),
        syncd: None,
    };
    let mut monitor = Monitor::open().await.context("subscribing to link and address events")?;
    let (tx, mut rx) = mpsc::channel::<Event>(1024);

    let priorities = routes::default_rule_priorities(&config);
    routes::log_default_rule_priorities(&priorities);
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    let alerter = Alerter::new(vigil_check::plan::alert_settings(&config), hostname);
    let mut running: Vec<Running> = Vec::new();
    for i in &config.instances {
        match start(&config, i, &kernel, &priorities, &alerter).await {
            Ok(r) => running.push(r),
            Err(e) => tracing::error!("({}) cannot start: {e:#}", i.name),
        }
    }
    if running.is_empty() && !config.instances.is_empty() {
        anyhow::bail!("no vrrp_instance could start");
    }
    let groups = sync_groups(&config, &mut running, &alerter);
    kernel.syncd =
        syncd::Follower::start(&config, |name| running.iter().find(|r| r.model.name == name).map(|r| r.plan.fsm.vrid));

    for (idx, r) in running.iter().enumerate() {
        spawn_reader(idx, r.socket.clone(), r.plan.expect.clone(), tx.clone());
    }
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
    for s in &config.vrrp_scripts {
        if running.iter().any(|r| r.model.track_script.iter().any(|t| t.name == s.name)) {
            track::spawn(s.clone(), config.global.script_user.clone(), tx.clone());
        }
    }
    for f in &config.track_files {
        let (Some(path), true) = (&f.file, running.iter().any(|r| r.model.track_file.iter().any(|t| t.name == f.name)))
        else {
            continue;
        };
        track::spawn_file(f.name.clone(), path.clone(), tx.clone());
    }
    drop(tx);
    let trackers = Trackers { files: config.track_files.clone(), scripts: config.vrrp_scripts.clone() };

    let mut statics = RouteSet::resolve(
        Owner::Static,
        &config.static_routes,
        &config.static_rules,
        None,
        &priorities,
        &kernel.addresses,
        &kernel.routes_record,
    )
    .await;
    statics.install(&kernel.routes, &mut kernel.routes_record).await;

    let now = Instant::now();
    for idx in 0..running.len() {
        if !running[idx].link_up_at_start {
            running[idx].fsm.handle(now.into_std(), Input::LinkDown);
        }
        running[idx].fsm.handle(now.into_std(), Input::Startup);
        drain(&mut running, &groups, idx, &mut kernel).await;
        let r = &mut running[idx];
        if r.fsm.state() == State::Master {
            continue;
        }
        if r.routes.has_added() {
            tracing::info!("({}) removing virtual routes and rules left by a previous run", r.model.name);
            r.routes.remove(&kernel.routes, &mut kernel.routes_record).await;
        }
        if !r.added.is_empty() {
            tracing::info!("({}) removing VIPs left by a previous run", r.model.name);
            remove_vips(r, &mut kernel).await;
        }
    }

    loop {
        let deadline = running.iter().filter_map(|r| r.fsm.poll_timeout()).min();
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
        tokio::select! {
            _ = stop.changed() => break,
            ev = rx.recv() => match ev {
                Some(ev) => handle_event(&mut running, &groups, &trackers, ev, &mut kernel).await,
                None => break,
            },
            () = sleep => {
                let now = Instant::now().into_std();
                for idx in 0..running.len() {
                    if running[idx].fsm.poll_timeout().is_some_and(|d| d <= now) {
                        running[idx].fsm.handle_timeout(now);
                        drain(&mut running, &groups, idx, &mut kernel).await;
                    }
                }
            }
        }
    }
    let now = Instant::now().into_std();
    for idx in 0..running.len() {
        running[idx].fsm.handle(now, Input::Shutdown);
        drain(&mut running, &groups, idx, &mut kernel).await;
        if let Some(s) = &running[idx].model.notify.stop {
            running[idx].notifier.run(s, &[]);
        }
    }
    statics.remove(&kernel.routes, &mut kernel.routes_record).await;
    if let Some(s) = kernel.syncd.take() {
        s.stop().await;
    }
    Ok(())
}

/// Resolves and opens one instance.
async fn start(
    config: &Config,
    i: &VrrpInstance,
    kernel: &Kernel,
    priorities: &HashMap<vigil_config::span::Span, u32>,
    alerter: &Alerter,
) -> anyhow::Result<Running> {
    let addresses = &kernel.addresses;
    let (ifname, _) = i.interface.as_ref().ok_or_else(|| setup::SetupError::NoInterface(i.name.clone()))?;
    let link = addresses.link_by_name(ifname).await.with_context(|| format!("interface {ifname}"))?;
    let plan = setup::plan(&config.global, i, &link)?;
    let socket = Arc::new(VrrpSocket::open(&plan.socket).with_context(|| format!("VRRP socket on {ifname}"))?);
    let garp = match FrameSender::open(ifname) {
        Ok(g) => Some(Arc::new(g)),
        Err(e) => {
            tracing::warn!("({}) cannot send gratuitous ARP on {ifname}: {e}", i.name);
            None
        }
    };
    let fsm = fsm::Instance::new(plan.fsm.clone()).map_err(|e| anyhow::anyhow!("({}) {e}", i.name))?;
    let mut track_if = Vec::new();
    for (n, t) in i.track_interface.iter().enumerate() {
        match addresses.link_by_name(&t.name).await {
            Ok(l) => track_if.push((l.ifindex, u32::try_from(n).unwrap_or(u32::MAX), t.clone())),
            Err(e) => tracing::warn!("({}) track_interface {}: {e}", i.name, t.name),
        }
    }
    tracing::info!(
        "({}) starting: {} on {ifname}, VRID {}, priority {}, {} VIP(s)",
        i.name,
        plan.fsm.version,
        i.virtual_router_id,
        i.priority,
        plan.vips.len()
    );
    let mut vip_dev = HashMap::new();
    for a in &i.virtual_ipaddress {
        let Some(dev) = a.dev.as_ref().filter(|d| *d != ifname) else { continue };
        match addresses.link_by_name(dev).await {
            Ok(l) => {
                let garp = FrameSender::open(dev).ok().map(Arc::new);
                vip_dev.insert(a.addr, Device { ifindex: l.ifindex, name: dev.clone(), mac: l.mac, garp });
            }
            Err(e) => tracing::error!("({}) VIP {} dev {dev}: {e}; it goes on {ifname}", i.name, a.addr),
        }
    }
    // Our VIPs still on their interface from a previous run that ended without cleaning up.
    let mut added = HashSet::new();
    let mut present: HashMap<u32, Vec<(IpAddr, u8)>> = HashMap::new();
    for v in &plan.vips {
        let (index, name) = vip_dev.get(&v.ip).map_or((link.ifindex, ifname.as_str()), |d| (d.ifindex, &d.name));
        if let std::collections::hash_map::Entry::Vacant(e) = present.entry(index) {
            e.insert(addresses.list(index).await.unwrap_or_default());
        }
        let there = present.get(&index).is_some_and(|p| p.iter().any(|(p, _)| *p == v.ip));
        if there && kernel.vips.contains(&owned::vip(name, v.ip)) {
            added.insert(v.ip);
        }
    }
    let routes = RouteSet::resolve(
        Owner::Instance(i.name.clone()),
        &i.virtual_routes,
        &i.virtual_rules,
        Some((ifname, link.ifindex)),
        priorities,
        addresses,
        &kernel.routes_record,
    )
    .await;
    Ok(Running {
        ifindex: link.ifindex,
        ifname: ifname.clone(),
        link_up_at_start: link.up,
        mac: link.mac,
        notifier: Notifier::spawn(i.name.clone(), config.global.script_user.clone()),
        model: i.clone(),
        plan,
        fsm,
        socket,
        garp,
        added,
        drops: HashMap::new(),
        warned: HashSet::new(),
        track_if,
        group: None,
        vip_dev,
        routes,
        alerts: smtp_alert(config, i.smtp_alert).then(|| alerter.clone()),
    })
}

/// Whether transitions are mailed: the instance's or group's `smtp_alert`, else
/// `smtp_alert_vrrp`, else `smtp_alert`, else not (keepalived's order).
fn smtp_alert(config: &Config, own: Option<bool>) -> bool {
    own.or(config.global.smtp_alert_vrrp).or(config.global.smtp_alert).unwrap_or(false)
}

fn sync_groups(config: &Config, running: &mut [Running], alerter: &Alerter) -> Vec<Group> {
    let mut groups = Vec::new();
    for g in &config.sync_groups {
        let members: Vec<usize> =
            g.members.iter().filter_map(|(m, _)| running.iter().position(|r| &r.model.name == m)).collect();
        if members.len() < 2 {
            continue;
        }
        let gi = groups.len();
        for &m in &members {
            running[m].group = Some(gi);
            let mut c = running[m].plan.fsm.clone();
            c.sync_group = true;
            if let Ok(f) = fsm::Instance::new(c) {
                running[m].fsm = f;
            }
        }
        groups.push(Group {
            name: g.name.clone(),
            members,
            state: std::sync::Mutex::new(None),
            notify: g.notify.clone(),
            notifier: Notifier::spawn(g.name.clone(), config.global.script_user.clone()),
            alerts: smtp_alert(config, g.smtp_alert).then(|| alerter.clone()),
        });
    }
    groups
}

/// Reads one instance's socket and sends checked messages to the owning task.
fn spawn_reader(idx: usize, socket: Arc<VrrpSocket>, expect: receive::Expect, tx: mpsc::Sender<Event>) {
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
            if tx.send(Event::Packet { idx, src: received.src, result }).await.is_err() {
                break;
            }
        }
    });
}

async fn handle_event(running: &mut [Running], groups: &[Group], trackers: &Trackers, ev: Event, kernel: &mut Kernel) {
    let now = Instant::now().into_std();
    match ev {
        Event::Packet { idx, src, result } => match result {
            Ok(accepted) => {
                let r = &mut running[idx];
                if let Input::Advert { priority, addresses_match: false, .. } = accepted.input {
                    if r.warned.insert((src, "address_list")) {
                        tracing::warn!(
                            "({}) received an advert from {src} (priority {priority}) whose address list does not match our virtual_ipaddress: same VRID, different configuration?",
                            r.model.name
                        );
                    }
                }
                if let Input::Advert { adver_int, .. } = accepted.input {
                    let ours = r.plan.fsm.advert_int;
                    let theirs = match r.plan.fsm.version {
                        fsm::Version::V2 => std::time::Duration::from_secs(u64::from(adver_int)),
                        fsm::Version::V3 => std::time::Duration::from_millis(u64::from(adver_int) * 10),
                    };
                    if theirs != ours && r.warned.insert((src, "advert_int")) {
                        tracing::warn!(
                            "({}) advertisement interval mismatch: {src} sends every {}s, ours is {}s",
                            r.model.name,
                            theirs.as_secs_f64(),
                            ours.as_secs_f64()
                        );
                    }
                }
                if let Input::Advert { priority, .. } = accepted.input {
                    let ours = r.fsm.effective_priority();
                    if r.fsm.state() == State::Master && priority < ours && priority > 0 {
                        tracing::info!(
                            "({}) Received advert from {src} with lower priority {priority}, ours {ours}, forcing new election",
                            r.model.name
                        );
                    }
                }
                r.fsm.handle(now, accepted.input);
                drain(running, groups, idx, kernel).await;
            }
            Err(Drop::OtherVrid(_)) => {}
            Err(reason) => {
                let r = &mut running[idx];
                *r.drops.entry(reason.name()).or_default() += 1;
                if r.warned.insert((src, reason.name())) {
                    tracing::warn!("({}) dropped a VRRP packet from {src}: {}", r.model.name, describe(reason));
                } else {
                    tracing::debug!("({}) dropped a VRRP packet from {src}: {}", r.model.name, describe(reason));
                }
            }
        },
        Event::Net(NetEvent::LinkDown { ifindex }) | Event::Net(NetEvent::LinkUp { ifindex }) => {
            let up = matches!(ev, Event::Net(NetEvent::LinkUp { .. }));
            for idx in 0..running.len() {
                let r = &mut running[idx];
                let mut changed = false;
                if r.ifindex == ifindex && !r.model.dont_track_primary {
                    r.fsm.handle(now, if up { Input::LinkUp } else { Input::LinkDown });
                    changed = true;
                }
                for (tif, id, t) in r.track_if.clone() {
                    if tif == ifindex {
                        let weight = t.weight.unwrap_or(0);
                        let (up, weight) = if t.reverse { (!up, -weight) } else { (up, weight) };
                        r.fsm.handle(now, Input::TrackerChange { id, up, weight });
                        changed = true;
                    }
                }
                if changed {
                    drain(running, groups, idx, kernel).await;
                }
            }
        }
        Event::Net(NetEvent::AddrRemoved { ifindex, ip, .. }) => {
            for r in running.iter().filter(|r| r.vip_link(ip).0 == ifindex && r.added.contains(&ip)) {
                if r.fsm.state() == State::Master {
                    tracing::warn!("({}) VIP {ip} was removed from the interface behind our back", r.model.name);
                }
            }
        }
        Event::Net(_) => {}
        Event::Script(status) => {
            for idx in 0..running.len() {
                let r = &mut running[idx];
                let Some(pos) = r.model.track_script.iter().position(|t| t.name == status.name) else { continue };
                let t = &r.model.track_script[pos];
                let def = trackers.scripts.iter().find(|s| s.name == status.name);
                // The instance's `weight` overrides the script's own (and its `reverse`).
                let (base, reverse) = match t.weight {
                    Some(w) => (w, t.reverse),
                    None => def.map(|d| (d.weight, d.weight_reverse)).unwrap_or((0, false)),
                };
                let (up, weight) = if reverse { (!status.up, -base) } else { (status.up, base) };
                let id = 1000 + u32::try_from(pos).unwrap_or(0);
                r.fsm.handle(now, Input::TrackerChange { id, up, weight });
                drain(running, groups, idx, kernel).await;
            }
        }
        Event::File(status) => {
            let Some(file) = trackers.files.iter().find(|f| f.name == status.name) else { return };
            for idx in 0..running.len() {
                let r = &mut running[idx];
                let Some(pos) = r.model.track_file.iter().position(|t| t.name == status.name) else { continue };
                let t = &r.model.track_file[pos];
                let weight = t.weight.unwrap_or(file.weight);
                let (up, weight) = track::file_input(status.value, weight, t.reverse || file.weight_reverse);
                let id = 2000 + u32::try_from(pos).unwrap_or(0);
                r.fsm.handle(now, Input::TrackerChange { id, up, weight });
                drain(running, groups, idx, kernel).await;
            }
        }
    }
}

/// Carries out instance `idx`'s queued actions, and the sync group's consequences.
async fn drain(running: &mut [Running], groups: &[Group], idx: usize, kernel: &mut Kernel) {
    let mut work = vec![idx];
    while let Some(i) = work.pop() {
        while let Some(action) = running[i].fsm.poll_action() {
            if let Some(forced) = act(running, groups, i, action, kernel).await {
                work.extend(forced);
            }
        }
    }
    for g in groups {
        let Some(first) = g.members.first().map(|&m| running[m].fsm.state()) else { continue };
        let mut agreed = g.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if g.members.iter().all(|&m| running[m].fsm.state() == first) && *agreed != Some(first) {
            *agreed = Some(first);
            notify_group(g, first);
        }
    }
}

/// Performs one action; returns the sync group members it moved.
async fn act(
    running: &mut [Running],
    groups: &[Group],
    idx: usize,
    action: Action,
    kernel: &mut Kernel,
) -> Option<Vec<usize>> {
    let r = &mut running[idx];
    let name = r.model.name.clone();
    match action {
        Action::SendAdvert { priority } => send_advert(r, priority).await,
        Action::AddVips { .. } => {
            for vip in r.plan.vips.clone() {
                if r.added.contains(&vip.ip) {
                    continue;
                }
                let (ifindex, ifname) = r.vip_link(vip.ip);
                let ifname = ifname.to_string();
                match kernel.addresses.add(ifindex, &vip).await {
                    Ok(AddOutcome::Added) => {
                        r.added.insert(vip.ip);
                        kernel.vips.record(&owned::vip(&ifname, vip.ip), true);
                    }
                    Ok(AddOutcome::AlreadyPresent) => {
                        tracing::warn!(
                            "({name}) VIP {}/{} was already on the interface; it will not be removed by Vigil",
                            vip.ip,
                            vip.prefix
                        )
                    }
                    Err(e) => tracing::error!("({name}) cannot add VIP {}/{}: {e}", vip.ip, vip.prefix),
                }
            }
            r.routes.install(&kernel.routes, &mut kernel.routes_record).await;
        }
        Action::RemoveVips { .. } => {
            r.routes.remove(&kernel.routes, &mut kernel.routes_record).await;
            remove_vips(r, kernel).await;
        }
        Action::SendGarp { vips, repeat } => send_garp(r, &vips, repeat).await,
        Action::Notify { state, priority } => {
            let n = &r.model.notify;
            let script = match state {
                NotifyState::Master => n.master.as_ref(),
                NotifyState::Backup => n.backup.as_ref(),
                NotifyState::Fault => n.fault.as_ref(),
                NotifyState::Stop => n.stop.as_ref(),
                NotifyState::MasterRxLowerPri => n.master_rx_lower_pri.as_ref(),
            };
            if let Some(s) = script {
                r.notifier.run(s, &[]);
            }
            if let (Some(any), Some(word)) = (&n.any, notify_word(state)) {
                r.notifier.run(any, &["INSTANCE".into(), name.clone(), word.into(), priority.to_string()]);
            }
        }
        Action::StateChanged { from, to, reason } => {
            tracing::info!("({name}) Entering {to} STATE");
            if let Some(s) = &kernel.syncd {
                s.follow(&name, to);
            }
            if let (Some(a), State::Master | State::Backup | State::Fault) = (&r.alerts, to) {
                a.send(vrrp_mail(a.router_id(), &name, &to.to_string()));
            }
            tracing::debug!("({name}) {from} -> {to}: {reason:?}");
            if let Some(g) = r.group {
                return Some(group_follow(running, groups, g, idx, to));
            }
        }
        Action::PriorityChanged { from, to } => {
            tracing::info!("({name}) Changing effective priority from {from} to {to}");
        }
        Action::GroupWants { state } => {
            if let Some(g) = r.group {
                return Some(group_decide(running, groups, g, state));
            }
        }
    }
    None
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
        NotifyState::MasterRxLowerPri => None,
    }
}

/// A member moved down on its own (Master to Backup, anything to Fault): the others follow.
fn group_follow(running: &mut [Running], groups: &[Group], g: usize, idx: usize, to: State) -> Vec<usize> {
    let now = Instant::now().into_std();
    let mut moved = Vec::new();
    if !matches!(to, State::Backup | State::Fault) {
        return moved;
    }
    for &m in &groups[g].members {
        let follows = m != idx && (running[m].fsm.state() == State::Master || to == State::Fault);
        if follows && running[m].fsm.state() != to {
            running[m].fsm.handle(now, Input::GroupForce { state: to });
            moved.push(m);
        }
    }
    if !moved.is_empty() {
        tracing::info!("VRRP_Group({}) Syncing instances to {to} state", groups[g].name);
    }
    moved
}

/// A member asks to move up: the group moves when every member can.
fn group_decide(running: &mut [Running], groups: &[Group], g: usize, wanted: State) -> Vec<usize> {
    let now = Instant::now().into_std();
    let members = &groups[g].members;
    let faulty = members.iter().any(|&m| running[m].fsm.is_faulty());
    let target = match wanted {
        State::Master if !faulty => State::Master,
        State::Backup if !faulty => State::Backup,
        _ => return Vec::new(),
    };
    let mut moved = Vec::new();
    for &m in members {
        if running[m].fsm.state() != target {
            running[m].fsm.handle(now, Input::GroupForce { state: target });
            moved.push(m);
        }
    }
    if target == State::Master && !moved.is_empty() {
        tracing::info!("VRRP_Group({}) Syncing instances to MASTER state", groups[g].name);
    }
    moved
}

/// Removes the VIPs this instance added (never ones it found on the interface).
async fn remove_vips(r: &mut Running, kernel: &mut Kernel) {
    for vip in r.plan.vips.clone() {
        if !r.added.remove(&vip.ip) {
            continue;
        }
        let (ifindex, ifname) = r.vip_link(vip.ip);
        let ifname = ifname.to_string();
        match kernel.addresses.remove(ifindex, vip.ip, vip.prefix).await {
            Ok(RemoveOutcome::Removed | RemoveOutcome::Absent) => {
                kernel.vips.record(&owned::vip(&ifname, vip.ip), false)
            }
            Err(e) => tracing::error!("({}) cannot remove VIP {}/{}: {e}", r.model.name, vip.ip, vip.prefix),
        }
    }
}

async fn send_advert(r: &mut Running, priority: u8) {
    let repr = VrrpRepr {
        version: r.plan.wire_version,
        vrid: r.plan.fsm.vrid,
        priority,
        advert_int: match r.plan.wire_version {
            wire::Version::V2 => {
                wire::AdvertInterval::from_secs(u8::try_from(r.plan.fsm.advert_int.as_secs()).unwrap_or(u8::MAX))
            }
            wire::Version::V3 => {
                wire::AdvertInterval::from_centis(u16::try_from(r.plan.fsm.advert_int.as_millis() / 10).unwrap_or(4095))
            }
        },
        addresses: r.plan.fsm.vips.clone(),
        auth: r.plan.auth,
        v3_checksum_as_v2: false,
    };
    let src = r.plan.fsm.primary_address;
    let dsts: Vec<IpAddr> = match &r.plan.socket.mode {
        vigil_vrrp::io::Mode::Multicast { group } => vec![*group],
        vigil_vrrp::io::Mode::Unicast { peers } => peers.clone(),
    };
    for dst in dsts {
        let mut buf = vec![0u8; repr.buffer_len()];
        let mut packet = VrrpPacket::new_unchecked(&mut buf[..], r.plan.family);
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
async fn send_garp(r: &Running, vips: &[IpAddr], repeat: u32) {
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
                        if let Err(e) = sender.send(&buf).await {
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
