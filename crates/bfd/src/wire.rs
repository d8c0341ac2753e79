//! The BFD Control packet (RFC 5880 4.1), carried in UDP to port 3784 (RFC 5881 4).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Your Discriminator                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Desired Min TX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Required Min RX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Auth Len    |    Authentication Data...     |  if A is set
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Intervals are in microseconds, as on the wire.
//!
//! Checked here, because they need no session (RFC 5880 6.8.6, in its order): the version,
//! the Length against its minimum and against the bytes received, a zero Detect Mult, the
//! Multipoint bit, a zero My Discriminator, and a zero Your Discriminator in a packet whose
//! state is neither Down nor AdminDown. Beyond the RFC's list, as keepalived does: Poll and
//! Final both set (RFC 5880 6.5 forbids sending it). The authentication section is parsed and
//! its shape checked (RFC 5880 4.2 to 4.4); verifying it needs a key, which belongs to the
//! session, and Vigil, like keepalived, supports none.
//!
//! Left to the session (it needs its variables): the demultiplexing by Your Discriminator, the
//! A bit against the session's authentication, AdminDown, and the TTL (RFC 5881 5).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The UDP destination port of single-hop BFD Control packets (RFC 5881 4).
pub const PORT: u16 = 3784;

/// The TTL or hop limit single-hop BFD sends with and requires (RFC 5881 5).
pub const TTL: u8 = 255;

/// The one protocol version (RFC 5880 4.1).
pub const VERSION: u8 = 1;

/// Length of the mandatory section, the whole packet without authentication.
pub const HEADER_LEN: usize = field::AUTH_TYPE;

/// The smallest packet with an authentication section: RFC 5880 6.8.6's 26.
pub const MIN_AUTH_PACKET_LEN: usize = HEADER_LEN + 2;

/// The longest simple password (RFC 5880 4.2).
pub const MAX_PASSWORD_LEN: usize = 16;

/// Auth Len of the Keyed MD5 section (RFC 5880 4.3).
const MD5_AUTH_LEN: u8 = 24;

/// Auth Len of the Keyed SHA1 section (RFC 5880 4.4).
const SHA1_AUTH_LEN: u8 = 28;

mod field {
    use std::ops::Range;

    pub const VERS_DIAG: usize = 0;
    /// Sta (2 bits), then P, F, C, A, D, M.
    pub const FLAGS: usize = 1;
    pub const DETECT_MULT: usize = 2;
    pub const LENGTH: usize = 3;
    pub const MY_DISCR: Range<usize> = 4..8;
    pub const YOUR_DISCR: Range<usize> = 8..12;
    pub const DESIRED_MIN_TX: Range<usize> = 12..16;
    pub const REQUIRED_MIN_RX: Range<usize> = 16..20;
    pub const REQUIRED_MIN_ECHO_RX: Range<usize> = 20..24;
    // The authentication section (RFC 5880 4.2 to 4.4).
    pub const AUTH_TYPE: usize = 24;
    pub const AUTH_LEN: usize = 25;
    pub const AUTH_KEY_ID: usize = 26;
    /// Simple password: the password follows the key id.
    pub const AUTH_PASSWORD: usize = 27;
    /// Keyed MD5 and SHA1: a reserved byte, then the sequence number and the digest.
    pub const AUTH_RESERVED: usize = 27;
    pub const AUTH_SEQUENCE: Range<usize> = 28..32;
    pub const AUTH_DIGEST: usize = 32;
}

const FLAG_POLL: u8 = 0x20;
const FLAG_FINAL: u8 = 0x10;
const FLAG_CPI: u8 = 0x08;
const FLAG_AUTH: u8 = 0x04;
const FLAG_DEMAND: u8 = 0x02;
const FLAG_MULTIPOINT: u8 = 0x01;

