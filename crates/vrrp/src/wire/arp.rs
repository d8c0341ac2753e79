//! ARP for Ethernet and IPv4 (RFC 826), for the gratuitous ARP a new master sends for each
//! virtual IPv4 address (RFC 3768 6.4.1, 6.4.2; RFC 5798 6.4.1, 6.4.2), as a whole Ethernet
//! frame.
//!
//! A gratuitous ARP is a request whose sender and target protocol addresses are both the
//! announced address (an ARP Announcement, RFC 5227 2.3), broadcast, from the interface's MAC
//! or, with keepalived's `use_vmac`, the virtual router MAC ([`MacAddr::vrrp_ipv4`]).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::ethernet::{self, mac_at, Frame, MacAddr, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use super::{ensure_len, read_ipv4, read_u16, write_u16, Error};

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;

/// Length of a gratuitous ARP frame, before padding to the 60-byte Ethernet minimum.
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + PACKET_LEN;

// RFC 826 and the IANA registries: hardware type Ethernet, protocol IPv4.
const HTYPE_ETHERNET: u16 = 1;
const HLEN_ETHERNET: u8 = 6;
const PLEN_IPV4: u8 = 4;

mod field {
    use std::ops::Range;

    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// Request (1): what keepalived sends as a gratuitous ARP.
    Request,
    /// Reply (2).
    Reply,
}

impl Operation {
    const fn number(self) -> u16 {
        match self {
            Operation::Request => 1,
            Operation::Reply => 2,
        }
    }
}

