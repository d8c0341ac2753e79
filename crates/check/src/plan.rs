//! From a configuration to the list of checks to run, every setting resolved.
//!
//! keepalived.conf(5), LVS CONFIGURATION: "Where an option can be configured for a virtual
//! server, real server, and possibly checker, the virtual server setting is the default for
//! real servers, and the real server setting is the default for checkers." What none of them
//! sets takes keepalived's default, from the same page (keepalived 2.2):
//!
//! | setting              | default                                                          |
//! |----------------------|------------------------------------------------------------------|
//! | `delay_loop`         | 60 s ("60 seconds if not specified")                             |
//! | `connect_timeout`    | 5 s ("The default is 5 seconds")                                 |
//! | `retry`              | 1; DNS_CHECK 3 ("The retry default is 3"); MISC_CHECK 0          |
//! | `delay_before_retry` | 3 s for HTTP_GET/SSL_GET, `delay_loop` for DNS_CHECK, else 1 s   |
//! | `warmup`             | `delay_loop` ("Enabled by default, with the maximum at delay_loop") |
//! | `misc_timeout`       | `delay_loop` (keepalived's check_misc.c runs the script with the delay loop as timeout when none is set) |
//! | `status_code`        | 200-299 ("Default is 200-299")                                   |
//! | `http_protocol`      | 1.0                                                              |
//! | DNS_CHECK `type`/`name` | SOA / `.`                                                     |
//! | UDP_CHECK `min_reply_length`/`max_reply_length` | 0 / 255                               |
//!
//! FILE_CHECK has none of the timing options in keepalived (it watches the file with inotify);
//! Vigil polls the file every `delay_loop`, at most every second, and never retries.
//!
//! BFD_CHECK has none either: it is never run, it follows its `bfd_instance`'s session as the
//! BFD task reports it, at once and without retries; its `alpha` is its own, else the real
//! server's.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use vigil_config::in_order::InOrder;
use vigil_config::model::{
    CheckCommon, CheckKind, Checker, DnsType, Protocol, RealServer, ReplyPattern, SslSettings, VirtualServer, VsKey,
    DEFAULT_MAX_REPLY_LENGTH,
};
use vigil_config::Config;

use crate::response::{host_header, request};
use crate::Error;

/// keepalived's `delay_loop` when none is set (the config crate already applies it to the
/// virtual server; kept here for the docs and tests).
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived.conf(5): "Optional connection timeout in seconds. The default is 5 seconds".
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// keepalived.conf(5): "Default: 1 unless specified below".
pub const DEFAULT_RETRY: u32 = 1;
/// keepalived.conf(5), DNS_CHECK: "The retry default is 3."
pub const DEFAULT_DNS_RETRY: u32 = 3;
/// keepalived.conf(5), MISC_CHECK: "The retry default is 0."
pub const DEFAULT_MISC_RETRY: u32 = 0;
/// keepalived.conf(5): "3 seconds for HTTP_GET and SSL_GET".
pub const DEFAULT_HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
/// keepalived.conf(5): "and 1 second otherwise".
pub const DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
/// How often FILE_CHECK reads its file at the most.
pub const FILE_POLL_MAX: Duration = Duration::from_secs(1);

/// A real server: indexes into `Config::virtual_servers` and that virtual server's `real_servers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RsId {
    pub vs: usize,
    pub rs: usize,
}

/// A check: an index into [`Plan::checks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId(pub usize);

/// Everything to run, resolved.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Checks in real server order: the checks of one real server are contiguous.
    pub checks: Vec<CheckSpec>,
    /// Every real server of every virtual server, checked or not.
    pub servers: Vec<ServerSpec>,
    /// Each virtual server's name in keepalived's form (`[10.0.0.1]:tcp:80`, `FWM 1`,
    /// `[group]`), by its index in `Config::virtual_servers` ([`ServerSpec::vs`]): one for all
    /// its real servers.
    pub vs_names: Vec<Arc<str>>,
    /// Where to send SMTP alerts; `None` when no `smtp_server` or no `notification_email`.
    pub alerts: Option<AlertSettings>,
    /// Checkers ignored or changed, and why.
    pub problems: Vec<Error>,
    /// The `SSL` block, when an SSL_GET check will use it: keepalived sets its context up
    /// only then.
    pub ssl: Option<SslSettings>,
}

/// A real server and its checks.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// Its address, shown in keepalived's form: `[10.0.0.7]:tcp:80`.
    pub name: Name,
    /// Its virtual server's index in `Config::virtual_servers` and [`Plan::vs_names`]; with
    /// `rs`, its [`RsId`] ([`ServerSpec::id`]), kept as two `u32` (eight bytes less a server).
    pub vs: u32,
    /// Its index in its virtual server's `real_servers`.
    pub rs: u32,
    /// The configured weight.
    pub weight: i32,
    /// Checks of this server: [`ServerSpec::checks`].
    pub check_range: (u32, u32),
    /// Whether a checker transition sends an alert mail.
    pub smtp_alert: bool,
}

impl ServerSpec {
    /// Where it is in the configuration.
    pub fn id(&self) -> RsId {
        RsId { vs: self.vs as usize, rs: self.rs as usize }
    }

    /// Checks of this server: a range of [`Plan::checks`] (kept as two `u32`, 8 bytes less a
    /// server than a `Range<usize>`).
    pub fn checks(&self) -> Range<usize> {
        widened(self.check_range)
    }
}

/// A range of checks kept as two `u32` ([`ServerSpec::check_range`]), as indexes.
pub(crate) fn widened((start, end): (u32, u32)) -> Range<usize> {
    start as usize..end as usize
}

/// One check with every setting resolved.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    /// Index of the real server in [`Plan::servers`] (its [`RsId`] is there); four bytes, as
    /// no plan has four billion servers ([`CheckSpec::server`]).
    pub server_index: u32,
    pub kind: ProbeKind,
    /// Shared by the checks with the same timing (at 100,000 checks, usually all of them).
    pub timing: Arc<Timing>,
    /// Starts down until its first success (`alpha` on the real server or virtual server).
    pub alpha: bool,
    /// Log every failed attempt while up, not only the transition.
    pub log_all_failures: bool,
}

impl CheckSpec {
    /// Index of the real server in [`Plan::servers`].
    pub fn server(&self) -> usize {
        self.server_index as usize
    }

