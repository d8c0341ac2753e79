//! The fixed IPv6 header (RFC 8200 3), for whole neighbour advertisement frames.
//!
//! VRRP over IPv6 never sees this header through its socket: a raw `AF_INET6` socket for
//! protocol 112 delivers only the VRRP message. The state machine's inputs come from elsewhere
//! (RFC 3542): the source from the socket address `recvmsg` fills in, the destination from
//! `IPV6_PKTINFO` (enable `IPV6_RECVPKTINFO`) and the hop limit, which RFC 5798 7.1 requires to
//! be 255, from `IPV6_HOPLIMIT` (enable `IPV6_RECVHOPLIMIT`). On send the kernel builds the
//! header; the hop limit is set with `IPV6_MULTICAST_HOPS`.
//!
//! Unsolicited neighbour advertisements go out through AF_PACKET as whole frames, which is
//! what this header is for; extension headers are neither written nor understood.

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::{ensure_len, read_ipv6, read_u16, write_u16, Error};

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

mod field {
    use std::ops::Range;

    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: usize = 4;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than the header says.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer`, checking that the header and the payload length fit in it.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the header and payload length against the buffer. The buffer may be longer
    /// (Ethernet padding); the payload ends where the payload length says.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        ensure_len(HEADER_LEN, len)?;
        ensure_len(HEADER_LEN + usize::from(self.payload_len()), len)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW.start] >> 4
    }

    /// The traffic class.
    pub fn traffic_class(&self) -> u8 {
        let data = self.buffer.as_ref();
        (data[0] << 4) | (data[1] >> 4)
    }

    /// The flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        let data = self.buffer.as_ref();
        u32::from_be_bytes([0, data[1] & 0x0f, data[2], data[3]])
    }

    /// The payload length.
    pub fn payload_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The next header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        read_ipv6(self.buffer.as_ref(), field::SRC_ADDR.start)
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        read_ipv6(self.buffer.as_ref(), field::DST_ADDR.start)
    }

    /// The payload, up to the payload length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 6, traffic class zero and flow label zero.
    pub fn set_version_zero_class_and_flow(&mut self) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&[0x60, 0, 0, 0]);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, len: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH, len);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, next_header: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = next_header;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fixed IPv6 header; emit writes traffic class and flow label zero, as neighbour
/// discovery frames carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header (58 for ICMPv6, 112 for VRRP).
    pub next_header: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Repr {
    /// Reads the fixed header of a packet; the version must be 6.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(Error::BadIpVersion { expected: 6, got: packet.version() });
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
        })
    }

    /// Bytes needed for the header and the payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header; the payload is left for the caller ([`Packet::payload_mut`]).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<(), Error> {
        ensure_len(self.buffer_len(), packet.buffer.as_ref().len())?;
        let payload_len = u16::try_from(self.payload_len)
            .map_err(|_| Error::TooLong { max: usize::from(u16::MAX), got: self.payload_len })?;
        packet.set_version_zero_class_and_flow();
        packet.set_payload_len(payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv6 header of the unsolicited neighbour advertisement in `ndisc::tests`, captured
    /// from keepalived 2.2.7 with CAPTURE.md's script (frame 12 of v3.pcap).
    const NA_HEADER: [u8; 40] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01,
    ];

    /// The IPv6 header of the VRRPv3 advert in `vrrp::tests::V3_IPV6_ADVERT` (frame 11 of
    /// v3.pcap): the kernel wrote traffic class 0xc0 and an automatic flow label.
    const VRRP_HEADER: [u8; 40] = [
        0x6c, 0x03, 0xc7, 0x33, 0x00, 0x18, 0x70, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0xc7,
        0xfc, 0xff, 0xfe, 0x05, 0xdd, 0x6d, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x12,
    ];

    fn with_payload(header: &[u8], len: usize) -> Vec<u8> {
        let mut packet = header.to_vec();
        packet.resize(HEADER_LEN + len, 0);
        packet
    }

    fn na_repr() -> Repr {
        Repr {
            src_addr: "2001:db8::100".parse().expect("literal"),
            dst_addr: "ff02::1".parse().expect("literal"),
            next_header: 58,
            payload_len: 32,
            hop_limit: 255,
        }
    }

    #[test]
    fn parse_captured_na_header() {
        let bytes = with_payload(&NA_HEADER, 32);
        assert_eq!(Repr::parse(&Packet::new_checked(&bytes[..]).expect("valid")), Ok(na_repr()));
    }

    #[test]
    fn emit_captured_na_header() {
        let repr = na_repr();
        let mut buf = vec![0xaa; repr.buffer_len()];
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut packet).expect("fits");
        packet.payload_mut().fill(0);
        assert_eq!(buf, with_payload(&NA_HEADER, 32));
    }

    #[test]
    fn parse_captured_vrrp_header() {
        let bytes = with_payload(&VRRP_HEADER, 24);
        let packet = Packet::new_checked(&bytes[..]).expect("valid");
        assert_eq!(packet.traffic_class(), 0xc0);
        assert_eq!(packet.flow_label(), 0x3c733);
        assert_eq!(
            Repr::parse(&packet),
            Ok(Repr {
                src_addr: "fe80::5cc7:fcff:fe05:dd6d".parse().expect("literal"),
                dst_addr: "ff02::12".parse().expect("literal"),
                next_header: 112,
                payload_len: 24,
                hop_limit: 255,
            })
        );
        assert_eq!(packet.payload().len(), 24);
    }

    #[test]
    fn truncated_at_every_length() {
        let bytes = with_payload(&NA_HEADER, 32);
        for n in 0..bytes.len() {
            assert!(Packet::new_checked(&bytes[..n]).is_err(), "accepted {n} bytes");
        }
    }

    #[test]
    fn bad_version() {
        let mut bytes = with_payload(&NA_HEADER, 32);
        bytes[0] = 0x40;
        let packet = Packet::new_checked(&bytes[..]).expect("lengths fine");
        assert_eq!(Repr::parse(&packet), Err(Error::BadIpVersion { expected: 6, got: 4 }));
    }

    #[test]
    fn emit_of_oversized_payload_fails() {
        let repr = Repr { payload_len: 65536, ..na_repr() };
        let mut buf = vec![0u8; repr.buffer_len()];
        assert_eq!(repr.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::TooLong { max: 65535, got: 65536 }));
    }

    #[test]
    fn emit_into_short_buffer_fails() {
        let mut buf = [0u8; 71];
        assert_eq!(
            na_repr().emit(&mut Packet::new_unchecked(&mut buf[..])),
            Err(Error::Truncated { need: 72, got: 71 })
        );
    }
}