/// Why bytes could not be read as, or a representation could not be written to, a BFD
/// Control packet.
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
    /// RFC 5880 6.8.6: the version is not 1.
    #[error("BFD version {0}, expected 1")]
    BadVersion(u8),
    /// RFC 5880 6.8.6: the Length field is below 24 (A clear) or 26 (A set).
    #[error("length field {length} is below the minimum of {min}")]
    LengthTooShort {
        /// The Length field.
        length: u8,
        /// The minimum for the A bit.
        min: usize,
    },
    /// RFC 5880 6.8.6: the Length field is greater than the UDP payload.
    #[error("length field {length} exceeds the {payload} bytes received")]
    LengthExceedsPayload {
        /// The Length field.
        length: u8,
        /// Bytes received.
        payload: usize,
    },
    /// RFC 5880 4.1: the Length field does not cover exactly the mandatory section and the
    /// authentication section (24 bytes without one, 24 + Auth Len with one).
    #[error("length field {length}, but the sections make {expected}")]
    LengthMismatch {
        /// The Length field.
        length: u8,
        /// What the A bit and Auth Len imply.
        expected: usize,
    },
    /// RFC 5880 6.8.6: Detect Mult is zero.
    #[error("detect multiplier is zero")]
    ZeroDetectMult,
    /// RFC 5880 6.8.6: the Multipoint bit is set.
    #[error("multipoint bit is set")]
    Multipoint,
    /// RFC 5880 6.8.6: My Discriminator is zero.
    #[error("my discriminator is zero")]
    ZeroMyDiscriminator,
    /// RFC 5880 6.8.6: Your Discriminator is zero in a packet whose state is neither Down nor
    /// AdminDown.
    #[error("your discriminator is zero in state {state}")]
    ZeroYourDiscriminator {
        /// The packet's state.
        state: State,
    },
    /// RFC 5880 6.5: Poll and Final both set, which no system may send (keepalived discards
    /// it too).
    #[error("poll and final bits are both set")]
    PollAndFinal,
    /// RFC 5880 4.1: an Auth Type that is not defined (1 to 5 are).
    #[error("authentication type {0} is not defined")]
    BadAuthType(u8),
    /// RFC 5880 4.2 to 4.4: an Auth Len its type does not allow.
    #[error("authentication length {auth_len} is not valid for type {auth_type}")]
    BadAuthLen {
        /// The Auth Type.
        auth_type: u8,
        /// The Auth Len.
        auth_len: u8,
    },
    /// RFC 5880 4.2: a simple password must be 1 to 16 bytes.
    #[error("simple password of {0} bytes, expected 1 to 16")]
    BadPasswordLen(usize),
    /// A [`Diag::Other`] code outside 9 to 31: the 5-bit field cannot carry it, or a named
    /// variant is the code's spelling.
    #[error("diagnostic code {0} is not an unassigned 5-bit code")]
    BadDiag(u8),
}

/// A session state (RFC 5880 4.1, the Sta field; 6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum State {
    /// 0: held down by its administrator.
    AdminDown,
    /// 1: down, or just created.
    Down,
    /// 2: the remote system is heard, and is Down.
    Init,
    /// 3: both systems hear each other.
    Up,
}

impl State {
    /// The Sta field for this state.
    pub const fn number(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }

    /// The state of a 2-bit Sta field; the bits above are ignored.
    pub const fn from_bits(bits: u8) -> State {
        match bits & 0x03 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }
}

impl fmt::Display for State {
    /// keepalived's spelling, as in `(peer) Entering Up state`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        })
    }
}

/// A diagnostic code: why the sender's session last left Up (RFC 5880 4.1, the Diag field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Diag {
    /// 0.
    NoDiagnostic,
    /// 1: the detection time passed without a packet.
    ControlDetectionTimeExpired,
    /// 2.
    EchoFunctionFailed,
    /// 3: the remote system said Down or AdminDown.
    NeighborSignaledSessionDown,
    /// 4.
    ForwardingPlaneReset,
    /// 5.
    PathDown,
    /// 6.
    ConcatenatedPathDown,
    /// 7.
    AdministrativelyDown,
    /// 8.
    ReverseConcatenatedPathDown,
    /// 9 to 31, reserved by RFC 5880 and assigned since to other uses (RFC 6428): carried
    /// through, never acted on. keepalived discards such packets; RFC 5880 6.8.6 does not.
    Other(u8),
}

