//! Ethernet II: MAC addresses, including the VRRP virtual router MAC, and the 14-byte header
//! that gratuitous ARP and neighbour advertisement frames start with (AF_PACKET sends whole
//! frames).

use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::{ensure_len, read_u16, write_u16, Error};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Length of the Ethernet II header: destination, source, EtherType.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address, ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The all-zero address, which ARP uses for an unknown hardware address.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The IPv4 virtual router MAC address 00-00-5E-00-01-{VRID} (RFC 3768 7.3, RFC 5798 7.3),
    /// which keepalived's `use_vmac` puts on a macvlan interface.
    pub const fn vrrp_ipv4(vrid: u8) -> MacAddr {
        MacAddr([0x00, 0x00, 0x5e, 0x00, 0x01, vrid])
    }

    /// The IPv6 virtual router MAC address 00-00-5E-00-02-{VRID} (RFC 5798 7.3).
    pub const fn vrrp_ipv6(vrid: u8) -> MacAddr {
        MacAddr([0x00, 0x00, 0x5e, 0x00, 0x02, vrid])
    }

    /// The MAC address an IPv6 multicast group maps to: 33-33 and the group's last four bytes
    /// (RFC 2464 7).
    pub const fn ipv6_multicast(group: Ipv6Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The six bytes.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

mod field {
    use std::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
    pub const PAYLOAD: usize = 14;
}

/// A read/write view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps `buffer`, checking it holds the header.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, Error> {
        let frame = Frame::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks the buffer holds the header.
    pub fn check_len(&self) -> Result<(), Error> {
        ensure_len(HEADER_LEN, self.buffer.as_ref().len())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination address.
    pub fn dst_addr(&self) -> MacAddr {
        mac_at(self.buffer.as_ref(), field::DESTINATION.start)
    }

    /// The source address.
    pub fn src_addr(&self) -> MacAddr {
        mac_at(self.buffer.as_ref(), field::SOURCE.start)
    }

    /// The EtherType.
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ETHERTYPE)
    }

    /// Everything after the header, including any padding up to the 60-byte minimum frame.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, ethertype: u16) {
        write_u16(self.buffer.as_mut(), field::ETHERTYPE, ethertype);
    }

    /// Everything after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// Reads six bytes at `at` as a MAC address; callers have checked the length.
pub(super) fn mac_at(data: &[u8], at: usize) -> MacAddr {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&data[at..at + 6]);
    MacAddr(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_router_macs() {
        assert_eq!(MacAddr::vrrp_ipv4(51).to_string(), "00:00:5e:00:01:33");
        assert_eq!(MacAddr::vrrp_ipv6(255).to_string(), "00:00:5e:00:02:ff");
    }

    #[test]
    fn ipv6_multicast_mapping() {
        assert_eq!(
            MacAddr::ipv6_multicast(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)).to_string(),
            "33:33:00:00:00:01"
        );
        assert_eq!(
            MacAddr::ipv6_multicast("ff02::1:ff00:100".parse().expect("literal")).to_string(),
            "33:33:ff:00:01:00"
        );
    }

    #[test]
    fn frame_fields_read_and_write() {
        let mut buf = [0u8; 20];
        let mut frame = Frame::new_checked(&mut buf[..]).expect("long enough");
        frame.set_dst_addr(MacAddr::BROADCAST);
        frame.set_src_addr(MacAddr::vrrp_ipv4(1));
        frame.set_ethertype(ETHERTYPE_ARP);
        frame.payload_mut().copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        let frame = Frame::new_checked(&buf[..]).expect("long enough");
        assert_eq!(frame.dst_addr(), MacAddr::BROADCAST);
        assert_eq!(frame.src_addr(), MacAddr([0, 0, 0x5e, 0, 1, 1]));
        assert_eq!(frame.ethertype(), ETHERTYPE_ARP);
        assert_eq!(frame.payload(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(frame.into_inner().len(), 20);
    }

    #[test]
    fn short_frames_are_rejected() {
        let buf = [0u8; HEADER_LEN];
        for n in 0..HEADER_LEN {
            assert_eq!(Frame::new_checked(&buf[..n]), Err(Error::Truncated { need: HEADER_LEN, got: n }));
        }
        assert!(Frame::new_checked(&buf[..]).is_ok());
    }
}
