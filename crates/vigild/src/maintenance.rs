//! Maintenance and weight overrides set at run time (`vigilctl maintenance`, `vigilctl
//! weight`), without editing keepalived.conf.
//!
//! The entries are kept in a small JSON file under /var/lib/vigil (`VIGIL_STATE_DIR` moves
//! it), written atomically, so they survive a reload and a restart. Entries name servers by
//! address, not by their place in the file, so an edited configuration keeps them on the
//! same servers; an entry that matches nothing stays and says so.
//!
//! The decision ([`decide`]) is pure: from a real server's health, its maintenance and its
//! override it gives what the reconciler is told about the server (alive, weight, kept at
//! weight 0 or removed). The reconciler then decides the writes, the quorum and the sorry
//! server as for any health change: a server in maintenance counts as down for the quorum.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use vigil_config::model::{self as cfg, Config, RealServer, VirtualServer, VsKey};
use vigil_ipvs::reconcile::{Pools, QuorumEvent, RsId};

use crate::events::{Events, Kind};
use crate::status::unix_time;

/// Where the file is kept unless `VIGIL_STATE_DIR` says otherwise.
pub const STATE_DIR: &str = "/var/lib/vigil";
/// The environment variable that moves the state directory (tests, several daemons).
pub const STATE_DIR_ENV: &str = "VIGIL_STATE_DIR";
/// The file's name in the state directory.
pub const FILE_NAME: &str = "runtime.json";
/// The longest reason kept, in characters.
const MAX_REASON: usize = 512;
/// The largest weight IPVS takes.
const MAX_WEIGHT: i32 = 65_535;
/// How long the expiry loop sleeps at most, so that a clock set forward is noticed.
const EXPIRY_RECHECK: Duration = Duration::from_secs(30);

/// A virtual server as an operator names it: `10.0.0.1:80` (any protocol), `TCP
/// 10.0.0.1:80` or `[10.0.0.1]:tcp:80` (one protocol), `FWM 1`, or a group, `[name]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum VsName {
    Addr { addr: SocketAddr, protocol: Option<Proto> },
    Fwmark(u32),
    Group(String),
}

/// A virtual server's protocol, ordered so that entries sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    fn word(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }

    fn of(p: cfg::Protocol) -> Proto {
        match p {
            cfg::Protocol::Tcp => Proto::Tcp,
            cfg::Protocol::Udp => Proto::Udp,
            cfg::Protocol::Sctp => Proto::Sctp,
        }
    }
}

fn parse_protocol(word: &str) -> Option<Proto> {
    match word.to_ascii_lowercase().as_str() {
        "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        "sctp" => Some(Proto::Sctp),
        _ => None,
    }
}

/// keepalived's `[10.0.0.7]:tcp:80`, as the status shows servers.
fn parse_keepalived_form(s: &str) -> Option<(SocketAddr, Proto)> {
    let rest = s.strip_prefix('[')?;
    let (ip, rest) = rest.split_once("]:")?;
    let (proto, port) = rest.split_once(':')?;
    let ip: IpAddr = ip.parse().ok()?;
    Some((SocketAddr::new(ip, port.parse().ok()?), parse_protocol(proto)?))
}

impl FromStr for VsName {
    type Err = String;

    fn from_str(s: &str) -> Result<VsName, String> {
        let s = s.trim();
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            [fwm, mark] if fwm.eq_ignore_ascii_case("fwm") => {
                return mark.parse().map(VsName::Fwmark).map_err(|_| format!("{s:?}: a firewall mark is a number"));
            }
            [group, name] if group.eq_ignore_ascii_case("group") => return Ok(VsName::Group((*name).to_string())),
            [proto, addr] => {
                if let (Some(protocol), Ok(addr)) = (parse_protocol(proto), addr.parse()) {
                    return Ok(VsName::Addr { addr, protocol: Some(protocol) });
                }
            }
            _ => {}
        }
        if let Some((addr, protocol)) = parse_keepalived_form(s) {
            return Ok(VsName::Addr { addr, protocol: Some(protocol) });
        }
        if let Ok(addr) = s.parse() {
            return Ok(VsName::Addr { addr, protocol: None });
        }
        if let Some(name) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if !name.is_empty() && name.parse::<IpAddr>().is_err() {
                return Ok(VsName::Group(name.to_string()));
            }
        }
        Err(format!(
            "{s:?} is not a virtual server: try 10.0.0.1:80, TCP 10.0.0.1:80, [10.0.0.1]:tcp:80, FWM 1 or [group]"
        ))
    }
}

impl fmt::Display for VsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VsName::Addr { addr, protocol: None } => write!(f, "{addr}"),
            VsName::Addr { addr, protocol: Some(p) } => write!(f, "[{}]:{}:{}", addr.ip(), p.word(), addr.port()),
            VsName::Fwmark(mark) => write!(f, "FWM {mark}"),
            VsName::Group(name) => write!(f, "[{name}]"),
        }
    }
}

impl TryFrom<String> for VsName {
    type Error = String;

    fn try_from(s: String) -> Result<VsName, String> {
        s.parse()
    }
}

impl From<VsName> for String {
    fn from(v: VsName) -> String {
        v.to_string()
    }
}

