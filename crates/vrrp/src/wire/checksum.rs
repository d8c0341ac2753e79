//! The internet checksum (RFC 1071) and the pseudo-header sums that VRRPv3 (RFC 5798 5.2.8)
//! and ICMPv6 (RFC 4443 2.3) fold into it.
//!
//! Sums are kept folded and uncomplemented, so parts can be added with [`combine`]; the value
//! written to a checksum field is `!combine(&[...])`, and a packet checks out when the sum over
//! everything, checksum field included, is `0xffff`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The ones' complement sum of `data` as big-endian 16-bit words, folded to 16 bits and not
/// complemented. An odd trailing byte counts as the high byte of a word padded with zero
/// (the padding rule of RFC 768), so only the last part of a message may have an odd length.
pub fn sum(data: &[u8]) -> u16 {
    let mut words = data.chunks_exact(2);
    // A u64 cannot overflow here: even 2^32 words of 0xffff stay below 2^48.
    let mut total: u64 = words.by_ref().map(|w| u64::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    if let [last] = words.remainder() {
        total += u64::from(*last) << 8;
    }
    fold(total)
}

/// Adds folded sums with end-around carry (RFC 1071 2(A): the sum is associative).
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The sum of the IPv4 pseudo-header: source, destination, a zero byte, the protocol and the
/// upper-layer length (the layout of RFC 768, which RFC 5798 5.2.8 applies to VRRPv3 over IPv4).
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    let mut header = [0u8; 12];
    header[0..4].copy_from_slice(&src.octets());
    header[4..8].copy_from_slice(&dst.octets());
    header[9] = protocol;
    header[10..12].copy_from_slice(&length.to_be_bytes());
    sum(&header)
}

/// The sum of the IPv6 pseudo-header (RFC 8200 8.1): source, destination, a 32-bit
/// upper-layer length, three zero bytes and the next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> u16 {
    let mut header = [0u8; 40];
    header[0..16].copy_from_slice(&src.octets());
    header[16..32].copy_from_slice(&dst.octets());
    header[32..36].copy_from_slice(&length.to_be_bytes());
    header[39] = next_header;
    sum(&header)
}

fn fold(mut total: u64) -> u16 {
    while total > 0xffff {
        total = (total & 0xffff) + (total >> 16);
    }
    // The loop leaves at most 0xffff.
    total as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        assert_eq!(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
    }

    #[test]
    fn odd_length_pads_the_last_byte() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn carries_wrap_around() {
        assert_eq!(sum(&[0xff, 0xff, 0x00, 0x01]), 0x0001);
        assert_eq!(combine(&[0xffff, 0x0002]), 0x0002);
        assert_eq!(combine(&[0x8000, 0x8000]), 0x0001);
    }

    #[test]
    fn combine_of_parts_equals_sum_of_whole() {
        let data: Vec<u8> = (0u8..=200).collect();
        for split in (0..data.len()).step_by(2) {
            assert_eq!(combine(&[sum(&data[..split]), sum(&data[split..])]), sum(&data));
        }
    }

    #[test]
    fn pseudo_headers_check_captured_keepalived_adverts() {
        // The VRRPv3 adverts in vrrp.rs's tests, captured from keepalived 2.2.7 (see CAPTURE.md).
        let v4 = [0x31, 0x33, 0x96, 0x02, 0x00, 0x32, 0x11, 0x39, 192, 0, 2, 100, 192, 0, 2, 101];
        let ph = pseudo_header_v4(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(224, 0, 0, 18), 112, 16);
        assert_eq!(combine(&[ph, sum(&v4)]), 0xffff);

        let mut v6 = vec![0x31, 0x34, 0x96, 0x01, 0x00, 0x32, 0xd6, 0x85];
        v6.extend_from_slice(&"2001:db8::100".parse::<Ipv6Addr>().expect("literal").octets());
        let src: Ipv6Addr = "fe80::5cc7:fcff:fe05:dd6d".parse().expect("literal");
        let ph = pseudo_header_v6(src, "ff02::12".parse().expect("literal"), 112, 24);
        assert_eq!(combine(&[ph, sum(&v6)]), 0xffff);
    }
}