impl Diag {
    /// The Diag field for this code.
    pub const fn number(self) -> u8 {
        match self {
            Diag::NoDiagnostic => 0,
            Diag::ControlDetectionTimeExpired => 1,
            Diag::EchoFunctionFailed => 2,
            Diag::NeighborSignaledSessionDown => 3,
            Diag::ForwardingPlaneReset => 4,
            Diag::PathDown => 5,
            Diag::ConcatenatedPathDown => 6,
            Diag::AdministrativelyDown => 7,
            Diag::ReverseConcatenatedPathDown => 8,
            Diag::Other(code) => code & 0x1f,
        }
    }

    /// The code of a 5-bit Diag field; the bits above are ignored.
    pub const fn from_bits(bits: u8) -> Diag {
        match bits & 0x1f {
            0 => Diag::NoDiagnostic,
            1 => Diag::ControlDetectionTimeExpired,
            2 => Diag::EchoFunctionFailed,
            3 => Diag::NeighborSignaledSessionDown,
            4 => Diag::ForwardingPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdministrativelyDown,
            8 => Diag::ReverseConcatenatedPathDown,
            other => Diag::Other(other),
        }
    }
}

impl fmt::Display for Diag {
    /// keepalived's wording, as in `Local diagnostic - Control Detection Time Expired`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Diag::NoDiagnostic => "No Diagnostic",
            Diag::ControlDetectionTimeExpired => "Control Detection Time Expired",
            Diag::EchoFunctionFailed => "Echo Function Failed",
            Diag::NeighborSignaledSessionDown => "Neighbor Signaled Session Down",
            Diag::ForwardingPlaneReset => "Forwarding Plane Reset",
            Diag::PathDown => "Path Down",
            Diag::ConcatenatedPathDown => "Concatenated Path Down",
            Diag::AdministrativelyDown => "Administratively Down",
            Diag::ReverseConcatenatedPathDown => "Reverse Concatenated Path Down",
            Diag::Other(_) => "Unknown",
        })
    }
}

/// The authentication section (RFC 5880 4.2 to 4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Auth {
    /// Auth Type 1 (RFC 5880 4.2).
    SimplePassword {
        /// Which key.
        key_id: u8,
        /// 1 to 16 bytes.
        password: Vec<u8>,
    },
    /// Auth Types 2 (Keyed MD5) and 3 (Meticulous Keyed MD5) (RFC 5880 4.3).
    KeyedMd5 {
        /// Type 3: the sequence number rises with every packet.
        meticulous: bool,
        /// Which key.
        key_id: u8,
        /// The sequence number.
        sequence: u32,
        /// The digest, or the key while it is computed.
        digest: [u8; 16],
    },
    /// Auth Types 4 (Keyed SHA1) and 5 (Meticulous Keyed SHA1) (RFC 5880 4.4).
    KeyedSha1 {
        /// Type 5: the sequence number rises with every packet.
        meticulous: bool,
        /// Which key.
        key_id: u8,
        /// The sequence number.
        sequence: u32,
        /// The hash, or the key while it is computed.
        hash: [u8; 20],
    },
}

impl Auth {
    /// The Auth Type field.
    pub fn type_number(&self) -> u8 {
        match self {
            Auth::SimplePassword { .. } => 1,
            Auth::KeyedMd5 { meticulous: false, .. } => 2,
            Auth::KeyedMd5 { meticulous: true, .. } => 3,
            Auth::KeyedSha1 { meticulous: false, .. } => 4,
            Auth::KeyedSha1 { meticulous: true, .. } => 5,
        }
    }

    /// The Auth Len field: the section's length, type and length bytes included.
    pub fn auth_len(&self) -> usize {
        match self {
            // Type, length, key id, password.
            Auth::SimplePassword { password, .. } => 3 + password.len(),
            Auth::KeyedMd5 { .. } => usize::from(MD5_AUTH_LEN),
            Auth::KeyedSha1 { .. } => usize::from(SHA1_AUTH_LEN),
        }
    }
}

