//! The typed configuration: what keepalived.conf says, with keepalived's defaults applied.
//! Every item (instance, address, server, checker, script) keeps the span it came from.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;

use crate::span::Span;

/// The whole configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub global: GlobalDefs,
    pub static_ipaddress: Vec<VirtualAddress>,
    pub static_routes: Vec<Route>,
    pub static_rules: Vec<Rule>,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<TrackProcess>,
    pub sync_groups: Vec<SyncGroup>,
    pub instances: Vec<VrrpInstance>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// Each shared: a reload keeps the running configuration's where it says the same
    /// ([`crate::reuse`]). A kept one keeps the spans of the reading that made it, which may
    /// name other lines than the file has now: after a reload, no message may take a line
    /// from a virtual server or what it holds.
    pub virtual_servers: Vec<Arc<VirtualServer>>,
    /// `bfd_instance` blocks, in the configuration's order; those keepalived disables (no
    /// neighbour, mixed families, a duplicate address) are left out.
    pub bfd_instances: Vec<BfdInstance>,
    /// The top-level `SSL` block, when there is one.
    pub ssl: Option<SslSettings>,
    /// `interface_up_down_delays { IF DOWN [UP] }`, in the file's order.
    pub interface_delays: Vec<InterfaceDelays>,
    /// `garp_group` blocks that set an interval, in the file's order.
    pub garp_groups: Vec<GarpGroup>,
}

/// `garp_group { garp_interval S gna_interval S interface IF | interfaces { IF... } }`: the
/// least time between two gratuitous ARPs (unsolicited NAs) on each of its interfaces, in
/// place of `vrrp_garp_interval` (`vrrp_gna_interval`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpGroup {
    pub garp_interval: Option<Duration>,
    pub gna_interval: Option<Duration>,
    pub interfaces: Vec<String>,
    pub span: Span,
}

/// One line of `interface_up_down_delays`: how long a link change of `interface` waits
/// before the VRRP instances hear of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDelays {
    pub interface: String,
    pub down: Duration,
    pub up: Duration,
    pub span: Span,
}

/// `SSL { password P ca FILE certificate FILE key FILE }`: the TLS client settings every
/// SSL_GET shares. keepalived loads them when the checkers start, not at `-t`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslSettings {
    /// Decrypts `key` when it is encrypted.
    pub password: Option<String>,
    /// CA certificates (PEM): loaded, but keepalived never has servers verified against them.
    pub ca: Option<String>,
    /// The client certificate (PEM), followed by its chain.
    pub certificate: Option<String>,
    /// The client certificate's private key (PEM).
    pub key: Option<String>,
    pub span: Span,
}

/// A command line to run, as keepalived takes it: the first word (quoted when it has
/// arguments), then optionally the user and group to run it as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The program and its arguments.
    pub argv: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub span: Span,
}