impl VsName {
    /// Whether clearing `self` clears an entry made for `other`: the same name, or a name
    /// without a protocol for one with it (`10.0.0.1:80` clears `[10.0.0.1]:tcp:80`).
    fn covers(&self, other: &VsName) -> bool {
        match (self, other) {
            (VsName::Addr { addr: a, protocol: None }, VsName::Addr { addr: b, .. }) => a == b,
            _ => self == other,
        }
    }

    fn matches(&self, vs: &VirtualServer) -> bool {
        match (self, &vs.key) {
            (VsName::Addr { addr, protocol }, VsKey::Addr { ip, port }) => {
                addr.ip() == *ip && addr.port() == *port && protocol.is_none_or(|p| p == Proto::of(vs.protocol))
            }
            (VsName::Fwmark(m), VsKey::Fwmark { mark }) => m == mark,
            (VsName::Group(n), VsKey::Group { name }) => n == name,
            _ => false,
        }
    }
}

/// A real server as an operator names it: `10.0.0.7:80` or `[10.0.0.7]:tcp:80`.
pub fn parse_rs(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    s.parse()
        .ok()
        .or_else(|| parse_keepalived_form(s).map(|(a, _)| a))
        .ok_or_else(|| format!("{s:?} is not a real server: try 10.0.0.7:80 or [10.0.0.7]:tcp:80"))
}

fn de_rs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    parse_rs(&text).map_err(serde::de::Error::custom)
}

/// Whether `addr` names `rs` of `vs`: its configured port, or the port it has in the
/// kernel (a real server without a port, or behind DR or TUN, serves the virtual server's).
fn rs_matches(addr: SocketAddr, vs: &VirtualServer, rs: &RealServer) -> bool {
    let vs_port = match vs.key {
        VsKey::Addr { port, .. } => Some(port),
        _ => None,
    };
    addr.ip() == rs.ip && (addr.port() == rs.port || Some(addr.port()) == vs_port)
}

/// What an entry is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Target {
    /// Every real server of every virtual server.
    Director,
    VirtualServer {
        vs: VsName,
    },
    RealServer {
        vs: VsName,
        #[serde(deserialize_with = "de_rs")]
        rs: SocketAddr,
    },
}

impl Target {
    /// See [`VsName::covers`].
    fn covers(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Director, Target::Director) => true,
            (Target::VirtualServer { vs: a }, Target::VirtualServer { vs: b }) => a.covers(b),
            (Target::RealServer { vs: a, rs: r }, Target::RealServer { vs: b, rs: q }) => a.covers(b) && r == q,
            _ => false,
        }
    }

    fn scope(&self) -> &'static str {
        match self {
            Target::Director => "director",
            Target::VirtualServer { .. } => "virtual_server",
            Target::RealServer { .. } => "real_server",
        }
    }

    /// The more specific entry wins: a real server's over its virtual server's over the
    /// director's.
    fn rank(&self) -> u8 {
        match self {
            Target::Director => 0,
            Target::VirtualServer { .. } => 1,
            Target::RealServer { .. } => 2,
        }
    }

    fn matches(&self, vs: &VirtualServer, rs: &RealServer) -> bool {
        match self {
            Target::Director => true,
            Target::VirtualServer { vs: name } => name.matches(vs),
            Target::RealServer { vs: name, rs: addr } => name.matches(vs) && rs_matches(*addr, vs, rs),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Director => write!(f, "the director"),
            Target::VirtualServer { vs } => write!(f, "VS {vs}"),
            Target::RealServer { vs, rs } => write!(f, "RS {rs} of VS {vs}"),
        }
    }
}

/// What maintenance does to a real server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Weight 0: no new connections, the existing ones finish.
    #[default]
    Quiescent,
    /// Out of the table: its connections stop being forwarded.
    Remove,
}

impl Mode {
    fn word(self) -> &'static str {
        match self {
            Mode::Quiescent => "quiescent",
            Mode::Remove => "remove",
        }
    }
}

/// One maintenance entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    pub target: Target,
    pub mode: Mode,
    pub reason: Option<String>,
    /// Unix time it was set.
    pub since: f64,
    /// Unix time it ends by itself.
    pub expires: Option<f64>,
}

/// One runtime weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightOverride {
    pub vs: VsName,
    pub rs: SocketAddr,
    pub weight: i32,
    pub since: f64,
    pub expires: Option<f64>,
}

/// Every entry; the file's content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub maintenance: Vec<Maintenance>,
    #[serde(default)]
    pub weights: Vec<WeightOverride>,
    /// The announced VIPs withdrawn by `vigilctl drain` (see [`crate::announce`]).
    #[serde(default)]
    pub drained: Vec<Drained>,
}

/// One `vigilctl drain`: a VIP, or every VIP (`vip` absent), withdrawn from the routers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drained {
    pub vip: Option<IpAddr>,
    /// Unix time it was set.
    pub since: f64,
}

impl State {
    /// Whether `vip` is drained, by itself or with every VIP.
    pub fn is_drained(&self, vip: IpAddr) -> bool {
        self.drained.iter().any(|d| d.vip.is_none_or(|v| v == vip))
    }
}

/// A request from `vigilctl`, one JSON object on the control socket.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    On {
        target: Target,
        #[serde(default)]
        mode: Mode,
        reason: Option<String>,
        expires: Option<f64>,
    },
    Off {
        target: Target,
    },
    /// Set the weight of `rs`, or drop the override with `weight: null`.
    Weight {
        vs: VsName,
        #[serde(deserialize_with = "de_rs")]
        rs: SocketAddr,
        weight: Option<i32>,
        expires: Option<f64>,
    },
    /// Withdraw the announcement of `vip`, or of every VIP.
    Drain {
        vip: Option<IpAddr>,
    },
    /// Announce `vip` (or every VIP) again.
    Undrain {
        vip: Option<IpAddr>,
    },
}

