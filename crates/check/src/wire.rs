//! The small wire formats the probes speak: DNS queries (RFC 1035), SMTP replies (RFC 5321)
//! and ICMP echo (RFC 792, RFC 4443). Pure and tested on bytes.

/// RFC 1035 4.1.1: the header is 12 bytes.
pub const DNS_HEADER_LEN: usize = 12;

/// A DNS query as DNS_CHECK sends it: recursion desired, one question of class IN.
/// `name` is split on dots; `.` (the default) is the root.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(DNS_HEADER_LEN + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    // RFC 1035 4.1.1: RD is bit 8 of the flags.
    q.extend_from_slice(&0x0100u16.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q.extend_from_slice(&[0; 6]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // RFC 1035 2.3.4: labels are 63 octets or less.
        let label = &label.as_bytes()[..label.len().min(63)];
        q.push(label.len() as u8);
        q.extend_from_slice(label);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

/// What a datagram says in answer to query `id`: `None` when it is not an answer to it (too
/// short, another id, not a response), else the RCODE.
pub fn dns_rcode(reply: &[u8], id: u16) -> Option<u8> {
    if reply.len() < DNS_HEADER_LEN || reply[..2] != id.to_be_bytes() {
        return None;
    }
    // RFC 1035 4.1.1: QR is the top bit of the flags, RCODE the low four bits.
    let (flags_hi, flags_lo) = (reply[2], reply[3]);
    (flags_hi & 0x80 != 0).then_some(flags_lo & 0x0f)
}

/// One line of an SMTP reply: its code and whether it is the last line (RFC 5321 4.2:
/// `250-` continues, `250 ` or `250` ends).
pub fn smtp_reply_line(line: &str) -> Option<(u16, bool)> {
    let code = line.get(..3)?.parse().ok()?;
    match line.as_bytes().get(3) {
        None | Some(b' ') | Some(b'\r') | Some(b'\n') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

/// RFC 1071 Internet checksum.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 =
        data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// ICMP (RFC 792) and ICMPv6 (RFC 4443 4.1) echo request types.
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REPLY_V6: u8 = 129;

/// An echo request. The ICMPv4 checksum is filled in; for ICMPv6 the kernel computes it
/// (it covers a pseudo-header only the kernel knows).
pub fn echo_request(v6: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + payload.len());
    p.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if !v6 {
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// Whether `packet` is the echo reply to (`id`, `seq`). Raw IPv4 sockets deliver the IP
/// header too (`with_ip_header`); ping sockets rewrite the id, so `id` is `None` for them.
pub fn is_echo_reply(packet: &[u8], v6: bool, with_ip_header: bool, id: Option<u16>, seq: u16) -> bool {
    let icmp = if with_ip_header {
        let Some(first) = packet.first() else { return false };
        // RFC 791: IHL counts 32-bit words.
        packet.get(usize::from(first & 0x0f) * 4..).unwrap_or_default()
    } else {
        packet
    };
    if icmp.len() < 8 || icmp[0] != if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 } || icmp[1] != 0 {
        return false;
    }
    id.is_none_or(|id| icmp[4..6] == id.to_be_bytes()) && icmp[6..8] == seq.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_queries() {
        // Header (id, RD, one question), the root name, type SOA, class IN.
        assert_eq!(dns_query(0x1234, ".", 6), [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
        let q = dns_query(1, "www.example.com.", 1);
        assert_eq!(&q[12..], b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    }

    #[test]
    fn dns_replies() {
        let mut reply = dns_query(7, ".", 6);
        assert_eq!(dns_rcode(&reply, 7), None, "a query is not an answer");
        reply[2] |= 0x80;
        assert_eq!(dns_rcode(&reply, 7), Some(0));
        assert_eq!(dns_rcode(&reply, 8), None, "another id");
        reply[3] |= 3;
        assert_eq!(dns_rcode(&reply, 7), Some(3), "NXDOMAIN");
        assert_eq!(dns_rcode(&reply[..11], 7), None, "too short");
    }

    #[test]
    fn smtp_lines() {
        assert_eq!(smtp_reply_line("220 mail ESMTP"), Some((220, true)));
        assert_eq!(smtp_reply_line("250-PIPELINING"), Some((250, false)));
        assert_eq!(smtp_reply_line("250"), Some((250, true)));
        assert_eq!(smtp_reply_line("2x0 no"), None);
        assert_eq!(smtp_reply_line("250x"), None);
    }

    #[test]
    fn echo() {
        // id 0x1c46, seq 1, payload "a": the words sum to 0x8547, so the checksum is 0x7ab8.
        let p = echo_request(false, 0x1c46, 1, b"a");
        assert_eq!(p, [8, 0, 0x7a, 0xb8, 0x1c, 0x46, 0, 1, 0x61]);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let mut reply = p.clone();
        reply[0] = 0;
        assert!(is_echo_reply(&reply, false, false, Some(0x1c46), 1));
        assert!(!is_echo_reply(&reply, false, false, Some(0x1c47), 1));
        assert!(!is_echo_reply(&reply, false, false, None, 2));
        let mut with_ip = vec![0x45; 20];
        with_ip.extend_from_slice(&reply);
        assert!(is_echo_reply(&with_ip, false, true, Some(0x1c46), 1));
        assert!(!is_echo_reply(&p, false, false, None, 1), "a request is not a reply");
        let v6 = echo_request(true, 1, 2, b"");
        assert_eq!(v6, [128, 0, 0, 0, 0, 1, 0, 2]);
        let mut v6_reply = v6.clone();
        v6_reply[0] = 129;
        assert!(is_echo_reply(&v6_reply, true, false, None, 2));
    }
}