/// Checks that `auth_len` is one `auth_type` allows (RFC 5880 4.2 to 4.4).
fn check_auth_len(auth_type: u8, auth_len: u8) -> Result<(), Error> {
    let valid = match auth_type {
        // RFC 5880 4.2: a password of 1 to 16 bytes after type, length and key id.
        1 => (4..=3 + MAX_PASSWORD_LEN as u8).contains(&auth_len),
        2 | 3 => auth_len == MD5_AUTH_LEN,
        4 | 5 => auth_len == SHA1_AUTH_LEN,
        other => return Err(Error::BadAuthType(other)),
    };
    if valid {
        Ok(())
    } else {
        Err(Error::BadAuthLen { auth_type, auth_len })
    }
}

/// Writes the body of a Keyed MD5 or SHA1 section (RFC 5880 4.3, 4.4) after its type and length.
fn write_keyed(data: &mut [u8], key_id: u8, sequence: u32, digest: &[u8]) {
    data[field::AUTH_KEY_ID] = key_id;
    // RFC 5880 4.3, 4.4: "This byte MUST be set to zero on transmit".
    data[field::AUTH_RESERVED] = 0;
    write_u32(data, field::AUTH_SEQUENCE, sequence);
    data[field::AUTH_DIGEST..field::AUTH_DIGEST + digest.len()].copy_from_slice(digest);
}

fn read_u32(data: &[u8], range: std::ops::Range<usize>) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&data[range]);
    u32::from_be_bytes(bytes)
}

fn write_u32(data: &mut [u8], range: std::ops::Range<usize>, value: u32) {
    data[range].copy_from_slice(&value.to_be_bytes());
}

