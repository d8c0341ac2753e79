//! The captured packets come from keepalived 2.2.7's BFD process in a throwaway network
//! namespace with a veth to a second namespace (192.0.2.1 and 192.0.2.2), configured with:
//!
//! ```text
//! bfd_instance peer {
//!     neighbor_ip 192.0.2.2
//!     source_ip 192.0.2.1
//!     min_rx 10
//!     min_tx 10
//!     idle_tx 1000
//!     multiplier 3
//! }
//! ```
//!
//! The other namespace played the peer with a small UDP script bound to 192.0.2.2:3784 (TTL
//! 255, discriminator 0x11223344): it answered Down with Down, Init with Up, and the Poll with
//! a Final, then fell silent. It recorded each UDP payload keepalived sent (all with TTL 255),
//! and keepalived logged `(peer) Entering Up state`, then `(peer) Expired after 30 ms`. The
//! constants are those payloads, in the order they came.

use super::*;

/// keepalived's first packet: Down, no diagnostic, Detect Mult 3, Length 24, My Discriminator
/// 0xb912db38, Your Discriminator 0 (nothing heard yet), Desired Min TX 1 s (idle_tx, RFC 5880
/// 6.8.3's floor while not Up), Required Min RX 10 ms, no Echo.
const KA_DOWN: [u8; 24] = [
    0x20, 0x40, 0x03, 0x18, 0xb9, 0x12, 0xdb, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00,
];

/// After the peer's Down: Init, Your Discriminator the peer's.
const KA_INIT: [u8; 24] = [
    0x20, 0x80, 0x03, 0x18, 0xb9, 0x12, 0xdb, 0x38, 0x11, 0x22, 0x33, 0x44, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00,
];

/// After the peer's Up: Up with Poll, Desired Min TX now min_tx, 10 ms.
const KA_UP_POLL: [u8; 24] = [
    0x20, 0xe0, 0x03, 0x18, 0xb9, 0x12, 0xdb, 0x38, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00,
];

/// After the peer's Final: Up.
const KA_UP: [u8; 24] = [
    0x20, 0xc0, 0x03, 0x18, 0xb9, 0x12, 0xdb, 0x38, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00,
];

/// 30 ms after the peer fell silent: Down with diagnostic 1, a new discriminator (keepalived
/// draws one when a session leaves Up) and Your Discriminator cleared (RFC 5880 6.8.1).
const KA_DOWN_EXPIRED: [u8; 24] = [
    0x21, 0x40, 0x03, 0x18, 0xf1, 0x62, 0xcb, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00,
];

/// Built by hand (keepalived sends no authentication): [`KA_UP`] with the A bit (byte 1:
/// 0xc0 | 0x04) and a simple password section (RFC 5880 4.2): Auth Type 1, Auth Len 3 + 6,
/// Key ID 7, "secret"; Length 24 + 9 = 33 (0x21).
const SIMPLE_PASSWORD: [u8; 33] = [
    0x20, 0xc4, 0x03, 0x21, 0xb9, 0x12, 0xdb, 0x38, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x27,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x01, 0x09, 0x07, b's', b'e', b'c', b'r', b'e', b't',
];

fn repr(state: State, your: u32, desired_min_tx: u32) -> Repr {
    Repr {
        diag: Diag::NoDiagnostic,
        state,
        poll: false,
        final_flag: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: 0xb912_db38,
        your_discriminator: your,
        desired_min_tx,
        required_min_rx: 10_000,
        required_min_echo_rx: 0,
        auth: None,
    }
}

fn md5_repr() -> Repr {
    Repr {
        auth: Some(Auth::KeyedMd5 { meticulous: true, key_id: 2, sequence: 0x0102_0304, digest: [0xaa; 16] }),
        ..repr(State::Up, 0x1122_3344, 10_000)
    }
}

fn sha1_repr() -> Repr {
    Repr {
        auth: Some(Auth::KeyedSha1 { meticulous: false, key_id: 9, sequence: 42, hash: [0x5a; 20] }),
        ..repr(State::Up, 0x1122_3344, 10_000)
    }
}

/// The captures and the hand-built password packet with their representations.
fn goldens() -> Vec<(&'static [u8], Repr)> {
    vec![
        (&KA_DOWN, repr(State::Down, 0, 1_000_000)),
        (&KA_INIT, repr(State::Init, 0x1122_3344, 1_000_000)),
        (&KA_UP_POLL, Repr { poll: true, ..repr(State::Up, 0x1122_3344, 10_000) }),
        (&KA_UP, repr(State::Up, 0x1122_3344, 10_000)),
        (
            &KA_DOWN_EXPIRED,
            Repr {
                diag: Diag::ControlDetectionTimeExpired,
                my_discriminator: 0xf162_cb0b,
                ..repr(State::Down, 0, 1_000_000)
            },
        ),
        (
            &SIMPLE_PASSWORD,
            Repr {
                auth: Some(Auth::SimplePassword { key_id: 7, password: b"secret".to_vec() }),
                ..repr(State::Up, 0x1122_3344, 10_000)
            },
        ),
    ]
}