/// What applies to one real server.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Runtime {
    pub maintenance: Option<Maintenance>,
    pub weight: Option<i32>,
}

fn on_event(m: &Maintenance) -> Kind {
    let (vs, rs) = target_names(&m.target);
    Kind::Maintenance {
        scope: m.target.scope(),
        vs,
        rs,
        state: "ON",
        mode: Some(m.mode.word()),
        reason: m.reason.clone(),
        expires: m.expires,
    }
}

fn off_event(target: &Target, reason: Option<String>) -> Kind {
    let (vs, rs) = target_names(target);
    Kind::Maintenance { scope: target.scope(), vs, rs, state: "OFF", mode: None, reason, expires: None }
}

fn target_names(t: &Target) -> (Option<String>, Option<String>) {
    match t {
        Target::Director => (None, None),
        Target::VirtualServer { vs } => (Some(vs.to_string()), None),
        Target::RealServer { vs, rs } => (Some(vs.to_string()), Some(rs.to_string())),
    }
}

impl State {
    /// Applies `change` at `now`; returns the events it makes (none when nothing changed).
    pub fn apply(&mut self, change: Change, now: f64) -> Result<Vec<Kind>, String> {
        match change {
            Change::On { target, mode, reason, expires } => {
                if let Some(r) = &reason {
                    if r.chars().count() > MAX_REASON {
                        return Err(format!("the reason is longer than {MAX_REASON} characters"));
                    }
                }
                check_expiry(expires, now)?;
                // Setting it again changes mode, reason or expiry, not since when; a name
                // without a protocol replaces the entries made with one.
                let since = self.maintenance.iter().find(|m| m.target == target).map_or(now, |m| m.since);
                let entry = Maintenance { target, mode, reason, since, expires };
                let kind = on_event(&entry);
                self.maintenance.retain(|m| !entry.target.covers(&m.target));
                self.maintenance.push(entry);
                self.maintenance.sort_by(|a, b| a.target.cmp(&b.target));
                Ok(vec![kind])
            }
            Change::Off { target } => {
                let before = self.maintenance.len();
                self.maintenance.retain(|m| !target.covers(&m.target));
                if self.maintenance.len() == before {
                    return Err(format!("{target} is not in maintenance"));
                }
                Ok(vec![off_event(&target, None)])
            }
            Change::Weight { vs, rs, weight: Some(weight), expires } => {
                if !(0..=MAX_WEIGHT).contains(&weight) {
                    return Err(format!("weight {weight} out of range 0..={MAX_WEIGHT}"));
                }
                check_expiry(expires, now)?;
                let kind = Kind::Weight { vs: vs.to_string(), rs: rs.to_string(), weight: Some(weight), expires };
                let entry = WeightOverride { vs, rs, weight, since: now, expires };
                self.weights.retain(|w| !(entry.vs.covers(&w.vs) && w.rs == entry.rs));
                self.weights.push(entry);
                self.weights.sort_by(|a, b| (&a.vs, a.rs).cmp(&(&b.vs, b.rs)));
                Ok(vec![kind])
            }
            Change::Weight { vs, rs, weight: None, .. } => {
                let before = self.weights.len();
                self.weights.retain(|w| !(vs.covers(&w.vs) && w.rs == rs));
                if self.weights.len() == before {
                    return Err(format!("RS {rs} of VS {vs} has no weight override"));
                }
                Ok(vec![Kind::Weight { vs: vs.to_string(), rs: rs.to_string(), weight: None, expires: None }])
            }
            Change::Drain { vip } => {
                // Draining one VIP while all are drained changes nothing; draining all
                // replaces the single ones.
                if self.drained.iter().any(|d| d.vip.is_none() || d.vip == vip) {
                    return Ok(Vec::new());
                }
                self.drained.retain(|d| vip.is_some() && d.vip != vip);
                self.drained.push(Drained { vip, since: now });
                self.drained.sort_by_key(|d| d.vip);
                Ok(vec![Kind::Drain { vip: vip.map(|v| v.to_string()), state: "ON" }])
            }
            Change::Undrain { vip } => {
                if vip.is_some() && self.drained.iter().any(|d| d.vip.is_none()) {
                    return Err("every VIP is drained: undrain without a VIP ends that".into());
                }
                let before = self.drained.len();
                // Undraining all clears every entry; one VIP clears only its own.
                self.drained.retain(|d| vip.is_some() && d.vip != vip);
                if self.drained.len() == before {
                    let what = vip.map_or("no VIP".to_string(), |v| format!("{v}"));
                    return Err(format!("{what} is not drained"));
                }
                Ok(vec![Kind::Drain { vip: vip.map(|v| v.to_string()), state: "OFF" }])
            }
        }
    }