/// A read/write view of a BFD Control packet: the UDP payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; getters panic if it is shorter than they read.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer`, checking the version and the lengths (see [`Packet::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks, in RFC 5880 6.8.6's order, that the buffer holds a version 1 packet whose
    /// Length is at least the minimum for its A bit and at most the bytes received, and that
    /// the Length covers exactly the mandatory section and the authentication section.
    ///
    /// Bytes after Length are ignored: RFC 5880 6.8.6 discards only a Length greater than the
    /// payload. keepalived also drops a shorter one.
    pub fn check_len(&self) -> Result<(), Error> {
        let payload = self.buffer.as_ref().len();
        if payload < HEADER_LEN {
            return Err(Error::Truncated { need: HEADER_LEN, got: payload });
        }
        // RFC 5880 6.8.6: "If the version number is not correct (1), the packet MUST be
        // discarded."
        if self.version() != VERSION {
            return Err(Error::BadVersion(self.version()));
        }
        let length = self.length();
        // RFC 5880 6.8.6: "If the Length field is less than the minimum correct value (24 if
        // the A bit is clear, or 26 if the A bit is set), the packet MUST be discarded."
        let min = if self.auth_present() { MIN_AUTH_PACKET_LEN } else { HEADER_LEN };
        if usize::from(length) < min {
            return Err(Error::LengthTooShort { length, min });
        }
        // RFC 5880 6.8.6: "If the Length field is greater than the payload of the
        // encapsulating protocol, the packet MUST be discarded."
        if usize::from(length) > payload {
            return Err(Error::LengthExceedsPayload { length, payload });
        }
        let expected = if self.auth_present() { HEADER_LEN + usize::from(self.auth_len()) } else { HEADER_LEN };
        if usize::from(length) != expected {
            return Err(Error::LengthMismatch { length, expected });
        }
        if self.auth_present() {
            check_auth_len(self.auth_type(), self.auth_len())?;
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// The Vers field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERS_DIAG] >> 5
    }

    /// The Diag field.
    pub fn diag(&self) -> Diag {
        Diag::from_bits(self.buffer.as_ref()[field::VERS_DIAG])
    }

    /// The Sta field.
    pub fn state(&self) -> State {
        State::from_bits(self.flags() >> 6)
    }

    /// The Poll bit.
    pub fn poll(&self) -> bool {
        self.flags() & FLAG_POLL != 0
    }

    /// The Final bit.
    pub fn final_flag(&self) -> bool {
        self.flags() & FLAG_FINAL != 0
    }

    /// The Control Plane Independent bit.
    pub fn control_plane_independent(&self) -> bool {
        self.flags() & FLAG_CPI != 0
    }

    /// The Authentication Present bit.
    pub fn auth_present(&self) -> bool {
        self.flags() & FLAG_AUTH != 0
    }

    /// The Demand bit.
    pub fn demand(&self) -> bool {
        self.flags() & FLAG_DEMAND != 0
    }

    /// The Multipoint bit.
    pub fn multipoint(&self) -> bool {
        self.flags() & FLAG_MULTIPOINT != 0
    }

    /// The Detect Mult field.
    pub fn detect_mult(&self) -> u8 {
        self.buffer.as_ref()[field::DETECT_MULT]
    }

    /// The Length field.
    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// My Discriminator: the sender's.
    pub fn my_discriminator(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::MY_DISCR)
    }

    /// Your Discriminator: the receiver's, as the sender knows it, or zero.
    pub fn your_discriminator(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::YOUR_DISCR)
    }

    /// Desired Min TX Interval, in microseconds.
    pub fn desired_min_tx(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::DESIRED_MIN_TX)
    }

    /// Required Min RX Interval, in microseconds.
    pub fn required_min_rx(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::REQUIRED_MIN_RX)
    }

    /// Required Min Echo RX Interval, in microseconds.
    pub fn required_min_echo_rx(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::REQUIRED_MIN_ECHO_RX)
    }

    /// The Auth Type field; only meaningful when [`auth_present`](Self::auth_present).
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// The Auth Len field; only meaningful when [`auth_present`](Self::auth_present).
    pub fn auth_len(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_LEN]
    }

    /// The Auth Key ID field, present in every authentication type.
    pub fn auth_key_id(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_KEY_ID]
    }

    /// Simple password (type 1): the password, as long as Auth Len says.
    pub fn auth_password(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.auth_len());
        &self.buffer.as_ref()[field::AUTH_PASSWORD..end]
    }

    /// Keyed MD5 or SHA1 (types 2 to 5): the sequence number.
    pub fn auth_sequence(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::AUTH_SEQUENCE)
    }

    /// Keyed MD5 or SHA1 (types 2 to 5): the digest or hash, as long as Auth Len says.
    pub fn auth_digest(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.auth_len());
        &self.buffer.as_ref()[field::AUTH_DIGEST..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_flag(&mut self, flag: u8, value: bool) {
        let b = &mut self.buffer.as_mut()[field::FLAGS];
        if value {
            *b |= flag;
        } else {
            *b &= !flag;
        }
    }

    /// Sets the Vers field.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VERS_DIAG];
        *b = (*b & 0x1f) | (version << 5);
    }

    /// Sets the Diag field.
    pub fn set_diag(&mut self, diag: Diag) {
        let b = &mut self.buffer.as_mut()[field::VERS_DIAG];
        *b = (*b & 0xe0) | diag.number();
    }

    /// Sets the Sta field.
    pub fn set_state(&mut self, state: State) {
        let b = &mut self.buffer.as_mut()[field::FLAGS];
        *b = (*b & 0x3f) | (state.number() << 6);
    }

    /// Sets the Poll bit.
    pub fn set_poll(&mut self, value: bool) {
        self.set_flag(FLAG_POLL, value);
    }

    /// Sets the Final bit.
    pub fn set_final_flag(&mut self, value: bool) {
        self.set_flag(FLAG_FINAL, value);
    }

    /// Sets the Control Plane Independent bit.
    pub fn set_control_plane_independent(&mut self, value: bool) {
        self.set_flag(FLAG_CPI, value);
    }

    /// Sets the Authentication Present bit.
    pub fn set_auth_present(&mut self, value: bool) {
        self.set_flag(FLAG_AUTH, value);
    }

    /// Sets the Demand bit.
    pub fn set_demand(&mut self, value: bool) {
        self.set_flag(FLAG_DEMAND, value);
    }

    /// Sets the Multipoint bit.
    pub fn set_multipoint(&mut self, value: bool) {
        self.set_flag(FLAG_MULTIPOINT, value);
    }

    /// Sets the Detect Mult field.
    pub fn set_detect_mult(&mut self, value: u8) {
        self.buffer.as_mut()[field::DETECT_MULT] = value;
    }

    /// Sets the Length field.
    pub fn set_length(&mut self, value: u8) {
        self.buffer.as_mut()[field::LENGTH] = value;
    }

    /// Sets My Discriminator.
    pub fn set_my_discriminator(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::MY_DISCR, value);
    }

    /// Sets Your Discriminator.
    pub fn set_your_discriminator(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::YOUR_DISCR, value);
    }

    /// Sets Desired Min TX Interval, in microseconds.
    pub fn set_desired_min_tx(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::DESIRED_MIN_TX, value);
    }

    /// Sets Required Min RX Interval, in microseconds.
    pub fn set_required_min_rx(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::REQUIRED_MIN_RX, value);
    }

    /// Sets Required Min Echo RX Interval, in microseconds.
    pub fn set_required_min_echo_rx(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::REQUIRED_MIN_ECHO_RX, value);
    }

    /// Writes the authentication section, Auth Type and Auth Len included.
    fn set_auth(&mut self, auth: &Auth) {
        let len = auth.auth_len();
        let data = self.buffer.as_mut();
        data[field::AUTH_TYPE] = auth.type_number();
        data[field::AUTH_LEN] = u8::try_from(len).expect("an authentication section is at most 28 bytes");
        match auth {
            Auth::SimplePassword { key_id, password } => {
                data[field::AUTH_KEY_ID] = *key_id;
                data[field::AUTH_PASSWORD..HEADER_LEN + len].copy_from_slice(password);
            }
            Auth::KeyedMd5 { key_id, sequence, digest, .. } => {
                write_keyed(data, *key_id, *sequence, digest);
            }
            Auth::KeyedSha1 { key_id, sequence, hash, .. } => {
                write_keyed(data, *key_id, *sequence, hash);
            }
        }
    }
}