/// Rewrites byte `at` of `bytes`.
fn with(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    copy[at] = value;
    copy
}

#[test]
fn parse_golden() {
    for (bytes, expected) in goldens() {
        assert_eq!(Repr::from_bytes(bytes), Ok(expected));
    }
}

#[test]
fn emit_golden() {
    for (bytes, repr) in goldens() {
        assert_eq!(repr.to_bytes().as_deref(), Ok(bytes));
        assert_eq!(repr.buffer_len(), bytes.len());
    }
}

#[test]
fn getters_on_captured() {
    let packet = Packet::new_checked(&KA_UP_POLL[..]).expect("valid");
    assert_eq!((packet.version(), packet.diag(), packet.state()), (1, Diag::NoDiagnostic, State::Up));
    assert_eq!((packet.poll(), packet.final_flag(), packet.control_plane_independent()), (true, false, false));
    assert_eq!((packet.auth_present(), packet.demand(), packet.multipoint()), (false, false, false));
    assert_eq!((packet.detect_mult(), packet.length()), (3, 24));
    assert_eq!((packet.my_discriminator(), packet.your_discriminator()), (0xb912_db38, 0x1122_3344));
    assert_eq!((packet.desired_min_tx(), packet.required_min_rx(), packet.required_min_echo_rx()), (10_000, 10_000, 0));
    assert_eq!(packet.into_inner().len(), 24);

    let packet = Packet::new_checked(&SIMPLE_PASSWORD[..]).expect("valid");
    assert_eq!((packet.auth_type(), packet.auth_len(), packet.auth_key_id()), (1, 9, 7));
    assert_eq!(packet.auth_password(), b"secret");
}

#[test]
fn setters_write_their_field_only() {
    let mut bytes = KA_UP;
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    packet.set_diag(Diag::PathDown);
    packet.set_state(State::AdminDown);
    packet.set_final_flag(true);
    packet.set_demand(true);
    packet.set_multipoint(true);
    packet.set_control_plane_independent(true);
    assert_eq!(packet.version(), 1);
    assert_eq!((packet.diag(), packet.state()), (Diag::PathDown, State::AdminDown));
    assert_eq!((packet.poll(), packet.final_flag(), packet.demand(), packet.multipoint()), (false, true, true, true));
    assert_eq!(packet.detect_mult(), 3);
    packet.set_version(7);
    assert_eq!((packet.version(), packet.diag()), (7, Diag::PathDown));
    assert_eq!(bytes[..2], [0xe5, 0x1b]);
}

#[test]
fn keyed_md5_and_sha1_sections() {
    // RFC 5880 4.3: Auth Type 3 (meticulous MD5), Auth Len 24, Key ID 2, reserved 0, sequence
    // 0x01020304, 16 digest bytes; Length 24 + 24 = 48.
    let bytes = md5_repr().to_bytes().expect("valid");
    assert_eq!(bytes.len(), 48);
    assert_eq!(bytes[1] & 0x04, 0x04);
    assert_eq!(bytes[3], 48);
    assert_eq!(bytes[24..32], [3, 24, 2, 0, 1, 2, 3, 4]);
    assert_eq!(bytes[32..], [0xaa; 16]);
    assert_eq!(Repr::from_bytes(&bytes), Ok(md5_repr()));
    let packet = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((packet.auth_sequence(), packet.auth_digest()), (0x0102_0304, &[0xaa; 16][..]));

    // RFC 5880 4.4: Auth Type 4 (SHA1), Auth Len 28, Key ID 9, reserved 0, sequence 42, 20
    // hash bytes; Length 24 + 28 = 52.
    let bytes = sha1_repr().to_bytes().expect("valid");
    assert_eq!(bytes.len(), 52);
    assert_eq!(bytes[24..32], [4, 28, 9, 0, 0, 0, 0, 42]);
    assert_eq!(Repr::from_bytes(&bytes), Ok(sha1_repr()));

    // RFC 5880 4.3: the reserved byte is ignored on receipt.
    let mut bytes = md5_repr().to_bytes().expect("valid");
    bytes[27] = 0xff;
    assert_eq!(Repr::from_bytes(&bytes), Ok(md5_repr()));
}