/// A read/write view of an ARP packet (the Ethernet payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than [`PACKET_LEN`].
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer`, checking it holds an Ethernet/IPv4 ARP packet; bytes after it (Ethernet
    /// padding) are ignored.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer);
        ensure_len(PACKET_LEN, packet.buffer.as_ref().len())?;
        Ok(packet)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::HTYPE)
    }

    /// Protocol type.
    pub fn protocol_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PTYPE)
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation code.
    pub fn operation(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::OPER)
    }

    /// Sender hardware address.
    pub fn sender_mac(&self) -> MacAddr {
        mac_at(self.buffer.as_ref(), field::SHA.start)
    }

    /// Sender protocol address.
    pub fn sender_ip(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::SPA.start)
    }

    /// Target hardware address.
    pub fn target_mac(&self) -> MacAddr {
        mac_at(self.buffer.as_ref(), field::THA.start)
    }

    /// Target protocol address.
    pub fn target_ip(&self) -> Ipv4Addr {
        read_ipv4(self.buffer.as_ref(), field::TPA.start)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets hardware type, protocol type and address lengths for Ethernet and IPv4.
    pub fn set_ethernet_ipv4_format(&mut self) {
        let data = self.buffer.as_mut();
        write_u16(data, field::HTYPE, HTYPE_ETHERNET);
        write_u16(data, field::PTYPE, ETHERTYPE_IPV4);
        data[field::HLEN] = HLEN_ETHERNET;
        data[field::PLEN] = PLEN_IPV4;
    }

    /// Sets the operation code.
    pub fn set_operation(&mut self, operation: u16) {
        write_u16(self.buffer.as_mut(), field::OPER, operation);
    }

    /// Sets the sender hardware address.
    pub fn set_sender_mac(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&mac.octets());
    }

    /// Sets the sender protocol address.
    pub fn set_sender_ip(&mut self, ip: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&ip.octets());
    }

    /// Sets the target hardware address.
    pub fn set_target_mac(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&mac.octets());
    }

    /// Sets the target protocol address.
    pub fn set_target_ip(&mut self, ip: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&ip.octets());
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// Request or reply.
    pub operation: Operation,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl Repr {
    /// Reads a checked packet, which must be Ethernet/IPv4 ARP with a known operation.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        ensure_len(PACKET_LEN, packet.buffer.as_ref().len())?;
        let (htype, ptype, hlen, plen) =
            (packet.hardware_type(), packet.protocol_type(), packet.hardware_len(), packet.protocol_len());
        if (htype, ptype, hlen, plen) != (HTYPE_ETHERNET, ETHERTYPE_IPV4, HLEN_ETHERNET, PLEN_IPV4) {
            return Err(Error::BadArpFormat { htype, ptype, hlen, plen });
        }
        let operation = match packet.operation() {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => return Err(Error::BadArpOperation(other)),
        };
        Ok(Repr {
            operation,
            sender_mac: packet.sender_mac(),
            sender_ip: packet.sender_ip(),
            target_mac: packet.target_mac(),
            target_ip: packet.target_ip(),
        })
    }

    /// Bytes the packet needs.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<(), Error> {
        ensure_len(PACKET_LEN, packet.buffer.as_ref().len())?;
        packet.set_ethernet_ipv4_format();
        packet.set_operation(self.operation.number());
        packet.set_sender_mac(self.sender_mac);
        packet.set_sender_ip(self.sender_ip);
        packet.set_target_mac(self.target_mac);
        packet.set_target_ip(self.target_ip);
        Ok(())
    }

    /// Whether this announces the sender's own address: sender and target protocol addresses
    /// are the same (RFC 5227 2.3).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }
}

/// An ARP packet in an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameRepr {
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// The ARP packet.
    pub arp: Repr,
}

impl FrameRepr {
    /// The gratuitous ARP keepalived 2.2.7 sends for `ip` from `mac`: a broadcast request with
    /// sender and target address `ip`, sender hardware address `mac`, and target hardware
    /// address broadcast. RFC 5227 2.3 would have the target hardware address zero; receivers
    /// ignore it in a request, and this matches keepalived byte for byte. Set
    /// `arp.target_mac` to [`MacAddr::ZERO`] for the RFC 5227 form.
    pub const fn gratuitous(mac: MacAddr, ip: Ipv4Addr) -> FrameRepr {
        FrameRepr {
            dst_mac: MacAddr::BROADCAST,
            src_mac: mac,
            arp: Repr {
                operation: Operation::Request,
                sender_mac: mac,
                sender_ip: ip,
                target_mac: MacAddr::BROADCAST,
                target_ip: ip,
            },
        }
    }

    /// Reads an Ethernet frame carrying ARP; padding after the packet is ignored.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<FrameRepr, Error> {
        frame.check_len()?;
        if frame.ethertype() != ETHERTYPE_ARP {
            return Err(Error::BadEtherType { expected: ETHERTYPE_ARP, got: frame.ethertype() });
        }
        let arp = Repr::parse(&Packet::new_checked(frame.payload())?)?;
        Ok(FrameRepr { dst_mac: frame.dst_addr(), src_mac: frame.src_addr(), arp })
    }

    /// Bytes the frame needs.
    pub const fn buffer_len(&self) -> usize {
        FRAME_LEN
    }

    /// Writes the frame into the first [`FRAME_LEN`] bytes of `frame`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) -> Result<(), Error> {
        frame.check_len()?;
        ensure_len(FRAME_LEN, ethernet::HEADER_LEN + frame.payload().len())?;
        frame.set_dst_addr(self.dst_mac);
        frame.set_src_addr(self.src_mac);
        frame.set_ethertype(ETHERTYPE_ARP);
        self.arp.emit(&mut Packet::new_unchecked(frame.payload_mut()))
    }
}

#[cfg(test)]
mod tests {
    //! The gratuitous ARP below is frame 3 of v2.pcap, captured from keepalived 2.2.7 with the
    //! script in CAPTURE.md: on becoming master, VI_V2 (interface eth0, MAC
    //! 5e:c7:fc:05:dd:6d, `virtual_ipaddress { 192.0.2.100/24; 192.0.2.101/24 }`) announced
    //! 192.0.2.100.

    use super::*;

    const CAPTURED_GARP: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
        0x06, 0x04, 0x00, 0x01, 0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d, 0xc0, 0x00, 0x02, 0x64, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xc0, 0x00, 0x02, 0x64,
    ];

    const MAC: MacAddr = MacAddr([0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d]);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

    fn parse(bytes: &[u8]) -> Result<FrameRepr, Error> {
        FrameRepr::parse(&Frame::new_checked(bytes)?)
    }

    #[test]
    fn parse_captured() {
        let repr = parse(&CAPTURED_GARP).expect("valid");
        assert_eq!(repr, FrameRepr::gratuitous(MAC, VIP));
        assert!(repr.arp.is_gratuitous());
    }

    #[test]
    fn emit_captured() {
        let repr = FrameRepr::gratuitous(MAC, VIP);
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..])).expect("fits");
        assert_eq!(buf, CAPTURED_GARP);
    }

    #[test]
    fn vmac_and_rfc5227_forms() {
        let mut repr = FrameRepr::gratuitous(MacAddr::vrrp_ipv4(51), VIP);
        repr.arp.target_mac = MacAddr::ZERO;
        let mut buf = [0u8; FRAME_LEN];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..])).expect("fits");
        assert_eq!(&buf[6..12], &[0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(&buf[22..28], &[0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(&buf[32..38], &[0; 6]);
        assert_eq!(parse(&buf), Ok(repr));
    }

    #[test]
    fn padded_frame_parses() {
        let mut padded = CAPTURED_GARP.to_vec();
        padded.resize(60, 0);
        assert_eq!(parse(&padded), Ok(FrameRepr::gratuitous(MAC, VIP)));
    }

    #[test]
    fn truncated_at_every_length() {
        for n in 0..CAPTURED_GARP.len() {
            assert!(parse(&CAPTURED_GARP[..n]).is_err(), "accepted {n} bytes");
        }
        assert_eq!(parse(&CAPTURED_GARP[..41]), Err(Error::Truncated { need: 28, got: 27 }));
    }

    #[test]
    fn not_arp() {
        let mut bytes = CAPTURED_GARP;
        bytes[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        assert_eq!(parse(&bytes), Err(Error::BadEtherType { expected: 0x0806, got: 0x0800 }));
    }

    #[test]
    fn not_ethernet_ipv4() {
        let mut bytes = CAPTURED_GARP;
        bytes[14..16].copy_from_slice(&6u16.to_be_bytes());
        assert_eq!(parse(&bytes), Err(Error::BadArpFormat { htype: 6, ptype: 0x0800, hlen: 6, plen: 4 }));
        let mut bytes = CAPTURED_GARP;
        bytes[16..18].copy_from_slice(&0x86ddu16.to_be_bytes());
        bytes[19] = 16;
        assert_eq!(parse(&bytes), Err(Error::BadArpFormat { htype: 1, ptype: 0x86dd, hlen: 6, plen: 16 }));
    }

    #[test]
    fn operations() {
        let mut bytes = CAPTURED_GARP;
        bytes[21] = 2;
        let reply = parse(&bytes).expect("valid");
        assert_eq!(reply.arp.operation, Operation::Reply);
        for op in [0u16, 3, 0xffff] {
            bytes[20..22].copy_from_slice(&op.to_be_bytes());
            assert_eq!(parse(&bytes), Err(Error::BadArpOperation(op)));
        }
    }

    #[test]
    fn packet_getters() {
        let packet = Packet::new_checked(&CAPTURED_GARP[14..]).expect("valid");
        assert_eq!((packet.hardware_type(), packet.protocol_type()), (1, 0x0800));
        assert_eq!((packet.hardware_len(), packet.protocol_len(), packet.operation()), (6, 4, 1));
        assert_eq!((packet.sender_mac(), packet.target_mac()), (MAC, MacAddr::BROADCAST));
        assert_eq!((packet.sender_ip(), packet.target_ip()), (VIP, VIP));
        assert_eq!(packet.into_inner().len(), PACKET_LEN);
    }

    #[test]
    fn emit_into_short_buffer_fails() {
        let repr = FrameRepr::gratuitous(MAC, VIP);
        let mut buf = [0u8; FRAME_LEN - 1];
        assert_eq!(
            repr.emit(&mut Frame::new_unchecked(&mut buf[..])),
            Err(Error::Truncated { need: FRAME_LEN, got: FRAME_LEN - 1 })
        );
    }
}
