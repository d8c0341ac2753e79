//! Properties of the wire layer over many generated inputs, from a seeded generator (the
//! workspace has no property-testing crate; the fuzz target covers the same ground without
//! bounds):
//!
//! * parsing never panics, whatever the bytes;
//! * what parses emits again, to the same bytes up to Length (the one exception: the reserved
//!   byte of a Keyed MD5 or SHA1 section, ignored on receipt and sent as zero), and parses
//!   back to the same representation;
//! * every valid representation emits bytes that parse back to it.

use vigil_bfd::wire::{Auth, Diag, Packet, Repr, State, HEADER_LEN};

/// Marsaglia's xorshift64: reproducible from the seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }

    fn word(&mut self) -> u32 {
        u32::try_from(self.next() >> 32).expect("32 bits")
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A u32 that is often one of the values the rules care about.
    fn interesting_word(&mut self) -> u32 {
        match self.below(6) {
            0 => 0,
            1 => 1,
            2 => u32::MAX,
            3 => 10_000,
            4 => 1_000_000,
            _ => self.word(),
        }
    }
}

/// A representation that satisfies every rule of RFC 5880 6.8.6.
fn valid_repr(rng: &mut XorShift) -> Repr {
    let state = State::from_bits(rng.byte());
    let (poll, final_flag) = match rng.below(3) {
        0 => (true, false),
        1 => (false, true),
        _ => (false, false),
    };
    let your_discriminator = match state {
        State::Down | State::AdminDown if rng.chance(50) => 0,
        _ => rng.word().max(1),
    };
    let auth = match rng.below(5) {
        0 => {
            let len = 1 + usize::try_from(rng.below(16)).expect("small");
            Some(Auth::SimplePassword { key_id: rng.byte(), password: (0..len).map(|_| rng.byte()).collect() })
        }
        1 => Some(Auth::KeyedMd5 {
            meticulous: rng.chance(50),
            key_id: rng.byte(),
            sequence: rng.word(),
            digest: std::array::from_fn(|_| rng.byte()),
        }),
        2 => Some(Auth::KeyedSha1 {
            meticulous: rng.chance(50),
            key_id: rng.byte(),
            sequence: rng.word(),
            hash: std::array::from_fn(|_| rng.byte()),
        }),
        _ => None,
    };
    Repr {
        diag: Diag::from_bits(rng.byte()),
        state,
        poll,
        final_flag,
        control_plane_independent: rng.chance(20),
        demand: rng.chance(20),
        detect_mult: rng.byte().max(1),
        my_discriminator: rng.word().max(1),
        your_discriminator,
        desired_min_tx: rng.interesting_word(),
        required_min_rx: rng.interesting_word(),
        required_min_echo_rx: rng.interesting_word(),
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
    let mut rng = XorShift(0x1234_5678_9abc_def1);
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
    let mut rng = XorShift(0x0fed_cba9_8765_4321);
    let (mut parsed, mut refused) = (0u32, 0u32);
    for _ in 0..50_000 {
        let mut bytes = valid_repr(&mut rng).to_bytes().expect("valid");
        for _ in 0..=rng.below(3) {
            let at = usize::try_from(rng.below(bytes.len() as u64)).expect("small");
            bytes[at] ^= 1 << rng.below(8);
        }
        match rng.below(4) {
            0 => bytes.truncate(usize::try_from(rng.below(bytes.len() as u64 + 1)).expect("small")),
            1 => bytes.extend((0..rng.below(8)).map(|_| rng.byte())),
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
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    for _ in 0..50_000 {
        let len = usize::try_from(rng.below(64)).expect("small");
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        // Version 1 often enough to get past the first check.
        if !bytes.is_empty() && rng.chance(75) {
            bytes[0] = (bytes[0] & 0x1f) | 0x20;
        }
        check_bytes(&bytes);
    }
}