/// How long keepalived lets `startup_script` and `shutdown_script` run by default.
pub const DEFAULT_LIFECYCLE_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// `global_defs { ... }`
#[derive(Clone, Debug)]
pub struct GlobalDefs {
    pub span: Option<Span>,
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    pub notification_email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    pub smtp_helo_name: Option<String>,
    pub smtp_connect_timeout: Duration,
    /// `smtp_alert`, `smtp_alert_vrrp`, `smtp_alert_checker`: the defaults for instances and servers.
    pub smtp_alert: Option<bool>,
    pub smtp_alert_vrrp: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    pub enable_script_security: bool,
    pub script_user: Option<(String, Option<String>)>,
    pub vrrp_version: u8,
    pub vrrp_mcast_group4: Ipv4Addr,
    pub vrrp_mcast_group6: Ipv6Addr,
    pub vrrp_garp_master_delay: Duration,
    pub vrrp_garp_master_repeat: u32,
    /// Zero: no periodic refresh.
    pub vrrp_garp_master_refresh: Duration,
    pub vrrp_garp_master_refresh_repeat: u32,
    pub vrrp_garp_interval: Duration,
    pub vrrp_gna_interval: Duration,
    pub vrrp_strict: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_check_unicast_src: bool,
    pub lvs_timeouts: Option<LvsTimeouts>,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: Option<LvsFlushOnStop>,
    pub max_auto_priority: Option<i32>,
    pub dynamic_interfaces: bool,
    pub notify_fifo: Option<String>,
    pub vrrp_notify_fifo: Option<String>,
    pub lvs_notify_fifo: Option<String>,
    /// Scripts started with the FIFO's path as their argument, to read it.
    pub notify_fifo_script: Option<Script>,
    pub vrrp_notify_fifo_script: Option<Script>,
    pub lvs_notify_fifo_script: Option<Script>,
    /// `startup_script`: run before anything starts, for at most `startup_script_timeout`.
    pub startup_script: Option<Script>,
    pub startup_script_timeout: Duration,
    /// `shutdown_script`: run after everything stopped, for at most `shutdown_script_timeout`.
    pub shutdown_script: Option<Script>,
    pub shutdown_script_timeout: Duration,
    /// `default_interface`: where a `static_ipaddress` without `dev` goes (keepalived: eth0).
    pub default_interface: Option<String>,
    /// `net_namespace` (outside global_defs): the network namespace (`/run/netns/NAME`)
    /// vigild runs in.
    pub net_namespace: Option<String>,
    /// `nftables [NAME]`: the nftables table of the drop rules (`keepalived` without a name).
    pub nftables: Option<String>,
    /// `vrrp_priority`, `vrrp_rt_priority`, ...: how VRRP's thread is scheduled.
    pub vrrp_scheduling: Scheduling,
    /// `checker_priority`, `checker_rt_priority`, ...: how the checkers' thread is scheduled.
    pub checker_scheduling: Scheduling,
    /// `bfd_priority`, `bfd_rt_priority`, ...: how BFD's thread is scheduled.
    pub bfd_scheduling: Scheduling,
}

/// How one of keepalived's processes (in Vigil, one thread: VRRP, checkers or BFD) is
/// scheduled: the `PROCESS_priority`, `PROCESS_rt_priority`, `PROCESS_rlimit_rttime`,
/// `PROCESS_no_swap` and `PROCESS_cpu_affinity` keywords of global_defs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduling {
    /// `PROCESS_priority`: the nice value, -20..=19 (0 leaves it alone).
    pub nice: i8,
    /// `PROCESS_rt_priority`: SCHED_RR at this priority (1..=99); the nice value is then unused.
    pub rt_priority: Option<u8>,
    /// `PROCESS_rlimit_rttime`: microseconds of CPU a real-time thread may use without
    /// blocking (RLIMIT_RTTIME; 0: no limit). Applies only with `rt_priority`.
    pub rlimit_rttime_us: u64,
    /// `PROCESS_no_swap`: lock the daemon's memory (mlockall).
    pub no_swap: bool,
    /// `PROCESS_cpu_affinity`: the CPUs the thread may run on (empty: any).
    pub cpu_affinity: Vec<usize>,
}

/// keepalived's RLIMIT_RTTIME for a real-time process when none is given, in microseconds.
pub const DEFAULT_RLIMIT_RTTIME_US: u64 = 10_000;

impl Default for Scheduling {
    fn default() -> Self {
        Scheduling {
            nice: 0,
            rt_priority: None,
            rlimit_rttime_us: DEFAULT_RLIMIT_RTTIME_US,
            no_swap: false,
            cpu_affinity: Vec::new(),
        }
    }
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            span: None,
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            enable_script_security: false,
            script_user: None,
            vrrp_version: 2,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_check_unicast_src: false,
            lvs_timeouts: None,
            lvs_sync_daemon: None,
            lvs_flush: false,
            lvs_flush_on_stop: None,
            max_auto_priority: None,
            dynamic_interfaces: false,
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            notify_fifo_script: None,
            vrrp_notify_fifo_script: None,
            lvs_notify_fifo_script: None,
            startup_script: None,
            startup_script_timeout: DEFAULT_LIFECYCLE_SCRIPT_TIMEOUT,
            shutdown_script: None,
            shutdown_script_timeout: DEFAULT_LIFECYCLE_SCRIPT_TIMEOUT,
            default_interface: None,
            net_namespace: None,
            nftables: None,
            vrrp_scheduling: Scheduling::default(),
            checker_scheduling: Scheduling::default(),
            bfd_scheduling: Scheduling::default(),
        }
    }
}

