//! Receive validation (RFC 3768 7.1, RFC 5798 7.1): from the bytes a raw socket delivered to an
//! [`Input::Advert`] for the state machine, or the reason the packet is dropped. Pure: the
//! caller counts the reasons and logs them.

use std::net::IpAddr;

use crate::fsm::{self, Input};
use crate::wire::{self, Auth, Family, VrrpPacket, VrrpRepr};

/// What an instance expects of the adverts it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// Our VRID.
    pub vrid: u8,
    /// Our version.
    pub version: fsm::Version,
    /// `auth_type PASS` with this password (VRRPv2 only), zero-padded to 8 bytes.
    pub password: Option<[u8; 8]>,
    /// Our VIPs, compared with the advert's list (RFC 3768 7.1: count and addresses).
    pub vips: Vec<IpAddr>,
    /// `skip_check_adv_addr`: do not compare the address list.
    pub skip_addr_check: bool,
}

/// Why a packet was dropped; each has its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not a well-formed VRRP advert (truncated, bad version or type, bad checksum...).
    Malformed(wire::Error),
    /// TTL or hop limit is not 255 (RFC 5798 7.1: it may have crossed a router).
    BadTtl(u8),
    /// Another VRID: for another instance, not an error.
    OtherVrid(u8),
    /// A VRRP version other than ours.
    OtherVersion,
    /// Authentication type or password differs from ours.
    AuthMismatch,
}

impl Drop {
    /// A short stable name, for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Drop::Malformed(_) => "malformed",
            Drop::BadTtl(_) => "bad_ttl",
            Drop::OtherVrid(_) => "other_vrid",
            Drop::OtherVersion => "version_mismatch",
            Drop::AuthMismatch => "auth_mismatch",
        }
    }
}

/// A valid advert, and how its checksum was computed (for VRRPv3 over IPv4, peers differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The input for the state machine.
    pub input: Input,
    /// The parsed advert.
    pub repr: VrrpRepr,
}

/// Checks a received VRRP message against what the instance expects.
pub fn check(payload: &[u8], src: IpAddr, dst: IpAddr, ttl: u8, expect: &Expect) -> Result<Accepted, Drop> {
    // RFC 3768 7.1 / RFC 5798 7.1: the TTL / hop limit must be 255.
    if ttl != 255 {
        return Err(Drop::BadTtl(ttl));
    }
    let packet = VrrpPacket::new_checked(payload, Family::of(&src)).map_err(Drop::Malformed)?;
    let repr = VrrpRepr::parse(&packet, src, dst).map_err(Drop::Malformed)?;
    if repr.vrid != expect.vrid {
        return Err(Drop::OtherVrid(repr.vrid));
    }
    let version_matches = matches!(
        (repr.version, expect.version),
        (wire::Version::V2, fsm::Version::V2) | (wire::Version::V3, fsm::Version::V3)
    );
    if !version_matches {
        return Err(Drop::OtherVersion);
    }
    // RFC 3768 7.1: the authentication type must match ours, and for simple text the password.
    match (repr.auth, expect.password) {
        (Auth::None, None) => {}
        (Auth::Pass(got), Some(want)) if got == want => {}
        _ => return Err(Drop::AuthMismatch),
    }
    let addresses_match = expect.skip_addr_check || same_set(&repr.addresses, &expect.vips);
    let adver_int = match repr.version {
        wire::Version::V2 => repr.advert_int.centis() / 100,
        wire::Version::V3 => repr.advert_int.centis(),
    };
    let input = Input::Advert { src, priority: repr.priority, adver_int, addresses_match };
    Ok(Accepted { input, repr })
}

fn same_set(a: &[IpAddr], b: &[IpAddr]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// keepalived's `auth_pass`: the first 8 bytes, zero-padded.
pub fn password(pass: &str) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(pass.bytes()) {
        *o = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AdvertInterval;

    fn advert(vrid: u8, auth: Auth, addrs: Vec<IpAddr>) -> (Vec<u8>, IpAddr, IpAddr) {
        let repr = VrrpRepr {
            version: wire::Version::V2,
            vrid,
            priority: 150,
            advert_int: AdvertInterval::from_secs(1),
            addresses: addrs,
            auth,
            v3_checksum_as_v2: false,
            old_unicast_checksum: false,
        };
        let (src, dst): (IpAddr, IpAddr) = ("192.0.2.1".parse().expect("ip"), "224.0.0.18".parse().expect("ip"));
        let mut buf = vec![0u8; repr.buffer_len()];
        let mut packet = VrrpPacket::new_unchecked(&mut buf[..], Family::Ipv4);
        repr.emit(&mut packet, src, dst).expect("emit");
        (buf, src, dst)
    }

    fn expect(password: Option<&str>) -> Expect {
        Expect {
            vrid: 51,
            version: fsm::Version::V2,
            password: password.map(super::password),
            vips: vec!["192.0.2.100".parse().expect("ip")],
            skip_addr_check: false,
        }
    }

    #[test]
    fn valid_advert_becomes_an_input() {
        let vip: IpAddr = "192.0.2.100".parse().expect("ip");
        let (bytes, src, dst) = advert(51, Auth::Pass(password("secret")), vec![vip]);
        let ok = check(&bytes, src, dst, 255, &expect(Some("secret"))).expect("valid");
        assert_eq!(ok.input, Input::Advert { src, priority: 150, adver_int: 1, addresses_match: true });
    }

    #[test]
    fn each_rejection_has_its_reason() {
        let vip: IpAddr = "192.0.2.100".parse().expect("ip");
        let (bytes, src, dst) = advert(51, Auth::Pass(password("secret")), vec![vip]);
        assert_eq!(check(&bytes, src, dst, 64, &expect(Some("secret"))), Err(Drop::BadTtl(64)));
        assert_eq!(check(&bytes, src, dst, 255, &expect(Some("other"))), Err(Drop::AuthMismatch));
        assert_eq!(check(&bytes, src, dst, 255, &expect(None)), Err(Drop::AuthMismatch));
        let (other, _, _) = advert(52, Auth::None, vec![vip]);
        assert_eq!(check(&other, src, dst, 255, &expect(None)), Err(Drop::OtherVrid(52)));
        assert!(matches!(check(&bytes[..10], src, dst, 255, &expect(None)), Err(Drop::Malformed(_))));
        let mut bad = bytes.clone();
        bad[6] ^= 0xff;
        assert!(matches!(check(&bad, src, dst, 255, &expect(Some("secret"))), Err(Drop::Malformed(_))));
    }

    #[test]
    fn address_list_mismatch_is_reported_not_dropped() {
        let (bytes, src, dst) = advert(51, Auth::None, vec!["192.0.2.101".parse().expect("ip")]);
        let ok = check(&bytes, src, dst, 255, &expect(None)).expect("passed on to the state machine");
        assert!(matches!(ok.input, Input::Advert { addresses_match: false, .. }));
    }
}
