//! The IPVS table as plain data: what a service and a destination are, independent of
//! how they travel (the netlink family in `family/`) or where they come from (the config,
//! in `reconcile`).  Field meanings and numeric values follow `linux/ip_vs.h`.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

/// Address families as the kernel numbers them (`AF_INET`, `AF_INET6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub const fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    /// The kernel's `AF_*` number.
    pub const fn raw(self) -> u16 {
        match self {
            Family::Inet => 2,
            Family::Inet6 => 10,
        }
    }

    pub const fn from_raw(raw: u16) -> Option<Family> {
        match raw {
            2 => Some(Family::Inet),
            10 => Some(Family::Inet6),
            _ => None,
        }
    }
}

/// Transport protocols of a virtual service (`IPPROTO_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const fn raw(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    pub const fn from_raw(raw: u16) -> Option<Protocol> {
        match raw {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// ipvsadm's spelling in `-Ln` (`TCP`, `UDP`, `SCTP`).
    pub const fn upper(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    /// keepalived's spelling in log lines (`tcp`, `udp`, `sctp`).
    pub const fn lower(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ServiceKey {
    /// `-t/-u/--sctp-service ADDR:PORT` (port 0 is a valid "all ports" service).
    Addr { protocol: Protocol, addr: IpAddr, port: u16 },
    /// `-f MARK`, for one address family.
    Fwmark { family: Family, mark: u32 },
}

impl ServiceKey {
    pub const fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

/// keepalived's rendering, as in `Removing service [10.0.0.7]:tcp:80 from VS [10.0.0.3]:tcp:80`.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr { protocol, addr, port } => write!(f, "[{addr}]:{}:{port}", protocol.lower()),
            ServiceKey::Fwmark { mark, .. } => write!(f, "FWM {mark}"),
        }
    }
}

/// Service flags (`IP_VS_SVC_F_*` in `linux/ip_vs.h`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const HASHED: u32 = 0x0002;
    pub const ONEPACKET: u32 = 0x0004;
    /// `flag-1`: sh-fallback / mh-fallback.
    pub const SCHED1: u32 = 0x0008;
    /// `flag-2`: sh-port / mh-port.
    pub const SCHED2: u32 = 0x0010;
    /// `flag-3`.
    pub const SCHED3: u32 = 0x0020;

    pub const fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// The flags a client sets; the kernel adds `HASHED` by itself.
    pub const fn settable(self) -> ServiceFlags {
        ServiceFlags(self.0 & !Self::HASHED)
    }
}

/// A virtual service and its scheduling settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Service {
    pub key: ServiceKey,
    /// Scheduler name as the kernel knows it (`rr`, `wlc`, `mh`, ...).
    pub scheduler: String,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with `PERSISTENT`).
    pub timeout: u32,
    /// Persistence granularity: an IPv4 netmask as `u32::from(Ipv4Addr)` (so
    /// `255.255.255.0` is `0xffff_ff00`; the attribute carries it big-endian), or an
    /// IPv6 prefix length.
    pub netmask: u32,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
}

impl Service {
    /// A service with the kernel's defaults for everything but its key and scheduler.
    pub fn new(key: ServiceKey, scheduler: &str) -> Service {
        let netmask = match key.family() {
            Family::Inet => 0xffff_ffff,
            Family::Inet6 => 128,
        };
        Service {
            key,
            scheduler: scheduler.to_owned(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask,
            pe_name: None,
        }
    }
}

/// Packet forwarding methods (`IP_VS_CONN_F_*` in `linux/ip_vs.h`, low bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Forwarding {
    /// `-m`, NAT.
    #[default]
    Masq,
    /// Local node (the kernel reports it for a destination on the director itself).
    Local,
    /// `-i`, IP-IP (or GUE/GRE) tunnel.
    Tunnel,
    /// `-g`, direct routing.
    DirectRoute,
    Bypass,
}

impl Forwarding {
    pub const fn raw(self) -> u32 {
        match self {
            Forwarding::Masq => 0,
            Forwarding::Local => 1,
            Forwarding::Tunnel => 2,
            Forwarding::DirectRoute => 3,
            Forwarding::Bypass => 4,
        }
    }

