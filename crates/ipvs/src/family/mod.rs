//! The IPVS generic-netlink family (`include/uapi/linux/ip_vs.h`: family "IPVS", version 1),
//! in the shape of netlink-packet-generic's `ctrl` module: a message is a command and a list of
//! attributes, it emits its payload after the generic header and parses with that header as
//! the parameter.
//!
//! Nested attributes carry `NLA_F_NESTED` on the way out, as libnl (and so ipvsadm) sends
//! them; the kernel's replies leave it off and the parser ignores it either way.

pub mod constants;
mod daemon;
mod dest;
mod nla;
mod service;
mod stats;

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, ErrorContext, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
    NLA_F_NESTED,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use self::constants::*;
pub use self::daemon::{daemon_attrs, daemon_from_attrs, DaemonAttr};
pub use self::dest::{dest_attrs, dest_entry, dest_key_attrs, DestAttr};
pub use self::nla::InetAddr;
use self::nla::{parse_u32, put_u32};
pub use self::service::{service_attrs, service_entry, service_key_attrs, SvcAttr, SvcFlags};

/// IPVS commands (`IPVS_CMD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpvsCmd {
    NewService,
    SetService,
    DelService,
    GetService,
    NewDest,
    SetDest,
    DelDest,
    GetDest,
    NewDaemon,
    DelDaemon,
    GetDaemon,
    SetConfig,
    GetConfig,
    /// The command of the reply to `GetInfo`.
    SetInfo,
    GetInfo,
    Zero,
    Flush,
    /// A command this code does not know (a newer kernel).
    Other(u8),
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> u8 {
        match cmd {
            IpvsCmd::NewService => IPVS_CMD_NEW_SERVICE,
            IpvsCmd::SetService => IPVS_CMD_SET_SERVICE,
            IpvsCmd::DelService => IPVS_CMD_DEL_SERVICE,
            IpvsCmd::GetService => IPVS_CMD_GET_SERVICE,
            IpvsCmd::NewDest => IPVS_CMD_NEW_DEST,
            IpvsCmd::SetDest => IPVS_CMD_SET_DEST,
            IpvsCmd::DelDest => IPVS_CMD_DEL_DEST,
            IpvsCmd::GetDest => IPVS_CMD_GET_DEST,
            IpvsCmd::NewDaemon => IPVS_CMD_NEW_DAEMON,
            IpvsCmd::DelDaemon => IPVS_CMD_DEL_DAEMON,
            IpvsCmd::GetDaemon => IPVS_CMD_GET_DAEMON,
            IpvsCmd::SetConfig => IPVS_CMD_SET_CONFIG,
            IpvsCmd::GetConfig => IPVS_CMD_GET_CONFIG,
            IpvsCmd::SetInfo => IPVS_CMD_SET_INFO,
            IpvsCmd::GetInfo => IPVS_CMD_GET_INFO,
            IpvsCmd::Zero => IPVS_CMD_ZERO,
            IpvsCmd::Flush => IPVS_CMD_FLUSH,
            IpvsCmd::Other(c) => c,
        }
    }
}

impl From<u8> for IpvsCmd {
    fn from(raw: u8) -> IpvsCmd {
        match raw {
            IPVS_CMD_NEW_SERVICE => IpvsCmd::NewService,
            IPVS_CMD_SET_SERVICE => IpvsCmd::SetService,
            IPVS_CMD_DEL_SERVICE => IpvsCmd::DelService,
            IPVS_CMD_GET_SERVICE => IpvsCmd::GetService,
            IPVS_CMD_NEW_DEST => IpvsCmd::NewDest,
            IPVS_CMD_SET_DEST => IpvsCmd::SetDest,
            IPVS_CMD_DEL_DEST => IpvsCmd::DelDest,
            IPVS_CMD_GET_DEST => IpvsCmd::GetDest,
            IPVS_CMD_NEW_DAEMON => IpvsCmd::NewDaemon,
            IPVS_CMD_DEL_DAEMON => IpvsCmd::DelDaemon,
            IPVS_CMD_GET_DAEMON => IpvsCmd::GetDaemon,
            IPVS_CMD_SET_CONFIG => IpvsCmd::SetConfig,
            IPVS_CMD_GET_CONFIG => IpvsCmd::GetConfig,
            IPVS_CMD_SET_INFO => IpvsCmd::SetInfo,
            IPVS_CMD_GET_INFO => IpvsCmd::GetInfo,
            IPVS_CMD_ZERO => IpvsCmd::Zero,
            IPVS_CMD_FLUSH => IpvsCmd::Flush,
            other => IpvsCmd::Other(other),
        }
    }
}

