//! IPv6 neighbour advertisements (RFC 4861 4.4), for the unsolicited ones a new master sends
//! for each virtual IPv6 address (RFC 5798 6.4.2), the IPv6 counterpart of gratuitous ARP.
//!
//! [`Packet`] and [`Repr`] are the ICMPv6 message; [`FrameRepr`] is the whole Ethernet + IPv6
//! frame that AF_PACKET sends: to the all-nodes group ff02::1 with hop limit 255 (RFC 4861
//! 7.2.6, 7.1.2).

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::ethernet::{self, mac_at, Frame, MacAddr, ETHERTYPE_IPV6};
use super::{checksum, ensure_len, ipv6, read_ipv6, read_u16, write_u16, Error};

/// IPv6 next header of ICMPv6.
pub const ICMPV6_NEXT_HEADER: u8 = 58;

/// ICMPv6 type of a neighbour advertisement (RFC 4861 4.4).
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;

/// The all-nodes multicast group, where unsolicited advertisements go (RFC 4861 7.2.6).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The hop limit neighbour discovery is sent with and requires (RFC 4861 7.1.2).
pub const HOP_LIMIT: u8 = 255;

/// Length of a neighbour advertisement without options.
pub const HEADER_LEN: usize = field::OPTIONS;

// RFC 4861 4.4: the flags byte.
const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

// RFC 4861 4.6.1: Target Link-Layer Address, one 8-byte unit for a MAC address (RFC 2464 6).
const OPTION_TARGET_LLADDR: u8 = 2;
const OPTION_UNIT: usize = 8;
const LLADDR_OPTION_LEN: usize = OPTION_UNIT;

mod field {
    use std::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const FLAGS: usize = 4;
    pub const RESERVED: Range<usize> = 5..8;
    pub const TARGET: Range<usize> = 8..24;
    pub const OPTIONS: usize = 24;
}

/// A read/write view of an ICMPv6 neighbour advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer`, the whole ICMPv6 message, checking it holds the fixed part (RFC 4861
    /// 7.1.2: 24 or more octets).
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer);
        ensure_len(HEADER_LEN, packet.buffer.as_ref().len())?;
        Ok(packet)
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// ICMPv6 code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The Router flag.
    pub fn router_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_ROUTER != 0
    }

    /// The Solicited flag.
    pub fn solicited_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_SOLICITED != 0
    }

    /// The Override flag.
    pub fn override_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_OVERRIDE != 0
    }

    /// The target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        read_ipv6(self.buffer.as_ref(), field::TARGET.start)
    }

    /// The options, unparsed.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..]
    }

    /// The Target Link-Layer Address option's MAC, if present; fails on a malformed option
    /// (RFC 4861 4.6: zero length must be discarded; unknown options are skipped).
    pub fn target_lladdr(&self) -> Result<Option<MacAddr>, Error> {
        let mut rest = self.options();
        let mut found = None;
        while let [kind, rest_after_kind @ ..] = rest {
            let len = rest_after_kind.first().copied().unwrap_or(0);
            let bytes = usize::from(len) * OPTION_UNIT;
            if len == 0 || bytes > rest.len() {
                return Err(Error::BadNdOption { kind: *kind, len });
            }
            if *kind == OPTION_TARGET_LLADDR {
                if bytes != LLADDR_OPTION_LEN {
                    return Err(Error::BadNdOption { kind: *kind, len });
                }
                found = found.or(Some(mac_at(rest, 2)));
            }
            rest = &rest[bytes..];
        }
        Ok(found)
    }

    /// Whether the checksum is right for a message from `src` to `dst` (RFC 4443 2.3: over the
    /// message and the IPv6 pseudo-header).
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let message = self.buffer.as_ref();
        checksum::combine(&[pseudo_header(src, dst, message.len()), checksum::sum(message)]) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the ICMPv6 type.
    pub fn set_msg_type(&mut self, msg_type: u8) {
        self.buffer.as_mut()[field::TYPE] = msg_type;
    }

    /// Sets the ICMPv6 code.
    pub fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the flags and clears the reserved bits.
    pub fn set_flags(&mut self, router: bool, solicited: bool, override_flag: bool) {
        let mut flags = 0;
        for (set, bit) in [(router, FLAG_ROUTER), (solicited, FLAG_SOLICITED), (override_flag, FLAG_OVERRIDE)] {
            if set {
                flags |= bit;
            }
        }
        let data = self.buffer.as_mut();
        data[field::FLAGS] = flags;
        data[field::RESERVED].fill(0);
    }

    /// Sets the target address.
    pub fn set_target_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&addr.octets());
    }

    /// The options, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::OPTIONS..]
    }

    /// Computes the checksum over the whole buffer for a message from `src` to `dst` and
    /// writes it.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        let value = compute(self.buffer.as_ref(), src, dst);
        self.set_checksum(value);
    }
}

