//! Properties of the wire layer over many generated inputs, from a seeded generator (the
//! workspace has no property-testing crate; the fuzz target covers the same ground without
//! bounds):
//!
//! * parsing never panics, whatever the bytes;
//! * what parses emits again, to the same bytes up to Length (the one exception: the reserved
//!   byte of a Keyed MD5 or SHA1 section, ignored on receipt and sent as zero), and parses
//!   back to the same representation;
//! * every valid representation emits bytes that parse back to it.

use fastrand::Rng;
use vigil_bfd::wire::{Auth, Diag, Packet, Repr, State, HEADER_LEN};

fn chance(rng: &mut Rng, percent: u8) -> bool {
    rng.u8(..100) < percent
}

/// A u32 that is often one of the values the rules care about.
fn interesting_word(rng: &mut Rng) -> u32 {
    match rng.u8(..6) {
        0 => 0,
        1 => 1,
        2 => u32::MAX,
        3 => 10_000,
        4 => 1_000_000,
        _ => rng.u32(..),
    }
}

/// A representation that satisfies every rule of RFC 5880 6.8.6.
fn valid_repr(rng: &mut Rng) -> Repr {
    let state = State::from_bits(rng.u8(..));
    let (poll, final_flag) = match rng.u8(..3) {
        0 => (true, false),
        1 => (false, true),
        _ => (false, false),
    };
    let your_discriminator = match state {
        State::Down | State::AdminDown if rng.bool() => 0,
        _ => rng.u32(1..),
    };
    let auth = match rng.u8(..5) {
        0 => {
            let len = rng.usize(1..=16);
            Some(Auth::SimplePassword { key_id: rng.u8(..), password: (0..len).map(|_| rng.u8(..)).collect() })
        }
        1 => Some(Auth::KeyedMd5 {
            meticulous: rng.bool(),
            key_id: rng.u8(..),
            sequence: rng.u32(..),
            digest: std::array::from_fn(|_| rng.u8(..)),
        }),
        2 => Some(Auth::KeyedSha1 {
            meticulous: rng.bool(),
            key_id: rng.u8(..),
            sequence: rng.u32(..),
            hash: std::array::from_fn(|_| rng.u8(..)),
        }),
        _ => None,
    };
    Repr {
        diag: Diag::from_bits(rng.u8(..)),
        state,
        poll,
        final_flag,
        control_plane_independent: chance(rng, 20),
        demand: chance(rng, 20),
        detect_mult: rng.u8(1..),
        my_discriminator: rng.u32(1..),
        your_discriminator,
        desired_min_tx: interesting_word(rng),
        required_min_rx: interesting_word(rng),
        required_min_echo_rx: interesting_word(rng),
        auth,
    }
}

/// Parses `bytes`; if they parse, checks the emit and round-trip properties.
fn check_bytes(bytes: &[u8]) -> bool {
    let Ok(packet) = Packet::new_checked(bytes) else { return false };
    let Ok(repr) = Repr::parse(&packet) else { return false };
    let emitted = repr.to_bytes().unwrap_or_else(|e| panic!("parsed {repr:?} but emit failed: {e}"));
    let length = usize::from(packet.length());
    let mut expected = bytes[..length].to_vec();
    if matches!(repr.auth, Some(Auth::KeyedMd5 { .. } | Auth::KeyedSha1 { .. })) {
        expected[HEADER_LEN + 3] = 0;
    }
    assert_eq!(emitted, expected, "{repr:?}");
    assert_eq!(Repr::from_bytes(&emitted), Ok(repr));
    true
}

#[test]
fn valid_reprs_round_trip() {
    let mut rng = Rng::with_seed(0x1234_5678_9abc_def1);
    for _ in 0..20_000 {
        let repr = valid_repr(&mut rng);
        let bytes = repr.to_bytes().unwrap_or_else(|e| panic!("{repr:?}: {e}"));
        assert_eq!(bytes.len(), repr.buffer_len());
        assert_eq!(Repr::from_bytes(&bytes), Ok(repr));
        assert!(check_bytes(&bytes));
    }
}

#[test]
fn mutated_packets_never_panic_and_round_trip_when_valid() {
    let mut rng = Rng::with_seed(0x0fed_cba9_8765_4321);
    let (mut parsed, mut refused) = (0u32, 0u32);
    for _ in 0..50_000 {
        let mut bytes = valid_repr(&mut rng).to_bytes().expect("valid");
        for _ in 0..=rng.u8(..3) {
            let at = rng.usize(..bytes.len());
            bytes[at] ^= 1 << rng.u8(..8);
        }
        match rng.u8(..4) {
            0 => bytes.truncate(rng.usize(..=bytes.len())),
            1 => bytes.extend((0..rng.u8(..8)).map(|_| rng.u8(..))),
            _ => {}
        }
        if check_bytes(&bytes) {
            parsed += 1;
        } else {
            refused += 1;
        }
    }
    // Both sides of every check were reached.
    assert!(parsed > 5_000 && refused > 5_000, "parsed {parsed}, refused {refused}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::with_seed(0xdead_beef_cafe_f00d);
    for _ in 0..50_000 {
        let len = rng.usize(..64);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        // Version 1 often enough to get past the first check.
        if !bytes.is_empty() && chance(&mut rng, 75) {
            bytes[0] = (bytes[0] & 0x1f) | 0x20;
        }
        check_bytes(&bytes);
    }
}
