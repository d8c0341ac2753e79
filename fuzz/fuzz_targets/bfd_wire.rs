//! Fuzz target: the BFD wire layer (`vigil_bfd::wire`) must never panic, whatever the bytes.
//! What parses must emit again, to the same bytes up to its Length field (except the reserved
//! byte of a Keyed MD5 or SHA1 section, which is sent as zero), and parse back to the same
//! representation. The parsed packet is then handed to a session, which must not panic
//! either, and whose own packets must emit. The raw bytes also go through a daemon's table of
//! sessions (`vigil_bfd::sessions`), which must drop or take them without panicking.
#![no_main]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use vigil_bfd::fsm::{Action, Config, Input, Session};
use vigil_bfd::sessions::{Peer, Sessions};
use vigil_bfd::wire::{Auth, Packet, Repr, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    // The fuzzer needs some instant; only offsets from it are used.
    let start = Instant::now();
    let neighbor = IpAddr::from([192, 0, 2, 2]);
    let mut sessions = Sessions::new(1);
    sessions.set(start, vec![Peer::new("peer", neighbor)]);
    let _ = sessions.receive(start, neighbor, None, Some(255), data);
    sessions.handle_timeout(start + Duration::from_secs(10));
    while sessions.poll_output().is_some() {}

    let Ok(packet) = Packet::new_checked(data) else { return };
    let Ok(repr) = Repr::parse(&packet) else { return };
    let emitted = repr.to_bytes().expect("what parses emits");
    let mut expected = data[..usize::from(packet.length())].to_vec();
    if matches!(repr.auth, Some(Auth::KeyedMd5 { .. } | Auth::KeyedSha1 { .. })) {
        expected[HEADER_LEN + 3] = 0;
    }
    assert_eq!(emitted, expected);
    assert_eq!(Repr::from_bytes(&emitted), Ok(repr.clone()));

    let mut session = Session::new(Config::new(repr.your_discriminator.max(1), 1), start).expect("valid config");
    let _ = session.handle(start, Input::Received { packet: repr, ttl: Some(255) });
    let _ = session.handle(start + Duration::from_secs(10), Input::Timeout);
    while let Some(action) = session.poll_action() {
        if let Action::Send(packet) = action {
            packet.to_bytes().expect("the session builds valid packets");
        }
    }
});
