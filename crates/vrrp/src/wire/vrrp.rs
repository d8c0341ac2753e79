//! The VRRP advertisement: version 2 (RFC 3768 5) and version 3 (RFC 5798 5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |  v2
//! |(rsvd) |     Max Adver Int     |          Checksum             |  v3
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           IPvX Address(es): Count IP Addrs of them            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Authentication Data: 8 bytes, v2 only                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The message does not say which address family it carries: the IP header does (RFC 5798
//! 5.2.9: IPv4 addresses over IPv4, IPv6 over IPv6), so a [`Packet`] is made for a
//! [`Family`], and parsing takes the IP source and destination, which the VRRPv3 checksum
//! covers.
//!
//! Checked here: version 2 or 3, type 1, the exact length for Count IP Addrs, the Auth Type
//! (v2), a non-zero interval and the checksum. Not checked here, because they need the
//! configuration: TTL/hop limit 255, VRID, password, interval match (v2), address list.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{checksum, ensure_len, read_ipv4, read_ipv6, read_u16, write_u16, Error, Family, Version};

/// IP protocol number of VRRP (RFC 3768 5.2.4, RFC 5798 5.1.1.4).
pub const IP_PROTOCOL: u8 = 112;

/// The TTL or hop limit a VRRP router sends with, and requires on receipt (RFC 5798 5.1.1.3,
/// 5.1.2.3, 7.1).
pub const TTL: u8 = 255;

/// The IPv4 multicast group adverts go to (RFC 5798 5.1.1.2).
pub const MULTICAST_IPV4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group adverts go to (RFC 5798 5.1.2.2).
pub const MULTICAST_IPV6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::ADDRESSES;

/// Length of the VRRPv2 Authentication Data (RFC 3768 5.3.10).
pub const AUTH_DATA_LEN: usize = 8;

// RFC 3768 5.3.2, RFC 5798 5.2.2: the only type defined.
const TYPE_ADVERTISEMENT: u8 = 1;

// RFC 5798 5.2.7: a 12-bit field; the 4 bits above it are reserved (5.2.6).
const MAX_ADVER_INT_MASK: u16 = 0x0fff;

mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT_IP_ADDRS: usize = 3;
    // Version 2: Auth Type and Adver Int (seconds), one byte each.
    pub const AUTH_TYPE: usize = 4;
    pub const ADVER_INT: usize = 5;
    // Version 3: 4 reserved bits and the Max Adver Int (centiseconds), sharing bytes 4 and 5.
    pub const MAX_ADVER_INT: usize = 4;
    pub const CHECKSUM: usize = 6;
    pub const ADDRESSES: usize = 8;
}

/// An advertisement interval, in centiseconds.
///
/// One unit for both versions keeps the state machine's timer arithmetic version-free.
/// VRRPv3 carries centiseconds in 12 bits (RFC 5798 5.2.7), so 1 to 4095 are valid; VRRPv2
/// carries whole seconds in a byte (RFC 3768 5.3.7), so its intervals are 100 to 25500 in steps
/// of 100. [`Repr::emit`] refuses an interval the version cannot carry; zero is never valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdvertInterval(u16);

impl AdvertInterval {
    /// An interval of `centis` hundredths of a second.
    pub const fn from_centis(centis: u16) -> AdvertInterval {
        AdvertInterval(centis)
    }

    /// An interval of whole seconds, as VRRPv2 carries it.
    pub const fn from_secs(secs: u8) -> AdvertInterval {
        // At most 255 * 100 = 25500, which fits.
        AdvertInterval(secs as u16 * 100)
    }

    /// The interval in centiseconds.
    pub const fn centis(self) -> u16 {
        self.0
    }

    /// The interval as a duration.
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0 as u64 * 10)
    }

    /// What `version` carries for this interval: VRRPv2 whole seconds from 1 to 255
    /// (RFC 3768 5.3.7), VRRPv3 centiseconds from 1 to 4095 (RFC 5798 5.2.7).
    fn on_wire(self, version: Version) -> Result<WireInterval, Error> {
        let bad = Error::BadAdvertInt { version, centis: self.0 };
        match version {
            Version::V2 if self.0 != 0 && self.0 % 100 == 0 => {
                u8::try_from(self.0 / 100).map(WireInterval::Secs).map_err(|_| bad)
            }
            Version::V3 if (1..=MAX_ADVER_INT_MASK).contains(&self.0) => Ok(WireInterval::Centis(self.0)),
            _ => Err(bad),
        }
    }
}

/// An interval as a version carries it.
enum WireInterval {
    /// VRRPv2's Adver Int.
    Secs(u8),
    /// VRRPv3's Max Adver Int.
    Centis(u16),
}

/// VRRPv2 authentication (RFC 2338 5.3.6, which keepalived still implements; RFC 3768 5.3.6
/// dropped it). VRRPv3 has none (RFC 5798 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Auth {
    /// No authentication: Auth Type 0, and always for VRRPv3.
    None,
    /// Simple text password, Auth Type 1: eight bytes, zero-padded, as keepalived's `auth_pass`
    /// puts them on the wire. The state machine compares it with the configured one.
    Pass([u8; AUTH_DATA_LEN]),
    /// IPsec AH, Auth Type 2. The AH header sits between IP and VRRP and is not parsed here;
    /// parse reports the type so the state machine can refuse it, and emit refuses it.
    Ah,
}

impl Auth {
    fn type_number(self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Pass(_) => 1,
            Auth::Ah => 2,
        }
    }
}

/// Which rule an advertisement's checksum follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// Over the message and the IP pseudo-header with protocol 112 (RFC 5798 5.2.8): VRRPv3,
    /// as keepalived sends it by default.
    PseudoHeader,
    /// Over the message alone: VRRPv2 (RFC 3768 5.3.8), and VRRPv3 over IPv4 from peers that
    /// leave the pseudo-header out (keepalived's `v3_checksum_as_v2`).
    NoPseudoHeader,
    /// A unicast VRRPv3 advert summed with the pseudo-header of the multicast group instead of
    /// its real destination, as keepalived did before 1.3.6 and does with `old_unicast_checksum`.
    OldUnicast,
}