    /// Whether `other` is the same check with the same settings, wherever it is in its plan
    /// (of the same real server: the address it connects to is in its kind).
    pub fn same_check(&self, other: &CheckSpec) -> bool {
        (&self.kind, &self.timing, self.alpha, self.log_all_failures)
            == (&other.kind, &other.timing, other.alpha, other.log_all_failures)
    }

    /// keepalived's name for the check, from the address it connects to (`[10.0.0.7]:tcp:80`),
    /// or its real server's `server` for the kinds that connect nowhere.
    pub fn name(&self, server: &ServerSpec) -> Name {
        match self.kind.endpoint() {
            Some(e) => Name::new(e.addr(), server.name.protocol),
            None => server.name,
        }
    }
}

/// An address as keepalived names it in its logs, `[10.0.0.7]:tcp:80`: written out when shown.
/// A string for each real server would be megabytes at 100,000 of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
}

impl Name {
    pub fn new(addr: SocketAddr, protocol: Protocol) -> Name {
        Name { ip: addr.ip(), port: addr.port(), protocol }
    }

    /// The real server `rs` of `vs`.
    pub fn of(vs: &VirtualServer, rs: &RealServer) -> Name {
        Name { ip: rs.ip, port: rs.port, protocol: vs.protocol }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        };
        write!(f, "[{}]:{proto}:{}", self.ip, self.port)
    }
}

/// When a check runs; one for all the checks that share their settings (see [`CheckSpec::timing`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timing {
    /// Hard deadline for one attempt (for MISC_CHECK, `misc_timeout`).
    pub timeout: Duration,
    /// Extra attempts after a failure of an up checker before it is declared down.
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    /// The first run is delayed by a random time in `0..warmup`.
    pub warmup: Duration,
}

/// Where a probe connects from and to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The address ([`Endpoint::addr`]), kept as its parts: a `SocketAddr` is 32 bytes, these
    /// 20, and at 100,000 checks each byte is 100 kB in every plan.
    ip: IpAddr,
    port: u16,
    /// Boxed, and only when one of its settings is: most checks set none.
    pub source: Option<Box<Source>>,
}

/// Where a probe connects from: `bindto`, `bind_port`, `bind_if` and `fwmark`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
}

impl Endpoint {
    /// Towards `addr`, from wherever the kernel chooses.
    pub fn new(addr: SocketAddr) -> Endpoint {
        Endpoint { ip: addr.ip(), port: addr.port(), source: None }
    }

    /// Where it connects to.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// Towards `addr`, from `source` (none when it sets nothing).
    pub fn from(addr: SocketAddr, source: Source) -> Endpoint {
        Endpoint { source: (source != Source::default()).then(|| Box::new(source)), ..Endpoint::new(addr) }
    }
}

/// What a check does. The kinds whose settings are larger than an endpoint are boxed: at
/// 100,000 checks each byte here is 100 kB in every plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Tcp(Endpoint),
    Http(Box<HttpSpec>),
    Misc(Box<MiscSpec>),
    Smtp(Box<SmtpSpec>),
    Dns(Box<DnsSpec>),
    Udp(Box<UdpSpec>),
    Ping(Endpoint),
    File(FileSpec),
    /// BFD_CHECK: the name of the `bfd_instance` whose session it follows.
    Bfd(String),
}

impl ProbeKind {
    /// Where it connects to; `None` for the kinds that connect nowhere (MISC_CHECK, FILE_CHECK,
    /// BFD_CHECK) and for PING_CHECK, which keepalived names by its real server.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            ProbeKind::Tcp(e) => Some(e),
            ProbeKind::Http(h) => Some(&h.endpoint),
            ProbeKind::Smtp(s) => Some(&s.endpoint),
            ProbeKind::Dns(d) => Some(&d.endpoint),
            ProbeKind::Udp(u) => Some(&u.endpoint),
            ProbeKind::Ping(_) | ProbeKind::Misc(_) | ProbeKind::File(_) | ProbeKind::Bfd(_) => None,
        }
    }

    /// keepalived's keyword for the checker.
    pub fn keyword(&self) -> &'static str {
        match self {
            ProbeKind::Tcp(_) => "TCP_CHECK",
            ProbeKind::Http(h) if h.tls => "SSL_GET",
            ProbeKind::Http(_) => "HTTP_GET",
            ProbeKind::Misc(_) => "MISC_CHECK",
            ProbeKind::Smtp(_) => "SMTP_CHECK",
            ProbeKind::Dns(_) => "DNS_CHECK",
            ProbeKind::Udp(_) => "UDP_CHECK",
            ProbeKind::Ping(_) => "PING_CHECK",
            ProbeKind::File(_) => "FILE_CHECK",
            ProbeKind::Bfd(_) => "BFD_CHECK",
        }
    }
}

/// `http_protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpProtocol {
    #[default]
    Http10,
    /// 1.0 with `Connection: close`.
    Http10Close,
    /// 1.1, which keepalived always sends with `Connection: close`.
    Http11,
}

/// HTTP_GET / SSL_GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSpec {
    pub endpoint: Endpoint,
    pub tls: bool,
    pub enable_sni: bool,
    pub protocol: HttpProtocol,
    pub urls: Vec<UrlSpec>,
}

/// One `url` block, resolved.
#[derive(Clone, Debug)]
pub struct UrlSpec {
    pub path: String,
    /// What is sent: keepalived's request for `path`, built once.
    pub request: String,
    /// The Host header (and SNI name): url, checker, real server, then virtual server `virtualhost`.
    pub virtualhost: Option<String>,
    /// Accepted status ranges, inclusive.
    pub status: Vec<(u16, u16)>,
    pub digest: Option<[u8; 16]>,
    pub regex: Option<Arc<regex::bytes::Regex>>,
    pub regex_no_match: bool,
}

/// Two urls are the same when they ask and accept the same: a regex by its pattern.
impl PartialEq for UrlSpec {
    fn eq(&self, other: &UrlSpec) -> bool {
        fn pattern(u: &UrlSpec) -> Option<&str> {
            u.regex.as_deref().map(regex::bytes::Regex::as_str)
        }
        (&self.path, &self.request, &self.virtualhost, &self.status, self.digest, self.regex_no_match)
            == (&other.path, &other.request, &other.virtualhost, &other.status, other.digest, other.regex_no_match)
            && pattern(self) == pattern(other)
    }
}

impl Eq for UrlSpec {}

/// MISC_CHECK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscSpec {
    pub argv: Vec<String>,
    pub dynamic: bool,
    /// Run as this user (and group): `user`, the user after `misc_path`, then `script_user`.
    pub user: Option<(String, Option<String>)>,
}