    pub const fn from_raw(raw: u32) -> Option<Forwarding> {
        match raw & 0x7 {
            0 => Some(Forwarding::Masq),
            1 => Some(Forwarding::Local),
            2 => Some(Forwarding::Tunnel),
            3 => Some(Forwarding::DirectRoute),
            4 => Some(Forwarding::Bypass),
            _ => None,
        }
    }

    /// ipvsadm's `-Ln` column (`Masq`, `Local`, `Tunnel`, `Route`, `Bypass`).
    pub const fn ipvsadm(self) -> &'static str {
        match self {
            Forwarding::Masq => "Masq",
            Forwarding::Local => "Local",
            Forwarding::Tunnel => "Tunnel",
            Forwarding::DirectRoute => "Route",
            Forwarding::Bypass => "Bypass",
        }
    }
}

/// Tunnel encapsulation of a `Tunnel` destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum TunnelType {
    #[default]
    IpIp,
    Gue,
    Gre,
}

impl TunnelType {
    pub const fn raw(self) -> u8 {
        match self {
            TunnelType::IpIp => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
        }
    }

    pub const fn from_raw(raw: u8) -> Option<TunnelType> {
        match raw {
            0 => Some(TunnelType::IpIp),
            1 => Some(TunnelType::Gue),
            2 => Some(TunnelType::Gre),
            _ => None,
        }
    }
}

/// What identifies a destination within its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A real server behind a service.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Dest {
    pub key: DestKey,
    pub forwarding: Forwarding,
    /// 0 keeps the server in the table without new connections (keepalived's inhibit).
    pub weight: i32,
    /// Connection thresholds; 0 means none.
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tunnel_type: TunnelType,
    /// GUE destination port, in host order.
    pub tunnel_port: u16,
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    pub tunnel_flags: u16,
}

impl Dest {
    pub fn new(key: DestKey, forwarding: Forwarding, weight: i32) -> Dest {
        Dest {
            key,
            forwarding,
            weight,
            u_threshold: 0,
            l_threshold: 0,
            tunnel_type: TunnelType::IpIp,
            tunnel_port: 0,
            tunnel_flags: 0,
        }
    }
}

/// Traffic counters of a service or destination (`IPVS_STATS_ATTR_*`, the 64-bit set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A service as listed by the kernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceEntry {
    pub service: Service,
    pub stats: Stats,
}

/// A destination as listed by the kernel, with its connection counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DestEntry {
    pub dest: Dest,
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: Stats,
}

/// `IPVS_CMD_GET_INFO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Info {
    /// `(major << 16) | (minor << 8) | patch`, e.g. 0x010201 for 1.2.1.
    pub version: u32,
    pub conn_tab_size: u32,
}

impl fmt::Display for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.version;
        write!(f, "{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
    }
}

/// Connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`); 0 leaves one unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// The role of a connection sync daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SyncRole {
    Master,
    Backup,
}

impl SyncRole {
    /// `IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`.
    pub const fn raw(self) -> u32 {
        match self {
            SyncRole::Master => 1,
            SyncRole::Backup => 2,
        }
    }
}

/// A connection sync daemon (`lvs_sync_daemon`, `ipvsadm --start-daemon`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SyncDaemon {
    pub role: SyncRole,
    pub interface: String,
    pub syncid: u8,
    /// Maximum sync message length; 0 is the kernel's default.
    pub maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    /// 0 is the kernel's default (8848).
    pub mcast_port: u16,
    /// 0 is the kernel's default (1).
    pub mcast_ttl: u8,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for everything but its role, interface and id.
    pub fn new(role: SyncRole, interface: &str, syncid: u8) -> SyncDaemon {
        SyncDaemon {
            role,
            interface: interface.to_owned(),
            syncid,
            maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
        }
    }
}

/// One write to the kernel's table: what the reconciler decides and the client carries out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    AddService(Service),
    /// Change scheduler, flags, persistence or pe of an existing service in place.
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    /// Change weight, thresholds or forwarding of an existing destination in place.
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, DestKey),
}