    /// Drops the entries whose time has come; returns their events.
    pub fn expire(&mut self, now: f64) -> Vec<Kind> {
        let due = |e: Option<f64>| e.is_some_and(|t| t <= now);
        let mut events: Vec<Kind> = self
            .maintenance
            .iter()
            .filter(|m| due(m.expires))
            .map(|m| off_event(&m.target, Some("expired".into())))
            .collect();
        events.extend(self.weights.iter().filter(|w| due(w.expires)).map(|w| Kind::Weight {
            vs: w.vs.to_string(),
            rs: w.rs.to_string(),
            weight: None,
            expires: w.expires,
        }));
        self.maintenance.retain(|m| !due(m.expires));
        self.weights.retain(|w| !due(w.expires));
        events
    }

    /// The earliest expiry.
    pub fn next_expiry(&self) -> Option<f64> {
        self.maintenance
            .iter()
            .filter_map(|m| m.expires)
            .chain(self.weights.iter().filter_map(|w| w.expires))
            .reduce(f64::min)
    }

    /// What applies to each real server of `config`.
    pub fn resolve(&self, config: &Config) -> BTreeMap<RsId, Runtime> {
        let mut out = BTreeMap::new();
        if self.maintenance.is_empty() && self.weights.is_empty() {
            return out;
        }
        for (i, vs) in config.virtual_servers.iter().enumerate() {
            for (j, rs) in vs.real_servers.iter().enumerate() {
                let maintenance = self
                    .maintenance
                    .iter()
                    .filter(|m| m.target.matches(vs, rs))
                    .max_by_key(|m| m.target.rank())
                    .cloned();
                let weight =
                    self.weights.iter().find(|w| w.vs.matches(vs) && rs_matches(w.rs, vs, rs)).map(|w| w.weight);
                if maintenance.is_some() || weight.is_some() {
                    out.insert(RsId { vs: i, rs: j }, Runtime { maintenance, weight });
                }
            }
        }
        out
    }

    /// How many real servers of `config` a change's target names.
    fn matched(config: &Config, change: &Change) -> usize {
        let servers = config.virtual_servers.iter().flat_map(|vs| vs.real_servers.iter().map(move |rs| (vs, rs)));
        match change {
            Change::On { target, .. } | Change::Off { target } => {
                servers.filter(|(vs, rs)| target.matches(vs, rs)).count()
            }
            Change::Weight { vs: name, rs: addr, .. } => {
                servers.filter(|(vs, rs)| name.matches(vs) && rs_matches(*addr, vs, rs)).count()
            }
            Change::Drain { vip: Some(vip) } | Change::Undrain { vip: Some(vip) } => {
                servers.filter(|(vs, _)| vigil_config::announce::vs_addresses(config, &vs.key).contains(vip)).count()
            }
            Change::Drain { vip: None } | Change::Undrain { vip: None } => servers.count(),
        }
    }
}

fn check_expiry(expires: Option<f64>, now: f64) -> Result<(), String> {
    match expires {
        Some(t) if !t.is_finite() || t <= now => Err("the expiry time is already past".into()),
        _ => Ok(()),
    }
}

/// A real server's health as the checkers and the configuration give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub up: bool,
    /// A weight set by a dynamic checker (MISC_CHECK misc_dynamic).
    pub weight: Option<i32>,
    /// `inhibit_on_failure`: kept at weight 0 when down.
    pub inhibit: bool,
}

/// What the reconciler is told about a real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Counts for the quorum and serves with `weight`.
    pub alive: bool,
    /// Replaces the configured weight.
    pub weight: Option<i32>,
    /// When not alive: kept at weight 0 (true) or removed.
    pub inhibit: bool,
}

/// The pure decision: maintenance makes a server not alive whatever its checks say (so it
/// counts as down for the quorum and the sorry server), kept at weight 0 when quiescent and
/// removed otherwise; an override replaces the weight, a dynamic checker's too.
pub fn decide(health: Health, runtime: Option<&Runtime>) -> Decision {
    let weight = runtime.and_then(|r| r.weight).or(health.weight);
    match runtime.and_then(|r| r.maintenance.as_ref()).map(|m| m.mode) {
        Some(Mode::Quiescent) => Decision { alive: false, weight, inhibit: true },
        Some(Mode::Remove) => Decision { alive: false, weight, inhibit: false },
        None => Decision { alive: health.up, weight, inhibit: health.inhibit },
    }
}

/// Tells the reconciler's pools `decision` for `id`; returns the quorum change it makes.
pub fn apply(pools: &mut Pools, id: RsId, decision: Decision) -> Option<QuorumEvent> {
    let member = pools.pools.get_mut(id.vs)?.members.get_mut(id.rs)?;
    member.inhibit = decision.inhibit;
    // An override that is cleared must give the weight back, which set_health alone would not.
    member.dynamic_weight = decision.weight;
    pools.set_health(id, decision.alive, decision.weight)
}

/// The state file's path: `$VIGIL_STATE_DIR/runtime.json`, or under /var/lib/vigil.
pub fn state_path() -> PathBuf {
    let dir = std::env::var_os(STATE_DIR_ENV).map_or_else(|| PathBuf::from(STATE_DIR), PathBuf::from);
    dir.join(FILE_NAME)
}

