//! The IPv4 header (RFC 791 3.1), as much of it as VRRP needs.
//!
//! On Linux a raw `AF_INET` socket for protocol 112 delivers each datagram with its IPv4 header
//! (raw(7)); VRRP needs the source and destination (the VRRPv3 pseudo-header, the peer's
//! identity), the TTL (RFC 3768 7.1 and RFC 5798 7.1: it MUST be 255, checked by the state
//! machine), the protocol and the lengths. On send, keepalived writes the header itself
//! (`IP_HDRINCL`), which [`Repr::emit`] supports.
//!
//! IPv6 differs: a raw `AF_INET6` socket strips the header, so the source comes from the socket
//! address, the destination from `IPV6_PKTINFO` and the hop limit from `IPV6_HOPLIMIT`
//! ancillary data (RFC 3542 6); see [`super::ipv6`].

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::{checksum, ensure_len, read_ipv4, read_u16, write_u16, Error};

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

mod field {
    use std::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than the header says.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer`, checking that the header and the total length fit in it.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the header length and total length against the buffer. The buffer may be longer
    /// than the total length (Ethernet pads short frames); the payload ends at the total length.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        ensure_len(HEADER_LEN, len)?;
        let header = self.header_len();
        if header < HEADER_LEN || header > len {
            return Err(Error::BadHeaderLen(header));
        }
        let total = usize::from(self.total_len());
        if total < header {
            return Err(Error::BadTotalLen { total, header });
        }
        ensure_len(total, len)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL times four).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The type of service byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// The total length: header and payload, in bytes.
    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The identification field.
    pub fn ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::IDENT)
    }

    /// The more-fragments flag.
    pub fn more_frags(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MORE_FRAGMENTS != 0
    }

    /// The fragment offset, in bytes.
    pub fn frag_offset(&self) -> u16 {
        (read_u16(self.buffer.as_ref(), field::FLG_OFF) & FRAGMENT_OFFSET_MASK) * 8
    }

    /// The time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The upper-layer protocol.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::SRC_ADDR.start)
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::DST_ADDR.start)
    }

    /// Whether the header checksum is right (RFC 791 3.1: the sum over the header is zero).
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(&self.buffer.as_ref()[..self.header_len()]) == 0xffff
    }

    /// The payload: from the end of the header (options skipped) to the total length.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the header length, in bytes (a multiple of four, at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) as u8 & 0x0f);
    }

    /// Sets the type of service byte.
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, len: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH, len);
    }

    /// Sets the identification field.
    pub fn set_ident(&mut self, ident: u16) {
        write_u16(self.buffer.as_mut(), field::IDENT, ident);
    }

    /// Sets the flags and fragment offset word (zero for an unfragmented datagram).
    pub fn set_flags_and_offset(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::FLG_OFF, value);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Sets the upper-layer protocol.
    pub fn set_protocol(&mut self, protocol: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol;
    }

    /// Sets the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Computes the header checksum and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let sum = checksum::sum(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(!sum);
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// An IPv4 header, as VRRP reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Upper-layer protocol (112 for VRRP).
    pub protocol: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Time to live (255 for VRRP, RFC 5798 5.1.1.3).
    pub ttl: u8,
    /// Type of service byte; keepalived sends 0xc0 (precedence "internetwork control").
    pub tos: u8,
    /// Identification; with `IP_HDRINCL` the kernel fills in a zero one.
    pub ident: u16,
}

impl Repr {
    /// Reads the header of a checked packet: the version must be 4, the checksum right and the
    /// datagram whole. Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::BadIpVersion { expected: 4, got: packet.version() });
        }
        if !packet.verify_checksum() {
            let header = &packet.buffer.as_ref()[..packet.header_len()];
            let without_field = checksum::combine(&[
                checksum::sum(&header[..field::CHECKSUM]),
                checksum::sum(&header[field::CHECKSUM + 2..]),
            ]);
            return Err(Error::BadChecksum { expected: !without_field, got: packet.checksum() });
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Fragmented { offset: packet.frag_offset(), more: packet.more_frags() });
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.payload().len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
        })
    }

    /// Bytes needed for the header (no options) and the payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header, without options and unfragmented, with its checksum. The payload is
    /// left for the caller to write through [`Packet::payload_mut`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<(), Error> {
        ensure_len(self.buffer_len(), packet.buffer.as_ref().len())?;
        let total = u16::try_from(self.buffer_len())
            .map_err(|_| Error::TooLong { max: usize::from(u16::MAX) - HEADER_LEN, got: self.payload_len })?;
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN);
        packet.set_tos(self.tos);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        packet.set_flags_and_offset(0);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of the VRRPv2 advert in `vrrp::tests::V2_PASS_ADVERT`, captured from
    /// keepalived 2.2.7 with CAPTURE.md's script (frame 2 of v2.pcap, Ethernet header removed).
    const CAPTURED_HEADER: [u8; 20] = [
        0x45, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x8d, 0xc0, 0x00, 0x02, 0x01, 0xe0, 0x00,
        0x00, 0x12,
    ];

    fn captured_datagram() -> Vec<u8> {
        let mut datagram = CAPTURED_HEADER.to_vec();
        datagram.extend_from_slice(&[0u8; 24]);
        datagram
    }

    fn captured_repr() -> Repr {
        Repr {
            src_addr: Ipv4Addr::new(192, 0, 2, 1),
            dst_addr: Ipv4Addr::new(224, 0, 0, 18),
            protocol: 112,
            payload_len: 24,
            ttl: 255,
            tos: 0xc0,
            ident: 1,
        }
    }

    #[test]
    fn parse_captured_header() {
        let datagram = captured_datagram();
        let packet = Packet::new_checked(&datagram[..]).expect("valid");
        assert_eq!(Repr::parse(&packet), Ok(captured_repr()));
        assert_eq!(packet.payload().len(), 24);
    }

    #[test]
    fn emit_captured_header() {
        let repr = captured_repr();
        let mut buf = vec![0xaa; repr.buffer_len()];
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut packet).expect("fits");
        packet.payload_mut().fill(0);
        assert_eq!(buf, captured_datagram());
    }

    #[test]
    fn truncated_at_every_length() {
        let datagram = captured_datagram();
        for n in 0..datagram.len() {
            assert!(Packet::new_checked(&datagram[..n]).is_err(), "accepted {n} bytes");
        }
    }

    #[test]
    fn trailing_padding_is_not_payload() {
        let mut datagram = captured_datagram();
        datagram.extend_from_slice(&[0; 6]);
        let packet = Packet::new_checked(&datagram[..]).expect("valid");
        assert_eq!(Repr::parse(&packet), Ok(captured_repr()));
    }

    #[test]
    fn options_are_skipped() {
        let repr = captured_repr();
        let mut datagram = vec![0u8; 24 + repr.payload_len];
        let mut packet = Packet::new_unchecked(&mut datagram[..]);
        repr.emit(&mut packet).expect("fits");
        packet.set_header_len(24);
        packet.set_total_len(48);
        packet.fill_checksum();
        let packet = Packet::new_checked(&datagram[..]).expect("valid");
        assert_eq!(Repr::parse(&packet), Ok(captured_repr()));
        assert_eq!(packet.payload().len(), 24);
    }

    #[test]
    fn bad_version() {
        let mut datagram = captured_datagram();
        let mut packet = Packet::new_unchecked(&mut datagram[..]);
        packet.set_version(6);
        packet.fill_checksum();
        let packet = Packet::new_checked(&datagram[..]).expect("lengths fine");
        assert_eq!(Repr::parse(&packet), Err(Error::BadIpVersion { expected: 4, got: 6 }));
    }

    #[test]
    fn bad_checksum() {
        let mut datagram = captured_datagram();
        datagram[11] ^= 0x01;
        let packet = Packet::new_checked(&datagram[..]).expect("lengths fine");
        assert_eq!(Repr::parse(&packet), Err(Error::BadChecksum { expected: 0x188d, got: 0x188c }));
    }

    #[test]
    fn bad_lengths() {
        let mut datagram = captured_datagram();
        datagram[0] = 0x44;
        assert_eq!(Packet::new_checked(&datagram[..]), Err(Error::BadHeaderLen(16)));
        datagram[0] = 0x4f;
        assert_eq!(Packet::new_checked(&datagram[..]), Err(Error::BadHeaderLen(60)));
        datagram[0] = 0x45;
        datagram[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&datagram[..]), Err(Error::BadTotalLen { total: 19, header: 20 }));
        datagram[2..4].copy_from_slice(&45u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&datagram[..]), Err(Error::Truncated { need: 45, got: 44 }));
    }

    #[test]
    fn fragments_are_rejected() {
        for (word, offset, more) in [(0x2000u16, 0u16, true), (0x0003, 24, false)] {
            let mut datagram = captured_datagram();
            let mut packet = Packet::new_unchecked(&mut datagram[..]);
            packet.set_flags_and_offset(word);
            packet.fill_checksum();
            let packet = Packet::new_checked(&datagram[..]).expect("lengths fine");
            assert_eq!(Repr::parse(&packet), Err(Error::Fragmented { offset, more }));
        }
    }

    #[test]
    fn emit_of_oversized_payload_fails() {
        let repr = Repr { payload_len: 65516, ..captured_repr() };
        let mut buf = vec![0u8; repr.buffer_len()];
        assert_eq!(repr.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::TooLong { max: 65515, got: 65516 }));
    }

    #[test]
    fn emit_into_short_buffer_fails() {
        let repr = captured_repr();
        let mut buf = vec![0u8; repr.buffer_len() - 1];
        assert_eq!(repr.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::Truncated { need: 44, got: 43 }));
    }
}
