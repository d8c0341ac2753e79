//! Destination attributes (`IPVS_DEST_ATTR_*`) and their mapping to [`Dest`].

use netlink_packet_core::{DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable, NLA_F_NESTED};

use super::constants::*;
use super::nla::{parse_u16, parse_u16_be, parse_u32, parse_u8, put_u16, put_u16_be, put_u32, put_u8, InetAddr};
use super::stats::{self, Width};
use crate::types::{Dest, DestEntry, DestKey, Family, Forwarding, Stats, TunnelType};

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestAttr {
    Addr(InetAddr),
    /// Host order here, network order on the wire.
    Port(u16),
    /// `IP_VS_CONN_F_*` forwarding bits.
    FwdMethod(u32),
    Weight(i32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    Stats(Stats),
    /// The destination's own family, when it differs from the service's (IPv6 behind an
    /// IPv4 tunnel service).
    AddrFamily(u16),
    Stats64(Stats),
    /// `IP_VS_CONN_F_TUNNEL_TYPE_*`.
    TunType(u8),
    /// Host order here, network order on the wire.
    TunPort(u16),
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    TunFlags(u16),
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Addr(_) => InetAddr::LEN,
            DestAttr::Port(_) | DestAttr::AddrFamily(_) | DestAttr::TunPort(_) | DestAttr::TunFlags(_) => 2,
            DestAttr::TunType(_) => 1,
            DestAttr::FwdMethod(_)
            | DestAttr::Weight(_)
            | DestAttr::UThresh(_)
            | DestAttr::LThresh(_)
            | DestAttr::ActiveConns(_)
            | DestAttr::InactConns(_)
            | DestAttr::PersistConns(_) => 4,
            DestAttr::Stats(_) => stats::value_len(Width::Legacy),
            DestAttr::Stats64(_) => stats::value_len(Width::Wide),
            DestAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => IPVS_DEST_ATTR_ADDR,
            DestAttr::Port(_) => IPVS_DEST_ATTR_PORT,
            DestAttr::FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            DestAttr::Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            DestAttr::UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            DestAttr::LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            DestAttr::ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            DestAttr::InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            DestAttr::PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            DestAttr::Stats(_) => IPVS_DEST_ATTR_STATS | NLA_F_NESTED,
            DestAttr::AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            DestAttr::Stats64(_) => IPVS_DEST_ATTR_STATS64 | NLA_F_NESTED,
            DestAttr::TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            DestAttr::TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            DestAttr::TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            DestAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DestAttr::Addr(a) => buf[..InetAddr::LEN].copy_from_slice(&a.0),
            DestAttr::Port(v) | DestAttr::TunPort(v) => put_u16_be(buf, *v),
            DestAttr::AddrFamily(v) | DestAttr::TunFlags(v) => put_u16(buf, *v),
            DestAttr::TunType(v) => put_u8(buf, *v),
            DestAttr::Weight(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            DestAttr::FwdMethod(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v)
            | DestAttr::ActiveConns(v)
            | DestAttr::InactConns(v)
            | DestAttr::PersistConns(v) => put_u32(buf, *v),
            DestAttr::Stats(s) => stats::emit(s, Width::Legacy, buf),
            DestAttr::Stats64(s) => stats::emit(s, Width::Wide, buf),
            DestAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl DestAttr {
    pub(crate) fn parse(nla: &NlaBuffer<&[u8]>) -> Result<DestAttr, DecodeError> {
        let v = nla.value();
        Ok(match nla.kind() {
            IPVS_DEST_ATTR_ADDR => DestAttr::Addr(InetAddr::parse(v).context("IPVS_DEST_ATTR_ADDR")?),
            IPVS_DEST_ATTR_PORT => DestAttr::Port(parse_u16_be(v).context("IPVS_DEST_ATTR_PORT")?),
            IPVS_DEST_ATTR_FWD_METHOD => DestAttr::FwdMethod(parse_u32(v).context("IPVS_DEST_ATTR_FWD_METHOD")?),
            IPVS_DEST_ATTR_WEIGHT => DestAttr::Weight(parse_u32(v).context("IPVS_DEST_ATTR_WEIGHT")? as i32),
            IPVS_DEST_ATTR_U_THRESH => DestAttr::UThresh(parse_u32(v).context("IPVS_DEST_ATTR_U_THRESH")?),
            IPVS_DEST_ATTR_L_THRESH => DestAttr::LThresh(parse_u32(v).context("IPVS_DEST_ATTR_L_THRESH")?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => DestAttr::ActiveConns(parse_u32(v).context("IPVS_DEST_ATTR_ACTIVE_CONNS")?),
            IPVS_DEST_ATTR_INACT_CONNS => DestAttr::InactConns(parse_u32(v).context("IPVS_DEST_ATTR_INACT_CONNS")?),
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                DestAttr::PersistConns(parse_u32(v).context("IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => DestAttr::Stats(stats::parse(v).context("IPVS_DEST_ATTR_STATS")?),
            IPVS_DEST_ATTR_ADDR_FAMILY => DestAttr::AddrFamily(parse_u16(v).context("IPVS_DEST_ATTR_ADDR_FAMILY")?),
            IPVS_DEST_ATTR_STATS64 => DestAttr::Stats64(stats::parse(v).context("IPVS_DEST_ATTR_STATS64")?),
            IPVS_DEST_ATTR_TUN_TYPE => DestAttr::TunType(parse_u8(v).context("IPVS_DEST_ATTR_TUN_TYPE")?),
            IPVS_DEST_ATTR_TUN_PORT => DestAttr::TunPort(parse_u16_be(v).context("IPVS_DEST_ATTR_TUN_PORT")?),
            IPVS_DEST_ATTR_TUN_FLAGS => DestAttr::TunFlags(parse_u16(v).context("IPVS_DEST_ATTR_TUN_FLAGS")?),
            _ => DestAttr::Other(DefaultNla::parse(nla)?),
        })
    }
}

/// The attributes that name a destination (delete).
pub fn dest_key_attrs(key: &DestKey) -> Vec<DestAttr> {
    vec![DestAttr::AddrFamily(Family::of(&key.addr).raw()), DestAttr::Addr(key.addr.into()), DestAttr::Port(key.port)]
}

/// The full attributes of a destination, in the order ipvsadm sends them (add and edit).
pub fn dest_attrs(dest: &Dest) -> Vec<DestAttr> {
    let mut attrs = dest_key_attrs(&dest.key);
    attrs.extend([
        DestAttr::FwdMethod(dest.forwarding.raw()),
        DestAttr::Weight(dest.weight),
        DestAttr::TunType(dest.tunnel_type.raw()),
        DestAttr::TunPort(dest.tunnel_port),
        DestAttr::TunFlags(dest.tunnel_flags),
        DestAttr::UThresh(dest.u_threshold),
        DestAttr::LThresh(dest.l_threshold),
    ]);
    attrs
}

/// A destination as the kernel lists it (`IPVS_CMD_NEW_DEST` in a dump); `service_family` is
/// the address family of its service, which the address follows unless `AddrFamily` says.
pub fn dest_entry(attrs: &[DestAttr], service_family: Family) -> Result<DestEntry, DecodeError> {
    let (mut addr, mut port, mut family) = (None, None, service_family);
    let mut d = Dest::new(DestKey { addr: InetAddr::default().ip(service_family), port: 0 }, Forwarding::Masq, 0);
    let mut e = (0, 0, 0);
    let (mut stats, mut stats64) = (None, None);
    for a in attrs {
        match a {
            DestAttr::Addr(v) => addr = Some(*v),
            DestAttr::Port(v) => port = Some(*v),
            DestAttr::AddrFamily(v) => {
                family = Family::from_raw(*v)
                    .ok_or_else(|| DecodeError::from(format!("destination of address family {v}")))?
            }
            DestAttr::FwdMethod(v) => {
                d.forwarding = Forwarding::from_raw(v & IP_VS_CONN_F_FWD_MASK)
                    .ok_or_else(|| DecodeError::from(format!("forwarding method {v}")))?
            }
            DestAttr::Weight(v) => d.weight = *v,
            DestAttr::UThresh(v) => d.u_threshold = *v,
            DestAttr::LThresh(v) => d.l_threshold = *v,
            DestAttr::ActiveConns(v) => e.0 = *v,
            DestAttr::InactConns(v) => e.1 = *v,
            DestAttr::PersistConns(v) => e.2 = *v,
            DestAttr::Stats(s) => stats = Some(*s),
            DestAttr::Stats64(s) => stats64 = Some(*s),
            DestAttr::TunType(v) => {
                d.tunnel_type = TunnelType::from_raw(*v).ok_or_else(|| DecodeError::from(format!("tunnel type {v}")))?
            }
            DestAttr::TunPort(v) => d.tunnel_port = *v,
            DestAttr::TunFlags(v) => d.tunnel_flags = *v,
            DestAttr::Other(_) => {}
        }
    }
    let addr = addr.ok_or_else(|| DecodeError::from("destination without IPVS_DEST_ATTR_ADDR"))?;
    let port = port.ok_or_else(|| DecodeError::from("destination without IPVS_DEST_ATTR_PORT"))?;
    d.key = DestKey { addr: addr.ip(family), port };
    Ok(DestEntry {
        dest: d,
        active_conns: e.0,
        inactive_conns: e.1,
        persistent_conns: e.2,
        stats: stats64.or(stats).unwrap_or_default(),
    })
}