/// Reads the entries kept at `path`; none when there is no file.
pub fn load(path: &Path) -> anyhow::Result<State> {
    use anyhow::Context as _;
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `state` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over the old one, so a crash leaves the old file or the new one.
pub fn save(path: &Path, state: &State) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let dir = path.parent().context("the state file has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
    let mut text = serde_json::to_string_pretty(state).context("serializing the entries")?;
    text.push('\n');
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    // The rename is durable once the directory is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

struct Inner {
    state: State,
    /// The configuration the checkers run, to check that a target names something and to
    /// show the entries on the servers they apply to.
    config: Option<Arc<Config>>,
}

/// The entries, their file, and who wants to know when they change.
pub struct Store {
    path: PathBuf,
    inner: Mutex<Inner>,
    changed: watch::Sender<State>,
}

/// What a change did, for `vigilctl`.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// Real servers of the running configuration the target names; `None` without the
    /// checkers.
    pub matched: Option<usize>,
    pub state: State,
}

impl Store {
    /// The entries kept at `path`, those expired while the daemon was away dropped. A file
    /// that cannot be read is logged and replaced at the next change.
    pub fn open(path: PathBuf, now: SystemTime) -> Store {
        let mut state = load(&path).unwrap_or_else(|e| {
            tracing::error!("maintenance: {e:#}; starting without maintenance entries");
            State::default()
        });
        let expired = state.expire(unix_time(now));
        if !expired.is_empty() {
            tracing::info!(count = expired.len(), "maintenance: entries expired while stopped are dropped");
            if let Err(e) = save(&path, &state) {
                tracing::error!("maintenance: {e:#}");
            }
        }
        for m in &state.maintenance {
            tracing::info!(mode = m.mode.word(), "Maintenance on for {} (kept from before the restart)", m.target);
        }
        let (changed, _) = watch::channel(state.clone());
        Store { path, inner: Mutex::new(Inner { state, config: None }), changed }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding it leaves a whole State: the data is still good.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn snapshot(&self) -> State {
        self.lock().state.clone()
    }

    /// A receiver that sees every later state.
    pub fn subscribe(&self) -> watch::Receiver<State> {
        self.changed.subscribe()
    }

    /// The configuration the checkers now run.
    pub fn set_config(&self, config: Arc<Config>) {
        self.lock().config = Some(config);
    }

    /// What applies to each real server of the running configuration.
    pub fn resolved(&self) -> BTreeMap<RsId, Runtime> {
        let inner = self.lock();
        inner.config.as_ref().map(|c| inner.state.resolve(c)).unwrap_or_default()
    }

    /// Applies `change`, saves, tells the subscribers; returns the events to publish and
    /// the answer. A target that names nothing of the running configuration is refused
    /// (except `off`, which clears what an edited configuration left behind).
    pub fn change(&self, change: Change, now: SystemTime) -> Result<(Vec<Kind>, Answer), String> {
        let mut inner = self.lock();
        let matched = inner.config.as_ref().map(|c| State::matched(c, &change));
        let clearing =
            matches!(change, Change::Off { .. } | Change::Weight { weight: None, .. } | Change::Undrain { .. });
        let director = matches!(change, Change::On { target: Target::Director, .. } | Change::Drain { vip: None });
        if matched == Some(0) && !clearing && !director {
            return Err("no real server of the running configuration matches".into());
        }
        let mut state = inner.state.clone();
        let events = state.apply(change, unix_time(now))?;
        save(&self.path, &state).map_err(|e| format!("{e:#}"))?;
        inner.state = state.clone();
        self.changed.send_replace(state.clone());
        Ok((events, Answer { matched, state }))
    }

    /// Drops the entries whose time has come; returns their events.
    pub fn expire(&self, now: SystemTime) -> Vec<Kind> {
        let mut inner = self.lock();
        let mut state = inner.state.clone();
        let events = state.expire(unix_time(now));
        if events.is_empty() {
            return events;
        }
        if let Err(e) = save(&self.path, &state) {
            tracing::error!("maintenance: {e:#}");
        }
        inner.state = state.clone();
        self.changed.send_replace(state);
        events
    }

    fn next_expiry(&self) -> Option<f64> {
        self.lock().state.next_expiry()
    }
}

/// The daemon's store, opened at first use from [`state_path`].
pub fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store::open(state_path(), SystemTime::now()))
}

/// Logs and publishes the events of a change.
pub fn publish(events: &Events, kinds: Vec<Kind>) {
    for kind in kinds {
        match &kind {
            Kind::Maintenance { vs, rs, state, mode, reason, .. } => {
                let target = match (vs, rs) {
                    (Some(vs), Some(rs)) => format!("RS {rs} of VS {vs}"),
                    (Some(vs), None) => format!("VS {vs}"),
                    _ => "the director".to_string(),
                };
                let mode = mode.map_or(String::new(), |m| format!(" ({m})"));
                let reason = reason.as_deref().map_or(String::new(), |r| format!(": {r}"));
                tracing::info!("Maintenance {state} for {target}{mode}{reason}");
            }
            Kind::Weight { vs, rs, weight: Some(w), .. } => {
                tracing::info!("Runtime weight {w} for RS {rs} of VS {vs}")
            }
            Kind::Weight { vs, rs, weight: None, .. } => {
                tracing::info!("Runtime weight cleared for RS {rs} of VS {vs}")
            }
            Kind::Drain { vip, state } => {
                let what = vip.as_deref().map_or("every VIP".to_string(), |v| format!("VIP {v}"));
                tracing::info!("Drain {state} for {what}")
            }
            _ => {}
        }
        events.publish(kind);
    }
}