/// SMTP_CHECK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSpec {
    pub endpoint: Endpoint,
    /// `helo_name`, else `smtp_helo_name`; unset, the host name at send time.
    pub helo_name: Option<String>,
}

/// DNS_CHECK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsSpec {
    pub endpoint: Endpoint,
    pub qtype: u16,
    pub name: String,
}

/// UDP_CHECK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpSpec {
    pub endpoint: Endpoint,
    pub payload: Option<Vec<u8>>,
    /// `Some(empty)`: a reply is needed but its content is not checked.
    pub require_reply: Option<ReplyPattern>,
    pub min_reply_length: u32,
    pub max_reply_length: u32,
}

/// FILE_CHECK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    pub path: String,
    pub weight: i32,
    pub reverse: bool,
}

/// Global SMTP alert settings; unset names default to the host name at send time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    pub router_id: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub server: String,
    pub port: u16,
    pub helo_name: Option<String>,
    pub connect_timeout: Duration,
}

impl Plan {
    /// The name of `server`'s virtual server ([`Plan::vs_names`]).
    pub fn vs_name(&self, server: &ServerSpec) -> &str {
        self.vs_name_of(server).map_or("", |n| n)
    }

    /// [`Plan::vs_name`], shared.
    pub(crate) fn vs_name_of(&self, server: &ServerSpec) -> Option<&Arc<str>> {
        self.vs_names.get(server.vs as usize)
    }
}

/// For each server of `new`, the same server (virtual server and name) in `old`, if any: what
/// a reload carries verdicts and history by. A server listed twice in a virtual server (the
/// configuration warns and keeps both) is each copy at its own place, or the first copy when
/// it moved ([`InOrder`]). Made once for a reload, for [`carry_over`](crate::carry_over) and
/// [`Status::resumed`](crate::Status::resumed).
pub fn same_servers(old: &Plan, new: &Plan) -> Matches {
    let mut finder = InOrder::new(&old.servers, |s: &ServerSpec| (old.vs_name(s), s.name));
    Matches(new.servers.iter().map(|s| finder.find((new.vs_name(s), s.name)).map_or(Matches::NONE, to_u32)).collect())
}

/// For each server of a plan, where the same server is in the plan before it ([`same_servers`]).
/// Four bytes a server: a reload holds it next to two plans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matches(Vec<u32>);

impl Matches {
    const NONE: u32 = u32::MAX;

    /// Where the server `new` of the new plan is in the plan before.
    pub fn get(&self, new: usize) -> Option<usize> {
        self.0.get(new).copied().filter(|&o| o != Matches::NONE).map(|o| o as usize)
    }

    /// Each server's [`Matches::get`], in the new plan's order.
    pub fn iter(&self) -> impl Iterator<Item = Option<usize>> + '_ {
        (0..self.0.len()).map(|i| self.get(i))
    }
}

/// A position in a plan as four bytes; no plan has four billion servers.
fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(Matches::NONE)
}

/// Builds the plan for a configuration.
pub fn plan(config: &Config) -> Plan {
    let mut out = Plan { alerts: alert_settings(config), ..Plan::default() };
    // Sized once: at 100,000 checks a doubling vector would hold a third more than it needs.
    let servers = || config.virtual_servers.iter().flat_map(|vs| &vs.real_servers);
    out.servers.reserve_exact(servers().count());
    out.checks.reserve_exact(servers().map(|rs| rs.checkers.len()).sum());
    let mut timings: HashMap<Timing, Arc<Timing>> = HashMap::new();
    out.vs_names = config.virtual_servers.iter().map(|vs| Arc::from(vs_name(vs))).collect();
    let outside = Outside::of(config);
    for (vsi, vs) in config.virtual_servers.iter().enumerate() {
        for (rsi, rs) in vs.real_servers.iter().enumerate() {
            let id = RsId { vs: vsi, rs: rsi };
            let name = Name::of(vs, rs);
            let start = out.checks.len();
            let server = out.servers.len();
            for mut spec in server_checks(&outside, vs, rs, (id, server, name), &mut out.problems) {
                spec.timing = timings.entry(*spec.timing).or_insert(spec.timing).clone();
                out.checks.push(spec);
            }
            let smtp_alert =
                rs.smtp_alert.or(config.global.smtp_alert_checker).or(config.global.smtp_alert).unwrap_or(true);
            out.servers.push(ServerSpec {
                name,
                vs: to_u32(vsi),
                rs: to_u32(rsi),
                weight: rs.weight,
                check_range: (to_u32(start), to_u32(out.checks.len())),
                smtp_alert,
            });
        }
    }
    if out.checks.iter().any(|c| matches!(&c.kind, ProbeKind::Http(h) if h.tls)) {
        out.ssl = config.ssl.clone();
    }
    out
}

/// The checks of the real server `rs` of `vs` (`id`, at `server` in its plan, named `name`),
/// in its checkers' order, those that cannot run left out and told in `problems`.
fn server_checks<'a>(
    outside: &'a Outside<'a>,
    vs: &'a VirtualServer,
    rs: &'a RealServer,
    (id, server, name): (RsId, usize, Name),
    problems: &'a mut Vec<Error>,
) -> impl Iterator<Item = CheckSpec> + 'a {
    rs.checkers.iter().filter_map(move |checker| {
        match check_spec(outside, vs, rs, checker, (id, server), name, problems) {
            Ok(spec) => Some(spec),
            Err(e) => {
                problems.push(e);
                None
            }
        }
    })
}

/// What a check's settings take from the configuration outside its virtual server: all that
/// [`check_spec`] is given of it. A virtual server shared by two configurations (the same
/// `Arc`: a reload keeps the running one where it says the same) therefore has the same
/// checks in both when this is equal.
#[derive(Debug, PartialEq)]
struct Outside<'a> {
    script_user: Option<&'a (String, Option<String>)>,
    smtp_helo_name: Option<&'a str>,
    /// The `bfd_instance`s a BFD_CHECK may follow.
    checker_bfds: Vec<&'a str>,
    /// Each `vrrp_track_file`'s name and file.
    track_files: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Outside<'a> {
    fn of(config: &'a Config) -> Outside<'a> {
        Outside {
            script_user: config.global.script_user.as_ref(),
            smtp_helo_name: config.global.smtp_helo_name.as_deref(),
            checker_bfds: config.bfd_instances.iter().filter(|b| b.to_checker).map(|b| b.name.as_str()).collect(),
            track_files: config.track_files.iter().map(|t| (t.name.as_str(), t.file.as_deref())).collect(),
        }
    }
}