/// `smtp_server ADDRESS [PORT]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpServer {
    /// An IP address or a host name.
    pub host: String,
    pub port: u16,
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]` (seconds; unset ones keep the kernel's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

/// `lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LvsSyncDaemon {
    pub interface: String,
    pub instance: String,
    /// `id N`; without it keepalived uses the instance's virtual_router_id.
    pub syncid: Option<u8>,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
    pub span: Span,
}

/// `lvs_flush_on_stop [VS|ALL]`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LvsFlushOnStop {
    /// Remove only the virtual servers of this configuration.
    VirtualServers,
    /// Flush the whole IPVS table.
    All,
}

/// An address in `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`:
/// `IP[/PREFIX] [brd IP] [dev IF] [scope S] [label L] [noprefixroute] ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    /// Defaults to 32 (IPv4) or 128 (IPv6), as keepalived does.
    pub prefix: u8,
    pub brd: Option<Ipv4Addr>,
    pub peer: Option<(IpAddr, u8)>,
    pub dev: Option<String>,
    pub scope: Option<Scope>,
    pub label: Option<String>,
    pub noprefixroute: bool,
    pub nodad: bool,
    pub home: bool,
    pub no_track: bool,
    pub span: Span,
}

/// Address and route scopes, as `ip addr add ... scope` takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    Other(u8),
}

impl Scope {
    /// The kernel's number for the scope (`RT_SCOPE_*` in linux/rtnetlink.h), the same for
    /// addresses and routes.
    pub fn number(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }
}

/// A `virtual_routes` / `static_routes` entry:
/// `[src IP] [to] DEST[/PREFIX] [via|gw IP] [dev IF] [scope S] [table N] [metric N] [blackhole|...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `None` for `default`.
    pub dest: Option<(IpAddr, u8)>,
    pub kind: RouteKind,
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub scope: Option<Scope>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub onlink: bool,
    pub no_track: bool,
    pub span: Span,
}

/// The route's type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteKind {
    #[default]
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

/// A `virtual_rules` / `static_rules` entry: `[from IP/P] [to IP/P] [table N] [priority N] ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub table: Option<u32>,
    pub priority: Option<u32>,
    pub fwmark: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub no_track: bool,
    pub span: Span,
}

/// `vrrp_script NAME { ... }`
#[derive(Clone, Debug)]
pub struct VrrpScript {
    pub name: String,
    pub script: Option<Script>,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    pub weight: i32,
    /// `weight N reverse`: the weight applies while the script fails.
    pub weight_reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub user: Option<(String, Option<String>)>,
    pub init_fail: bool,
    pub span: Span,
}

/// `vrrp_track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }`
#[derive(Clone, Debug)]
pub struct TrackFile {
    pub name: String,
    pub file: Option<String>,
    pub weight: i32,
    pub weight_reverse: bool,
    pub init_file: Option<(i64, bool)>,
    pub span: Span,
}

/// How `vrrp_track_process` compares a process's parameters (keepalived's `param_match`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParamMatch {
    /// Parameters are not looked at.
    #[default]
    None,
    /// The process's parameters are exactly the configured ones.
    Exact,
    /// The configured parameters are the first of the process's, whole.
    Partial,
    /// As `Partial`, and the last configured one may be the start of the process's.
    Initial,
}

/// `vrrp_track_process NAME { process NAME [PARAMS...] param_match ... weight N [reverse]
/// quorum N quorum_max N delay S | fork_delay S | terminate_delay S full_command }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackProcess {
    pub name: String,
    /// The process name (`/proc/PID/stat`'s comm) or, with `full_command`, its first argument.
    pub process: Option<String>,
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    pub full_command: bool,
    pub weight: i32,
    pub weight_reverse: bool,
    /// Up while at least `quorum` and at most `quorum_max` such processes run.
    pub quorum: u32,
    pub quorum_max: u32,
    /// How long a new process must have run before it counts.
    pub fork_delay: Duration,
    /// How long after a process ended it stops counting.
    pub terminate_delay: Duration,
    pub span: Span,
}

impl TrackProcess {
    /// A tracker named `name` with keepalived's defaults: no process yet, no parameters, weight
    /// 0, a quorum of 1 with no maximum, no delays.
    pub fn new(name: String, span: Span) -> TrackProcess {
        TrackProcess {
            name,
            process: None,
            params: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
            span,
        }
    }
}