/// A neighbour advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// The address advertised.
    pub target: Ipv6Addr,
    /// The Target Link-Layer Address option, if any.
    pub target_mac: Option<MacAddr>,
    /// Router flag: the sender is a router.
    pub router_flag: bool,
    /// Solicited flag: this answers a solicitation.
    pub solicited_flag: bool,
    /// Override flag: replace cached link-layer addresses.
    pub override_flag: bool,
}

impl Repr {
    /// The unsolicited advertisement keepalived 2.2.7 sends for `target` at `mac`: Override
    /// set, Solicited clear, Router clear. RFC 5798 6.4.2 asks for the Router flag too; set
    /// `router_flag` for that form.
    pub const fn unsolicited(target: Ipv6Addr, mac: MacAddr) -> Repr {
        Repr { target, target_mac: Some(mac), router_flag: false, solicited_flag: false, override_flag: true }
    }

    /// Reads a checked message that came from `src` to `dst`, with RFC 4861 7.1.2's checks
    /// that need no state: type 136 code 0, the checksum, a unicast target, Solicited clear if
    /// sent to multicast, well-formed options. The hop limit is the IP layer's ([`FrameRepr`]).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, src: Ipv6Addr, dst: Ipv6Addr) -> Result<Repr, Error> {
        ensure_len(HEADER_LEN, packet.buffer.as_ref().len())?;
        if packet.msg_type() != TYPE_NEIGHBOR_ADVERT || packet.code() != 0 {
            return Err(Error::BadIcmpType { icmp_type: packet.msg_type(), code: packet.code() });
        }
        if !packet.verify_checksum(src, dst) {
            let expected = compute(packet.buffer.as_ref(), src, dst);
            return Err(Error::BadChecksum { expected, got: packet.checksum() });
        }
        let repr = Repr {
            target: packet.target_addr(),
            target_mac: packet.target_lladdr()?,
            router_flag: packet.router_flag(),
            solicited_flag: packet.solicited_flag(),
            override_flag: packet.override_flag(),
        };
        repr.check(dst)?;
        Ok(repr)
    }

    /// Bytes the message needs.
    pub const fn buffer_len(&self) -> usize {
        match self.target_mac {
            Some(_) => HEADER_LEN + LLADDR_OPTION_LEN,
            None => HEADER_LEN,
        }
    }

    /// Writes the message, checksum included, into the first [`Repr::buffer_len`] bytes of
    /// `packet`, to be sent from `src` to `dst`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<(), Error> {
        self.check(dst)?;
        ensure_len(self.buffer_len(), packet.buffer.as_ref().len())?;
        packet.set_msg_type(TYPE_NEIGHBOR_ADVERT);
        packet.set_code(0);
        packet.set_flags(self.router_flag, self.solicited_flag, self.override_flag);
        packet.set_target_addr(self.target);
        if let Some(mac) = self.target_mac {
            let options = packet.options_mut();
            options[0] = OPTION_TARGET_LLADDR;
            options[1] = 1;
            options[2..8].copy_from_slice(&mac.octets());
        }
        let value = compute(&packet.buffer.as_ref()[..self.buffer_len()], src, dst);
        packet.set_checksum(value);
        Ok(())
    }

    /// RFC 4861 7.1.2's rules on the target and the Solicited flag.
    fn check(&self, dst: Ipv6Addr) -> Result<(), Error> {
        if self.target.is_multicast() {
            return Err(Error::MulticastTarget(self.target));
        }
        if self.solicited_flag && dst.is_multicast() {
            return Err(Error::SolicitedToMulticast);
        }
        Ok(())
    }
}

/// A neighbour advertisement in an Ethernet + IPv6 frame to all-nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameRepr {
    /// Ethernet source: the interface's MAC, or the virtual router MAC with `use_vmac`.
    pub src_mac: MacAddr,
    /// IPv6 source; keepalived uses the advertised address itself.
    pub src_ip: Ipv6Addr,
    /// The advertisement.
    pub na: Repr,
}