/// Where [`carry_over`](crate::carry_over) finds the checks of the plan before.
#[derive(Clone, Copy, Debug)]
pub enum OldChecks<'a> {
    /// In that plan.
    InPlan,
    /// Gone from it (its [`Plan::checks`] let go before the new plan was made, which then
    /// never holds two plans' checks): made again from `old`, the configuration it was made
    /// of, for each real server whose virtual server `new` (the new plan's) does not share
    /// with it unchanged.
    Remade { old: &'a Config, new: &'a Config },
}

/// The checks of a plan before, made again from its configuration ([`OldChecks::Remade`]).
pub(crate) struct Remade<'a> {
    old: &'a Config,
    new: &'a Config,
    /// Whether the two configurations give the same settings from outside the virtual servers.
    same_outside: bool,
    outside: Outside<'a>,
}

impl<'a> Remade<'a> {
    pub(crate) fn new(old: &'a Config, new: &'a Config) -> Remade<'a> {
        let outside = Outside::of(old);
        Remade { old, new, same_outside: outside == Outside::of(new), outside }
    }

    /// Whether the real server `old` of the plan before has the checks `new` has in the new
    /// plan without making them again: the same virtual server (shared, so unchanged), the
    /// same place in it, and the same settings from outside.
    pub(crate) fn unchanged(&self, old: RsId, new: RsId) -> bool {
        let (a, b) = (self.old.virtual_servers.get(old.vs), self.new.virtual_servers.get(new.vs));
        self.same_outside && old.rs == new.rs && a.zip(b).is_some_and(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// The checks the plan before had for its real server `id`, made again as [`plan`] made
    /// them (what cannot run is left out again, and not told again).
    pub(crate) fn checks(&self, id: RsId) -> Vec<CheckSpec> {
        let Some(vs) = self.old.virtual_servers.get(id.vs) else { return Vec::new() };
        let Some(rs) = vs.real_servers.get(id.rs) else { return Vec::new() };
        let mut told = Vec::new();
        server_checks(&self.outside, vs, rs, (id, 0, Name::of(vs, rs)), &mut told).collect()
    }
}

/// keepalived's `FMT_VS`-like name of a virtual server.
fn vs_name(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { ip, port } => endpoint_name(SocketAddr::new(*ip, *port), vs.protocol),
        VsKey::Fwmark { mark } => format!("FWM {mark}"),
        VsKey::Group { name } => format!("[{name}]"),
    }
}

/// `[ip]:proto:port`, the form keepalived logs.
pub fn endpoint_name(addr: SocketAddr, protocol: Protocol) -> String {
    Name::new(addr, protocol).to_string()
}

/// The alert mail settings of `global_defs`, if mails can be sent at all (`smtp_server` and
/// at least one `notification_email`).
pub fn alert_settings(config: &Config) -> Option<AlertSettings> {
    let g = &config.global;
    let server = g.smtp_server.as_ref()?;
    if g.notification_email.is_empty() {
        return None;
    }
    Some(AlertSettings {
        router_id: g.router_id.clone(),
        from: g.notification_email_from.clone(),
        to: g.notification_email.clone(),
        server: server.host.clone(),
        port: server.port,
        helo_name: g.smtp_helo_name.clone(),
        connect_timeout: g.smtp_connect_timeout,
    })
}

/// The checker, real server and virtual server settings, most specific first.
struct Levels<'a>([&'a CheckCommon; 3]);

impl<'a> Levels<'a> {
    fn get<T: Clone + 'a>(&self, f: impl Fn(&'a CheckCommon) -> &'a Option<T>) -> Option<T> {
        self.0.iter().find_map(|c| f(c).clone())
    }
}

