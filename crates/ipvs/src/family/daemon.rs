//! Sync daemon attributes (`IPVS_DAEMON_ATTR_*`) and their mapping to [`SyncDaemon`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable};

use super::constants::*;
use super::nla::{parse_name, parse_u16, parse_u32, parse_u8, put_str, put_u16, put_u32, put_u8};
use crate::types::{SyncDaemon, SyncRole};

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonAttr {
    /// `IP_VS_STATE_MASTER` or `IP_VS_STATE_BACKUP`.
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup(Ipv4Addr),
    McastGroup6(Ipv6Addr),
    /// Host order, on the wire too: the kernel reads and reports it with `nla_get_u16` and
    /// `nla_put_u16` (kernel lab: a big-endian 8000 came back from ipvsadm as 16415).
    McastPort(u16),
    McastTtl(u8),
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            DaemonAttr::State(_) | DaemonAttr::SyncId(_) | DaemonAttr::McastGroup(_) => 4,
            DaemonAttr::McastIfn(s) => s.len() + 1,
            DaemonAttr::SyncMaxlen(_) | DaemonAttr::McastPort(_) => 2,
            DaemonAttr::McastGroup6(_) => 16,
            DaemonAttr::McastTtl(_) => 1,
            DaemonAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DaemonAttr::State(_) => IPVS_DAEMON_ATTR_STATE,
            DaemonAttr::McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            DaemonAttr::SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            DaemonAttr::SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            DaemonAttr::McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            DaemonAttr::McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            DaemonAttr::McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            DaemonAttr::McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            DaemonAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DaemonAttr::State(v) | DaemonAttr::SyncId(v) => put_u32(buf, *v),
            DaemonAttr::McastIfn(s) => put_str(buf, s),
            DaemonAttr::SyncMaxlen(v) => put_u16(buf, *v),
            DaemonAttr::McastGroup(a) => buf[..4].copy_from_slice(&a.octets()),
            DaemonAttr::McastGroup6(a) => buf[..16].copy_from_slice(&a.octets()),
            DaemonAttr::McastPort(v) => put_u16(buf, *v),
            DaemonAttr::McastTtl(v) => put_u8(buf, *v),
            DaemonAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl DaemonAttr {
    pub(crate) fn parse(nla: &NlaBuffer<&[u8]>) -> Result<DaemonAttr, DecodeError> {
        let v = nla.value();
        Ok(match nla.kind() {
            IPVS_DAEMON_ATTR_STATE => DaemonAttr::State(parse_u32(v).context("IPVS_DAEMON_ATTR_STATE")?),
            IPVS_DAEMON_ATTR_MCAST_IFN => {
                DaemonAttr::McastIfn(parse_name(v, IP_VS_IFNAME_MAXLEN).context("IPVS_DAEMON_ATTR_MCAST_IFN")?)
            }
            IPVS_DAEMON_ATTR_SYNC_ID => DaemonAttr::SyncId(parse_u32(v).context("IPVS_DAEMON_ATTR_SYNC_ID")?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => {
                DaemonAttr::SyncMaxlen(parse_u16(v).context("IPVS_DAEMON_ATTR_SYNC_MAXLEN")?)
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP => DaemonAttr::McastGroup(Ipv4Addr::from(
                <[u8; 4]>::try_from(v).map_err(|_| DecodeError::from("IPVS_DAEMON_ATTR_MCAST_GROUP: want 4 bytes"))?,
            )),
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => DaemonAttr::McastGroup6(Ipv6Addr::from(
                <[u8; 16]>::try_from(v)
                    .map_err(|_| DecodeError::from("IPVS_DAEMON_ATTR_MCAST_GROUP6: want 16 bytes"))?,
            )),
            IPVS_DAEMON_ATTR_MCAST_PORT => DaemonAttr::McastPort(parse_u16(v).context("IPVS_DAEMON_ATTR_MCAST_PORT")?),
            IPVS_DAEMON_ATTR_MCAST_TTL => DaemonAttr::McastTtl(parse_u8(v).context("IPVS_DAEMON_ATTR_MCAST_TTL")?),
            _ => DaemonAttr::Other(DefaultNla::parse(nla)?),
        })
    }
}

/// The attributes that start a sync daemon; zero values are left to the kernel's defaults.
pub fn daemon_attrs(d: &SyncDaemon) -> Vec<DaemonAttr> {
    let mut attrs = vec![
        DaemonAttr::State(d.role.raw()),
        DaemonAttr::McastIfn(d.interface.clone()),
        DaemonAttr::SyncId(d.syncid.into()),
    ];
    if d.maxlen != 0 {
        attrs.push(DaemonAttr::SyncMaxlen(d.maxlen));
    }
    match d.mcast_group {
        Some(IpAddr::V4(g)) => attrs.push(DaemonAttr::McastGroup(g)),
        Some(IpAddr::V6(g)) => attrs.push(DaemonAttr::McastGroup6(g)),
        None => {}
    }
    if d.mcast_port != 0 {
        attrs.push(DaemonAttr::McastPort(d.mcast_port));
    }
    if d.mcast_ttl != 0 {
        attrs.push(DaemonAttr::McastTtl(d.mcast_ttl));
    }
    attrs
}

/// A running sync daemon as the kernel lists it.
pub fn daemon_from_attrs(attrs: &[DaemonAttr]) -> Result<SyncDaemon, DecodeError> {
    let mut d = SyncDaemon::new(SyncRole::Master, "", 0);
    let mut state = None;
    for a in attrs {
        match a {
            DaemonAttr::State(s) => state = Some(*s),
            DaemonAttr::McastIfn(s) => d.interface = s.clone(),
            // The kernel keeps the sync id in a u8 and reports it widened.
            DaemonAttr::SyncId(v) => d.syncid = *v as u8,
            DaemonAttr::SyncMaxlen(v) => d.maxlen = *v,
            DaemonAttr::McastGroup(g) => d.mcast_group = Some(IpAddr::V4(*g)),
            DaemonAttr::McastGroup6(g) => d.mcast_group = Some(IpAddr::V6(*g)),
            DaemonAttr::McastPort(p) => d.mcast_port = *p,
            DaemonAttr::McastTtl(t) => d.mcast_ttl = *t,
            DaemonAttr::Other(_) => {}
        }
    }
    d.role = match state {
        Some(s) if s == SyncRole::Master.raw() => SyncRole::Master,
        Some(s) if s == SyncRole::Backup.raw() => SyncRole::Backup,
        other => return Err(DecodeError::from(format!("sync daemon in state {other:?}"))),
    };
    Ok(d)
}