/// `bfd_instance NAME { ... }`: one BFD session (RFC 5880, single hop over UDP as RFC 5881),
/// with keepalived's defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfdInstance {
    pub name: String,
    /// `neighbor_ip` / `neighbour_ip`.
    pub neighbor: IpAddr,
    /// `source_ip`: of the neighbour's family when set.
    pub source: Option<IpAddr>,
    /// `min_rx`, in microseconds (keepalived's default 10 ms).
    pub min_rx_us: u32,
    /// `min_tx`, in microseconds (10 ms).
    pub min_tx_us: u32,
    /// `idle_tx`, in microseconds (1 s, and at least that).
    pub idle_tx_us: u32,
    /// `multiplier` (5).
    pub multiplier: u8,
    pub passive: bool,
    /// `ttl` / `hoplimit`: 255 for IPv4 and 64 for IPv6 unless set.
    pub ttl: u8,
    /// `max_hops`: `None` is keepalived's -1 (no check); the default 0 requires exactly `ttl`.
    pub max_hops: Option<u8>,
    /// `weight N [reverse]`: the default for `track_bfd` lines that name no weight.
    pub weight: i32,
    pub weight_reverse: bool,
    /// Whether VRRP instances may track it: `vrrp` given, or neither `vrrp` nor `checker`.
    pub to_vrrp: bool,
    /// Whether real servers' `BFD_CHECK` may use it: `checker`, or neither.
    pub to_checker: bool,
    pub span: Span,
}

/// A reference to a tracked thing, with an optional weight that overrides its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: bool,
    pub span: Span,
}

/// A sync group's tracking lines added to a member's, as keepalived 2.2.7 adds them: one the
/// member already tracks is tracked once, with the group's weight unless the member's line is
/// unweighted.
pub fn merge_group_tracks(own: &mut Vec<Track>, group: &[Track]) {
    for t in group {
        match own.iter_mut().find(|o| o.name == t.name) {
            Some(o) if o.weight.is_some_and(|w| w != 0) => {
                o.weight = t.weight;
                o.reverse = t.reverse;
            }
            Some(_) => {}
            None => own.push(t.clone()),
        }
    }
}

/// Notify scripts of an instance or a sync group.
#[derive(Clone, Debug, Default)]
pub struct Notify {
    pub master: Option<Script>,
    pub backup: Option<Script>,
    pub fault: Option<Script>,
    pub stop: Option<Script>,
    /// `notify_deleted [SCRIPT]`: an instance a reload removes tells its scripts `DELETED`
    /// (running this script when given) instead of keepalived's older `FAULT`.
    pub notify_deleted: bool,
    pub deleted: Option<Script>,
    /// `notify`: called with `INSTANCE|GROUP name STATE priority`.
    pub any: Option<Script>,
    pub master_rx_lower_pri: Option<Script>,
    pub priority_changes: bool,
}

/// `vrrp_sync_group NAME { group { ... } ... }`
#[derive(Clone, Debug)]
pub struct SyncGroup {
    pub name: String,
    pub members: Vec<(String, Span)>,
    pub notify: Notify,
    pub smtp_alert: Option<bool>,
    pub global_tracking: bool,
    pub sync_group_tracking_weight: bool,
    pub track_interface: Vec<Track>,
    pub track_script: Vec<Track>,
    pub track_file: Vec<Track>,
    pub track_bfd: Vec<Track>,
    pub track_process: Vec<Track>,
    pub span: Span,
}

/// The state an instance starts in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialState {
    #[default]
    Backup,
    Master,
}

/// VRRP authentication (VRRPv2 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authentication {
    pub kind: AuthType,
    /// At most 8 bytes are used, as keepalived truncates.
    pub pass: String,
    pub span: Span,
}

/// `auth_type PASS|AH`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    Pass,
    Ah,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
    pub span: Span,
}