impl FrameRepr {
    /// The unsolicited advertisement frame keepalived 2.2.7 sends for `target` from `mac`:
    /// IPv6 source `target`, Target Link-Layer Address `mac`, flags as [`Repr::unsolicited`].
    pub const fn unsolicited(target: Ipv6Addr, mac: MacAddr) -> FrameRepr {
        FrameRepr { src_mac: mac, src_ip: target, na: Repr::unsolicited(target, mac) }
    }

    /// Reads a frame: EtherType IPv6, next header ICMPv6, hop limit 255, destination ff02::1,
    /// then the advertisement. Padding after the IPv6 payload is ignored.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<FrameRepr, Error> {
        frame.check_len()?;
        if frame.ethertype() != ETHERTYPE_IPV6 {
            return Err(Error::BadEtherType { expected: ETHERTYPE_IPV6, got: frame.ethertype() });
        }
        let ip = ipv6::Packet::new_checked(frame.payload())?;
        let header = ipv6::Repr::parse(&ip)?;
        if header.next_header != ICMPV6_NEXT_HEADER {
            return Err(Error::BadIpProtocol { expected: ICMPV6_NEXT_HEADER, got: header.next_header });
        }
        if header.hop_limit != HOP_LIMIT {
            return Err(Error::BadHopLimit(header.hop_limit));
        }
        if header.dst_addr != ALL_NODES {
            return Err(Error::UnexpectedDestination(header.dst_addr.into()));
        }
        let na = Repr::parse(&Packet::new_checked(ip.payload())?, header.src_addr, header.dst_addr)?;
        Ok(FrameRepr { src_mac: frame.src_addr(), src_ip: header.src_addr, na })
    }

    /// Bytes the frame needs.
    pub const fn buffer_len(&self) -> usize {
        ethernet::HEADER_LEN + ipv6::HEADER_LEN + self.na.buffer_len()
    }

    /// Writes the frame into the first [`FrameRepr::buffer_len`] bytes of `frame`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) -> Result<(), Error> {
        frame.check_len()?;
        ensure_len(self.buffer_len(), ethernet::HEADER_LEN + frame.payload().len())?;
        self.na.check(ALL_NODES)?;
        frame.set_dst_addr(MacAddr::ipv6_multicast(ALL_NODES));
        frame.set_src_addr(self.src_mac);
        frame.set_ethertype(ETHERTYPE_IPV6);
        let header = ipv6::Repr {
            src_addr: self.src_ip,
            dst_addr: ALL_NODES,
            next_header: ICMPV6_NEXT_HEADER,
            payload_len: self.na.buffer_len(),
            hop_limit: HOP_LIMIT,
        };
        let mut ip = ipv6::Packet::new_unchecked(frame.payload_mut());
        header.emit(&mut ip)?;
        self.na.emit(&mut Packet::new_unchecked(ip.payload_mut()), self.src_ip, ALL_NODES)
    }
}

/// The checksum of `message`, its checksum field taken as zero, from `src` to `dst`.
fn compute(message: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
    !checksum::combine(&[
        pseudo_header(src, dst, message.len()),
        checksum::sum(&message[..field::CHECKSUM]),
        checksum::sum(&message[field::CHECKSUM + 2..]),
    ])
}

fn pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> u16 {
    // An ICMPv6 message is an IPv6 payload, at most 65535 bytes, so its length fits.
    let len = u32::try_from(len).expect("an IPv6 payload fits 32 bits");
    checksum::pseudo_header_v6(src, dst, ICMPV6_NEXT_HEADER, len)
}

#[cfg(test)]
mod tests {
    //! The unsolicited advertisement below is frame 12 of v3.pcap, captured from keepalived
    //! 2.2.7 with the script in CAPTURE.md: on becoming master, VI_V3_6 (interface eth0, MAC
    //! 5e:c7:fc:05:dd:6d, `virtual_ipaddress { 2001:db8::100/64 }`) announced 2001:db8::100.

    use super::*;

