//! Attribute value helpers shared by the service, destination and daemon attributes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::DecodeError;

use crate::types::Family;

pub(crate) use netlink_packet_core::{parse_string, parse_u16, parse_u16_be, parse_u32, parse_u8};

/// `union nf_inet_addr` as an address attribute carries it: 16 bytes, an IPv4 address in the
/// first four. Which of the two it is comes from the family attribute beside it. libipvs and
/// the kernel both send all 16 bytes; the kernel also takes a shorter value (it zero-fills).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InetAddr(pub [u8; 16]);

impl InetAddr {
    pub const LEN: usize = 16;

    /// The address as `family` reads it.
    pub fn ip(&self, family: Family) -> IpAddr {
        match family {
            Family::Inet => IpAddr::V4(Ipv4Addr::new(self.0[0], self.0[1], self.0[2], self.0[3])),
            Family::Inet6 => IpAddr::V6(Ipv6Addr::from(self.0)),
        }
    }

    pub(crate) fn parse(v: &[u8]) -> Result<InetAddr, DecodeError> {
        if v.len() < 4 || v.len() > Self::LEN {
            return Err(DecodeError::from(format!("address of {} bytes (want 4 to 16)", v.len())));
        }
        let mut bytes = [0; Self::LEN];
        bytes[..v.len()].copy_from_slice(v);
        Ok(InetAddr(bytes))
    }
}

impl From<IpAddr> for InetAddr {
    fn from(ip: IpAddr) -> InetAddr {
        let mut bytes = [0; Self::LEN];
        match ip {
            IpAddr::V4(a) => bytes[..4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => bytes = a.octets(),
        }
        InetAddr(bytes)
    }
}

pub(crate) fn put_u8(buf: &mut [u8], v: u8) {
    buf[0] = v;
}

pub(crate) fn put_u16(buf: &mut [u8], v: u16) {
    buf[..2].copy_from_slice(&v.to_ne_bytes());
}

pub(crate) fn put_u16_be(buf: &mut [u8], v: u16) {
    buf[..2].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u32(buf: &mut [u8], v: u32) {
    buf[..4].copy_from_slice(&v.to_ne_bytes());
}

pub(crate) fn put_u64(buf: &mut [u8], v: u64) {
    buf[..8].copy_from_slice(&v.to_ne_bytes());
}

/// A NUL-terminated string attribute.
pub(crate) fn put_str(buf: &mut [u8], s: &str) {
    buf[..s.len()].copy_from_slice(s.as_bytes());
    buf[s.len()] = 0;
}

/// A NUL-terminated string of at most `max` bytes with the NUL, as the kernel's policy has it.
pub(crate) fn parse_name(v: &[u8], max: usize) -> Result<String, DecodeError> {
    let s = parse_string(v)?;
    if s.len() >= max {
        return Err(DecodeError::from(format!("name of {} bytes (at most {})", s.len(), max - 1)));
    }
    Ok(s)
}

/// A counter the kernel sends as u32 (`IPVS_*_ATTR_STATS`) or u64 (`*_STATS64`).
pub(crate) fn parse_counter(v: &[u8]) -> Result<u64, DecodeError> {
    match v.len() {
        4 => parse_u32(v).map(u64::from),
        8 => netlink_packet_core::parse_u64(v),
        n => Err(DecodeError::from(format!("counter of {n} bytes (want 4 or 8)"))),
    }
}