/// `vrrp_instance NAME { ... }`
#[derive(Clone, Debug)]
pub struct VrrpInstance {
    pub name: String,
    pub span: Span,
    pub state: InitialState,
    /// Whether `state` was given (keepalived treats an unconfigured state differently).
    pub state_configured: bool,
    pub interface: Option<(String, Span)>,
    /// 0 when missing (an error is reported).
    pub virtual_router_id: u8,
    /// keepalived's default: 255 with `state MASTER` and no `priority`, else 100.
    pub priority: u8,
    pub advert_int: Duration,
    /// Resolved against `vrrp_version` in global_defs.
    pub version: u8,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub authentication: Option<Authentication>,
    pub virtual_ipaddress: Vec<VirtualAddress>,
    pub virtual_ipaddress_excluded: Vec<VirtualAddress>,
    pub virtual_routes: Vec<Route>,
    pub virtual_rules: Vec<Rule>,
    pub track_interface: Vec<Track>,
    pub track_script: Vec<Track>,
    pub track_file: Vec<Track>,
    pub track_bfd: Vec<Track>,
    pub track_process: Vec<Track>,
    /// `master_down_bfd NAME` (a Vigil extension): a BACKUP takes over as soon as this BFD
    /// session to the MASTER falls, instead of after Master_Down_Interval.
    pub master_down_bfd: Option<(String, Span)>,
    pub dont_track_primary: bool,
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peer: Vec<UnicastPeer>,
    /// Where the (last) `unicast_peer` block is, even when it lists nobody.
    pub unicast_peer_span: Option<Span>,
    pub unicast_ttl: Option<u8>,
    pub mcast_src_ip: Option<IpAddr>,
    pub garp_master_delay: Duration,
    pub garp_master_repeat: u32,
    pub garp_master_refresh: Duration,
    pub garp_master_refresh_repeat: u32,
    pub lvs_sync_daemon_interface: Option<String>,
    pub smtp_alert: Option<bool>,
    pub notify: Notify,
    /// `use_vmac [NAME]`: `Some(None)` lets keepalived name it `vrrp.VRID`.
    pub use_vmac: Option<Option<String>>,
    /// Where the (last) `use_vmac` is.
    pub use_vmac_span: Option<Span>,
    pub vmac_xmit_base: bool,
    /// Where the (last) `vmac_xmit_base` is.
    pub vmac_xmit_base_span: Option<Span>,
    pub native_ipv6: bool,
    /// `accept` / `no_accept`; `None` follows `vrrp_strict` (no_accept when strict).
    pub accept: Option<bool>,
    pub skip_check_adv_addr: bool,
    pub strict_mode: Option<bool>,
    pub check_unicast_src: bool,
    /// `v3_checksum_as_v2`: send VRRPv3 over IPv4 with the checksum of the message alone,
    /// without the pseudo-header (some routers read RFC 5798 5.2.8 that way).
    pub v3_checksum_as_v2: bool,
    /// `old_unicast_checksum [never]`: `Some(true)` sends unicast VRRPv3 adverts with the
    /// multicast group's pseudo-header (keepalived before 1.3.6); `Some(false)` (`never`)
    /// never switches to it; `None` switches when a peer is seen using it.
    pub old_unicast_checksum: Option<bool>,
}

/// `virtual_server_group NAME { IP[-LAST] PORT | fwmark N ... }`
#[derive(Clone, Debug)]
pub struct VirtualServerGroup {
    pub name: String,
    pub members: Vec<GroupMember>,
    pub span: Span,
}

/// One entry of a virtual_server_group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMember {
    /// `IP[-LAST] PORT`: a range of addresses whose last byte (group) runs to `last`.
    Range {
        first: IpAddr,
        last_octet: Option<u16>,
        port: u16,
        span: Span,
    },
    Fwmark {
        mark: u32,
        span: Span,
    },
}

impl GroupMember {
    /// The addresses of `IP[-LAST]`: the last byte (IPv4) or last 16-bit group (IPv6) runs
    /// from `first`'s up to `last`; none for a fwmark.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let GroupMember::Range { first, last_octet, .. } = self else { return Vec::new() };
        let Some(last) = *last_octet else { return vec![*first] };
        match *first {
            IpAddr::V4(a) => {
                let o = a.octets();
                (u16::from(o[3])..=last.min(255))
                    .filter_map(|b| u8::try_from(b).ok())
                    .map(|b| IpAddr::from([o[0], o[1], o[2], b]))
                    .collect()
            }
            IpAddr::V6(a) => {
                let mut s = a.segments();
                (s[7]..=last)
                    .map(|g| {
                        s[7] = g;
                        IpAddr::from(s)
                    })
                    .collect()
            }
        }
    }
}

