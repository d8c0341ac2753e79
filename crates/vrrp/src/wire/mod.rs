//! VRRP wire formats: zero-copy packet views and plain representations, parse and emit.
//!
//! Every format follows one shape (smoltcp's `wire`): a `Packet<T: AsRef<[u8]>>` view over a
//! buffer with a private `field` module of byte ranges, `new_unchecked` and `new_checked`,
//! getters (and setters when `T: AsMut<[u8]>`); and a `Repr` struct with `parse`, `emit` and
//! `buffer_len`. Validation that belongs to the packet (version, type, sizes, checksums) happens
//! in `new_checked` and `Repr::parse`; validation that needs configuration (TTL/hop limit 255,
//! VRID, password, address list) belongs to the state machine, which gets what it needs from
//! the `Repr`.
//!
//! * [`vrrp`]: the advertisement, version 2 (RFC 3768) and 3 (RFC 5798).
//! * [`ipv4`]: the IPv4 header a raw `IPPROTO_VRRP` socket delivers on receive.
//! * [`ipv6`]: the IPv6 header, for whole neighbour advertisement frames (a raw IPv6 socket
//!   never delivers it: see that module).
//! * [`ethernet`]: MAC addresses (including the VRRP virtual MAC) and the Ethernet II header.
//! * [`arp`]: gratuitous ARP, as a whole Ethernet frame.
//! * [`ndisc`]: unsolicited IPv6 neighbour advertisements, ICMPv6 message and whole frame.
//! * [`checksum`]: the internet checksum (RFC 1071) and pseudo-header sums.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod ipv4;
pub mod ipv6;
pub mod ndisc;
pub mod vrrp;

pub use self::ethernet::MacAddr;
pub use self::vrrp::{AdvertInterval, Auth, ChecksumKind, Packet as VrrpPacket, Repr as VrrpRepr};

/// Why bytes could not be read as, or a representation could not be written to, a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the packet needs.
    #[error("truncated: need {need} bytes, got {got}")]
    Truncated {
        /// Bytes the packet needs.
        need: usize,
        /// Bytes the buffer has.
        got: usize,
    },
    /// A VRRP message is longer than its Count IP Addrs field accounts for.
    #[error("VRRP message of {got} bytes, but {count} addresses make {need}")]
    AddressCountMismatch {
        /// The Count IP Addrs field.
        count: u8,
        /// Bytes the message would have with that many addresses.
        need: usize,
        /// Bytes received.
        got: usize,
    },
    /// The VRRP version is neither 2 nor 3.
    #[error("VRRP version {0}, expected 2 or 3")]
    BadVersion(u8),
    /// The VRRP type is not 1, the only type (advertisement) RFC 3768 and RFC 5798 define.
    #[error("VRRP type {0}, expected 1 (advertisement)")]
    BadType(u8),
    /// The checksum does not match the packet.
    #[error("bad checksum: computed {expected:#06x}, packet has {got:#06x}")]
    BadChecksum {
        /// The checksum computed over the packet (with the pseudo-header where the standard has one).
        expected: u16,
        /// The checksum field.
        got: u16,
    },
    /// A VRRPv2 Auth Type other than 0 (none), 1 (simple password) or 2 (IPsec AH).
    #[error("VRRPv2 auth type {0}, expected 0, 1 or 2")]
    BadAuthType(u8),
    /// An advertisement interval of zero, or one the version cannot carry.
    #[error("advertisement interval of {centis} cs is not valid for VRRP {version}")]
    BadAdvertInt {
        /// The VRRP version.
        version: Version,
        /// The interval, in centiseconds.
        centis: u16,
    },
    /// Addresses of different families where one family is needed.
    #[error("address family mismatch: expected {expected}, got {got}")]
    FamilyMismatch {
        /// The family the packet is carried over.
        expected: Family,
        /// The family found.
        got: Family,
    },
    /// VRRPv2 over IPv6, which RFC 3768 does not define (keepalived forces version 3 for IPv6).
    #[error("VRRP version 2 cannot be carried over IPv6")]
    V2OverIpv6,
    /// More addresses than the 8-bit Count IP Addrs field can carry.
    #[error("{0} addresses, at most 255 fit in an advertisement")]
    TooManyAddresses(usize),
    /// Authentication on a VRRPv3 advertisement, which has no authentication fields (RFC 5798 9).
    #[error("VRRP version 3 has no authentication")]
    AuthInV3,
    /// IPsec AH (VRRPv2 auth type 2), which Vigil reads but does not send.
    #[error("IPsec AH authentication is not supported for sending")]
    AhNotSupported,
    /// `v3_checksum_as_v2` set on an advertisement other than VRRPv3 over IPv4.
    #[error("v3_checksum_as_v2 applies only to VRRP version 3 over IPv4")]
    ChecksumAsV2NotApplicable,
    /// An IP header whose version field is not the expected one.
    #[error("IP version {got}, expected {expected}")]
    BadIpVersion {
        /// The version expected.
        expected: u8,
        /// The version field.
        got: u8,
    },
    /// An IPv4 header length (IHL, in bytes) below 20 bytes or past the buffer.
    #[error("IPv4 header length {0} bytes is invalid")]
    BadHeaderLen(usize),
    /// An IPv4 total length shorter than the header.
    #[error("IPv4 total length {total} is shorter than the header ({header} bytes)")]
    BadTotalLen {
        /// The total length field.
        total: usize,
        /// The header length.
        header: usize,
    },
    /// A payload longer than the IP length field can carry.
    #[error("payload of {got} bytes, at most {max} fit")]
    TooLong {
        /// The most the length field allows.
        max: usize,
        /// The payload length asked for.
        got: usize,
    },
    /// An IPv4 fragment; VRRP and the raw socket deal in whole datagrams.
    #[error("IPv4 fragment (offset {offset}, more fragments: {more})")]
    Fragmented {
        /// The fragment offset, in bytes.
        offset: u16,
        /// The more-fragments flag.
        more: bool,
    },
    /// An upper-layer protocol (IPv4 protocol or IPv6 next header) other than the expected one.
    #[error("IP protocol {got}, expected {expected}")]
    BadIpProtocol {
        /// The protocol expected.
        expected: u8,
        /// The protocol field.
        got: u8,
    },
    /// An IPv6 hop limit other than 255 on a neighbour discovery message (RFC 4861 7.1.2).
    #[error("hop limit {0}, neighbour discovery needs 255")]
    BadHopLimit(u8),
    /// A frame addressed elsewhere than expected.
    #[error("unexpected destination {0}")]
    UnexpectedDestination(IpAddr),
    /// An Ethernet frame of another EtherType.
    #[error("EtherType {got:#06x}, expected {expected:#06x}")]
    BadEtherType {
        /// The EtherType expected.
        expected: u16,
        /// The EtherType field.
        got: u16,
    },
    /// ARP for something other than Ethernet (hardware type 1, length 6) and IPv4 (0x0800, length 4).
    #[error("ARP hardware {htype}/{hlen}, protocol {ptype:#06x}/{plen}: expected Ethernet/IPv4")]
    BadArpFormat {
        /// Hardware type.
        htype: u16,
        /// Protocol type.
        ptype: u16,
        /// Hardware address length.
        hlen: u8,
        /// Protocol address length.
        plen: u8,
    },
    /// An ARP operation other than request (1) or reply (2).
    #[error("ARP operation {0}, expected 1 (request) or 2 (reply)")]
    BadArpOperation(u16),
    /// An ICMPv6 message other than a neighbour advertisement (type 136, code 0).
    #[error("ICMPv6 type {icmp_type} code {code}, expected 136 code 0 (neighbour advertisement)")]
    BadIcmpType {
        /// ICMPv6 type.
        icmp_type: u8,
        /// ICMPv6 code.
        code: u8,
    },
    /// A neighbour discovery option of length zero, past the message, or the wrong size for its type.
    #[error("bad neighbour discovery option type {kind} length {len} (units of 8 bytes)")]
    BadNdOption {
        /// Option type.
        kind: u8,
        /// Option length, in units of 8 bytes.
        len: u8,
    },
    /// A neighbour advertisement whose target is a multicast address (RFC 4861 7.1.2).
    #[error("neighbour advertisement target {0} is multicast")]
    MulticastTarget(std::net::Ipv6Addr),
    /// A multicast neighbour advertisement with the Solicited flag set (RFC 4861 7.1.2).
    #[error("solicited neighbour advertisement sent to multicast")]
    SolicitedToMulticast,
}