/// Drops each entry at its time, until the daemon stops; wakes at least every
/// [`EXPIRY_RECHECK`] so that a change of the wall clock is seen.
pub async fn expire_loop(store: &'static Store, events: Events) {
    let mut changed = store.subscribe();
    loop {
        let now = unix_time(SystemTime::now());
        let wait = store
            .next_expiry()
            .map_or(EXPIRY_RECHECK, |t| Duration::from_secs_f64((t - now).max(0.0)).min(EXPIRY_RECHECK));
        tokio::select! {
            () = tokio::time::sleep(wait) => publish(&events, store.expire(SystemTime::now())),
            r = changed.changed() => if r.is_err() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(text: &str) -> Config {
        let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        parsed.config
    }

    /// Quorum 2 of two real servers of weight 1, and a sorry server.
    const QUORUM: &str = "
virtual_server 10.0.0.3 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 2
    sorry_server 10.0.9.9 80
    real_server 10.0.1.1 80 { }
    real_server 10.0.1.2 80 { }
}
";

    /// No quorum; the second real server has inhibit_on_failure.
    const PLAIN: &str = "
virtual_server 10.0.0.4 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 { weight 3 }
    real_server 10.0.1.2 80 {
        inhibit_on_failure
    }
}
";

    fn entry(mode: Mode) -> Maintenance {
        Maintenance { target: Target::Director, mode, reason: None, since: 0.0, expires: None }
    }

    /// What a real server is told: up, maintenance, override.
    type Told = (bool, Option<Mode>, Option<i32>);

    /// A configuration, what its two real servers are told, the destinations (last
    /// address byte, weight) and the quorum that follow.
    type Case = (&'static str, &'static [Told], &'static [(u8, i32)], bool);

    /// The destinations (last address byte -> weight) and the quorum after each real
    /// server of `text` is told its [`Told`].
    fn outcome(text: &str, servers: &[Told]) -> (BTreeMap<u8, i32>, bool) {
        let (mut pools, _) = Pools::from_config(&config(text));
        for (rs, &(up, mode, weight)) in servers.iter().enumerate() {
            let id = RsId { vs: 0, rs };
            let inhibit = pools.pools[0].members[rs].inhibit;
            let runtime = Runtime { maintenance: mode.map(entry), weight };
            apply(&mut pools, id, decide(Health { up, weight: None, inhibit }, Some(&runtime)));
        }
        let dests = pools.pools[0]
            .dests()
            .values()
            .map(|d| match d.key.addr {
                IpAddr::V4(a) => (a.octets()[3], d.weight),
                IpAddr::V6(_) => unreachable!("IPv4 only here"),
            })
            .collect();
        (dests, pools.pools[0].quorum_up)
    }

    #[test]
    fn the_decision_table() {
        const Q: Option<Mode> = Some(Mode::Quiescent);
        const R: Option<Mode> = Some(Mode::Remove);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            // health x maintenance x override, no quorum
            (PLAIN, &[(true, None, None), (true, None, None)], &[(1, 3), (2, 1)], true),
            (PLAIN, &[(false, None, None), (true, None, None)], &[(2, 1)], true),
            (PLAIN, &[(true, Q, None), (true, None, None)], &[(1, 0), (2, 1)], true),
            (PLAIN, &[(false, Q, None), (true, None, None)], &[(1, 0), (2, 1)], true),
            (PLAIN, &[(true, R, None), (true, None, None)], &[(2, 1)], true),
            (PLAIN, &[(true, None, Some(7)), (true, None, None)], &[(1, 7), (2, 1)], true),
            (PLAIN, &[(true, None, Some(0)), (true, None, None)], &[(1, 0), (2, 1)], true),
            (PLAIN, &[(false, None, Some(7)), (true, None, None)], &[(2, 1)], true),
            (PLAIN, &[(true, Q, Some(7)), (true, None, None)], &[(1, 0), (2, 1)], true),
            (PLAIN, &[(true, R, Some(7)), (true, None, None)], &[(2, 1)], true),
            // inhibit_on_failure: down keeps weight 0; remove maintenance still removes
            (PLAIN, &[(true, None, None), (false, None, None)], &[(1, 3), (2, 0)], true),
            (PLAIN, &[(true, None, None), (true, R, None)], &[(1, 3)], true),
            (PLAIN, &[(true, None, None), (false, None, Some(9))], &[(1, 3), (2, 0)], true),
            // quorum 2 of 1+1, sorry server .9
            (QUORUM, &[(true, None, None), (true, None, None)], &[(1, 1), (2, 1)], true),
            // in maintenance counts as down: the quorum is lost, the sorry server comes in,
            // the quiescent one stays at weight 0 and the other leaves
            (QUORUM, &[(true, Q, None), (true, None, None)], &[(1, 0), (9, 1)], false),
            (QUORUM, &[(true, R, None), (true, None, None)], &[(9, 1)], false),
            // an override that makes up the quorum on its own
            (QUORUM, &[(true, R, None), (true, None, Some(2))], &[(2, 2)], true),
            // an override of 0 takes its weight out of the quorum
            (QUORUM, &[(true, None, Some(0)), (true, None, None)], &[(9, 1)], false),
            (QUORUM, &[(false, None, None), (false, None, None)], &[(9, 1)], false),
        ];
        for (i, (text, servers, dests, quorum)) in cases.iter().enumerate() {
            let (got, got_quorum) = outcome(text, servers);
            let want: BTreeMap<u8, i32> = dests.iter().copied().collect();
            assert_eq!((got, got_quorum), (want, *quorum), "case {i}: {servers:?}");
        }
    }

    #[test]
    fn a_cleared_override_gives_the_weight_back() {
        let (mut pools, _) = Pools::from_config(&config(PLAIN));
        let id = RsId { vs: 0, rs: 0 };
        let health = Health { up: true, weight: None, inhibit: false };
        let runtime = Runtime { maintenance: None, weight: Some(9) };
        apply(&mut pools, id, decide(health, Some(&runtime)));
        assert_eq!(pools.pools[0].weight(0), 9);
        apply(&mut pools, id, decide(health, None));
        assert_eq!(pools.pools[0].weight(0), 3);
        // A dynamic checker's weight comes back when the override goes.
        apply(&mut pools, id, decide(Health { weight: Some(4), ..health }, None));
        assert_eq!(pools.pools[0].weight(0), 4);
    }

    #[test]
    fn virtual_servers_are_named_as_vigilctl_ipvs_and_the_status_show_them() {
        let addr = |s: &str| s.parse::<SocketAddr>().expect("an address");
        let cases = [
            ("10.0.0.1:80", VsName::Addr { addr: addr("10.0.0.1:80"), protocol: None }, "10.0.0.1:80"),
            (
                "TCP 10.0.0.1:80",
                VsName::Addr { addr: addr("10.0.0.1:80"), protocol: Some(Proto::Tcp) },
                "[10.0.0.1]:tcp:80",
            ),
            (
                "[10.0.0.1]:udp:53",
                VsName::Addr { addr: addr("10.0.0.1:53"), protocol: Some(Proto::Udp) },
                "[10.0.0.1]:udp:53",
            ),
            ("[2001:db8::1]:80", VsName::Addr { addr: addr("[2001:db8::1]:80"), protocol: None }, "[2001:db8::1]:80"),
            (
                "[2001:db8::1]:tcp:80",
                VsName::Addr { addr: addr("[2001:db8::1]:80"), protocol: Some(Proto::Tcp) },
                "[2001:db8::1]:tcp:80",
            ),
            ("FWM 1", VsName::Fwmark(1), "FWM 1"),
            ("fwm  7", VsName::Fwmark(7), "FWM 7"),
            ("[web]", VsName::Group("web".into()), "[web]"),
            ("group web", VsName::Group("web".into()), "[web]"),
        ];
        for (text, want, shown) in cases {
            let got: VsName = text.parse().expect(text);
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), shown);
            assert_eq!(shown.parse::<VsName>().expect(shown), want, "{shown} reads back");
        }
        for bad in ["", "10.0.0.1", "FWM x", "[]", "[10.0.0.1]", "ICMP 10.0.0.1:80"] {
            assert!(bad.parse::<VsName>().is_err(), "{bad:?}");
        }
        assert_eq!(parse_rs("[10.0.0.7]:tcp:80"), Ok(addr("10.0.0.7:80")));
        assert!(parse_rs("10.0.0.7").is_err());
    }

    #[test]
    fn the_most_specific_entry_wins_and_servers_match_by_address() {
        let text = "
virtual_server 10.0.0.3 80 {
    lvs_method DR
    protocol TCP
    real_server 10.0.1.1 8080 { }
    real_server 10.0.1.2 { }
}
virtual_server fwmark 5 {
    protocol UDP
    real_server 10.0.1.1 53 { }
}
";
        let config = config(text);
        let vs: VsName = "10.0.0.3:80".parse().expect("a name");
        let mut state = State::default();
        let on = |target, mode| Change::On { target, mode, reason: None, expires: None };
        state.apply(on(Target::Director, Mode::Quiescent), 1.0).expect("applies");
        state.apply(on(Target::VirtualServer { vs: vs.clone() }, Mode::Remove), 1.0).expect("applies");
        // DR gives the destination the service's port: named by either port.
        let rs = "10.0.1.1:80".parse().expect("an address");
        state.apply(on(Target::RealServer { vs: vs.clone(), rs }, Mode::Quiescent), 1.0).expect("applies");
        let weight = Change::Weight {
            vs: "FWM 5".parse().expect("a name"),
            // keepalived clears a fwmark real server's port: the table has it on port 0.
            rs: "10.0.1.1:0".parse().expect("an address"),
            weight: Some(4),
            expires: None,
        };
        state.apply(weight, 1.0).expect("applies");
        let resolved = state.resolve(&config);
        let mode = |vs, rs| resolved.get(&RsId { vs, rs }).and_then(|r| r.maintenance.as_ref()).map(|m| m.mode);
        assert_eq!(mode(0, 0), Some(Mode::Quiescent), "its own entry");
        assert_eq!(mode(0, 1), Some(Mode::Remove), "its virtual server's");
        assert_eq!(mode(1, 0), Some(Mode::Quiescent), "the director's");
        assert_eq!(resolved.get(&RsId { vs: 1, rs: 0 }).and_then(|r| r.weight), Some(4));
        // A real server without a port serves the virtual server's.
        let rs2 = "10.0.1.2:80".parse().expect("an address");
        assert_eq!(State::matched(&config, &Change::Off { target: Target::RealServer { vs, rs: rs2 } }), 1);
        let udp = Target::VirtualServer { vs: "[10.0.0.3]:udp:80".parse().expect("a name") };
        assert_eq!(State::matched(&config, &Change::Off { target: udp }), 0, "another protocol");
    }

    #[test]
    fn entries_are_replaced_cleared_and_expire_at_their_time() {
        let mut state = State::default();
        let target = Target::VirtualServer { vs: "10.0.0.3:80".parse().expect("a name") };
        let on = |mode, expires| Change::On { target: target.clone(), mode, reason: Some("disk swap".into()), expires };
        let events = state.apply(on(Mode::Quiescent, Some(100.0)), 10.0).expect("applies");
        assert_eq!(
            events,
            [Kind::Maintenance {
                scope: "virtual_server",
                vs: Some("10.0.0.3:80".into()),
                rs: None,
                state: "ON",
                mode: Some("quiescent"),
                reason: Some("disk swap".into()),
                expires: Some(100.0),
            }]
        );
        state.apply(on(Mode::Remove, Some(50.0)), 20.0).expect("applies");
        assert_eq!(state.maintenance.len(), 1, "the same target is replaced");
        assert_eq!((state.maintenance[0].mode, state.maintenance[0].since), (Mode::Remove, 10.0));
        assert!(state.apply(on(Mode::Remove, Some(5.0)), 20.0).is_err(), "an expiry in the past");
        let rs = "10.0.1.1:80".parse().expect("an address");
        let vs: VsName = "10.0.0.3:80".parse().expect("a name");
        let weight = |w| Change::Weight { vs: vs.clone(), rs, weight: w, expires: Some(70.0) };
        assert!(state.apply(weight(Some(-1)), 20.0).is_err());
        assert!(state.apply(weight(Some(65_536)), 20.0).is_err());
        state.apply(weight(Some(3)), 20.0).expect("applies");
        assert_eq!(state.next_expiry(), Some(50.0));
        assert!(state.expire(49.9).is_empty());
        let expired = state.expire(50.0);
        assert_eq!(expired.len(), 1);
        assert!(matches!(&expired[0], Kind::Maintenance { state: "OFF", reason: Some(r), .. } if r == "expired"));
        assert_eq!(state.next_expiry(), Some(70.0));
        assert_eq!(state.expire(80.0).len(), 1);
        assert_eq!(state, State::default());
        assert!(state.apply(Change::Off { target: target.clone() }, 90.0).is_err(), "not in maintenance");
        // A name without a protocol replaces the entry made with one, and not the reverse.
        let tcp = Target::VirtualServer { vs: "[10.0.0.3]:tcp:80".parse().expect("a name") };
        let with =
            |target: &Target| Change::On { target: target.clone(), mode: Mode::Quiescent, reason: None, expires: None };
        state.apply(with(&tcp), 90.0).expect("applies");
        state.apply(with(&target), 91.0).expect("applies");
        assert_eq!(state.maintenance.iter().map(|m| &m.target).collect::<Vec<_>>(), [&target]);
        state.apply(with(&tcp), 92.0).expect("applies");
        assert_eq!(state.maintenance.len(), 2);
        assert!(state.apply(weight(None), 90.0).is_err(), "no override");
    }

    #[test]
    fn the_store_keeps_its_entries_across_a_restart_and_refuses_unknown_targets() {
        let scratch = tempfile::Builder::new().prefix("vigil-maintenance-").tempdir().expect("a directory");
        // Not there yet, as on a first start: the store makes it at its first write.
        let dir = scratch.path().join("state");
        let path = dir.join(FILE_NAME);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let store = Store::open(path.clone(), start);
        store.set_config(Arc::new(config(PLAIN)));
        let vs: VsName = "10.0.0.4:80".parse().expect("a name");
        let rs = "10.0.1.2:80".parse().expect("an address");
        let on = |target, expires| Change::On { target, mode: Mode::Quiescent, reason: None, expires };
        let (events, answer) =
            store.change(on(Target::RealServer { vs: vs.clone(), rs }, Some(2_000.0)), start).expect("applies");
        assert_eq!((events.len(), answer.matched), (1, Some(1)));
        store.change(on(Target::VirtualServer { vs: vs.clone() }, None), start).expect("applies");
        let unknown = Target::VirtualServer { vs: "10.9.9.9:80".parse().expect("a name") };
        assert!(store.change(on(unknown, None), start).is_err(), "names nothing configured");
        let changes = store.subscribe();
        store.change(Change::Weight { vs, rs, weight: Some(2), expires: None }, start).expect("applies");
        assert!(changes.has_changed().expect("open"), "subscribers are told");
        assert_eq!(store.resolved().get(&RsId { vs: 0, rs: 1 }).and_then(|r| r.weight), Some(2));
        let kept = store.snapshot();
        assert_eq!(load(&path).expect("the file reads"), kept);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(&dir).expect("the dir").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, [FILE_NAME]);

        // A restart after the first entry's time drops it, and keeps the others.
        let again = Store::open(path.clone(), start + Duration::from_secs(1_500));
        let state = again.snapshot();
        assert_eq!(state.maintenance.len(), 1);
        assert_eq!(state.maintenance[0].target, Target::VirtualServer { vs: "10.0.0.4:80".parse().expect("a name") });
        assert_eq!(state.weights, kept.weights);
        assert_eq!(load(&path).expect("the file reads"), state, "the file follows");

        // A damaged file starts empty rather than stopping the daemon.
        std::fs::write(&path, "{not json").expect("written");
        assert_eq!(Store::open(path, start).snapshot(), State::default());
        scratch.close().expect("cleaned up");
    }
}