fn check_spec(
    outside: &Outside,
    vs: &VirtualServer,
    rs: &RealServer,
    checker: &Checker,
    (id, server): (RsId, usize),
    server_name: Name,
    problems: &mut Vec<Error>,
) -> Result<CheckSpec, Error> {
    let levels = Levels([checker.common(), rs.common(), vs.common()]);
    let delay_loop = levels.get(|c| &c.delay_loop).unwrap_or(vs.delay_loop);
    let (default_retry, default_dbr) = match &checker.kind {
        CheckKind::Http(_) => (DEFAULT_RETRY, DEFAULT_HTTP_DELAY_BEFORE_RETRY),
        CheckKind::Dns(_) => (DEFAULT_DNS_RETRY, delay_loop),
        CheckKind::Misc(_) => (DEFAULT_MISC_RETRY, DEFAULT_DELAY_BEFORE_RETRY),
        _ => (DEFAULT_RETRY, DEFAULT_DELAY_BEFORE_RETRY),
    };
    let mut timing = Timing {
        timeout: levels.get(|c| &c.connect_timeout).unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        retry: levels.get(|c| &c.retry).unwrap_or(default_retry),
        delay_before_retry: levels.get(|c| &c.delay_before_retry).unwrap_or(default_dbr),
        delay_loop,
        warmup: levels.get(|c| &c.warmup).unwrap_or(delay_loop),
    };
    let mut alpha = rs.alpha.unwrap_or(vs.alpha);
    let rs_name = || server_name.to_string();
    let endpoint = |default_port: u16, kind: &'static str| -> Result<Endpoint, Error> {
        let port = levels.get(|c| &c.connect_port).unwrap_or(rs.port);
        let port = if port == 0 { default_port } else { port };
        if port == 0 {
            return Err(Error::NoPort { rs: id, kind, rs_name: rs_name() });
        }
        let source = Source {
            bindto: levels.get(|c| &c.bindto),
            bind_port: levels.get(|c| &c.bind_port),
            bind_if: levels.get(|c| &c.bind_if),
            fwmark: levels.get(|c| &c.fwmark),
        };
        Ok(Endpoint::from(SocketAddr::new(levels.get(|c| &c.connect_ip).unwrap_or(rs.ip), port), source))
    };
    let kind = match &checker.kind {
        CheckKind::Tcp => ProbeKind::Tcp(endpoint(0, "TCP_CHECK")?),
        CheckKind::Http(h) => {
            let kind = if h.tls { "SSL_GET" } else { "HTTP_GET" };
            if h.urls.is_empty() {
                return Err(Error::NoUrl { rs: id, kind, rs_name: rs_name() });
            }
            let protocol = match h.http_protocol.as_deref() {
                None | Some("1.0") => HttpProtocol::Http10,
                Some("1.0C") | Some("1.0c") => HttpProtocol::Http10Close,
                Some("1.1") => HttpProtocol::Http11,
                Some(other) => {
                    problems.push(Error::BadHttpProtocol { rs: id, kind, rs_name: rs_name(), value: other.into() });
                    HttpProtocol::Http10
                }
            };
            let endpoint = endpoint(if h.tls { 443 } else { 80 }, kind)?;
            let mut urls = Vec::with_capacity(h.urls.len());
            for u in &h.urls {
                let regex = match &u.regex {
                    None => None,
                    Some(re) => Some(Arc::new(regex::bytes::Regex::new(re).map_err(|e| Error::BadRegex {
                        rs: id,
                        rs_name: rs_name(),
                        path: u.path.clone(),
                        regex: re.clone(),
                        reason: e.to_string(),
                    })?)),
                };
                let virtualhost = u
                    .virtualhost
                    .clone()
                    .or_else(|| h.virtualhost.clone())
                    .or_else(|| rs.extra().virtualhost.clone())
                    .or_else(|| vs.extra().virtualhost.clone());
                urls.push(UrlSpec {
                    path: u.path.clone(),
                    request: request(&u.path, &host_header(virtualhost.as_deref(), endpoint.addr()), protocol),
                    virtualhost,
                    status: if u.status_code.is_empty() { vec![(200, 299)] } else { u.status_code.clone() },
                    digest: u.digest,
                    regex,
                    regex_no_match: u.regex_no_match,
                });
            }
            ProbeKind::Http(Box::new(HttpSpec { endpoint, tls: h.tls, enable_sni: h.enable_sni, protocol, urls }))
        }
        CheckKind::Misc(m) => {
            let script = m.path.as_ref().ok_or_else(|| Error::NoScript { rs: id, rs_name: rs_name() })?;
            timing.timeout = m.timeout.unwrap_or(delay_loop);
            let user = m
                .user
                .clone()
                .or_else(|| script.user.clone().map(|u| (u, script.group.clone())))
                .or_else(|| outside.script_user.cloned());
            ProbeKind::Misc(Box::new(MiscSpec { argv: script.argv.clone(), dynamic: m.dynamic, user }))
        }
        CheckKind::Smtp(m) => ProbeKind::Smtp(Box::new(SmtpSpec {
            endpoint: endpoint(25, "SMTP_CHECK")?,
            helo_name: m.helo_name.clone().or_else(|| outside.smtp_helo_name.map(str::to_string)),
        })),
        CheckKind::Dns(d) => ProbeKind::Dns(Box::new(DnsSpec {
            endpoint: endpoint(53, "DNS_CHECK")?,
            qtype: dns_type(d.query_type),
            name: d.name.clone(),
        })),
        CheckKind::Udp(u) => ProbeKind::Udp(Box::new(UdpSpec {
            endpoint: endpoint(0, "UDP_CHECK")?,
            payload: u.payload.clone(),
            require_reply: u.require_reply.clone(),
            min_reply_length: u.min_reply_length.unwrap_or(0),
            max_reply_length: u.max_reply_length.unwrap_or(DEFAULT_MAX_REPLY_LENGTH),
        })),
        CheckKind::Ping => ProbeKind::Ping(endpoint(1, "PING_CHECK")?),
        CheckKind::Bfd(b) => {
            let (name, own) = (&b.name, &b.alpha);
            let unknown = || Error::UnknownBfd { rs: id, rs_name: rs_name(), name: name.clone().unwrap_or_default() };
            let name = name.as_deref().ok_or_else(unknown)?;
            if !outside.checker_bfds.contains(&name) {
                return Err(unknown());
            }
            alpha = own.unwrap_or(alpha);
            // Never scheduled: the session's reports drive it, and one report is final.
            timing = Timing {
                timeout: Duration::ZERO,
                retry: 0,
                delay_before_retry: Duration::ZERO,
                delay_loop: Duration::ZERO,
                warmup: Duration::ZERO,
            };
            ProbeKind::Bfd(name.to_string())
        }
        CheckKind::File(f) => {
            let vigil_config::model::FileCheck { track_file, weight, weight_reverse } = &**f;
            let unknown =
                || Error::UnknownTrackFile { rs: id, rs_name: rs_name(), name: track_file.clone().unwrap_or_default() };
            let name = track_file.as_deref().ok_or_else(unknown)?;
            let file = outside.track_files.iter().find(|(n, _)| *n == name).and_then(|(_, f)| *f);
            let path = file.map(str::to_string).ok_or_else(unknown)?;
            // keepalived knows a file's state at once (inotify) and clears alpha for it.
            alpha = false;
            let poll = delay_loop.min(FILE_POLL_MAX);
            timing =
                Timing { timeout: poll, retry: 0, delay_before_retry: poll, delay_loop: poll, warmup: Duration::ZERO };
            ProbeKind::File(FileSpec { path, weight: *weight, reverse: *weight_reverse })
        }
    };
    Ok(CheckSpec {
        server_index: to_u32(server),
        kind,
        timing: Arc::new(timing),
        alpha,
        log_all_failures: levels.get(|c| &c.log_all_failures).unwrap_or(false),
    })
}