/// The VRRP multicast group of `family` (RFC 5798 5.1.1.2, 5.1.2.2): the destination
/// [`ChecksumKind::OldUnicast`] sums.
fn vrrp_group(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)),
        Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
    }
}

/// A read/write view of a VRRP advertisement carried over IP of a given family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than the header says.
    pub const fn new_unchecked(buffer: T, family: Family) -> Packet<T> {
        Packet { buffer, family }
    }

    /// Wraps `buffer`, checking the version and the length (see [`Packet::check_len`]).
    pub fn new_checked(buffer: T, family: Family) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer, family);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds exactly one message: the header, Count IP Addrs addresses
    /// of the family and, for version 2, the authentication data. The layout depends on the
    /// version, so the version is checked here too.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        ensure_len(HEADER_LEN, len)?;
        let version = Version::try_from(self.version())?;
        if version == Version::V2 && self.family == Family::Ipv6 {
            return Err(Error::V2OverIpv6);
        }
        let need = self.message_len();
        ensure_len(need, len)?;
        // RFC 3768 7.1 and RFC 5798 7.1 ask for the complete message; extra bytes mean Count IP
        // Addrs is wrong, and would leave the checksummed length ambiguous (keepalived drops
        // such packets too, "vrrp packet too long").
        if len > need {
            return Err(Error::AddressCountMismatch { count: self.count_ip_addrs(), need, got: len });
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The address family the packet was made for.
    pub const fn family(&self) -> Family {
        self.family
    }

    /// The length the header implies: fixed header, addresses and (version 2) auth data.
    pub fn message_len(&self) -> usize {
        let auth = if self.version() == Version::V2.number() { AUTH_DATA_LEN } else { 0 };
        HEADER_LEN + usize::from(self.count_ip_addrs()) * self.family.addr_len() + auth
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The type field.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// The Virtual Router Identifier.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// The sender's priority for the virtual router.
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// The number of addresses in the message.
    pub fn count_ip_addrs(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT_IP_ADDRS]
    }

    /// Version 2: the Auth Type.
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// Version 2: the Adver Int, in seconds.
    pub fn advert_int(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// Version 3: the Max Adver Int, in centiseconds, without the reserved bits.
    pub fn max_advert_int(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::MAX_ADVER_INT) & MAX_ADVER_INT_MASK
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The addresses, as many as Count IP Addrs says and the buffer holds.
    pub fn addresses(&self) -> Addresses<'_> {
        let data = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.count_ip_addrs()) * self.family.addr_len()).min(data.len());
        Addresses { chunks: data[HEADER_LEN..end].chunks_exact(self.family.addr_len()), family: self.family }
    }

    /// Version 2: the Authentication Data; empty for version 3.
    pub fn auth_data(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        if self.version() != Version::V2.number() {
            return &[];
        }
        let start = HEADER_LEN + usize::from(self.count_ip_addrs()) * self.family.addr_len();
        &data[start..start + AUTH_DATA_LEN]
    }

    /// Checks the checksum of a checked packet sent from `src` to `dst`, and says which rule
    /// it follows. Version 2 sums the message alone (RFC 3768 5.3.8); version 3 adds the
    /// pseudo-header (RFC 5798 5.2.8), except that over IPv4 a sum of the message alone is
    /// accepted too, as some peers send (keepalived's `v3_checksum_as_v2`), and a unicast advert
    /// may carry the multicast group's pseudo-header (keepalived's `old_unicast_checksum`).
    /// Should two readings match, the standard one is reported.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> Result<ChecksumKind, Error> {
        check_endpoints(self.family, src, dst)?;
        let message = &self.buffer.as_ref()[..self.message_len()];
        let alone = checksum::sum(message);
        if self.version() == Version::V2.number() {
            if alone == 0xffff {
                return Ok(ChecksumKind::NoPseudoHeader);
            }
            return Err(Error::BadChecksum { expected: compute(message, 0), got: self.checksum() });
        }
        let pseudo = pseudo_header(src, dst, message.len())?;
        if checksum::combine(&[pseudo, alone]) == 0xffff {
            return Ok(ChecksumKind::PseudoHeader);
        }
        if self.family == Family::Ipv4 && alone == 0xffff {
            return Ok(ChecksumKind::NoPseudoHeader);
        }
        if !dst.is_multicast() {
            let old = pseudo_header(src, vrrp_group(self.family), message.len())?;
            if checksum::combine(&[old, alone]) == 0xffff {
                return Ok(ChecksumKind::OldUnicast);
            }
        }
        Err(Error::BadChecksum { expected: compute(message, pseudo), got: self.checksum() })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the type field.
    pub fn set_msg_type(&mut self, msg_type: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (*b & 0xf0) | (msg_type & 0x0f);
    }

    /// Sets the Virtual Router Identifier.
    pub fn set_vrid(&mut self, vrid: u8) {
        self.buffer.as_mut()[field::VRID] = vrid;
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, priority: u8) {
        self.buffer.as_mut()[field::PRIORITY] = priority;
    }

    /// Sets Count IP Addrs.
    pub fn set_count_ip_addrs(&mut self, count: u8) {
        self.buffer.as_mut()[field::COUNT_IP_ADDRS] = count;
    }

    /// Version 2: sets the Auth Type.
    pub fn set_auth_type(&mut self, auth_type: u8) {
        self.buffer.as_mut()[field::AUTH_TYPE] = auth_type;
    }

    /// Version 2: sets the Adver Int, in seconds.
    pub fn set_advert_int(&mut self, secs: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = secs;
    }

    /// Version 3: sets the Max Adver Int, in centiseconds, and clears the reserved bits
    /// (RFC 5798 5.2.6: they MUST be zero on transmission).
    pub fn set_max_advert_int(&mut self, centis: u16) {
        write_u16(self.buffer.as_mut(), field::MAX_ADVER_INT, centis & MAX_ADVER_INT_MASK);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Writes the address at `index`; it should be of the packet's family.
    pub fn set_address(&mut self, index: usize, addr: IpAddr) {
        let at = HEADER_LEN + index * self.family.addr_len();
        match addr {
            IpAddr::V4(v4) => self.buffer.as_mut()[at..at + 4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => self.buffer.as_mut()[at..at + 16].copy_from_slice(&v6.octets()),
        }
    }

    /// Version 2: the Authentication Data, writable; empty for version 3.
    pub fn auth_data_mut(&mut self) -> &mut [u8] {
        if self.version() != Version::V2.number() {
            return &mut [];
        }
        let start = HEADER_LEN + usize::from(self.count_ip_addrs()) * self.family.addr_len();
        &mut self.buffer.as_mut()[start..start + AUTH_DATA_LEN]
    }

    /// Computes the checksum by `kind` over the message the header describes and writes it;
    /// `src` and `dst` feed the pseudo-header.
    pub fn fill_checksum(&mut self, kind: ChecksumKind, src: IpAddr, dst: IpAddr) -> Result<(), Error> {
        check_endpoints(self.family, src, dst)?;
        let len = self.message_len();
        let pseudo = match kind {
            ChecksumKind::PseudoHeader => pseudo_header(src, dst, len)?,
            ChecksumKind::NoPseudoHeader => 0,
            ChecksumKind::OldUnicast => pseudo_header(src, vrrp_group(self.family), len)?,
        };
        let value = compute(&self.buffer.as_ref()[..len], pseudo);
        self.set_checksum(value);
        Ok(())
    }
}

/// Iterator over the addresses of an advertisement.
#[derive(Debug, Clone)]
pub struct Addresses<'a> {
    chunks: std::slice::ChunksExact<'a, u8>,
    family: Family,
}