/// How a virtual server is named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VsKey {
    Addr { ip: IpAddr, port: u16 },
    Fwmark { mark: u32 },
    Group { name: String },
}

/// IPVS schedulers (`lvs_sched` / `lb_algo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    #[default]
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Mh,
    Fo,
    Ovf,
    Twos,
}

impl Scheduler {
    pub const ALL: [(&'static str, Scheduler); 14] = [
        ("rr", Scheduler::Rr),
        ("wrr", Scheduler::Wrr),
        ("lc", Scheduler::Lc),
        ("wlc", Scheduler::Wlc),
        ("lblc", Scheduler::Lblc),
        ("lblcr", Scheduler::Lblcr),
        ("dh", Scheduler::Dh),
        ("sh", Scheduler::Sh),
        ("sed", Scheduler::Sed),
        ("nq", Scheduler::Nq),
        ("mh", Scheduler::Mh),
        ("fo", Scheduler::Fo),
        ("ovf", Scheduler::Ovf),
        ("twos", Scheduler::Twos),
    ];

    /// The kernel's name for it.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, s)| *s == self).map(|(n, _)| *n).unwrap_or("wlc")
    }
}

/// IPVS forwarding methods (`lvs_method` / `lb_kind`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Forwarding {
    #[default]
    Nat,
    Dr,
    Tun(Tunnel),
}

/// `lvs_method TUN [type ipip|gue port PORT|gre] [nocsum|csum|remcsum]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tunnel {
    pub kind: TunnelKind,
    /// The GUE destination port (only with `type gue`).
    pub port: u16,
    pub checksum: TunnelChecksum,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    #[default]
    Ipip,
    Gue,
    Gre,
}

/// The checksum option of a GUE or GRE tunnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TunnelChecksum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
}

/// Virtual service protocols.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

/// IPVS scheduler flags: `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SchedFlags {
    pub flag1: bool,
    pub flag2: bool,
    pub flag3: bool,
}

/// `sorry_server IP PORT`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SorryServer {
    pub ip: IpAddr,
    pub port: u16,
    pub forwarding: Option<Forwarding>,
    pub span: Span,
}

/// Checker timing and addressing, at the virtual server, real server or checker level;
/// `None` inherits from the level above.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckCommon {
    pub connect_ip: Option<IpAddr>,
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub log_all_failures: Option<bool>,
}

/// `virtual_server ... { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualServer {
    pub key: VsKey,
    pub span: Span,
    /// The virtual server's `delay_loop` (60 s when unset): its checkers' default.
    pub delay_loop: Duration,
    pub scheduler: Scheduler,
    pub sched_flags: SchedFlags,
    pub forwarding: Forwarding,
    /// Seconds; `persistence_timeout` alone means keepalived's 360.
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<IpAddr>,
    pub protocol: Protocol,
    /// Set by `protocol` explicitly (a warning for fwmark services).
    pub protocol_span: Option<Span>,
    pub ops: bool,
    pub sorry_server_inhibit: bool,
    pub quorum: u32,
    pub hysteresis: u32,
    pub alpha: bool,
    pub omega: bool,
    pub ha_suspend: bool,
    pub inhibit_on_failure: bool,
    pub smtp_alert: Option<bool>,
    pub ip_family: Option<u8>,
    /// Checker options set at this level but `delay_loop` (the field above); boxed and only
    /// when one is set, as [`RealServer::check`]. [`VirtualServer::common`] reads it.
    pub check: Option<Box<CheckCommon>>,
    /// The settings few virtual servers have; boxed and only when one is set (10,000 virtual
    /// servers are 4 MiB less). [`VirtualServer::extra`] reads it.
    pub extra: Option<Box<VirtualServerExtra>>,
    pub real_servers: Vec<RealServer>,
}

/// A virtual server's settings that few set.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VirtualServerExtra {
    pub persistence_engine: Option<String>,
    /// Host header for its HTTP checks.
    pub virtualhost: Option<String>,
    pub sorry_server: Option<SorryServer>,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
}