/// RFC 1035 3.2.2 and RFC 3596 2.1 type codes.
fn dns_type(t: DnsType) -> u16 {
    match t {
        DnsType::A => 1,
        DnsType::Ns => 2,
        DnsType::Cname => 5,
        DnsType::Soa => 6,
        DnsType::Mx => 15,
        DnsType::Txt => 16,
        DnsType::Aaaa => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan holds one of these for each of 100,000 checks: the common TCP_CHECK inline, the
    /// rest boxed, the real server's identity only in its [`ServerSpec`].
    #[test]
    fn a_check_spec_stays_small() {
        assert!(std::mem::size_of::<ProbeKind>() <= 40, "ProbeKind is {} bytes", std::mem::size_of::<ProbeKind>());
        assert!(std::mem::size_of::<CheckSpec>() <= 56, "CheckSpec is {} bytes", std::mem::size_of::<CheckSpec>());
        assert!(std::mem::size_of::<ServerSpec>() <= 44, "ServerSpec is {} bytes", std::mem::size_of::<ServerSpec>());
    }

    fn parse(text: &str) -> Config {
        let parsed = vigil_config::parse_str("test.conf", text, &vigil_config::Options::default(), None);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        parsed.config
    }

    /// A reload that let the running plan's checks go carries exactly what it would have
    /// carried with them: a virtual server shared by both configurations is taken as unchanged
    /// only when nothing outside it that the checks read changed either.
    #[test]
    fn checks_made_again_from_the_running_configuration_carry_what_the_running_plan_would() {
        let old = parse(
            "global_defs {\n script_user nobody\n}\nvrrp_track_file f1 {\n file /tmp/vigil-f1\n}\n\
             virtual_server 10.0.0.1 80 {\n protocol TCP\n \
             real_server 10.0.0.7 80 {\n  TCP_CHECK {\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n \
             real_server 10.0.0.8 80 {\n  TCP_CHECK {\n   connect_timeout 3\n  }\n  FILE_CHECK {\n   track_file f1\n  }\n }\n}\n\
             virtual_server 10.0.0.2 80 {\n protocol TCP\n \
             real_server 10.0.0.9 80 {\n  TCP_CHECK {\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n",
        );
        let old_plan = plan(&old);
        assert_eq!(old_plan.checks.len(), 6, "{:?}", old_plan.problems);
        let carried: Vec<crate::Carried> =
            (0..6).map(|k| crate::Carried { up: k % 2 == 0, delta: i64::from(k) }).collect();
        let mut gone = old_plan.clone();
        gone.checks.clear();
        type Edit = fn(&mut Config);
        let cases: [(&str, Edit, usize); 7] = [
            ("nothing changed: every virtual server shared", |_| {}, 6),
            (
                "a virtual server read again, equal",
                |c| c.virtual_servers[1] = Arc::new((*c.virtual_servers[1]).clone()),
                6,
            ),
            (
                "a real server's connect_timeout: its TCP_CHECK only",
                |c| {
                    Arc::make_mut(&mut c.virtual_servers[0]).real_servers[0].extra_mut().check.connect_timeout =
                        Some(Duration::from_secs(7))
                },
                5,
            ),
            (
                "script_user: the MISC_CHECKs of shared virtual servers",
                |c| c.global.script_user = Some(("root".into(), None)),
                4,
            ),
            ("the tracked file's path: its FILE_CHECK", |c| c.track_files[0].file = Some("/tmp/vigil-f2".into()), 5),
            (
                "a real server removed before others",
                |c| {
                    Arc::make_mut(&mut c.virtual_servers[0]).real_servers.remove(0);
                },
                4,
            ),
            ("the smtp_helo_name, which no SMTP_CHECK reads here", |c| c.global.smtp_helo_name = Some("lb".into()), 6),
        ];
        for (name, edit, want_carried) in cases {
            let mut new = old.clone();
            edit(&mut new);
            let new_plan = plan(&new);
            let same = same_servers(&old_plan, &new_plan);
            let want = crate::carry_over(&old_plan, &carried, &new_plan, &same, OldChecks::InPlan);
            let got = crate::carry_over(&gone, &carried, &new_plan, &same, OldChecks::Remade { old: &old, new: &new });
            assert_eq!(got, want, "{name}");
            assert_eq!(got.iter().flatten().count(), want_carried, "{name}: {got:?}");
        }
    }

    #[test]
    fn a_check_is_the_same_when_its_settings_are_equal_by_value() {
        let conf = |regex: &str, delay: u32| {
            let text = format!(
                "virtual_server 10.0.0.1 80 {{\n protocol TCP\n delay_loop {delay}\n real_server 10.0.0.7 80 {{\n  \
                 HTTP_GET {{\n   url {{\n    path /\n    regex \"{regex}\"\n   }}\n  }}\n }}\n}}\n"
            );
            plan(&parse(&text)).checks.remove(0)
        };
        let base = conf("ok.*", 6);
        assert!(base.same_check(&conf("ok.*", 6)), "the same file: the same check");
        assert!(!base.same_check(&conf("OK.*", 6)), "another regex");
        assert!(!base.same_check(&conf("ok.*", 7)), "another delay_loop");
    }

    /// Virtual servers on ports 80, 81, ... with these real servers (last octets).
    fn servers_conf(vss: &[&[u8]]) -> Config {
        let mut text = String::new();
        for (port, rss) in (80..).zip(vss) {
            text += &format!("virtual_server 10.0.0.1 {port} {{\n protocol TCP\n");
            for rs in *rss {
                text += &format!(" real_server 10.0.1.{rs} 80 {{\n  TCP_CHECK {{\n  }}\n }}\n");
            }
            text += "}\n";
        }
        parse(&text)
    }

    fn servers(vss: &[&[u8]]) -> Plan {
        plan(&servers_conf(vss))
    }

    #[test]
    fn names_are_written_in_keepalived_form() {
        let v4 = Name::new("10.0.0.7:80".parse().expect("literal"), Protocol::Tcp);
        assert_eq!(v4.to_string(), "[10.0.0.7]:tcp:80");
        let v6 = Name::new("[2001:db8::7]:53".parse().expect("literal"), Protocol::Udp);
        assert_eq!(v6.to_string(), "[2001:db8::7]:udp:53");
        assert_eq!(endpoint_name("10.0.0.7:0".parse().expect("literal"), Protocol::Sctp), "[10.0.0.7]:sctp:0");
        assert!(std::mem::size_of::<Name>() <= 20, "a name is {} bytes", std::mem::size_of::<Name>());
    }

    #[test]
    fn a_server_is_found_again_by_its_virtual_server_and_name_wherever_it_moved() {
        let old = servers(&[&[1, 2, 3], &[1, 4]]);
        type Case<'a> = (&'a str, &'a [&'a [u8]], &'a [Option<usize>]);
        let cases: &[Case] = &[
            ("the same", &[&[1, 2, 3], &[1, 4]], &[Some(0), Some(1), Some(2), Some(3), Some(4)]),
            ("one added first", &[&[9, 1, 2, 3], &[1, 4]], &[None, Some(0), Some(1), Some(2), Some(3), Some(4)]),
            ("one removed", &[&[1, 3], &[1, 4]], &[Some(0), Some(2), Some(3), Some(4)]),
            ("reordered", &[&[3, 1, 2], &[4, 1]], &[Some(2), Some(0), Some(1), Some(4), Some(3)]),
            ("another virtual server's", &[&[4], &[]], &[None]),
            ("lists swapped", &[&[1, 4], &[1, 2, 3]], &[Some(0), None, Some(3), None, None]),
            ("nothing before", &[], &[]),
        ];
        for (name, new, want) in cases {
            assert_eq!(same_servers(&old, &servers(new)).iter().collect::<Vec<_>>(), *want, "{name}");
        }
        assert_eq!(same_servers(&servers(&[]), &old).iter().collect::<Vec<_>>(), [None; 5], "nothing was there");
    }

    #[test]
    fn checks_are_named_by_their_address_and_share_their_timing_where_equal() {
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.0.7 80 {\n  TCP_CHECK {\n  }\n  \
                    TCP_CHECK {\n   connect_port 8080\n   bind_if eth1\n  }\n }\n real_server 10.0.0.8 80 {\n  \
                    TCP_CHECK {\n   connect_timeout 3\n  }\n }\n}\nvirtual_server 10.0.0.2 80 {\n protocol TCP\n \
                    real_server 10.0.0.9 80 {\n  TCP_CHECK {\n  }\n }\n}\n";
        let p = plan(&parse(text));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let [own, other_port, timeout, next_vs] = &p.checks[..] else { panic!("{} checks", p.checks.len()) };
        assert_eq!(own.name(&p.servers[0]), p.servers[0].name, "a check of its server's address is named by it");
        let names = (other_port.name(&p.servers[0]).to_string(), p.servers[0].name.to_string());
        assert_eq!(names, ("[10.0.0.7]:tcp:8080".to_string(), "[10.0.0.7]:tcp:80".to_string()));
        assert_eq!((p.servers[0].vs, p.servers[1].vs, p.servers[2].vs), (0, 0, 1), "one name for a virtual server");
        assert_eq!(p.vs_name(&p.servers[2]), "[10.0.0.2]:tcp:80");
        assert!(Arc::ptr_eq(&own.timing, &next_vs.timing), "equal timings are one, across virtual servers");
        assert!(Arc::ptr_eq(&own.timing, &other_port.timing));
        assert_eq!(timeout.timing.timeout, Duration::from_secs(3));
        assert!(!Arc::ptr_eq(&own.timing, &timeout.timing));
        let ProbeKind::Tcp(plain) = &own.kind else { panic!("not tcp") };
        let ProbeKind::Tcp(bound) = &other_port.kind else { panic!("not tcp") };
        assert_eq!(plain.source, None, "no source settings: nothing kept for them");
        assert_eq!(bound.source.as_ref().and_then(|s| s.bind_if.as_deref()), Some("eth1"));
    }

    const LAYERED: &str = "