impl Iterator for Addresses<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        let chunk = self.chunks.next()?;
        Some(match self.family {
            Family::Ipv4 => IpAddr::V4(read_ipv4(chunk, 0)),
            Family::Ipv6 => IpAddr::V6(read_ipv6(chunk, 0)),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for Addresses<'_> {}

/// A VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// Protocol version.
    pub version: Version,
    /// Virtual Router Identifier.
    pub vrid: u8,
    /// The sender's priority: 255 for the address owner, 0 when the master resigns.
    pub priority: u8,
    /// Adver Int (v2) or Max Adver Int (v3); see [`AdvertInterval`] for what each can carry.
    pub advert_int: AdvertInterval,
    /// The virtual addresses, all of the family of the IP header that carries the message.
    pub addresses: Vec<IpAddr>,
    /// Authentication; [`Auth::None`] for version 3.
    pub auth: Auth,
    /// VRRPv3 over IPv4 with a checksum over the message alone (keepalived's
    /// `v3_checksum_as_v2`). Parse sets it when that is the reading that matched; emit honours
    /// it. It must be false for version 2 and for IPv6, whose rule is fixed.
    pub v3_checksum_as_v2: bool,
    /// VRRPv3 to a unicast address, summed with the multicast group's pseudo-header
    /// ([`ChecksumKind::OldUnicast`]). Parse sets it when that is the reading that matched;
    /// emit honours it for version 3 to a unicast address and ignores it otherwise.
    pub old_unicast_checksum: bool,
}

impl Repr {
    /// Reads a checked advertisement that came from `src` to `dst` (the IP header's addresses).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, src: IpAddr, dst: IpAddr) -> Result<Repr, Error> {
        check_endpoints(packet.family, src, dst)?;
        packet.check_len()?;
        let version = Version::try_from(packet.version())?;
        let kind = packet.verify_checksum(src, dst)?;
        if packet.msg_type() != TYPE_ADVERTISEMENT {
            return Err(Error::BadType(packet.msg_type()));
        }
        let (advert_int, auth) = match version {
            Version::V2 => {
                let auth = match packet.auth_type() {
                    0 => Auth::None,
                    1 => {
                        let mut password = [0u8; AUTH_DATA_LEN];
                        password.copy_from_slice(packet.auth_data());
                        Auth::Pass(password)
                    }
                    2 => Auth::Ah,
                    other => return Err(Error::BadAuthType(other)),
                };
                (AdvertInterval::from_secs(packet.advert_int()), auth)
            }
            Version::V3 => (AdvertInterval::from_centis(packet.max_advert_int()), Auth::None),
        };
        // A zero interval would make a backup's Master_Down_Interval its skew time alone
        // (RFC 5798 6.1); no configuration produces it.
        if advert_int.centis() == 0 {
            return Err(Error::BadAdvertInt { version, centis: 0 });
        }
        Ok(Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            advert_int,
            addresses: packet.addresses().collect(),
            auth,
            v3_checksum_as_v2: version == Version::V3 && kind == ChecksumKind::NoPseudoHeader,
            old_unicast_checksum: kind == ChecksumKind::OldUnicast,
        })
    }

    /// Bytes the message needs.
    pub fn buffer_len(&self) -> usize {
        let addresses: usize = self.addresses.iter().map(|a| Family::of(a).addr_len()).sum();
        let auth = if self.version == Version::V2 { AUTH_DATA_LEN } else { 0 };
        HEADER_LEN + addresses + auth
    }

    /// Writes the advertisement, checksum included, into the first [`Repr::buffer_len`] bytes
    /// of `packet`, to be sent from `src` to `dst`. Fails, writing nothing, if the
    /// representation cannot go on the wire: see [`Error`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(), Error> {
        let family = packet.family;
        check_endpoints(family, src, dst)?;
        if self.version == Version::V2 && family == Family::Ipv6 {
            return Err(Error::V2OverIpv6);
        }
        if let Some(other) = self.addresses.iter().map(Family::of).find(|&f| f != family) {
            return Err(Error::FamilyMismatch { expected: family, got: other });
        }
        let count = u8::try_from(self.addresses.len()).map_err(|_| Error::TooManyAddresses(self.addresses.len()))?;
        match (self.version, self.auth) {
            (_, Auth::Ah) => return Err(Error::AhNotSupported),
            (Version::V3, Auth::Pass(_)) => return Err(Error::AuthInV3),
            _ => {}
        }
        let interval = self.advert_int.on_wire(self.version)?;
        if self.v3_checksum_as_v2 && (self.version != Version::V3 || family != Family::Ipv4) {
            return Err(Error::ChecksumAsV2NotApplicable);
        }
        ensure_len(self.buffer_len(), packet.buffer.as_ref().len())?;

        packet.set_version(self.version.number());
        packet.set_msg_type(TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_count_ip_addrs(count);
        match interval {
            WireInterval::Secs(secs) => {
                packet.set_auth_type(self.auth.type_number());
                packet.set_advert_int(secs);
            }
            WireInterval::Centis(centis) => packet.set_max_advert_int(centis),
        }
        for (index, &addr) in self.addresses.iter().enumerate() {
            packet.set_address(index, addr);
        }
        match self.auth {
            // RFC 2338 5.3.10: zero-padded password.
            Auth::Pass(password) => packet.auth_data_mut().copy_from_slice(&password),
            // RFC 3768 5.3.10: transmitted as zero.
            Auth::None | Auth::Ah => packet.auth_data_mut().fill(0),
        }
        let kind = if self.version == Version::V2 || self.v3_checksum_as_v2 {
            ChecksumKind::NoPseudoHeader
        } else if self.old_unicast_checksum && !dst.is_multicast() {
            ChecksumKind::OldUnicast
        } else {
            ChecksumKind::PseudoHeader
        };
        packet.fill_checksum(kind, src, dst)
    }
}