/// VRRP protocol version, the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Version {
    /// VRRP version 2 (RFC 3768, keepalived's `vrrp_version 2`), IPv4 only.
    V2,
    /// VRRP version 3 (RFC 5798), IPv4 and IPv6.
    V3,
}

impl Version {
    /// The number carried in the version field.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

impl TryFrom<u8> for Version {
    type Error = Error;

    fn try_from(number: u8) -> Result<Self, Error> {
        match number {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            other => Err(Error::BadVersion(other)),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", self.number())
    }
}

/// IP address family. An advertisement's addresses are of the family of the IP header that
/// carries it (RFC 5798 5.2.9), so a view of the message needs to be told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4, 4-byte addresses.
    Ipv4,
    /// IPv6, 16-byte addresses.
    Ipv6,
}

impl Family {
    /// The family of `addr`.
    pub const fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// The size of one address, in bytes.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// Reads a big-endian `u16` at `at`; callers have checked the length.
fn read_u16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

/// Writes a big-endian `u16` at `at`; callers have checked the length.
fn write_u16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// Reads four bytes at `at` as an IPv4 address; callers have checked the length.
fn read_ipv4(data: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(data[at], data[at + 1], data[at + 2], data[at + 3])
}

/// Reads sixteen bytes at `at` as an IPv6 address; callers have checked the length.
fn read_ipv6(data: &[u8], at: usize) -> std::net::Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&data[at..at + 16]);
    std::net::Ipv6Addr::from(octets)
}

/// Fails with [`Error::Truncated`] unless `got >= need`.
fn ensure_len(need: usize, got: usize) -> Result<(), Error> {
    if got < need {
        return Err(Error::Truncated { need, got });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_round_trip() {
        for version in [Version::V2, Version::V3] {
            assert_eq!(Version::try_from(version.number()), Ok(version));
        }
        for bad in [0, 1, 4, 15] {
            assert_eq!(Version::try_from(bad), Err(Error::BadVersion(bad)));
        }
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert_eq!(Error::Truncated { need: 20, got: 3 }.to_string(), "truncated: need 20 bytes, got 3");
        assert_eq!(
            Error::BadChecksum { expected: 0x1139, got: 0x1138 }.to_string(),
            "bad checksum: computed 0x1139, packet has 0x1138"
        );
        assert_eq!(
            Error::BadAdvertInt { version: Version::V2, centis: 150 }.to_string(),
            "advertisement interval of 150 cs is not valid for VRRP version 2"
        );
    }
}
