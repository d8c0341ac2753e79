//! Service attributes (`IPVS_SVC_ATTR_*`) and their mapping to [`Service`].

use netlink_packet_core::{DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable, NLA_F_NESTED};

use super::constants::*;
use super::nla::{parse_name, parse_u16, parse_u16_be, parse_u32, put_str, put_u16, put_u16_be, put_u32, InetAddr};
use super::stats::{self, Width};
use crate::types::{Family, Protocol, Service, ServiceEntry, ServiceFlags, ServiceKey, Stats};

/// `struct ip_vs_flags`: the kernel sets `(old & !mask) | (flags & mask)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SvcFlags {
    pub flags: u32,
    pub mask: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SvcAttr {
    /// `AF_INET` or `AF_INET6`.
    Af(u16),
    /// `IPPROTO_*`.
    Protocol(u16),
    Addr(InetAddr),
    /// Host order here, network order on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    Flags(SvcFlags),
    Timeout(u32),
    /// The kernel's `__be32 netmask` field as it lies in memory: an IPv4 mask in network
    /// order, or an IPv6 prefix length in host order.
    Netmask([u8; 4]),
    Stats(Stats),
    PeName(String),
    Stats64(Stats),
    Other(DefaultNla),
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            SvcAttr::Af(_) | SvcAttr::Protocol(_) | SvcAttr::Port(_) => 2,
            SvcAttr::Fwmark(_) | SvcAttr::Timeout(_) | SvcAttr::Netmask(_) => 4,
            SvcAttr::Addr(_) => InetAddr::LEN,
            SvcAttr::SchedName(s) | SvcAttr::PeName(s) => s.len() + 1,
            SvcAttr::Flags(_) => 8,
            SvcAttr::Stats(_) => stats::value_len(Width::Legacy),
            SvcAttr::Stats64(_) => stats::value_len(Width::Wide),
            SvcAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            SvcAttr::Af(_) => IPVS_SVC_ATTR_AF,
            SvcAttr::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            SvcAttr::Addr(_) => IPVS_SVC_ATTR_ADDR,
            SvcAttr::Port(_) => IPVS_SVC_ATTR_PORT,
            SvcAttr::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SvcAttr::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            SvcAttr::Flags(_) => IPVS_SVC_ATTR_FLAGS,
            SvcAttr::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            SvcAttr::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            SvcAttr::Stats(_) => IPVS_SVC_ATTR_STATS | NLA_F_NESTED,
            SvcAttr::PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            SvcAttr::Stats64(_) => IPVS_SVC_ATTR_STATS64 | NLA_F_NESTED,
            SvcAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            SvcAttr::Af(v) | SvcAttr::Protocol(v) => put_u16(buf, *v),
            SvcAttr::Port(v) => put_u16_be(buf, *v),
            SvcAttr::Fwmark(v) | SvcAttr::Timeout(v) => put_u32(buf, *v),
            SvcAttr::Netmask(v) => buf[..4].copy_from_slice(v),
            SvcAttr::Addr(a) => buf[..InetAddr::LEN].copy_from_slice(&a.0),
            SvcAttr::SchedName(s) | SvcAttr::PeName(s) => put_str(buf, s),
            SvcAttr::Flags(f) => {
                put_u32(buf, f.flags);
                put_u32(&mut buf[4..], f.mask);
            }
            SvcAttr::Stats(s) => stats::emit(s, Width::Legacy, buf),
            SvcAttr::Stats64(s) => stats::emit(s, Width::Wide, buf),
            SvcAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl SvcAttr {
    pub(crate) fn parse(nla: &NlaBuffer<&[u8]>) -> Result<SvcAttr, DecodeError> {
        let v = nla.value();
        Ok(match nla.kind() {
            IPVS_SVC_ATTR_AF => SvcAttr::Af(parse_u16(v).context("IPVS_SVC_ATTR_AF")?),
            IPVS_SVC_ATTR_PROTOCOL => SvcAttr::Protocol(parse_u16(v).context("IPVS_SVC_ATTR_PROTOCOL")?),
            IPVS_SVC_ATTR_ADDR => SvcAttr::Addr(InetAddr::parse(v).context("IPVS_SVC_ATTR_ADDR")?),
            IPVS_SVC_ATTR_PORT => SvcAttr::Port(parse_u16_be(v).context("IPVS_SVC_ATTR_PORT")?),
            IPVS_SVC_ATTR_FWMARK => SvcAttr::Fwmark(parse_u32(v).context("IPVS_SVC_ATTR_FWMARK")?),
            IPVS_SVC_ATTR_SCHED_NAME => {
                SvcAttr::SchedName(parse_name(v, IP_VS_SCHEDNAME_MAXLEN).context("IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            IPVS_SVC_ATTR_FLAGS => {
                if v.len() != 8 {
                    return Err(DecodeError::from(format!("IPVS_SVC_ATTR_FLAGS of {} bytes (want 8)", v.len())));
                }
                SvcAttr::Flags(SvcFlags { flags: parse_u32(&v[..4])?, mask: parse_u32(&v[4..])? })
            }
            IPVS_SVC_ATTR_TIMEOUT => SvcAttr::Timeout(parse_u32(v).context("IPVS_SVC_ATTR_TIMEOUT")?),
            IPVS_SVC_ATTR_NETMASK => SvcAttr::Netmask(
                v.try_into()
                    .map_err(|_| DecodeError::from(format!("IPVS_SVC_ATTR_NETMASK of {} bytes (want 4)", v.len())))?,
            ),
            IPVS_SVC_ATTR_STATS => SvcAttr::Stats(stats::parse(v).context("IPVS_SVC_ATTR_STATS")?),
            IPVS_SVC_ATTR_PE_NAME => {
                SvcAttr::PeName(parse_name(v, IP_VS_PENAME_MAXLEN).context("IPVS_SVC_ATTR_PE_NAME")?)
            }
            IPVS_SVC_ATTR_STATS64 => SvcAttr::Stats64(stats::parse(v).context("IPVS_SVC_ATTR_STATS64")?),
            _ => SvcAttr::Other(DefaultNla::parse(nla)?),
        })
    }
}

/// The netmask attribute for a service of `family` (see [`SvcAttr::Netmask`]).
fn netmask_bytes(family: Family, netmask: u32) -> [u8; 4] {
    match family {
        Family::Inet => netmask.to_be_bytes(),
        Family::Inet6 => netmask.to_ne_bytes(),
    }
}

fn netmask_value(family: Family, raw: [u8; 4]) -> u32 {
    match family {
        Family::Inet => u32::from_be_bytes(raw),
        Family::Inet6 => u32::from_ne_bytes(raw),
    }
}

/// The attributes that name a service: what a destination or delete request carries.
pub fn service_key_attrs(key: &ServiceKey) -> Vec<SvcAttr> {
    match *key {
        ServiceKey::Addr { protocol, addr, port } => vec![
            SvcAttr::Af(Family::of(&addr).raw()),
            SvcAttr::Protocol(protocol.raw()),
            SvcAttr::Addr(addr.into()),
            SvcAttr::Port(port),
        ],
        ServiceKey::Fwmark { family, mark } => vec![SvcAttr::Af(family.raw()), SvcAttr::Fwmark(mark)],
    }
}

/// The full attributes of a service, in the order ipvsadm sends them (add and edit).
pub fn service_attrs(svc: &Service) -> Vec<SvcAttr> {
    let mut attrs = service_key_attrs(&svc.key);
    attrs.extend([
        SvcAttr::SchedName(svc.scheduler.clone()),
        SvcAttr::Flags(SvcFlags { flags: svc.flags.settable().0, mask: u32::MAX }),
        SvcAttr::Timeout(svc.timeout),
        SvcAttr::Netmask(netmask_bytes(svc.key.family(), svc.netmask)),
    ]);
    if let Some(pe) = &svc.pe_name {
        attrs.push(SvcAttr::PeName(pe.clone()));
    }
    attrs
}

/// A service as the kernel lists it (`IPVS_CMD_NEW_SERVICE` in a dump).
pub fn service_entry(attrs: &[SvcAttr]) -> Result<ServiceEntry, DecodeError> {
    let (mut af, mut protocol, mut addr, mut port, mut fwmark) = (None, None, None, None, None);
    let mut svc = (String::new(), ServiceFlags::default(), 0, None, None);
    let (mut stats, mut stats64) = (None, None);
    for a in attrs {
        match a {
            SvcAttr::Af(v) => af = Some(*v),
            SvcAttr::Protocol(v) => protocol = Some(*v),
            SvcAttr::Addr(v) => addr = Some(*v),
            SvcAttr::Port(v) => port = Some(*v),
            SvcAttr::Fwmark(v) => fwmark = Some(*v),
            SvcAttr::SchedName(s) => svc.0 = s.clone(),
            SvcAttr::Flags(f) => svc.1 = ServiceFlags(f.flags),
            SvcAttr::Timeout(t) => svc.2 = *t,
            SvcAttr::Netmask(m) => svc.3 = Some(*m),
            SvcAttr::PeName(p) => svc.4 = Some(p.clone()),
            SvcAttr::Stats(s) => stats = Some(*s),
            SvcAttr::Stats64(s) => stats64 = Some(*s),
            SvcAttr::Other(_) => {}
        }
    }
    let af = af.ok_or_else(|| DecodeError::from("service without IPVS_SVC_ATTR_AF"))?;
    let family = Family::from_raw(af).ok_or_else(|| DecodeError::from(format!("service of address family {af}")))?;
    let key = match (fwmark, protocol, addr, port) {
        (Some(mark), ..) if mark != 0 => ServiceKey::Fwmark { family, mark },
        (_, Some(p), Some(addr), Some(port)) => {
            let protocol =
                Protocol::from_raw(p).ok_or_else(|| DecodeError::from(format!("service of protocol {p}")))?;
            ServiceKey::Addr { protocol, addr: addr.ip(family), port }
        }
        _ => return Err(DecodeError::from("service with neither a fwmark nor protocol, address and port")),
    };
    let (scheduler, flags, timeout, netmask, pe_name) = svc;
    let mut service = Service::new(key, &scheduler);
    service.flags = flags;
    service.timeout = timeout;
    if let Some(m) = netmask {
        service.netmask = netmask_value(family, m);
    }
    service.pe_name = pe_name.filter(|p| !p.is_empty());
    Ok(ServiceEntry { service, stats: stats64.or(stats).unwrap_or_default() })
}