    const CAPTURED_FRAME: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00,
        0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x88, 0x00, 0xc0, 0xf2, 0x20, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x01, 0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d,
    ];

    /// Where the ICMPv6 message starts in the frame.
    const ICMP_AT: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN;

    const MAC: MacAddr = MacAddr([0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d]);

    fn vip() -> Ipv6Addr {
        "2001:db8::100".parse().expect("literal")
    }

    fn captured_message() -> [u8; 32] {
        let mut message = [0u8; 32];
        message.copy_from_slice(&CAPTURED_FRAME[ICMP_AT..]);
        message
    }

    fn parse(message: &[u8]) -> Result<Repr, Error> {
        Repr::parse(&Packet::new_checked(message)?, vip(), ALL_NODES)
    }

    fn parse_frame(bytes: &[u8]) -> Result<FrameRepr, Error> {
        FrameRepr::parse(&Frame::new_checked(bytes)?)
    }

    /// Rewrites a message's checksum after a test has changed it.
    fn refill(message: &mut [u8]) {
        Packet::new_unchecked(message).fill_checksum(vip(), ALL_NODES);
    }

    #[test]
    fn parse_captured_message() {
        assert_eq!(parse(&captured_message()), Ok(Repr::unsolicited(vip(), MAC)));
    }

    #[test]
    fn emit_captured_message() {
        let repr = Repr::unsolicited(vip(), MAC);
        let mut buf = vec![0xaa; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), vip(), ALL_NODES).expect("fits");
        assert_eq!(buf, captured_message());
    }

    #[test]
    fn parse_captured_frame() {
        assert_eq!(parse_frame(&CAPTURED_FRAME), Ok(FrameRepr::unsolicited(vip(), MAC)));
    }

    #[test]
    fn emit_captured_frame() {
        let repr = FrameRepr::unsolicited(vip(), MAC);
        let mut buf = vec![0xaa; repr.buffer_len()];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..])).expect("fits");
        assert_eq!(buf, CAPTURED_FRAME);
    }

    #[test]
    fn round_trip_variants() {
        let link_local: Ipv6Addr = "fe80::1".parse().expect("literal");
        for target_mac in [None, Some(MacAddr::vrrp_ipv6(52))] {
            for router_flag in [false, true] {
                let na = Repr { target: vip(), target_mac, router_flag, solicited_flag: false, override_flag: true };
                let repr = FrameRepr { src_mac: MacAddr::vrrp_ipv6(52), src_ip: link_local, na };
                let mut buf = vec![0u8; repr.buffer_len()];
                repr.emit(&mut Frame::new_unchecked(&mut buf[..])).expect("fits");
                assert_eq!(parse_frame(&buf), Ok(repr));
            }
        }
    }

    #[test]
    fn padded_frame_parses() {
        let mut padded = CAPTURED_FRAME.to_vec();
        padded.extend_from_slice(&[0; 4]);
        assert_eq!(parse_frame(&padded), Ok(FrameRepr::unsolicited(vip(), MAC)));
    }

    #[test]
    fn truncated_at_every_length() {
        let message = captured_message();
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&message[..n]), Err(Error::Truncated { need: HEADER_LEN, got: n }));
        }
        // Past the fixed part a shorter message is a different one, so its checksum fails.
        for n in HEADER_LEN..message.len() {
            assert!(parse(&message[..n]).is_err(), "accepted {n} bytes");
        }
        for n in 0..CAPTURED_FRAME.len() {
            assert!(parse_frame(&CAPTURED_FRAME[..n]).is_err(), "accepted {n} bytes");
        }
    }

    #[test]
    fn bad_checksum() {
        let mut message = captured_message();
        message[3] ^= 0x01;
        assert_eq!(parse(&message), Err(Error::BadChecksum { expected: 0xc0f2, got: 0xc0f3 }));
    }

    #[test]
    fn not_a_neighbour_advertisement() {
        for (icmp_type, code) in [(135u8, 0u8), (136, 1), (134, 0)] {
            let mut message = captured_message();
            message[0] = icmp_type;
            message[1] = code;
            refill(&mut message);
            assert_eq!(parse(&message), Err(Error::BadIcmpType { icmp_type, code }));
        }
    }

    #[test]
    fn bad_options() {
        // Zero length (RFC 4861 4.6), a target option longer than a MAC, and one past the end.
        for (kind, len, extra) in [(2u8, 0u8, 0usize), (2, 2, 8), (1, 2, 0), (9, 0, 0)] {
            let mut message = captured_message().to_vec();
            message[24] = kind;
            message[25] = len;
            message.resize(message.len() + extra, 0);
            refill(&mut message);
            assert_eq!(parse(&message), Err(Error::BadNdOption { kind, len }));
        }
        // A lone trailing byte cannot hold an option's length.
        let mut message = captured_message().to_vec();
        message.push(7);
        refill(&mut message);
        assert_eq!(parse(&message), Err(Error::BadNdOption { kind: 7, len: 0 }));
    }

    #[test]
    fn unknown_options_are_skipped_and_the_first_target_option_wins() {
        let mut message = captured_message().to_vec();
        message.extend_from_slice(&[0xfe, 1, 0, 0, 0, 0, 0, 0]);
        message.extend_from_slice(&[2, 1, 1, 2, 3, 4, 5, 6]);
        refill(&mut message);
        assert_eq!(parse(&message), Ok(Repr::unsolicited(vip(), MAC)));

        let mut message = message[..24].to_vec();
        refill(&mut message);
        assert_eq!(parse(&message), Ok(Repr { target_mac: None, ..Repr::unsolicited(vip(), MAC) }));
    }

    #[test]
    fn rfc4861_validity() {
        let mut message = captured_message();
        message[8..24].copy_from_slice(&ALL_NODES.octets());
        refill(&mut message);
        assert_eq!(parse(&message), Err(Error::MulticastTarget(ALL_NODES)));

        let mut message = captured_message();
        message[4] |= FLAG_SOLICITED;
        refill(&mut message);
        assert_eq!(parse(&message), Err(Error::SolicitedToMulticast));

        let solicited = Repr { solicited_flag: true, ..Repr::unsolicited(vip(), MAC) };
        let mut buf = [0u8; 32];
        assert_eq!(
            solicited.emit(&mut Packet::new_unchecked(&mut buf[..]), vip(), ALL_NODES),
            Err(Error::SolicitedToMulticast)
        );
        let frame = FrameRepr { na: solicited, ..FrameRepr::unsolicited(vip(), MAC) };
        let mut buf = [0u8; 86];
        assert_eq!(frame.emit(&mut Frame::new_unchecked(&mut buf[..])), Err(Error::SolicitedToMulticast));
    }

    #[test]
    fn frame_checks() {
        let mut bytes = CAPTURED_FRAME;
        bytes[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        assert_eq!(parse_frame(&bytes), Err(Error::BadEtherType { expected: 0x86dd, got: 0x0800 }));

        let mut bytes = CAPTURED_FRAME;
        bytes[20] = 17;
        assert_eq!(parse_frame(&bytes), Err(Error::BadIpProtocol { expected: 58, got: 17 }));

        let mut bytes = CAPTURED_FRAME;
        bytes[21] = 64;
        assert_eq!(parse_frame(&bytes), Err(Error::BadHopLimit(64)));

        let mut bytes = CAPTURED_FRAME;
        bytes[53] = 2;
        assert_eq!(
            parse_frame(&bytes),
            Err(Error::UnexpectedDestination("ff02::2".parse::<Ipv6Addr>().expect("literal").into()))
        );

        let mut bytes = CAPTURED_FRAME;
        bytes[14] = 0x40;
        assert_eq!(parse_frame(&bytes), Err(Error::BadIpVersion { expected: 6, got: 4 }));
    }

    #[test]
    fn packet_getters() {
        let message = captured_message();
        let packet = Packet::new_checked(&message[..]).expect("valid");
        assert_eq!((packet.msg_type(), packet.code(), packet.checksum()), (136, 0, 0xc0f2));
        assert_eq!((packet.router_flag(), packet.solicited_flag(), packet.override_flag()), (false, false, true));
        assert_eq!(packet.target_addr(), vip());
        assert_eq!(packet.options(), &[2, 1, 0x5e, 0xc7, 0xfc, 0x05, 0xdd, 0x6d]);
        assert_eq!(packet.target_lladdr(), Ok(Some(MAC)));
        assert!(packet.verify_checksum(vip(), ALL_NODES));
        assert!(!packet.verify_checksum("fe80::1".parse().expect("literal"), ALL_NODES));
        assert_eq!(packet.into_inner().len(), 32);
    }

    #[test]
    fn emit_buffer_lengths() {
        let repr = Repr::unsolicited(vip(), MAC);
        let mut buf = [0u8; 31];
        assert_eq!(
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), vip(), ALL_NODES),
            Err(Error::Truncated { need: 32, got: 31 })
        );
        let mut buf = [0u8; 40];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), vip(), ALL_NODES).expect("fits");
        assert_eq!(&buf[..32], &captured_message());

        let frame = FrameRepr::unsolicited(vip(), MAC);
        let mut buf = [0u8; 85];
        assert_eq!(frame.emit(&mut Frame::new_unchecked(&mut buf[..])), Err(Error::Truncated { need: 86, got: 85 }));
    }
}