/// None set.
static NO_VS_EXTRA: VirtualServerExtra = VirtualServerExtra {
    persistence_engine: None,
    virtualhost: None,
    sorry_server: None,
    quorum_up: None,
    quorum_down: None,
};

/// A virtual or real server's readers of its boxes: `extra()` and `extra_mut()` for the rare
/// settings, `common()` for the checker options set at its level.
macro_rules! boxed_settings {
    ($ty:ty, $extra:ty, $no_extra:expr, $common:literal, |$this:ident| $options:expr) => {
        impl $ty {
            /// The settings few set (each `None` when unset).
            pub fn extra(&self) -> &$extra {
                self.extra.as_deref().unwrap_or(&$no_extra)
            }

            /// Them, to set one.
            pub fn extra_mut(&mut self) -> &mut $extra {
                self.extra.get_or_insert_with(Box::default)
            }

            #[doc = $common]
            pub fn common(&self) -> &CheckCommon {
                let $this = self;
                $options
            }
        }
    };
}

boxed_settings!(
    VirtualServer,
    VirtualServerExtra,
    NO_VS_EXTRA,
    "The checker options set in the virtual server's block (each `None` is keepalived's default; `delay_loop` is never set here: it is [`VirtualServer::delay_loop`]).",
    |vs| vs.check.as_deref().unwrap_or(&UNSET)
);

/// `real_server IP PORT { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct RealServer {
    pub ip: IpAddr,
    pub port: u16,
    pub span: Span,
    pub weight: i32,
    pub forwarding: Option<Forwarding>,
    pub inhibit_on_failure: Option<bool>,
    pub smtp_alert: Option<bool>,
    pub alpha: Option<bool>,
    /// The settings few real servers have, its checker options among them; boxed and only
    /// when one is set (a real server is repeated thousands of times in large
    /// configurations). [`RealServer::extra`] and [`RealServer::common`] read it.
    pub extra: Option<Box<RealServerExtra>>,
    /// Inline when there is one, as there usually is: at 100,000 real servers a vector's
    /// allocation of one checker each is 6 MiB more.
    pub checkers: SmallVec<[Checker; 1]>,
}

/// A real server's settings that few set.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RealServerExtra {
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    pub uthreshold: Option<u32>,
    pub lthreshold: Option<u32>,
    /// Host header for this server's HTTP checks.
    pub virtualhost: Option<String>,
    /// Checker options set at this level.
    pub check: CheckCommon,
}

/// None set.
static NO_EXTRA: RealServerExtra = RealServerExtra {
    notify_up: None,
    notify_down: None,
    uthreshold: None,
    lthreshold: None,
    virtualhost: None,
    check: NONE_SET,
};

/// One health check of a real server.
#[derive(Clone, Debug, PartialEq)]
pub struct Checker {
    pub kind: CheckKind,
    /// The options set in the checker's block; boxed and only when one is set, as
    /// [`RealServer::check`]: at 100,000 checkers most set none. [`Checker::common`] reads it.
    pub own: Option<Box<CheckCommon>>,
    pub span: Span,
}

/// No option set.
static UNSET: CheckCommon = NONE_SET;

/// No option set, as a value.
const NONE_SET: CheckCommon = CheckCommon {
    connect_ip: None,
    connect_port: None,
    bindto: None,
    bind_port: None,
    bind_if: None,
    fwmark: None,
    connect_timeout: None,
    retry: None,
    delay_before_retry: None,
    warmup: None,
    delay_loop: None,
    log_all_failures: None,
};

impl Checker {
    /// A checker with `common` as its own options.
    pub fn new(kind: CheckKind, common: CheckCommon, span: Span) -> Checker {
        let own = (common != UNSET).then(|| Box::new(common));
        Checker { kind, own, span }
    }

    /// The options set in the checker's block (each `None` inherits from the real server).
    pub fn common(&self) -> &CheckCommon {
        self.own.as_deref().unwrap_or(&UNSET)
    }
}

boxed_settings!(
    RealServer,
    RealServerExtra,
    NO_EXTRA,
    "The checker options set in the real server's block (each `None` inherits from the virtual server).",
    |rs| &rs.extra().check
);