/// Fails unless `src` and `dst` are both of `family`.
fn check_endpoints(family: Family, src: IpAddr, dst: IpAddr) -> Result<(), Error> {
    for addr in [src, dst] {
        if Family::of(&addr) != family {
            return Err(Error::FamilyMismatch { expected: family, got: Family::of(&addr) });
        }
    }
    Ok(())
}

/// The sum of the pseudo-header for a VRRP message of `len` bytes; `src` and `dst` have been
/// checked to share a family.
fn pseudo_header(src: IpAddr, dst: IpAddr, len: usize) -> Result<u16, Error> {
    let len = u16::try_from(len).expect("a VRRP message is at most 8 + 255 * 16 + 8 bytes");
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => Ok(checksum::pseudo_header_v4(src, dst, IP_PROTOCOL, len)),
        (IpAddr::V6(src), IpAddr::V6(dst)) => Ok(checksum::pseudo_header_v6(src, dst, IP_PROTOCOL, u32::from(len))),
        (src, dst) => Err(Error::FamilyMismatch { expected: Family::of(&src), got: Family::of(&dst) }),
    }
}

/// The checksum of `message`, its checksum field taken as zero, plus a pseudo-header sum.
fn compute(message: &[u8], pseudo: u16) -> u16 {
    !checksum::combine(&[
        pseudo,
        checksum::sum(&message[..field::CHECKSUM]),
        checksum::sum(&message[field::CHECKSUM + 2..]),
    ])
}

#[cfg(test)]
mod tests {
    //! The captured adverts come from keepalived 2.2.7 on a veth in a throwaway network
    //! namespace, with the script in CAPTURE.md. eth0 had 192.0.2.1/24, 2001:db8::1/64 and
    //! the link-local fe80::5cc7:fcff:fe05:dd6d. VRRPv2 came from `v2.conf`:
    //!
    //! ```text
    //! vrrp_instance VI_V2 {
    //!     state MASTER
    //!     interface eth0
    //!     virtual_router_id 51
    //!     priority 150
    //!     advert_int 1
    //!     authentication {
    //!         auth_type PASS
    //!         auth_pass secret
    //!     }
    //!     virtual_ipaddress {
    //!         192.0.2.100/24
    //!         192.0.2.101/24
    //!     }
    //! }
    //! ```
    //!
    //! VRRPv3 came from `v3.conf`: `vrrp_version 3` in `global_defs`, an instance `VI_V3_4`
    //! like the one above without `authentication` and with `advert_int 0.5`, and `VI_V3_6`
    //! with `virtual_router_id 52`, `advert_int 0.5` and `virtual_ipaddress {
    //! 2001:db8::100/64 }`.
    //!
    //! Commands: `ip netns exec NS keepalived -n -l -D -P -f CONF -p PIDFILE -r VRRP_PIDFILE`
    //! for 5 s while `ip netns exec NS tcpdump -n -i eth0 -w FILE -c 60 'ip proto 112 or ip6
    //! proto 112 or arp or icmp6'` captured; the constants are the VRRP messages of the
    //! frames named, read from the pcap files.

    use super::*;

    /// v2.pcap frame 2: VRRPv2, VRID 51, priority 150, 1 s, PASS "secret", two addresses.
    const V2_PASS_ADVERT: [u8; 24] = [
        0x21, 0x33, 0x96, 0x02, 0x01, 0x01, 0x86, 0xb2, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02, 0x65, 0x73, 0x65,
        0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
    ];

    /// v2.pcap frame 14: the same instance resigning on shutdown, priority 0.
    const V2_PRIORITY_ZERO: [u8; 24] = [
        0x21, 0x33, 0x00, 0x02, 0x01, 0x01, 0x1c, 0xb3, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02, 0x65, 0x73, 0x65,
        0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
    ];

    /// v3.pcap frame 0: VRRPv3 over IPv4, VRID 51, priority 150, 50 cs, two addresses.
    const V3_IPV4_ADVERT: [u8; 16] =
        [0x31, 0x33, 0x96, 0x02, 0x00, 0x32, 0x11, 0x39, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02, 0x65];