/// First-level attributes (`IPVS_CMD_ATTR_*`, and `IPVS_INFO_ATTR_*` in a `SetInfo` reply).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsAttr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_VERSION`, only in the reply to `GetInfo`.
    Version(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`, only in the reply to `GetInfo`.
    ConnTabSize(u32),
    Other(DefaultNla),
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            IpvsAttr::Service(a) => a.as_slice().buffer_len(),
            IpvsAttr::Dest(a) => a.as_slice().buffer_len(),
            IpvsAttr::Daemon(a) => a.as_slice().buffer_len(),
            IpvsAttr::TimeoutTcp(_)
            | IpvsAttr::TimeoutTcpFin(_)
            | IpvsAttr::TimeoutUdp(_)
            | IpvsAttr::Version(_)
            | IpvsAttr::ConnTabSize(_) => 4,
            IpvsAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            IpvsAttr::Service(_) => IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED,
            IpvsAttr::Dest(_) => IPVS_CMD_ATTR_DEST | NLA_F_NESTED,
            IpvsAttr::Daemon(_) => IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED,
            IpvsAttr::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            IpvsAttr::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            IpvsAttr::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            IpvsAttr::Version(_) => IPVS_INFO_ATTR_VERSION,
            IpvsAttr::ConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            IpvsAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            IpvsAttr::Service(a) => a.as_slice().emit(buffer),
            IpvsAttr::Dest(a) => a.as_slice().emit(buffer),
            IpvsAttr::Daemon(a) => a.as_slice().emit(buffer),
            IpvsAttr::TimeoutTcp(v)
            | IpvsAttr::TimeoutTcpFin(v)
            | IpvsAttr::TimeoutUdp(v)
            | IpvsAttr::Version(v)
            | IpvsAttr::ConnTabSize(v) => put_u32(buffer, *v),
            IpvsAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

/// Parses a nested attribute list with `parse_one` for each attribute.
pub(crate) fn parse_nested<A>(
    buf: &[u8],
    parse_one: impl Fn(&NlaBuffer<&[u8]>) -> Result<A, DecodeError>,
) -> Result<Vec<A>, DecodeError> {
    // Room for the usual count at once (a listed destination has 15 attributes in some 350
    // bytes), not a regrowth every few attributes.
    let mut attrs = Vec::with_capacity(buf.len() / 16);
    for nla in NlasIterator::new(buf) {
        attrs.push(parse_one(&nla?)?);
    }
    Ok(attrs)
}

impl IpvsAttr {
    /// Parses one first-level attribute of a message with command `cmd` (the info attributes
    /// share their numbers with the others).
    fn parse(nla: &NlaBuffer<&[u8]>, cmd: IpvsCmd) -> Result<IpvsAttr, DecodeError> {
        let v = nla.value();
        if cmd == IpvsCmd::SetInfo {
            return Ok(match nla.kind() {
                IPVS_INFO_ATTR_VERSION => IpvsAttr::Version(parse_u32(v).context("IPVS_INFO_ATTR_VERSION")?),
                IPVS_INFO_ATTR_CONN_TAB_SIZE => {
                    IpvsAttr::ConnTabSize(parse_u32(v).context("IPVS_INFO_ATTR_CONN_TAB_SIZE")?)
                }
                _ => IpvsAttr::Other(DefaultNla::parse(nla)?),
            });
        }
        Ok(match nla.kind() {
            IPVS_CMD_ATTR_SERVICE => {
                IpvsAttr::Service(parse_nested(v, SvcAttr::parse).context("IPVS_CMD_ATTR_SERVICE")?)
            }
            IPVS_CMD_ATTR_DEST => IpvsAttr::Dest(parse_nested(v, DestAttr::parse).context("IPVS_CMD_ATTR_DEST")?),
            IPVS_CMD_ATTR_DAEMON => {
                IpvsAttr::Daemon(parse_nested(v, DaemonAttr::parse).context("IPVS_CMD_ATTR_DAEMON")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP => IpvsAttr::TimeoutTcp(parse_u32(v).context("IPVS_CMD_ATTR_TIMEOUT_TCP")?),
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => {
                IpvsAttr::TimeoutTcpFin(parse_u32(v).context("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_UDP => IpvsAttr::TimeoutUdp(parse_u32(v).context("IPVS_CMD_ATTR_TIMEOUT_UDP")?),
            _ => IpvsAttr::Other(DefaultNla::parse(nla)?),
        })
    }
}

/// One IPVS message: the payload after the generic-netlink header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: IpvsCmd,
    pub attrs: Vec<IpvsAttr>,
}

impl IpvsMessage {
    pub fn new(cmd: IpvsCmd, attrs: Vec<IpvsAttr>) -> IpvsMessage {
        IpvsMessage { cmd, attrs }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<IpvsMessage, DecodeError> {
        let cmd = IpvsCmd::from(header.cmd);
        let attrs = parse_nested(buf, |nla| IpvsAttr::parse(nla, cmd)).context("IPVS message attributes")?;
        Ok(IpvsMessage { cmd, attrs })
    }
}

#[cfg(test)]
mod tests;