#[test]
fn auth_type_numbers() {
    let types: Vec<u8> = [
        Auth::SimplePassword { key_id: 0, password: vec![1] },
        Auth::KeyedMd5 { meticulous: false, key_id: 0, sequence: 0, digest: [0; 16] },
        Auth::KeyedMd5 { meticulous: true, key_id: 0, sequence: 0, digest: [0; 16] },
        Auth::KeyedSha1 { meticulous: false, key_id: 0, sequence: 0, hash: [0; 20] },
        Auth::KeyedSha1 { meticulous: true, key_id: 0, sequence: 0, hash: [0; 20] },
    ]
    .iter()
    .map(Auth::type_number)
    .collect();
    assert_eq!(types, [1, 2, 3, 4, 5]);
}

#[test]
fn truncated_at_every_length() {
    for (bytes, _) in goldens() {
        for n in 0..bytes.len() {
            assert!(Packet::new_checked(&bytes[..n]).is_err(), "accepted {n} of {} bytes", bytes.len());
        }
    }
    assert_eq!(Packet::new_checked(&KA_UP[..23]), Err(Error::Truncated { need: 24, got: 23 }));
    // RFC 5880 6.8.6: Length greater than the payload.
    assert_eq!(
        Packet::new_checked(&SIMPLE_PASSWORD[..32]),
        Err(Error::LengthExceedsPayload { length: 33, payload: 32 })
    );
}

#[test]
fn bytes_after_length_are_ignored() {
    // RFC 5880 6.8.6 discards only a Length greater than the payload.
    let mut bytes = KA_UP.to_vec();
    bytes.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(Repr::from_bytes(&bytes), Ok(repr(State::Up, 0x1122_3344, 10_000)));
}

/// RFC 5880 6.8.6, one row per rule, in its order.
#[test]
fn reception_checks() {
    let rows: Vec<(&str, Vec<u8>, Error)> = vec![
        ("version 0", with(&KA_UP, 0, 0x00), Error::BadVersion(0)),
        ("version 2", with(&KA_UP, 0, 0x40), Error::BadVersion(2)),
        ("length below 24", with(&KA_UP, 3, 23), Error::LengthTooShort { length: 23, min: 24 }),
        ("length 0", with(&KA_UP, 3, 0), Error::LengthTooShort { length: 0, min: 24 }),
        ("A set, length below 26", with(&KA_UP, 1, 0xc4), Error::LengthTooShort { length: 24, min: 26 }),
        ("length past the payload", with(&KA_UP, 3, 25), Error::LengthExceedsPayload { length: 25, payload: 24 }),
        ("detect mult 0", with(&KA_UP, 2, 0), Error::ZeroDetectMult),
        ("multipoint", with(&KA_UP, 1, 0xc1), Error::Multipoint),
        (
            "my discriminator 0",
            {
                let mut b = KA_UP.to_vec();
                b[4..8].fill(0);
                b
            },
            Error::ZeroMyDiscriminator,
        ),
        (
            "your discriminator 0 in Up",
            {
                let mut b = KA_UP.to_vec();
                b[8..12].fill(0);
                b
            },
            Error::ZeroYourDiscriminator { state: State::Up },
        ),
        (
            "your discriminator 0 in Init",
            {
                let mut b = KA_INIT.to_vec();
                b[8..12].fill(0);
                b
            },
            Error::ZeroYourDiscriminator { state: State::Init },
        ),
        ("poll and final", with(&KA_UP, 1, 0xf0), Error::PollAndFinal),
    ];
    for (name, bytes, error) in rows {
        assert_eq!(Repr::from_bytes(&bytes), Err(error), "{name}");
    }
    // Your Discriminator 0 is fine in Down (captured) and AdminDown.
    let admin_down = with(&KA_DOWN, 1, 0x00);
    assert_eq!(Repr::from_bytes(&admin_down).map(|r| r.state), Ok(State::AdminDown));
}

