//! Golden cases for the session table: demultiplexing (RFC 5880 6.8.6), reloads, and the
//! lines keepalived's BFD process logs, with two tables talking over a lossless virtual link.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::{Dropped, Output, Peer, Sessions};
use crate::fsm::Params;
use crate::wire::{Repr, State};

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("a literal address")
}

fn fast(name: &str, neighbor: &str) -> Peer {
    let mut p = Peer::new(name, ip(neighbor));
    p.params = Params { desired_min_tx: 10_000, required_min_rx: 10_000, idle_tx: 1_000_000, detect_mult: 3 };
    p
}

/// Two hosts, each with its table, and what each logged.
struct Link {
    now: Instant,
    a: Sessions,
    b: Sessions,
    logs: Vec<(char, String)>,
    changes: Vec<(char, String, State)>,
    /// How long before an expiry took each side's session down its neighbour's first missing
    /// packet was due.
    missed: Vec<(char, Duration)>,
    /// While false, nothing B sends reaches A.
    b_to_a: bool,
}

impl Link {
    #[allow(clippy::disallowed_methods)] // the virtual clock needs an origin
    fn new() -> Link {
        let now = Instant::now();
        let mut a = Sessions::new(1);
        let mut b = Sessions::new(2);
        assert!(a.set(now, vec![fast("peer", B)]).is_empty());
        assert!(b.set(now, vec![fast("peer", A)]).is_empty());
        Link { now, a, b, logs: Vec::new(), changes: Vec::new(), missed: Vec::new(), b_to_a: true }
    }

    /// Runs the virtual clock for `d`, delivering every packet at once.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.deliver();
            let next = [self.a.poll_timeout(), self.b.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = end;
    }

    fn deliver(&mut self) {
        loop {
            let mut moved = false;
            while let Some(out) = self.a.poll_output() {
                moved = true;
                self.take('a', out);
            }
            while let Some(out) = self.b.poll_output() {
                moved = true;
                self.take('b', out);
            }
            if !moved {
                return;
            }
        }
    }

    fn take(&mut self, side: char, out: Output) {
        match out {
            Output::Transmit { to, packet, ttl, .. } => {
                assert_eq!(ttl, 255);
                let (dst, from) = if side == 'a' { (&mut self.b, ip(A)) } else { (&mut self.a, ip(B)) };
                assert_eq!(to, if side == 'a' { ip(B) } else { ip(A) });
                if side == 'b' && !self.b_to_a {
                    return;
                }
                dst.receive(self.now, from, Some(to), Some(255), &packet).expect("accepted");
            }
            Output::Log { line, .. } => self.logs.push((side, line)),
            Output::Changed { name, transition, missed_for } => {
                self.changes.push((side, name, transition.to));
                self.missed.extend(missed_for.map(|d| (side, d)));
            }
        }
    }
}

#[test]
fn two_tables_come_up_and_log_as_keepalived() {
    let mut link = Link::new();
    link.run(Duration::from_secs(3));
    assert_eq!((link.a.state("peer"), link.b.state("peer")), (Some(State::Up), Some(State::Up)));
    assert!(link.logs.contains(&('a', "(peer) Entering Up state".to_string())), "{:?}", link.logs);
    assert!(link.logs.iter().any(|(s, l)| *s == 'a' && l == "       Detection time is 30000 us (was 3000000 us)"));
    let view = &link.a.views()[0];
    assert_eq!((view.tx_interval_us, view.detection_time_us), (10_000, Some(30_000)));
    assert_ne!(view.local_discriminator, link.b.views()[0].local_discriminator);
}

#[test]
fn silence_takes_the_session_down_with_keepalived_s_lines() {
    let mut link = Link::new();
    link.run(Duration::from_secs(3));
    link.logs.clear();
    link.changes.clear();
    link.b_to_a = false;
    link.run(Duration::from_millis(100));
    assert_eq!(link.a.state("peer"), Some(State::Down));
    assert_eq!(link.changes.first(), Some(&('a', "peer".to_string(), State::Down)));
    let silence = link.missed.first().map(|(_, d)| *d).expect("the fall came from an expiry");
    // 30 ms silent, less the 10 ms within which b's next packet was due.
    assert!(silence >= Duration::from_millis(20) && silence < Duration::from_millis(30), "{silence:?}");
    let a_lines: Vec<&str> = link.logs.iter().filter(|(s, _)| *s == 'a').map(|(_, l)| l.as_str()).collect();
    assert!(a_lines[0].starts_with("(peer) Expired after 3"), "{a_lines:?}");
    assert_eq!(
        a_lines[1],
        "(peer) Entering Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic)"
    );
    link.b_to_a = true;
    link.run(Duration::from_secs(5));
    assert_eq!((link.a.state("peer"), link.b.state("peer")), (Some(State::Up), Some(State::Up)));
}