global_defs {
    router_id lb1
    notification_email { ops@example.com }
    notification_email_from lb1@example.com
    smtp_server 127.0.0.1 2525
    smtp_connect_timeout 7
}
track_file tf { file /run/weight }
virtual_server 10.0.0.1 80 {
    protocol TCP
    delay_loop 10
    retry 4
    virtualhost vs.example
    real_server 10.0.0.7 80 {
        connect_timeout 2
        TCP_CHECK {
            connect_port 8080
            delay_before_retry 0.5
        }
        HTTP_GET {
            url { path /health }
            url {
                path /other
                virtualhost url.example
                status_code 200 301-302
            }
        }
    }
    real_server 10.0.0.8 80 {
        alpha
        MISC_CHECK { misc_path \"/bin/check arg\" }
        DNS_CHECK {
            type A
            name example.com
        }
        FILE_CHECK {
            track_file tf
            weight 3 reverse
        }
        SSL_GET {
            url { path / }
            http_protocol 1.1
        }
    }
    real_server 10.0.0.9 80 {
        weight 5
    }
}
";

    #[test]
    fn settings_come_from_the_most_specific_level_then_keepalived_defaults() {
        let p = plan(&parse(LAYERED));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.checks.len(), 6);
        let tcp = &p.checks[0];
        assert_eq!(tcp.name(&p.servers[tcp.server()]).to_string(), "[10.0.0.7]:tcp:8080");
        assert_eq!(
            *tcp.timing,
            Timing {
                timeout: Duration::from_secs(2),
                retry: 4,
                delay_before_retry: Duration::from_millis(500),
                delay_loop: Duration::from_secs(10),
                warmup: Duration::from_secs(10),
            }
        );
        let ProbeKind::Http(http) = &p.checks[1].kind else { panic!("not http") };
        assert_eq!(p.checks[1].timing.delay_before_retry, DEFAULT_HTTP_DELAY_BEFORE_RETRY);
        assert_eq!(http.urls[0].virtualhost.as_deref(), Some("vs.example"));
        assert_eq!(http.urls[0].status, vec![(200, 299)]);
        assert_eq!(http.urls[1].virtualhost.as_deref(), Some("url.example"));
        assert_eq!(http.urls[1].status, vec![(200, 200), (301, 302)]);
        assert_eq!(http.protocol, HttpProtocol::Http10);
        assert!(!p.checks[1].alpha);
    }

    #[test]
    fn per_checker_defaults() {
        let p = plan(&parse(LAYERED));
        let misc = &p.checks[2];
        assert!(misc.alpha);
        assert_eq!(misc.name(&p.servers[misc.server()]).to_string(), "[10.0.0.8]:tcp:80");
        // retry 4 comes from the virtual server; the MISC default (0) only applies when unset.
        assert_eq!(misc.timing.retry, 4);
        assert_eq!(misc.timing.timeout, Duration::from_secs(10), "misc_timeout defaults to delay_loop");
        let ProbeKind::Misc(m) = &misc.kind else { panic!("not misc") };
        assert_eq!(m.argv, ["/bin/check", "arg"]);
        let dns = &p.checks[3];
        assert_eq!(dns.timing.delay_before_retry, Duration::from_secs(10), "DNS retries after delay_loop");
        let ProbeKind::Dns(d) = &dns.kind else { panic!("not dns") };
        assert_eq!((d.qtype, d.name.as_str(), d.endpoint.addr().port()), (1, "example.com", 80));
        let file = &p.checks[4];
        assert!(!file.alpha, "FILE_CHECK knows its state at once");
        assert_eq!(file.timing.delay_loop, FILE_POLL_MAX);
        let ProbeKind::File(f) = &file.kind else { panic!("not file") };
        assert_eq!(f, &FileSpec { path: "/run/weight".into(), weight: 3, reverse: true });
        let ProbeKind::Http(ssl) = &p.checks[5].kind else { panic!("not ssl") };
        assert!(ssl.tls);
        assert_eq!(ssl.protocol, HttpProtocol::Http11);
    }

    #[test]
    fn the_ssl_block_goes_with_an_ssl_get_only() {
        let ssl = "SSL {\n ca /etc/ca.pem\n certificate /etc/c.pem\n key /etc/k.pem\n password pw\n}\n";
        let vs = |checker: &str| {
            format!("virtual_server 10.0.0.1 443 {{\n real_server 10.0.0.7 443 {{\n {checker}\n }}\n}}\n")
        };
        let p = plan(&parse(&format!("{ssl}{}", vs("SSL_GET {\n url {\n path /\n }\n }"))));
        let got = p.ssl.expect("an SSL_GET uses the SSL block");
        assert_eq!(
            (got.ca.as_deref(), got.certificate.as_deref(), got.key.as_deref(), got.password.as_deref()),
            (Some("/etc/ca.pem"), Some("/etc/c.pem"), Some("/etc/k.pem"), Some("pw"))
        );
        assert_eq!(plan(&parse(&format!("{ssl}{}", vs("HTTP_GET {\n url {\n path /\n }\n }")))).ssl, None);
        assert_eq!(plan(&parse(&vs("SSL_GET {\n url {\n path /\n }\n }"))).ssl, None);
    }

    #[test]
    fn servers_and_alerts() {
        let p = plan(&parse(LAYERED));
        assert_eq!(p.servers.len(), 3);
        assert_eq!(p.servers[0].checks(), 0..2);
        assert_eq!(p.servers[1].checks(), 2..6);
        assert_eq!(p.servers[2].checks(), 6..6);
        assert_eq!(p.servers[2].weight, 5);
        assert_eq!(p.vs_name(&p.servers[2]), "[10.0.0.1]:tcp:80");
        let a = p.alerts.expect("alerts configured");
        assert_eq!((a.server.as_str(), a.port, a.connect_timeout), ("127.0.0.1", 2525, Duration::from_secs(7)));
        assert_eq!(a.to, ["ops@example.com"]);
    }

    #[test]
    fn keepalived_defaults_when_nothing_is_set() {
        let p = plan(&parse(
            "virtual_server fwmark 7 {\n real_server ::1 0 {\n TCP_CHECK { connect_port 22 }\n DNS_CHECK { }\n MISC_CHECK { misc_path /bin/true }\n }\n}\n",
        ));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let t = *p.checks[0].timing;
        assert_eq!(
            t,
            Timing {
                timeout: DEFAULT_CONNECT_TIMEOUT,
                retry: DEFAULT_RETRY,
                delay_before_retry: DEFAULT_DELAY_BEFORE_RETRY,
                delay_loop: DEFAULT_DELAY_LOOP,
                warmup: DEFAULT_DELAY_LOOP,
            }
        );
        assert_eq!(p.checks[0].name(&p.servers[p.checks[0].server()]).to_string(), "[::1]:tcp:22");
        assert_eq!(p.vs_name(&p.servers[0]), "FWM 7");
        assert_eq!(p.checks[1].timing.retry, DEFAULT_DNS_RETRY);
        assert_eq!(p.checks[1].timing.delay_before_retry, DEFAULT_DELAY_LOOP);
        let ProbeKind::Dns(d) = &p.checks[1].kind else { panic!("not dns") };
        assert_eq!((d.qtype, d.name.as_str(), d.endpoint.addr().port()), (6, ".", 53));
        assert_eq!(p.checks[2].timing.retry, DEFAULT_MISC_RETRY);
        assert!(p.alerts.is_none());
    }

    #[test]
    fn unusable_checkers_are_reported_and_left_out() {
        let p = plan(&parse(
            "virtual_server fwmark 7 {\n real_server 10.0.0.7 0 {\n TCP_CHECK { }\n HTTP_GET {\n url {\n path /\n regex \"(\"\n }\n }\n FILE_CHECK { track_file nope }\n }\n}\n",
        ));
        assert!(p.checks.is_empty());
        assert_eq!(p.servers[0].checks(), 0..0);
        assert!(matches!(p.problems[0], Error::NoPort { kind: "TCP_CHECK", .. }));
        assert!(matches!(p.problems[1], Error::BadRegex { .. }));
        assert!(matches!(p.problems[2], Error::UnknownTrackFile { .. }));
    }

    #[test]
    fn bfd_checks_take_their_own_alpha_and_are_never_retried() {
        let text = "bfd_instance b1 {\n neighbor_ip 10.0.0.7\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n alpha\n retry 3\n\
            real_server 10.0.0.7 80 {\n BFD_CHECK {\n name b1\n }\n }\n\
            real_server 10.0.0.8 80 {\n BFD_CHECK {\n name b1\n alpha off\n }\n }\n\
            real_server 10.0.0.9 80 {\n alpha off\n BFD_CHECK {\n name b1\n }\n }\n}\n";
        let mut config = parse(text);
        let p = plan(&config);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let alphas: Vec<bool> = p.checks.iter().map(|c| c.alpha).collect();
        assert_eq!(alphas, [true, false, false]);
        for c in &p.checks {
            assert!(matches!(&c.kind, ProbeKind::Bfd(name) if name == "b1"), "{:?}", c.kind);
            assert_eq!(c.kind.keyword(), "BFD_CHECK");
            assert_eq!(c.timing.retry, 0);
        }
        assert_eq!(p.checks[1].name(&p.servers[p.checks[1].server()]).to_string(), "[10.0.0.8]:tcp:80");
        // An instance that reports to VRRP only is not one a BFD_CHECK can follow.
        config.bfd_instances[0].to_checker = false;
        let p = plan(&config);
        assert!(p.checks.is_empty());
        assert!(matches!(&p.problems[0], Error::UnknownBfd { name, .. } if name == "b1"), "{:?}", p.problems);
    }

    #[test]
    fn udp_hex_strings_read_as_keepalived_reads_them() {
        let p = plan(&parse(
            "virtual_server 10.0.0.1 53 {
    protocol UDP
    real_server 10.0.0.7 53 {
        UDP_CHECK {
            payload Ab12f 3 456 546443123
            require_reply 01xX f
        }
    }
}",
        ));
        let ProbeKind::Udp(u) = &p.checks[0].kind else { panic!("not udp") };
        assert_eq!(u.payload.as_deref(), Some(&[0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03][..]));
        let want = ReplyPattern { bytes: vec![(0x01, 0xff), (0x00, 0x00), (0x0f, 0xff)] };
        assert_eq!(u.require_reply, Some(want));
    }
}