/// What a checker probes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    Tcp,
    /// HTTP_GET, or SSL_GET when `tls` is set (boxed: keeps the common TCP_CHECK small).
    Http(Box<HttpCheck>),
    /// Boxed for the same reason: a script and its user make the largest variant.
    Misc(Box<MiscCheck>),
    /// The kinds below are boxed too: a checker is then 40 bytes, not 56, and 100,000 real
    /// servers of TCP_CHECK 1.6 MiB less.
    Smtp(Box<SmtpCheck>),
    Dns(Box<DnsCheck>),
    Udp(Box<UdpCheck>),
    Ping,
    File(Box<FileCheck>),
    Bfd(Box<BfdCheck>),
}

/// SMTP_CHECK settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmtpCheck {
    pub helo_name: Option<String>,
}

/// DNS_CHECK settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsCheck {
    pub query_type: DnsType,
    pub name: String,
}

/// FILE_CHECK settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    pub track_file: Option<String>,
    pub weight: i32,
    pub weight_reverse: bool,
}

/// BFD_CHECK: the real server follows the `bfd_instance` called `name`, up while its session
/// is Up. `alpha` is the checker's own; unset, the real server's applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BfdCheck {
    pub name: Option<String>,
    pub alpha: Option<bool>,
}

/// keepalived.conf(5), UDP_CHECK: "max_reply_length <INT> # default is 255".
pub const DEFAULT_MAX_REPLY_LENGTH: u32 = 255;

/// UDP_CHECK settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UdpCheck {
    pub payload: Option<Vec<u8>>,
    pub require_reply: Option<ReplyPattern>,
    pub min_reply_length: Option<u32>,
    pub max_reply_length: Option<u32>,
}

/// `require_reply`'s HEX_STR: a reply must equal it, as far as both go, in the bits each
/// byte's mask sets. Empty: a reply must come, whatever it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyPattern {
    /// (value, mask): the mask is 0xff for a byte that must match; a digit written `X` has its
    /// mask nibble 0.
    pub bytes: Vec<(u8, u8)>,
}

/// HTTP_GET / SSL_GET settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpCheck {
    pub tls: bool,
    pub urls: Vec<UrlCheck>,
    pub virtualhost: Option<String>,
    pub http_protocol: Option<String>,
    pub enable_sni: bool,
    pub fast_recovery: bool,
}

/// `url { path ...; digest ...; status_code ...; regex ...; virtualhost ... }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    pub path: String,
    /// MD5 of the body, as genhash prints it.
    pub digest: Option<[u8; 16]>,
    /// Accepted statuses; empty means keepalived's default, any 2xx.
    pub status_code: Vec<(u16, u16)>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub virtualhost: Option<String>,
    pub span: Span,
}

/// MISC_CHECK settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    pub path: Option<Script>,
    pub timeout: Option<Duration>,
    /// Exit codes 2..=255 set the weight to code - 2.
    pub dynamic: bool,
    pub user: Option<(String, Option<String>)>,
}

/// DNS_CHECK query types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DnsType {
    #[default]
    Soa,
    A,
    Ns,
    Cname,
    Mx,
    Txt,
    Aaaa,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large configuration holds one of these for each of 100,000 real servers, its usual
    /// single checker inline and its rare settings boxed.
    #[test]
    fn a_real_server_stays_small() {
        let size = std::mem::size_of::<RealServer>();
        assert!(size <= 104, "RealServer is {size} bytes");
        let size = std::mem::size_of::<Checker>();
        assert!(size <= 40, "Checker is {size} bytes");
        let size = std::mem::size_of::<VirtualServer>();
        assert!(size <= 176, "VirtualServer is {size} bytes");
        let rs = |text: &str| {
            let parsed = crate::parse_str("k.conf", text, &crate::Options::default(), None);
            parsed.config.virtual_servers[0].real_servers[0].clone()
        };
        let plain = rs("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n");
        assert!(plain.extra.is_none() && !plain.checkers.spilled(), "nothing boxed, the checker inline");
        let rare = rs("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  uthreshold 9\n  virtualhost h.example\n }\n}\n");
        assert_eq!((rare.extra().uthreshold, rare.extra().virtualhost.as_deref()), (Some(9), Some("h.example")));
        let rejected = rs("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  uthreshold many\n }\n}\n");
        assert!(rejected.extra.is_none(), "a rejected value boxes nothing");
    }
}
