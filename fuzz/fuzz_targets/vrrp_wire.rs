//! Fuzz target: the VRRP wire layer (`vigil_vrrp::wire`) must never panic, whatever the bytes:
//! VRRP adverts over IPv4 and IPv6, the IPv4 header a raw socket delivers, gratuitous ARP and
//! neighbour advertisement frames. What parses must also emit, and parse back to the same
//! representation.
//!
//! Random bytes rarely carry a right checksum, so each input is also tried with its checksum
//! fixed first, which lets the fuzzer reach the checks behind it.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vigil_vrrp::wire::ethernet::Frame;
use vigil_vrrp::wire::vrrp::{ChecksumKind, MULTICAST_IPV4, MULTICAST_IPV6};
use vigil_vrrp::wire::{arp, ipv4, ndisc, vrrp, Error, Family};

const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const DST4: IpAddr = IpAddr::V4(MULTICAST_IPV4);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x5cc7, 0xfcff, 0xfe05, 0xdd6d);
const SRC6: IpAddr = IpAddr::V6(LINK_LOCAL);
const DST6: IpAddr = IpAddr::V6(MULTICAST_IPV6);

/// Parses `bytes` as an advert from `src` to `dst`; if it parses, emits it again and checks
/// the copy parses to the same representation.
fn vrrp_round_trip(bytes: &[u8], family: Family, src: IpAddr, dst: IpAddr) {
    let Ok(packet) = vrrp::Packet::new_checked(bytes, family) else { return };
    std::hint::black_box((packet.addresses().count(), packet.auth_data().len()));
    let Ok(repr) = vrrp::Repr::parse(&packet, src, dst) else { return };
    let mut copy = vec![0u8; repr.buffer_len()];
    match repr.emit(&mut vrrp::Packet::new_unchecked(&mut copy[..], family), src, dst) {
        Ok(()) => {
            let again = vrrp::Packet::new_checked(&copy[..], family).expect("emitted length is exact");
            assert_eq!(vrrp::Repr::parse(&again, src, dst), Ok(repr));
        }
        // Parse reports IPsec AH so the state machine can refuse it; emit never sends it.
        Err(Error::AhNotSupported) => assert_eq!(repr.auth, vrrp::Auth::Ah),
        Err(e) => panic!("parsed {repr:?} but emit failed: {e}"),
    }
}

fn vrrp_both_checksums(data: &[u8], family: Family, src: IpAddr, dst: IpAddr) {
    vrrp_round_trip(data, family, src, dst);
    for kind in [ChecksumKind::PseudoHeader, ChecksumKind::NoPseudoHeader] {
        let mut fixed = data.to_vec();
        let mut packet = vrrp::Packet::new_unchecked(&mut fixed[..], family);
        if packet.check_len().is_err() {
            return;
        }
        packet.fill_checksum(kind, src, dst).expect("endpoints are of the packet's family");
        vrrp_round_trip(&fixed, family, src, dst);
    }
}

fuzz_target!(|data: &[u8]| {
    vrrp_both_checksums(data, Family::Ipv4, SRC4, DST4);
    vrrp_both_checksums(data, Family::Ipv6, SRC6, DST6);

    // What a raw IPPROTO_VRRP IPv4 socket delivers: header, then the advert.
    let mut datagram = data.to_vec();
    let mut ip = ipv4::Packet::new_unchecked(&mut datagram[..]);
    if ip.check_len().is_ok() {
        ip.fill_checksum();
        let ip = ipv4::Packet::new_unchecked(&datagram[..]);
        if let Ok(header) = ipv4::Repr::parse(&ip) {
            let (src, dst) = (IpAddr::V4(header.src_addr), IpAddr::V4(header.dst_addr));
            vrrp_both_checksums(ip.payload(), Family::Ipv4, src, dst);
        }
    }

    // Whole frames, as AF_PACKET would read them.
    if let Ok(frame) = Frame::new_checked(data) {
        if let Ok(garp) = arp::FrameRepr::parse(&frame) {
            let mut copy = vec![0u8; garp.buffer_len()];
            garp.emit(&mut Frame::new_unchecked(&mut copy[..])).expect("sized by buffer_len");
            assert_eq!(arp::FrameRepr::parse(&Frame::new_unchecked(&copy[..])), Ok(garp));
        }
        if let Ok(na) = ndisc::FrameRepr::parse(&frame) {
            let mut copy = vec![0u8; na.buffer_len()];
            na.emit(&mut Frame::new_unchecked(&mut copy[..])).expect("sized by buffer_len");
            assert_eq!(ndisc::FrameRepr::parse(&Frame::new_unchecked(&copy[..])), Ok(na));
        }
    }

    // The ICMPv6 message alone, with its checksum as sent and fixed.
    let (src, dst) = (LINK_LOCAL, ndisc::ALL_NODES);
    let mut message = data.to_vec();
    if let Ok(packet) = ndisc::Packet::new_checked(&message[..]) {
        let _ = packet.target_lladdr();
        let _ = ndisc::Repr::parse(&packet, src, dst);
        ndisc::Packet::new_unchecked(&mut message[..]).fill_checksum(src, dst);
        if let Ok(na) = ndisc::Repr::parse(&ndisc::Packet::new_unchecked(&message[..]), src, dst) {
            let mut copy = vec![0u8; na.buffer_len()];
            na.emit(&mut ndisc::Packet::new_unchecked(&mut copy[..]), src, dst).expect("sized by buffer_len");
            assert_eq!(ndisc::Repr::parse(&ndisc::Packet::new_unchecked(&copy[..]), src, dst), Ok(na));
        }
    }
});