#[test]
fn auth_section_shape() {
    // Length must be 24 + Auth Len.
    let mut bytes = SIMPLE_PASSWORD.to_vec();
    bytes[25] = 8;
    assert_eq!(Repr::from_bytes(&bytes), Err(Error::LengthMismatch { length: 33, expected: 32 }));
    // Without the A bit, Length must be 24.
    let mut bytes = SIMPLE_PASSWORD.to_vec();
    bytes[1] = 0xc0;
    assert_eq!(Repr::from_bytes(&bytes), Err(Error::LengthMismatch { length: 33, expected: 24 }));
    // Undefined types.
    for auth_type in [0u8, 6, 255] {
        let bytes = with(&SIMPLE_PASSWORD, 24, auth_type);
        assert_eq!(Repr::from_bytes(&bytes), Err(Error::BadAuthType(auth_type)), "type {auth_type}");
    }
    // RFC 5880 4.3, 4.4: MD5 needs Auth Len 24 and SHA1 28; a 9-byte section fits neither.
    for auth_type in [2u8, 3, 4, 5] {
        let bytes = with(&SIMPLE_PASSWORD, 24, auth_type);
        assert_eq!(Repr::from_bytes(&bytes), Err(Error::BadAuthLen { auth_type, auth_len: 9 }));
    }
    // RFC 5880 4.2: a password of 17 bytes (Auth Len 20) is too long.
    let mut bytes = SIMPLE_PASSWORD[..24].to_vec();
    bytes[3] = 44;
    bytes.extend_from_slice(&[1, 20, 7]);
    bytes.extend_from_slice(&[b'x'; 17]);
    assert_eq!(Repr::from_bytes(&bytes), Err(Error::BadAuthLen { auth_type: 1, auth_len: 20 }));
    // An empty password (Auth Len 3) too.
    let mut bytes = SIMPLE_PASSWORD[..27].to_vec();
    bytes[3] = 27;
    bytes[25] = 3;
    assert_eq!(Repr::from_bytes(&bytes), Err(Error::BadAuthLen { auth_type: 1, auth_len: 3 }));
}

#[test]
fn emit_refuses_what_parse_would_refuse() {
    let up = repr(State::Up, 0x1122_3344, 10_000);
    let rows = [
        (Repr { detect_mult: 0, ..up.clone() }, Error::ZeroDetectMult),
        (Repr { my_discriminator: 0, ..up.clone() }, Error::ZeroMyDiscriminator),
        (Repr { your_discriminator: 0, ..up.clone() }, Error::ZeroYourDiscriminator { state: State::Up }),
        (Repr { poll: true, final_flag: true, ..up.clone() }, Error::PollAndFinal),
        (Repr { diag: Diag::Other(3), ..up.clone() }, Error::BadDiag(3)),
        (Repr { diag: Diag::Other(32), ..up.clone() }, Error::BadDiag(32)),
        (
            Repr { auth: Some(Auth::SimplePassword { key_id: 1, password: vec![] }), ..up.clone() },
            Error::BadPasswordLen(0),
        ),
        (
            Repr { auth: Some(Auth::SimplePassword { key_id: 1, password: vec![0; 17] }), ..up.clone() },
            Error::BadPasswordLen(17),
        ),
    ];
    for (repr, error) in rows {
        assert_eq!(repr.to_bytes(), Err(error), "{repr:?}");
    }
    let mut short = [0u8; 23];
    assert_eq!(up.emit(&mut Packet::new_unchecked(&mut short[..])), Err(Error::Truncated { need: 24, got: 23 }));
    assert_eq!(short, [0; 23], "a failed emit writes nothing");
}

#[test]
fn emit_into_a_larger_buffer_uses_its_start() {
    let mut buf = [0xffu8; 64];
    repr(State::Up, 0x1122_3344, 10_000).emit(&mut Packet::new_unchecked(&mut buf[..])).expect("fits");
    assert_eq!(buf[..24], KA_UP);
    assert_eq!(buf[24..], [0xff; 40]);
}

#[test]
fn diag_and_state_codes() {
    for code in 0..32u8 {
        assert_eq!(Diag::from_bits(code).number(), code);
    }
    assert_eq!(Diag::from_bits(9), Diag::Other(9));
    assert_eq!(Diag::from_bits(0x21), Diag::ControlDetectionTimeExpired);
    for bits in 0..4u8 {
        assert_eq!(State::from_bits(bits).number(), bits);
    }
    // keepalived's strings (BFD_STATE_STR, BFD_DIAG_STR).
    assert_eq!(State::AdminDown.to_string(), "AdminDown");
    assert_eq!(Diag::NeighborSignaledSessionDown.to_string(), "Neighbor Signaled Session Down");
    assert_eq!(Diag::Other(12).to_string(), "Unknown");
    // An unassigned diagnostic is carried through (keepalived would drop it).
    let bytes = with(&KA_UP, 0, 0x20 | 12);
    assert_eq!(Repr::from_bytes(&bytes).map(|r| r.diag), Ok(Diag::Other(12)));
}

#[test]
fn repr_round_trips_through_json() {
    for (_, repr) in goldens().into_iter().chain([(&[][..], md5_repr()), (&[][..], sha1_repr())]) {
        let json = serde_json::to_string(&repr).expect("serializable");
        assert_eq!(serde_json::from_str::<Repr>(&json).expect("deserializable"), repr);
    }
}