    /// v3.pcap frame 11: VRRPv3 over IPv6, VRID 52, priority 150, 50 cs, 2001:db8::100.
    const V3_IPV6_ADVERT: [u8; 24] = [
        0x31, 0x34, 0x96, 0x01, 0x00, 0x32, 0xd6, 0x85, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    ];

    /// v2.pcap frame 2 as the raw IPPROTO_VRRP socket delivers it: IPv4 header and message.
    const V2_PASS_DATAGRAM: [u8; 44] = [
        0x45, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x8d, 0xc0, 0x00, 0x02, 0x01, 0xe0, 0x00,
        0x00, 0x12, 0x21, 0x33, 0x96, 0x02, 0x01, 0x01, 0x86, 0xb2, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02, 0x65,
        0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00,
    ];

    const SECRET: [u8; 8] = *b"secret\0\0";

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse().expect("literal"))
    }

    fn src4() -> IpAddr {
        v4(192, 0, 2, 1)
    }

    fn dst4() -> IpAddr {
        IpAddr::V4(MULTICAST_IPV4)
    }

    fn src6() -> IpAddr {
        v6("fe80::5cc7:fcff:fe05:dd6d")
    }

    fn dst6() -> IpAddr {
        IpAddr::V6(MULTICAST_IPV6)
    }

    fn v2_pass_repr() -> Repr {
        Repr {
            version: Version::V2,
            vrid: 51,
            priority: 150,
            advert_int: AdvertInterval::from_secs(1),
            addresses: vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)],
            auth: Auth::Pass(SECRET),
            v3_checksum_as_v2: false,
            old_unicast_checksum: false,
        }
    }

    fn v3_ipv4_repr() -> Repr {
        Repr {
            version: Version::V3,
            vrid: 51,
            priority: 150,
            advert_int: AdvertInterval::from_centis(50),
            addresses: vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)],
            auth: Auth::None,
            v3_checksum_as_v2: false,
            old_unicast_checksum: false,
        }
    }

    fn v3_ipv6_repr() -> Repr {
        Repr {
            version: Version::V3,
            vrid: 52,
            priority: 150,
            advert_int: AdvertInterval::from_centis(50),
            addresses: vec![v6("2001:db8::100")],
            auth: Auth::None,
            v3_checksum_as_v2: false,
            old_unicast_checksum: false,
        }
    }

    /// The captures with their family, endpoints and representation.
    fn captures() -> Vec<(&'static [u8], Family, IpAddr, IpAddr, Repr)> {
        vec![
            (&V2_PASS_ADVERT, Family::Ipv4, src4(), dst4(), v2_pass_repr()),
            (&V2_PRIORITY_ZERO, Family::Ipv4, src4(), dst4(), Repr { priority: 0, ..v2_pass_repr() }),
            (&V3_IPV4_ADVERT, Family::Ipv4, src4(), dst4(), v3_ipv4_repr()),
            (&V3_IPV6_ADVERT, Family::Ipv6, src6(), dst6(), v3_ipv6_repr()),
        ]
    }

    fn parse(bytes: &[u8], family: Family, src: IpAddr, dst: IpAddr) -> Result<Repr, Error> {
        Repr::parse(&Packet::new_checked(bytes, family)?, src, dst)
    }

    fn emit(repr: &Repr, family: Family, src: IpAddr, dst: IpAddr) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0xaa; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..], family), src, dst)?;
        Ok(buf)
    }

    /// Rewrites a message's checksum by `kind` after a test has changed it.
    fn refill(bytes: &mut [u8], family: Family, kind: ChecksumKind, src: IpAddr, dst: IpAddr) {
        Packet::new_unchecked(bytes, family).fill_checksum(kind, src, dst).expect("endpoints match");
    }

    #[test]
    fn parse_captured() {
        for (bytes, family, src, dst, repr) in captures() {
            assert_eq!(parse(bytes, family, src, dst), Ok(repr));
        }
    }

    #[test]
    fn emit_captured() {
        for (bytes, family, src, dst, repr) in captures() {
            assert_eq!(emit(&repr, family, src, dst).as_deref(), Ok(bytes));
        }
    }

    #[test]
    fn getters_on_captured() {
        let packet = Packet::new_checked(&V2_PASS_ADVERT[..], Family::Ipv4).expect("valid");
        assert_eq!((packet.version(), packet.msg_type(), packet.vrid(), packet.priority()), (2, 1, 51, 150));
        assert_eq!((packet.count_ip_addrs(), packet.auth_type(), packet.advert_int()), (2, 1, 1));
        assert_eq!(packet.checksum(), 0x86b2);
        assert_eq!(packet.auth_data(), &SECRET);
        assert_eq!(packet.addresses().len(), 2);
        assert_eq!(packet.verify_checksum(src4(), dst4()), Ok(ChecksumKind::NoPseudoHeader));

        let packet = Packet::new_checked(&V3_IPV6_ADVERT[..], Family::Ipv6).expect("valid");
        assert_eq!(packet.max_advert_int(), 50);
        assert_eq!(packet.auth_data(), &[] as &[u8]);
        assert_eq!(packet.addresses().collect::<Vec<_>>(), vec![v6("2001:db8::100")]);
        assert_eq!(packet.verify_checksum(src6(), dst6()), Ok(ChecksumKind::PseudoHeader));
        assert_eq!(packet.family(), Family::Ipv6);
        assert_eq!(packet.into_inner().len(), 24);
    }

    #[test]
    fn receive_path_from_raw_socket() {
        let ip = super::super::ipv4::Packet::new_checked(&V2_PASS_DATAGRAM[..]).expect("valid IPv4");
        let header = super::super::ipv4::Repr::parse(&ip).expect("valid IPv4 header");
        assert_eq!((header.protocol, header.ttl), (IP_PROTOCOL, TTL));
        let (src, dst) = (IpAddr::V4(header.src_addr), IpAddr::V4(header.dst_addr));
        assert_eq!(parse(ip.payload(), Family::Ipv4, src, dst), Ok(v2_pass_repr()));
    }

    #[test]
    fn truncated_at_every_length() {
        for (bytes, family, ..) in captures() {
            for n in 0..bytes.len() {
                assert!(Packet::new_checked(&bytes[..n], family).is_err(), "accepted {n} of {} bytes", bytes.len());
            }
            assert_eq!(Packet::new_checked(&bytes[..4], family), Err(Error::Truncated { need: HEADER_LEN, got: 4 }));
            assert_eq!(
                Packet::new_checked(&bytes[..bytes.len() - 1], family),
                Err(Error::Truncated { need: bytes.len(), got: bytes.len() - 1 })
            );
        }
    }

    #[test]
    fn trailing_bytes_are_an_address_count_mismatch() {
        let mut bytes = V3_IPV4_ADVERT.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            Packet::new_checked(&bytes[..], Family::Ipv4),
            Err(Error::AddressCountMismatch { count: 2, need: 16, got: 20 })
        );
    }

    #[test]
    fn wrong_address_count() {
        // Count says 3 but two addresses follow: the message is short.
        let mut bytes = V3_IPV4_ADVERT;
        bytes[3] = 3;
        assert_eq!(Packet::new_checked(&bytes[..], Family::Ipv4), Err(Error::Truncated { need: 20, got: 16 }));
        // Count says 1 but two addresses follow: the message is long.
        bytes[3] = 1;
        assert_eq!(
            Packet::new_checked(&bytes[..], Family::Ipv4),
            Err(Error::AddressCountMismatch { count: 1, need: 12, got: 16 })
        );
        // The IPv6 advert read as IPv4 has room for 4 addresses, not 1.
        assert_eq!(
            Packet::new_checked(&V3_IPV6_ADVERT[..], Family::Ipv4),
            Err(Error::AddressCountMismatch { count: 1, need: 12, got: 24 })
        );
    }

    #[test]
    fn bad_version() {
        for version in [0u8, 1, 4, 15] {
            let mut bytes = V3_IPV4_ADVERT;
            bytes[0] = (version << 4) | 1;
            assert_eq!(Packet::new_checked(&bytes[..], Family::Ipv4), Err(Error::BadVersion(version)));
        }
    }

    #[test]
    fn v2_over_ipv6_is_rejected() {
        let mut bytes = V3_IPV6_ADVERT.to_vec();
        bytes[0] = 0x21;
        bytes.extend_from_slice(&[0; AUTH_DATA_LEN]);
        assert_eq!(Packet::new_checked(&bytes[..], Family::Ipv6), Err(Error::V2OverIpv6));
        let repr = Repr { version: Version::V2, advert_int: AdvertInterval::from_secs(1), ..v3_ipv6_repr() };
        assert_eq!(emit(&repr, Family::Ipv6, src6(), dst6()), Err(Error::V2OverIpv6));
    }

    #[test]
    fn bad_type() {
        for msg_type in [0u8, 2, 15] {
            let mut bytes = V3_IPV4_ADVERT;
            bytes[0] = 0x30 | msg_type;
            refill(&mut bytes, Family::Ipv4, ChecksumKind::PseudoHeader, src4(), dst4());
            assert_eq!(parse(&bytes, Family::Ipv4, src4(), dst4()), Err(Error::BadType(msg_type)));
        }
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = V2_PASS_ADVERT;
        bytes[7] ^= 0x01;
        assert_eq!(
            parse(&bytes, Family::Ipv4, src4(), dst4()),
            Err(Error::BadChecksum { expected: 0x86b2, got: 0x86b3 })
        );

        // Priority 150 (0x96) changed to 100 (0x64) in flight: the word 0x9602 drops by 0x3200,
        // so the checksum that would match rises by as much.
        let mut bytes = V3_IPV4_ADVERT;
        bytes[2] = 100;
        assert_eq!(
            parse(&bytes, Family::Ipv4, src4(), dst4()),
            Err(Error::BadChecksum { expected: 0x4339, got: 0x1139 })
        );

        // The v3 checksum covers the addresses of the IP header: another source fails it.
        assert_eq!(
            parse(&V3_IPV6_ADVERT, Family::Ipv6, v6("fe80::1"), dst6()),
            Err(Error::BadChecksum { expected: 0x0bc0, got: 0xd685 })
        );
    }

    #[test]
    fn v3_ipv4_checksum_without_pseudo_header_is_accepted_and_reported() {
        let mut bytes = V3_IPV4_ADVERT;
        refill(&mut bytes, Family::Ipv4, ChecksumKind::NoPseudoHeader, src4(), dst4());
        assert_ne!(bytes, V3_IPV4_ADVERT);
        let packet = Packet::new_checked(&bytes[..], Family::Ipv4).expect("valid");
        assert_eq!(packet.verify_checksum(src4(), dst4()), Ok(ChecksumKind::NoPseudoHeader));
        let repr = Repr::parse(&packet, src4(), dst4()).expect("accepted");
        assert_eq!(repr, Repr { v3_checksum_as_v2: true, ..v3_ipv4_repr() });
        assert_eq!(emit(&repr, Family::Ipv4, src4(), dst4()).as_deref(), Ok(&bytes[..]));

        // The captured, standard one is reported as such.
        let packet = Packet::new_checked(&V3_IPV4_ADVERT[..], Family::Ipv4).expect("valid");
        assert_eq!(packet.verify_checksum(src4(), dst4()), Ok(ChecksumKind::PseudoHeader));
    }

    /// keepalived before 1.3.6, and with `old_unicast_checksum`, sums a unicast advert with the
    /// multicast group's pseudo-header (seen from keepalived 2.2.7: 0xd3a3 where the standard
    /// reading gives 0xf1b3, 0xe000_0012 - 0xc000_0202 apart).
    #[test]
    fn old_unicast_checksum_is_accepted_reported_and_sent() {
        let unicast: IpAddr = "192.0.2.2".parse().expect("literal");
        for (family, src, dst) in [(Family::Ipv4, src4(), unicast), (Family::Ipv6, src6(), v6("fe80::2"))] {
            let repr = Repr {
                old_unicast_checksum: true,
                ..if family == Family::Ipv4 { v3_ipv4_repr() } else { v3_ipv6_repr() }
            };
            let bytes = emit(&repr, family, src, dst).expect("valid");
            let packet = Packet::new_checked(&bytes[..], family).expect("valid");
            assert_eq!(packet.verify_checksum(src, dst), Ok(ChecksumKind::OldUnicast));
            assert_eq!(parse(&bytes, family, src, dst), Ok(repr.clone()));
            let standard = emit(&Repr { old_unicast_checksum: false, ..repr }, family, src, dst).expect("valid");
            assert_ne!(standard, bytes);
        }
        // To the group itself both readings are one: the standard one is reported.
        let repr = Repr { old_unicast_checksum: true, ..v3_ipv4_repr() };
        let bytes = emit(&repr, Family::Ipv4, src4(), dst4()).expect("valid");
        assert_eq!(bytes, V3_IPV4_ADVERT);
    }

    #[test]
    fn only_v3_over_ipv4_may_leave_the_pseudo_header_out() {
        let mut bytes = V3_IPV6_ADVERT;
        refill(&mut bytes, Family::Ipv6, ChecksumKind::NoPseudoHeader, src6(), dst6());
        assert!(matches!(parse(&bytes, Family::Ipv6, src6(), dst6()), Err(Error::BadChecksum { .. })));

        let mut bytes = V2_PASS_ADVERT;
        refill(&mut bytes, Family::Ipv4, ChecksumKind::PseudoHeader, src4(), dst4());
        assert!(matches!(parse(&bytes, Family::Ipv4, src4(), dst4()), Err(Error::BadChecksum { .. })));

        for (repr, family, src, dst) in
            [(v2_pass_repr(), Family::Ipv4, src4(), dst4()), (v3_ipv6_repr(), Family::Ipv6, src6(), dst6())]
        {
            let repr = Repr { v3_checksum_as_v2: true, ..repr };
            assert_eq!(emit(&repr, family, src, dst), Err(Error::ChecksumAsV2NotApplicable));
        }
    }

    #[test]
    fn v3_reserved_bits_are_ignored() {
        // RFC 5798 5.2.6: reserved bits MUST be ignored on reception.
        let mut bytes = V3_IPV4_ADVERT;
        bytes[4] |= 0xf0;
        refill(&mut bytes, Family::Ipv4, ChecksumKind::PseudoHeader, src4(), dst4());
        assert_eq!(parse(&bytes, Family::Ipv4, src4(), dst4()), Ok(v3_ipv4_repr()));
    }

    #[test]
    fn auth_types() {
        for (auth_type, auth) in [(0u8, Auth::None), (2, Auth::Ah)] {
            let mut bytes = V2_PASS_ADVERT;
            bytes[4] = auth_type;
            refill(&mut bytes, Family::Ipv4, ChecksumKind::NoPseudoHeader, src4(), dst4());
            assert_eq!(parse(&bytes, Family::Ipv4, src4(), dst4()), Ok(Repr { auth, ..v2_pass_repr() }));
        }
        for auth_type in [3u8, 254, 255] {
            let mut bytes = V2_PASS_ADVERT;
            bytes[4] = auth_type;
            refill(&mut bytes, Family::Ipv4, ChecksumKind::NoPseudoHeader, src4(), dst4());
            assert_eq!(parse(&bytes, Family::Ipv4, src4(), dst4()), Err(Error::BadAuthType(auth_type)));
        }
    }

    #[test]
    fn zero_interval_is_rejected() {
        let mut bytes = V2_PASS_ADVERT;
        bytes[5] = 0;
        refill(&mut bytes, Family::Ipv4, ChecksumKind::NoPseudoHeader, src4(), dst4());
        assert_eq!(
            parse(&bytes, Family::Ipv4, src4(), dst4()),
            Err(Error::BadAdvertInt { version: Version::V2, centis: 0 })
        );
        let mut bytes = V3_IPV4_ADVERT;
        bytes[4..6].copy_from_slice(&[0xf0, 0x00]);
        refill(&mut bytes, Family::Ipv4, ChecksumKind::PseudoHeader, src4(), dst4());
        assert_eq!(
            parse(&bytes, Family::Ipv4, src4(), dst4()),
            Err(Error::BadAdvertInt { version: Version::V3, centis: 0 })
        );
    }

    #[test]
    fn endpoints_must_match_the_family() {
        assert_eq!(
            parse(&V3_IPV4_ADVERT, Family::Ipv4, src4(), dst6()),
            Err(Error::FamilyMismatch { expected: Family::Ipv4, got: Family::Ipv6 })
        );
        assert_eq!(
            parse(&V3_IPV6_ADVERT, Family::Ipv6, src4(), dst4()),
            Err(Error::FamilyMismatch { expected: Family::Ipv6, got: Family::Ipv4 })
        );
        assert_eq!(
            emit(&v3_ipv4_repr(), Family::Ipv4, src6(), dst6()),
            Err(Error::FamilyMismatch { expected: Family::Ipv4, got: Family::Ipv6 })
        );
    }

    #[test]
    fn emit_refuses_what_cannot_go_on_the_wire() {
        let mixed = Repr { addresses: vec![v4(192, 0, 2, 100), v6("2001:db8::100")], ..v3_ipv4_repr() };
        assert_eq!(
            emit(&mixed, Family::Ipv4, src4(), dst4()),
            Err(Error::FamilyMismatch { expected: Family::Ipv4, got: Family::Ipv6 })
        );

        let many = Repr { addresses: (0..256u32).map(|i| IpAddr::V4(Ipv4Addr::from(i))).collect(), ..v3_ipv4_repr() };
        assert_eq!(emit(&many, Family::Ipv4, src4(), dst4()), Err(Error::TooManyAddresses(256)));

        let v3_pass = Repr { auth: Auth::Pass(SECRET), ..v3_ipv4_repr() };
        assert_eq!(emit(&v3_pass, Family::Ipv4, src4(), dst4()), Err(Error::AuthInV3));

        let ah = Repr { auth: Auth::Ah, ..v2_pass_repr() };
        assert_eq!(emit(&ah, Family::Ipv4, src4(), dst4()), Err(Error::AhNotSupported));

        for centis in [0u16, 50, 150, 25600, u16::MAX] {
            let repr = Repr { advert_int: AdvertInterval::from_centis(centis), ..v2_pass_repr() };
            assert_eq!(
                emit(&repr, Family::Ipv4, src4(), dst4()),
                Err(Error::BadAdvertInt { version: Version::V2, centis })
            );
        }
        for centis in [0u16, 4096, u16::MAX] {
            let repr = Repr { advert_int: AdvertInterval::from_centis(centis), ..v3_ipv4_repr() };
            assert_eq!(
                emit(&repr, Family::Ipv4, src4(), dst4()),
                Err(Error::BadAdvertInt { version: Version::V3, centis })
            );
        }

        let repr = v2_pass_repr();
        let mut short = vec![0u8; repr.buffer_len() - 1];
        assert_eq!(
            repr.emit(&mut Packet::new_unchecked(&mut short[..], Family::Ipv4), src4(), dst4()),
            Err(Error::Truncated { need: 24, got: 23 })
        );
        assert!(short.iter().all(|&b| b == 0), "a failed emit writes nothing");
    }

    #[test]
    fn emit_into_a_larger_buffer_uses_its_start() {
        let repr = v3_ipv4_repr();
        let mut buf = [0u8; 64];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..], Family::Ipv4), src4(), dst4()).expect("fits");
        assert_eq!(&buf[..repr.buffer_len()], &V3_IPV4_ADVERT);
    }

    #[test]
    fn intervals() {
        assert_eq!(AdvertInterval::from_secs(1).centis(), 100);
        assert_eq!(AdvertInterval::from_secs(255).centis(), 25500);
        assert_eq!(AdvertInterval::from_centis(50).as_duration(), Duration::from_millis(500));
        assert_eq!(AdvertInterval::from_centis(4095).as_duration(), Duration::from_millis(40950));
    }

    #[test]
    fn repr_round_trips_through_json() {
        // The state machine's golden files carry adverts as JSON lines.
        for (.., repr) in captures() {
            let json = serde_json::to_string(&repr).expect("serializable");
            assert_eq!(serde_json::from_str::<Repr>(&json).expect("deserializable"), repr);
        }
        let json = serde_json::to_value(v3_ipv4_repr()).expect("serializable");
        assert_eq!(json["advert_int"], 50);
        assert_eq!(json["addresses"][0], "192.0.2.100");
    }

    /// Every combination of the interesting values of each field: emit then parse gives the
    /// same representation, and parse then emit gives the same bytes.
    #[test]
    fn round_trip_over_a_range_of_reprs() {
        let endpoints4 = [(src4(), dst4()), (v4(10, 1, 2, 3), v4(10, 1, 2, 4)), (v4(255, 255, 255, 254), dst4())];
        let endpoints6 = [(src6(), dst6()), (v6("2001:db8::1"), v6("2001:db8::2")), (v6("fe80::ffff:1"), dst6())];
        let mut checked = 0;
        for version in [Version::V2, Version::V3] {
            for family in [Family::Ipv4, Family::Ipv6] {
                if version == Version::V2 && family == Family::Ipv6 {
                    continue;
                }
                let endpoints = if family == Family::Ipv4 { &endpoints4 } else { &endpoints6 };
                let intervals: &[u16] = if version == Version::V2 { &[100, 300, 25500] } else { &[1, 50, 100, 4095] };
                let auths: &[Auth] = if version == Version::V2 {
                    &[Auth::None, Auth::Pass(SECRET), Auth::Pass([0xff; 8]), Auth::Pass([0; 8])]
                } else {
                    &[Auth::None]
                };
                let as_v2: &[bool] =
                    if version == Version::V3 && family == Family::Ipv4 { &[false, true] } else { &[false] };
                for &(src, dst) in endpoints {
                    for count in [0usize, 1, 2, 16, 255] {
                        let addresses: Vec<IpAddr> = (0..count)
                            .map(|i| match family {
                                Family::Ipv4 => IpAddr::V4(Ipv4Addr::from(0xc000_0200 + i as u32)),
                                Family::Ipv6 => IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | i as u128)),
                            })
                            .collect();
                        for (vrid, priority) in [(1u8, 0u8), (51, 100), (255, 255), (128, 1)] {
                            for &centis in intervals {
                                for &auth in auths {
                                    for &v3_checksum_as_v2 in as_v2 {
                                        let repr = Repr {
                                            version,
                                            vrid,
                                            priority,
                                            advert_int: AdvertInterval::from_centis(centis),
                                            addresses: addresses.clone(),
                                            auth,
                                            v3_checksum_as_v2,
                                            old_unicast_checksum: false,
                                        };
                                        let bytes = emit(&repr, family, src, dst).expect("valid repr");
                                        assert_eq!(bytes.len(), repr.buffer_len());
                                        let parsed = parse(&bytes, family, src, dst).expect("emitted bytes parse");
                                        assert_eq!(parsed, repr);
                                        assert_eq!(emit(&parsed, family, src, dst), Ok(bytes));
                                        checked += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 5 * 4 * (3 * 4 + 4 * 2 + 4));
    }
}