/// A BFD Control packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Repr {
    /// Why the sender's session last left Up.
    pub diag: Diag,
    /// The sender's session state.
    pub state: State,
    /// Poll: the sender asks for a Final (RFC 5880 6.5).
    pub poll: bool,
    /// Final: the answer to a Poll.
    pub final_flag: bool,
    /// Control Plane Independent.
    pub control_plane_independent: bool,
    /// Demand: the sender wishes to run in Demand mode.
    pub demand: bool,
    /// The sender's detection time multiplier.
    pub detect_mult: u8,
    /// The sender's discriminator, never zero.
    pub my_discriminator: u32,
    /// The receiver's discriminator as the sender knows it, or zero while it does not.
    pub your_discriminator: u32,
    /// The sender's Desired Min TX Interval, in microseconds.
    pub desired_min_tx: u32,
    /// The sender's Required Min RX Interval, in microseconds.
    pub required_min_rx: u32,
    /// The sender's Required Min Echo RX Interval, in microseconds; zero: no Echo packets.
    pub required_min_echo_rx: u32,
    /// The authentication section, present when the A bit is set.
    pub auth: Option<Auth>,
}

impl Repr {
    /// Reads a checked packet and applies the reception checks of RFC 5880 6.8.6 that need no
    /// session (see the module documentation).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        packet.check_len()?;
        let auth = if packet.auth_present() {
            let key_id = packet.auth_key_id();
            Some(match packet.auth_type() {
                1 => Auth::SimplePassword { key_id, password: packet.auth_password().to_vec() },
                kind @ (2 | 3) => {
                    let mut digest = [0u8; 16];
                    digest.copy_from_slice(packet.auth_digest());
                    Auth::KeyedMd5 { meticulous: kind == 3, key_id, sequence: packet.auth_sequence(), digest }
                }
                kind @ (4 | 5) => {
                    let mut hash = [0u8; 20];
                    hash.copy_from_slice(packet.auth_digest());
                    Auth::KeyedSha1 { meticulous: kind == 5, key_id, sequence: packet.auth_sequence(), hash }
                }
                other => return Err(Error::BadAuthType(other)),
            })
        } else {
            None
        };
        // RFC 5880 6.8.6 checks Detect Mult before the Multipoint bit, which the
        // representation does not carry.
        if packet.detect_mult() == 0 {
            return Err(Error::ZeroDetectMult);
        }
        // RFC 5880 6.8.6: "If the Multipoint (M) bit is nonzero, the packet MUST be discarded."
        if packet.multipoint() {
            return Err(Error::Multipoint);
        }
        let repr = Repr {
            diag: packet.diag(),
            state: packet.state(),
            poll: packet.poll(),
            final_flag: packet.final_flag(),
            control_plane_independent: packet.control_plane_independent(),
            demand: packet.demand(),
            detect_mult: packet.detect_mult(),
            my_discriminator: packet.my_discriminator(),
            your_discriminator: packet.your_discriminator(),
            desired_min_tx: packet.desired_min_tx(),
            required_min_rx: packet.required_min_rx(),
            required_min_echo_rx: packet.required_min_echo_rx(),
            auth,
        };
        repr.check()?;
        Ok(repr)
    }

    /// The checks of RFC 5880 6.8.6 on the fields, shared by parse and emit so that whatever
    /// is emitted parses.
    fn check(&self) -> Result<(), Error> {
        // RFC 5880 6.8.6: "If the Detect Mult field is zero, the packet MUST be discarded."
        if self.detect_mult == 0 {
            return Err(Error::ZeroDetectMult);
        }
        // RFC 5880 6.8.6: "If the My Discriminator field is zero, the packet MUST be
        // discarded."
        if self.my_discriminator == 0 {
            return Err(Error::ZeroMyDiscriminator);
        }
        // RFC 5880 6.8.6: "If the Your Discriminator field is zero and the State field is not
        // Down or AdminDown, the packet MUST be discarded."
        if self.your_discriminator == 0 && !matches!(self.state, State::Down | State::AdminDown) {
            return Err(Error::ZeroYourDiscriminator { state: self.state });
        }
        // RFC 5880 6.5: "A BFD Control packet MUST NOT have both the Poll (P) and Final (F)
        // bits set."
        if self.poll && self.final_flag {
            return Err(Error::PollAndFinal);
        }
        if let Diag::Other(code) = self.diag {
            if !(9..=31).contains(&code) {
                return Err(Error::BadDiag(code));
            }
        }
        if let Some(Auth::SimplePassword { password, .. }) = &self.auth {
            if !(1..=MAX_PASSWORD_LEN).contains(&password.len()) {
                return Err(Error::BadPasswordLen(password.len()));
            }
        }
        Ok(())
    }

    /// Bytes the packet needs.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.auth.as_ref().map_or(0, Auth::auth_len)
    }

    /// Writes the packet into the first [`Repr::buffer_len`] bytes of `packet`, with version 1
    /// and the Multipoint bit clear (RFC 5880 4.1: "MUST be zero on transmit"). Fails, writing
    /// nothing, if the representation would not pass [`Repr::parse`] or the buffer is short.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<(), Error> {
        self.check()?;
        let len = self.buffer_len();
        let got = packet.buffer.as_ref().len();
        if got < len {
            return Err(Error::Truncated { need: len, got });
        }
        packet.buffer.as_mut()[..len].fill(0);
        packet.set_version(VERSION);
        packet.set_diag(self.diag);
        packet.set_state(self.state);
        packet.set_poll(self.poll);
        packet.set_final_flag(self.final_flag);
        packet.set_control_plane_independent(self.control_plane_independent);
        packet.set_auth_present(self.auth.is_some());
        packet.set_demand(self.demand);
        packet.set_multipoint(false);
        packet.set_detect_mult(self.detect_mult);
        packet.set_length(u8::try_from(len).expect("a BFD Control packet is at most 24 + 28 bytes"));
        packet.set_my_discriminator(self.my_discriminator);
        packet.set_your_discriminator(self.your_discriminator);
        packet.set_desired_min_tx(self.desired_min_tx);
        packet.set_required_min_rx(self.required_min_rx);
        packet.set_required_min_echo_rx(self.required_min_echo_rx);
        if let Some(auth) = &self.auth {
            packet.set_auth(auth);
        }
        Ok(())
    }

    /// Emits into a new vector of [`Repr::buffer_len`] bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]))?;
        Ok(bytes)
    }

    /// Checks and parses a UDP payload.
    pub fn from_bytes(bytes: &[u8]) -> Result<Repr, Error> {
        Repr::parse(&Packet::new_checked(bytes)?)
    }
}

#[cfg(test)]
mod tests;