#[test]
fn datagrams_reach_their_session_or_are_dropped_with_the_reason() {
    #[allow(clippy::disallowed_methods)] // an origin for the virtual clock
    let now = Instant::now();
    let mut t = Sessions::new(3);
    t.set(now, vec![fast("one", "192.0.2.11"), fast("two", "192.0.2.12")]);
    let discr = |t: &Sessions, n: usize| t.views()[n].local_discriminator;
    let down = |my: u32, your: u32| Repr {
        diag: crate::wire::Diag::NoDiagnostic,
        state: State::Down,
        poll: false,
        final_flag: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: my,
        your_discriminator: your,
        desired_min_tx: 1_000_000,
        required_min_rx: 10_000,
        required_min_echo_rx: 0,
        auth: None,
    };
    let bytes = |r: Repr| r.to_bytes().expect("a valid packet");
    // Your Discriminator zero: by the source address.
    assert_eq!(t.receive(now, ip("192.0.2.12"), None, Some(255), &bytes(down(9, 0))), Ok("two".to_string()));
    assert_eq!(
        t.receive(now, ip("192.0.2.13"), None, Some(255), &bytes(down(9, 0))),
        Err(Dropped::UnknownNeighbor { from: ip("192.0.2.13") })
    );
    // Your Discriminator set: by it alone, whatever the source.
    let d1 = discr(&t, 0);
    assert_eq!(t.receive(now, ip("192.0.2.99"), None, Some(255), &bytes(down(9, d1))), Ok("one".to_string()));
    let unknown = d1.wrapping_add(1).max(1);
    assert!(unknown != discr(&t, 1));
    assert_eq!(
        t.receive(now, ip("192.0.2.11"), None, Some(255), &bytes(down(9, unknown))),
        Err(Dropped::UnknownDiscriminator(unknown))
    );
    // RFC 5881 5: a TTL below 255 is refused by the session.
    assert!(matches!(
        t.receive(now, ip("192.0.2.11"), None, Some(254), &bytes(down(9, 0))),
        Err(Dropped::Session(crate::fsm::Discard::Ttl { ttl: 254, min: 255 }))
    ));
    assert!(matches!(t.receive(now, ip("192.0.2.11"), None, None, &[0x20, 0x40]), Err(Dropped::Malformed(_))));
}

#[test]
fn a_reload_keeps_a_session_whose_timing_alone_changed() {
    let mut link = Link::new();
    link.run(Duration::from_secs(3));
    let before = link.a.views()[0].local_discriminator;
    let mut slower = fast("peer", B);
    slower.params.desired_min_tx = 50_000;
    assert!(link.a.set(link.now, vec![slower]).is_empty());
    link.run(Duration::from_secs(1));
    let view = &link.a.views()[0];
    assert_eq!((view.local_discriminator, view.state, view.tx_interval_us), (before, State::Up, 50_000));
    assert_eq!(link.b.views()[0].detection_time_us, Some(150_000), "B detects at 3 x A's new interval");
    assert!(!link.changes.iter().any(|(_, _, s)| *s == State::Down), "{:?}", link.changes);

    // Another neighbour is another session: a new discriminator, from Down.
    assert!(link.a.set(link.now, vec![fast("peer", "192.0.2.3")]).is_empty());
    let view = &link.a.views()[0];
    assert_ne!(view.local_discriminator, before);
    assert_eq!(view.state, State::Down);
    // A name gone is a session gone.
    assert!(link.a.set(link.now, Vec::new()).is_empty());
    assert!(link.a.views().is_empty() && link.a.poll_timeout().is_none());
}
