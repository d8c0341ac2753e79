//! Golden cases: one row per rule, each naming the RFC 5880 / RFC 5881 section or keepalived
//! behaviour it pins down.
//!
//! Unless a case says otherwise the session runs keepalived's `bfd_instance` with `min_rx 10`,
//! `min_tx 10`, `idle_tx 1000`, `multiplier 3` (the 10 ms x 3) and no jitter, so
//! every deadline is exact. The peer sends the same timing.

use std::time::{Duration, Instant};

use super::*;
use crate::wire::{Auth, Diag, Repr, State};

const OURS: u32 = 0x0a0a_0a0a;
const PEER: u32 = 0x1122_3344;
const MS: u32 = 1_000;
const SECOND: u32 = 1_000_000;

/// Only offsets from this instant matter; it is the one reading of the clock in these tests.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn base_config() -> Config {
    let mut config = Config::new(OURS, 0);
    config.params = Params { desired_min_tx: 10 * MS, required_min_rx: 10 * MS, idle_tx: SECOND, detect_mult: 3 };
    config.jitter = Jitter::Fixed(0);
    config
}

/// A packet from the peer: Up advertises `min_tx` 10 ms, the other states `idle_tx` 1 s;
/// Your Discriminator is ours except in Down, where the peer has forgotten it.
fn peer(state: State) -> Repr {
    Repr {
        diag: Diag::NoDiagnostic,
        state,
        poll: false,
        final_flag: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: PEER,
        your_discriminator: if state == State::Down { 0 } else { OURS },
        desired_min_tx: if state == State::Up { 10 * MS } else { SECOND },
        required_min_rx: 10 * MS,
        required_min_echo_rx: 0,
        auth: None,
    }
}

fn rx(packet: Repr) -> Input {
    Input::Received { packet, ttl: Some(255) }
}

/// Our packet, as the session should build it.
fn ours(state: State, diag: Diag, your: u32) -> Repr {
    Repr {
        diag,
        state,
        poll: false,
        final_flag: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: OURS,
        your_discriminator: your,
        desired_min_tx: if state == State::Up { 10 * MS } else { SECOND },
        required_min_rx: 10 * MS,
        required_min_echo_rx: 0,
        auth: None,
    }
}

fn send(packet: Repr) -> Action {
    Action::Send(packet)
}

fn changed(from: State, to: State, diag: Diag, remote_state: State) -> Action {
    Action::StateChanged(Transition { from, to, diag, remote_state, remote_diag: Diag::NoDiagnostic })
}

fn detection(from_us: u64, to_us: u64) -> Action {
    Action::DetectionTimeChanged { from_us, to_us }
}

/// One step of a scenario, at a time in milliseconds from the epoch.
#[derive(Debug, Clone)]
enum Step {
    /// Fire due timers, then hand in the input.
    In(u64, Input),
}

use Step::In;

fn timeout(at: u64) -> Step {
    In(at, Input::Timeout)
}

/// Down, first packet sent at 0 (next at 1 s).
fn started() -> Vec<Step> {
    vec![timeout(0)]
}

/// Init since 100 ms: the peer's Down heard.
fn init() -> Vec<Step> {
    vec![timeout(0), In(100, rx(peer(State::Down)))]
}

/// Up since 200 ms, Poll Sequence started: next packet at 210 ms, Detection Time 30 ms from
/// 200 ms.
fn up() -> Vec<Step> {
    vec![timeout(0), In(100, rx(peer(State::Down))), In(200, rx(peer(State::Up)))]
}

/// Up with the Poll Sequence done: the poll went out at 210 ms and the Final came at 215 ms.
fn settled() -> Vec<Step> {
    let mut steps = up();
    steps.push(timeout(210));
    steps.push(In(215, rx(Repr { final_flag: true, ..peer(State::Up) })));
    steps
}

fn no_change(_: &mut Config) {}

struct Case {
    name: &'static str,
    rule: &'static str,
    config: fn(&mut Config),
    setup: Vec<Step>,
    step: Step,
    result: Result<(), Rejected>,
    state: State,
    actions: Vec<Action>,
    /// Timers to check after the step, as offsets from the epoch; `None` means stopped.
    timers: Vec<(Timer, Option<Duration>)>,
}

/// Fires every timer due before `limit` (or at it, if `inclusive`), each at its deadline.
fn fire_until(session: &mut Session, limit: Instant, inclusive: bool) {
    while let Some(deadline) = session.poll_timeout() {
        if deadline > limit || (!inclusive && deadline == limit) {
            break;
        }
        session.handle(deadline, Input::Timeout).expect("timeouts are never refused");
    }
}

fn apply(session: &mut Session, epoch: Instant, step: &Step, inclusive: bool) -> Result<(), Rejected> {
    let In(at, input) = step;
    let now = epoch + ms(*at);
    fire_until(session, now, inclusive);
    session.handle(now, input.clone())
}

fn drain(session: &mut Session) -> Vec<Action> {
    std::iter::from_fn(|| session.poll_action()).collect()
}

fn run(case: &Case) {
    let epoch = epoch();
    let mut config = base_config();
    (case.config)(&mut config);
    let mut session = Session::new(config, epoch).expect("valid config");
    for step in &case.setup {
        apply(&mut session, epoch, step, true).unwrap_or_else(|e| panic!("{}: setup {step:?}: {e}", case.name));
    }
    // Timers due before the step fire first; what they do is the setup's, not the step's.
    let In(at, input) = &case.step;
    let now = epoch + ms(*at);
    fire_until(&mut session, now, false);
    drain(&mut session);
    let result = session.handle(now, input.clone());
    assert_eq!(result, case.result, "{} ({}): result", case.name, case.rule);
    let actions = drain(&mut session);
    assert_eq!(actions, case.actions, "{} ({}): actions", case.name, case.rule);
    assert_eq!(session.state(), case.state, "{} ({}): state", case.name, case.rule);
    for (timer, expected) in &case.timers {
        let actual = session.timer(*timer).map(|at| at - epoch);
        assert_eq!(actual, *expected, "{} ({}): timer {timer:?}", case.name, case.rule);
    }
}

fn cases() -> Vec<Case> {
    use State::{AdminDown, Down, Init, Up};
    let no_diag = Diag::NoDiagnostic;
    vec![
        // Start.
        Case {
            name: "startup_sends_down_at_once",
            rule: "RFC 5880 6.8.1: Down, RemoteDiscr 0; 6.8.3: 1 s while not Up; keepalived sends at once",
            config: no_change,
            setup: vec![],
            step: timeout(0),
            result: Ok(()),
            state: Down,
            actions: vec![send(ours(Down, no_diag, 0))],
            timers: vec![(Timer::Transmit, Some(ms(1_000))), (Timer::Detect, None)],
        },
        Case {
            name: "passive_waits_to_hear",
            rule: "RFC 5880 6.8.7: passive MUST NOT transmit while RemoteDiscr is zero",
            config: |c| c.passive = true,
            setup: vec![],
            step: timeout(0),
            result: Ok(()),
            state: Down,
            actions: vec![],
            timers: vec![(Timer::Transmit, None), (Timer::Detect, None)],
        },
        // RFC 5880 6.2 / 6.8.6: the three-way handshake.
        Case {
            name: "down_to_init_on_down",
            rule: "RFC 5880 6.8.6: Down, received Down -> Init; 6.8.4: Detection Time 3 x 1 s",
            config: no_change,
            setup: started(),
            step: In(100, rx(peer(Down))),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![(Timer::Transmit, Some(ms(1_000))), (Timer::Detect, Some(ms(3_100)))],
        },
        Case {
            name: "init_packet_carries_your_discriminator",
            rule: "RFC 5880 6.8.7: Your Discriminator is bfd.RemoteDiscr",
            config: no_change,
            setup: init(),
            step: timeout(1_000),
            result: Ok(()),
            state: Init,
            actions: vec![send(ours(Init, no_diag, PEER))],
            timers: vec![(Timer::Transmit, Some(ms(2_000)))],
        },
        Case {
            name: "down_to_up_on_init",
            rule: "RFC 5880 6.8.6: Down, received Init -> Up",
            config: no_change,
            setup: started(),
            step: In(100, rx(peer(Init))),
            result: Ok(()),
            state: Up,
            actions: vec![detection(0, 3_000_000), changed(Down, Up, no_diag, Init)],
            // Up: the interval drops to 10 ms at once and the next packet comes forward.
            timers: vec![(Timer::Transmit, Some(ms(110))), (Timer::Detect, Some(ms(3_100)))],
        },
        Case {
            name: "init_to_up_on_up",
            rule: "RFC 5880 6.8.6: Init, received Up -> Up; 6.8.4: Detection Time 3 x 10 ms",
            config: no_change,
            setup: init(),
            step: In(200, rx(peer(Up))),
            result: Ok(()),
            state: Up,
            actions: vec![detection(3_000_000, 30_000), changed(Init, Up, no_diag, Up)],
            timers: vec![(Timer::Transmit, Some(ms(210))), (Timer::Detect, Some(ms(230)))],
        },
        Case {
            name: "init_to_up_on_init",
            rule: "RFC 5880 6.8.6: Init, received Init -> Up",
            config: no_change,
            setup: init(),
            step: In(200, rx(peer(Init))),
            result: Ok(()),
            state: Up,
            actions: vec![changed(Init, Up, no_diag, Init)],
            timers: vec![(Timer::Transmit, Some(ms(210))), (Timer::Detect, Some(ms(3_200)))],
        },
        Case {
            name: "init_stays_on_down",
            rule: "RFC 5880 6.8.6: Init, received Down: no change",
            config: no_change,
            setup: init(),
            step: In(200, rx(peer(Down))),
            result: Ok(()),
            state: Init,
            actions: vec![],
            timers: vec![(Timer::Detect, Some(ms(3_200)))],
        },
        Case {
            name: "up_stays_on_init",
            rule: "RFC 5880 6.8.6: Up, received Init: no change",
            config: no_change,
            setup: settled(),
            step: In(218, rx(Repr { desired_min_tx: 10 * MS, ..peer(Init) })),
            result: Ok(()),
            state: Up,
            actions: vec![],
            timers: vec![(Timer::Detect, Some(ms(248)))],
        },
        Case {
            name: "up_to_down_on_down",
            rule: "RFC 5880 6.8.6: Up, received Down -> Down, diag 3",
            config: no_change,
            setup: up(),
            step: In(205, rx(peer(Down))),
            result: Ok(()),
            state: Down,
            actions: vec![detection(30_000, 3_000_000), changed(Up, Down, Diag::NeighborSignaledSessionDown, Down)],
            timers: vec![(Timer::Transmit, Some(ms(210))), (Timer::Detect, Some(ms(3_205)))],
        },
        Case {
            name: "up_to_down_on_admin_down",
            rule: "RFC 5880 6.8.6: received AdminDown while not Down -> Down, diag 3",
            config: no_change,
            setup: up(),
            step: In(205, rx(Repr { diag: Diag::AdministrativelyDown, ..peer(AdminDown) })),
            result: Ok(()),
            state: Down,
            actions: vec![
                detection(30_000, 3_000_000),
                Action::StateChanged(Transition {
                    from: Up,
                    to: Down,
                    diag: Diag::NeighborSignaledSessionDown,
                    remote_state: AdminDown,
                    remote_diag: Diag::AdministrativelyDown,
                }),
            ],
            timers: vec![(Timer::Detect, Some(ms(3_205)))],
        },
        Case {
            name: "down_stays_on_admin_down",
            rule: "RFC 5880 6.8.6: received AdminDown while Down: no change",
            config: no_change,
            setup: started(),
            step: In(100, rx(Repr { your_discriminator: 0, ..peer(AdminDown) })),
            result: Ok(()),
            state: Down,
            actions: vec![detection(0, 3_000_000)],
            timers: vec![(Timer::Detect, Some(ms(3_100)))],
        },
        // RFC 5880 6.8.3 / 6.5: the Poll Sequence that carries min_tx on coming Up.
        Case {
            name: "up_sends_poll_with_min_tx",
            rule: "RFC 5880 6.8.3: the change of Desired Min TX on coming Up is polled (keepalived's capture)",
            config: no_change,
            setup: up(),
            step: timeout(210),
            result: Ok(()),
            state: Up,
            actions: vec![send(Repr { poll: true, ..ours(Up, no_diag, PEER) })],
            timers: vec![(Timer::Transmit, Some(ms(220)))],
        },
        Case {
            name: "final_ends_poll",
            rule: "RFC 5880 6.8.6: a Final terminates the Poll Sequence",
            config: no_change,
            setup: settled(),
            step: timeout(220),
            result: Ok(()),
            state: Up,
            actions: vec![send(ours(Up, no_diag, PEER))],
            timers: vec![(Timer::Transmit, Some(ms(230))), (Timer::Detect, Some(ms(245)))],
        },
        Case {
            name: "poll_is_answered_at_once",
            rule: "RFC 5880 6.8.6/6.8.7: a Poll is answered with a Final at once, without P (6.5)",
            config: no_change,
            setup: up(),
            step: In(205, rx(Repr { poll: true, ..peer(Up) })),
            result: Ok(()),
            state: Up,
            actions: vec![send(Repr { final_flag: true, ..ours(Up, no_diag, PEER) })],
            // The periodic timer is not disturbed, and our own poll goes on.
            timers: vec![(Timer::Transmit, Some(ms(210))), (Timer::Detect, Some(ms(235)))],
        },
        Case {
            name: "poll_is_answered_in_down",
            rule: "RFC 5880 6.8.7: the Final goes out without respect to the session state",
            config: no_change,
            setup: started(),
            step: In(100, rx(Repr { poll: true, ..peer(Down) })),
            result: Ok(()),
            state: Init,
            actions: vec![
                detection(0, 3_000_000),
                changed(Down, Init, no_diag, Down),
                send(Repr { final_flag: true, ..ours(Init, no_diag, PEER) }),
            ],
            timers: vec![(Timer::Transmit, Some(ms(1_000)))],
        },
        // RFC 5880 6.8.4: detection.
        Case {
            name: "up_expires",
            rule: "RFC 5880 6.8.4: no packet for the Detection Time -> Down, diag 1; 6.8.1: RemoteDiscr 0",
            config: no_change,
            setup: settled(),
            step: timeout(245),
            result: Ok(()),
            state: Down,
            actions: vec![
                Action::Expired { silent_for: ms(30), detection_time: ms(30), missed_for: ms(20) },
                changed(Up, Down, Diag::ControlDetectionTimeExpired, Up),
            ],
            // Sent at 240; the next Down packet follows at 1 s intervals, counted from then.
            timers: vec![(Timer::Transmit, Some(ms(250))), (Timer::Detect, Some(ms(275)))],
        },
        Case {
            name: "expired_session_sends_down_without_discriminator",
            rule: "RFC 5880 6.8.1/6.8.7: after expiry Your Discriminator is 0 (keepalived's capture)",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(timeout(245));
                steps
            },
            step: timeout(250),
            result: Ok(()),
            state: Down,
            actions: vec![send(ours(Down, Diag::ControlDetectionTimeExpired, 0))],
            timers: vec![(Timer::Transmit, Some(ms(1_250)))],
        },
        Case {
            name: "remote_forgotten_after_another_detection_time",
            rule: "RFC 5880 6.8.18: state is kept a Detection Time, then RemoteMinRxInterval is 1 again",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(timeout(245));
                steps
            },
            step: timeout(275),
            result: Ok(()),
            state: Down,
            actions: vec![detection(30_000, 0)],
            timers: vec![(Timer::Detect, None), (Timer::Transmit, Some(ms(1_250)))],
        },
        Case {
            name: "init_expires",
            rule: "RFC 5880 6.8.4: the Detection Time runs in Init too",
            config: no_change,
            setup: init(),
            step: timeout(3_100),
            result: Ok(()),
            state: Down,
            actions: vec![
                Action::Expired { silent_for: ms(3_000), detection_time: ms(3_000), missed_for: ms(2_000) },
                changed(Init, Down, Diag::ControlDetectionTimeExpired, Down),
            ],
            timers: vec![(Timer::Detect, Some(ms(6_100)))],
        },
        Case {
            name: "packets_rearm_detection",
            rule: "RFC 5880 6.8.4: every packet restarts the Detection Time",
            config: no_change,
            setup: settled(),
            step: In(240, rx(peer(Up))),
            result: Ok(()),
            state: Up,
            actions: vec![],
            timers: vec![(Timer::Detect, Some(ms(270)))],
        },
        // RFC 5881 5 and RFC 5880 6.8.6: what the session discards.
        Case {
            name: "ttl_below_255_discarded",
            rule: "RFC 5881 5: single hop requires TTL 255 (keepalived's max_hops 0)",
            config: no_change,
            setup: started(),
            step: In(100, Input::Received { packet: peer(Down), ttl: Some(254) }),
            result: Err(Rejected::Packet(Discard::Ttl { ttl: 254, min: 255 })),
            state: Down,
            actions: vec![],
            timers: vec![(Timer::Detect, None)],
        },
        Case {
            name: "max_hops_relaxes_ttl",
            rule: "keepalived: TTL + max_hops must reach ttl",
            config: |c| c.max_hops = Some(1),
            setup: started(),
            step: In(100, Input::Received { packet: peer(Down), ttl: Some(254) }),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![],
        },
        Case {
            name: "max_hops_minus_one_disables_the_check",
            rule: "keepalived: max_hops -1, no TTL check",
            config: |c| c.max_hops = None,
            setup: started(),
            step: In(100, Input::Received { packet: peer(Down), ttl: Some(1) }),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![],
        },
        Case {
            name: "unknown_ttl_is_not_checked",
            rule: "keepalived: a packet without a TTL control message is not checked",
            config: no_change,
            setup: started(),
            step: In(100, Input::Received { packet: peer(Down), ttl: None }),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![],
        },
        Case {
            name: "ipv6_hoplimit_64",
            rule: "keepalived: IPv6 sends and requires hop limit 64 by default",
            config: |c| c.ttl = DEFAULT_HOPLIMIT_IPV6,
            setup: started(),
            step: In(100, Input::Received { packet: peer(Down), ttl: Some(63) }),
            result: Err(Rejected::Packet(Discard::Ttl { ttl: 63, min: 64 })),
            state: Down,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "wrong_your_discriminator",
            rule: "RFC 5880 6.8.6: a nonzero Your Discriminator selects the session",
            config: no_change,
            setup: started(),
            step: In(100, rx(Repr { your_discriminator: 0x999, ..peer(Init) })),
            result: Err(Rejected::Packet(Discard::WrongDiscriminator { got: 0x999, ours: OURS })),
            state: Down,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "auth_bit_without_authentication",
            rule: "RFC 5880 6.8.6: A bit set and no authentication in use -> discard",
            config: no_change,
            setup: started(),
            step: In(
                100,
                rx(Repr { auth: Some(Auth::SimplePassword { key_id: 1, password: b"secret".to_vec() }), ..peer(Down) }),
            ),
            result: Err(Rejected::Packet(Discard::AuthNotInUse)),
            state: Down,
            actions: vec![],
            timers: vec![],
        },
        // RFC 5880 6.8.16: administrative control.
        Case {
            name: "admin_down",
            rule: "RFC 5880 6.8.16: AdminDown, diag 7, and the remote system is told at once",
            config: no_change,
            setup: settled(),
            step: In(218, Input::AdminDown),
            result: Ok(()),
            state: AdminDown,
            actions: vec![changed(Up, AdminDown, Diag::AdministrativelyDown, Up)],
            timers: vec![(Timer::Transmit, Some(ms(218)))],
        },
        Case {
            name: "admin_down_packet",
            rule: "RFC 5880 6.8.16: AdminDown packets for a Detection Time",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(In(218, Input::AdminDown));
                steps
            },
            step: timeout(218),
            result: Ok(()),
            state: AdminDown,
            actions: vec![send(ours(AdminDown, Diag::AdministrativelyDown, PEER))],
            timers: vec![(Timer::Transmit, Some(ms(1_218)))],
        },
        Case {
            name: "admin_down_stops_sending",
            rule: "RFC 5880 6.8.16: after the remote's Detection Time (3 x 10 ms) AdminDown falls silent",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(In(218, Input::AdminDown));
                steps
            },
            step: timeout(1_218),
            result: Ok(()),
            state: AdminDown,
            actions: vec![],
            timers: vec![(Timer::Transmit, None), (Timer::Detect, None)],
        },
        Case {
            name: "admin_down_discards",
            rule: "RFC 5880 6.8.6: If bfd.SessionState is AdminDown, discard the packet",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(In(218, Input::AdminDown));
                steps
            },
            step: In(219, rx(peer(Up))),
            result: Err(Rejected::Packet(Discard::AdminDown)),
            state: AdminDown,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "admin_up",
            rule: "RFC 5880 6.8.16: enabling sets Down; sending resumes at once",
            config: no_change,
            setup: vec![timeout(0), In(100, Input::AdminDown)],
            step: In(200, Input::AdminUp),
            result: Ok(()),
            state: Down,
            actions: vec![changed(AdminDown, Down, Diag::AdministrativelyDown, Down)],
            timers: vec![(Timer::Transmit, Some(ms(200)))],
        },
        // RFC 5880 6.8.3: parameter changes.
        Case {
            name: "slower_tx_waits_for_final",
            rule: "RFC 5880 6.8.3: a larger Desired Min TX is polled and not used until the Final",
            config: no_change,
            setup: settled(),
            step: In(216, Input::SetParams(Params { desired_min_tx: 50 * MS, ..base_config().params })),
            result: Ok(()),
            state: Up,
            actions: vec![],
            timers: vec![(Timer::Transmit, Some(ms(220)))],
        },
        Case {
            name: "slower_tx_poll_packet",
            rule: "RFC 5880 6.8.3: the new value goes out with P at the old interval",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(In(216, Input::SetParams(Params { desired_min_tx: 50 * MS, ..base_config().params })));
                steps
            },
            step: timeout(220),
            result: Ok(()),
            state: Up,
            actions: vec![send(Repr { poll: true, desired_min_tx: 50 * MS, ..ours(Up, no_diag, PEER) })],
            timers: vec![(Timer::Transmit, Some(ms(230)))],
        },
        Case {
            name: "slower_tx_after_final",
            rule: "RFC 5880 6.8.3: after the Final the larger interval applies",
            config: no_change,
            setup: {
                let mut steps = settled();
                steps.push(In(216, Input::SetParams(Params { desired_min_tx: 50 * MS, ..base_config().params })));
                steps.push(timeout(220));
                steps.push(In(225, rx(Repr { final_flag: true, ..peer(Up) })));
                steps
            },
            step: timeout(230),
            result: Ok(()),
            state: Up,
            actions: vec![send(Repr { desired_min_tx: 50 * MS, ..ours(Up, no_diag, PEER) })],
            timers: vec![(Timer::Transmit, Some(ms(280)))],
        },
        Case {
            name: "larger_min_rx_applies_at_once",
            rule: "RFC 5880 6.8.3: a larger Required Min RX lengthens the Detection Time at once",
            config: no_change,
            setup: settled(),
            step: In(216, Input::SetParams(Params { required_min_rx: 20 * MS, ..base_config().params })),
            result: Ok(()),
            state: Up,
            actions: vec![detection(30_000, 60_000)],
            timers: vec![(Timer::Detect, Some(ms(275)))],
        },
        Case {
            name: "smaller_min_rx_waits_for_final",
            rule: "RFC 5880 6.8.3: a smaller Required Min RX is used for detection after the Final",
            config: |c| c.params.required_min_rx = 40 * MS,
            setup: {
                let mut steps = settled();
                steps.push(In(216, Input::SetParams(Params { required_min_rx: 20 * MS, ..base_config().params })));
                steps.push(timeout(220));
                steps
            },
            step: In(225, rx(Repr { final_flag: true, ..peer(Up) })),
            result: Ok(()),
            state: Up,
            actions: vec![detection(120_000, 60_000)],
            timers: vec![(Timer::Detect, Some(ms(285)))],
        },
        Case {
            name: "params_while_down_need_no_poll",
            rule: "RFC 5880 6.8.3: outside Up the idle interval is advertised; no Poll Sequence",
            config: no_change,
            setup: started(),
            step: In(100, Input::SetParams(Params { desired_min_tx: 20 * MS, ..base_config().params })),
            result: Ok(()),
            state: Down,
            actions: vec![],
            timers: vec![(Timer::Transmit, Some(ms(1_000)))],
        },
        Case {
            name: "invalid_params_refused",
            rule: "RFC 5880 6.8.3: idle_tx below 1 s is refused, the old timing stays",
            config: no_change,
            setup: started(),
            step: In(100, Input::SetParams(Params { idle_tx: 500 * MS, ..base_config().params })),
            result: Err(Rejected::Params(Error::IdleTxTooShort(500_000))),
            state: Down,
            actions: vec![],
            timers: vec![(Timer::Transmit, Some(ms(1_000)))],
        },
        // RFC 5880 6.8.7: transmission.
        Case {
            name: "jitter_is_at_most_25_percent",
            rule: "RFC 5880 6.8.7: reduced by 0 to 25 %",
            config: |c| c.jitter = Jitter::Fixed(40),
            setup: vec![],
            step: timeout(0),
            result: Ok(()),
            state: Down,
            actions: vec![send(ours(Down, no_diag, 0))],
            timers: vec![(Timer::Transmit, Some(ms(750)))],
        },
        Case {
            name: "detect_mult_1_jitters_at_least_10_percent",
            rule: "RFC 5880 6.8.7: with DetectMult 1, 75 to 90 % of the interval",
            config: |c| c.params.detect_mult = 1,
            setup: vec![],
            step: timeout(0),
            result: Ok(()),
            state: Down,
            actions: vec![send(Repr { detect_mult: 1, ..ours(Down, no_diag, 0) })],
            timers: vec![(Timer::Transmit, Some(ms(900)))],
        },
        Case {
            name: "remote_min_rx_zero_stops_periodic",
            rule: "RFC 5880 6.8.7: no periodic packets while RemoteMinRxInterval is zero",
            config: no_change,
            setup: started(),
            step: In(100, rx(Repr { required_min_rx: 0, ..peer(Down) })),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![(Timer::Transmit, None)],
        },
        Case {
            name: "remote_demand_stops_periodic",
            rule: "RFC 5880 6.8.7: no periodic packets while Demand mode is active on the remote system",
            config: no_change,
            setup: settled(),
            step: In(218, rx(Repr { demand: true, ..peer(Up) })),
            result: Ok(()),
            state: Up,
            actions: vec![],
            timers: vec![(Timer::Transmit, None)],
        },
        Case {
            name: "passive_sends_once_heard",
            rule: "RFC 5880 6.8.7 / keepalived: passive starts sending in Init, an interval later",
            config: |c| c.passive = true,
            setup: vec![],
            step: In(100, rx(peer(Down))),
            result: Ok(()),
            state: Init,
            actions: vec![detection(0, 3_000_000), changed(Down, Init, no_diag, Down)],
            timers: vec![(Timer::Transmit, Some(ms(1_100)))],
        },
        Case {
            name: "passive_falls_silent_when_down",
            rule: "keepalived: a passive session stops sending when it goes Down",
            config: |c| c.passive = true,
            setup: vec![In(100, rx(peer(Down))), In(200, rx(peer(Up)))],
            step: In(205, rx(peer(Down))),
            result: Ok(()),
            state: Down,
            actions: vec![detection(30_000, 3_000_000), changed(Up, Down, Diag::NeighborSignaledSessionDown, Down)],
            timers: vec![(Timer::Transmit, None)],
        },
    ]
}

#[test]
fn golden_cases() {
    let cases = cases();
    let mut names: Vec<_> = cases.iter().map(|case| case.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for case in &cases {
        run(case);
    }
}

/// The exchange captured from keepalived 2.2.7 (see `wire::tests`), replayed into a session
/// playing the captured peer (discriminator 0x11223344): it comes Up through Init, answers
/// keepalived's Poll with a Final, and its own packets are those the capture's peer sent.
#[test]
fn handshake_with_keepalived_capture() {
    let hex = |text: &str| -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
    };
    let ka = |text: &str| Repr::from_bytes(&hex(text)).expect("captured packets parse");
    let ka_down = ka("20400318b912db3800000000000f42400000271000000000");
    let ka_init = ka("20800318b912db3811223344000f42400000271000000000");
    let ka_up_poll = ka("20e00318b912db3811223344000027100000271000000000");
    let ka_up = ka("20c00318b912db3811223344000027100000271000000000");

    let epoch = epoch();
    let mut config = base_config();
    config.local_discriminator = PEER;
    // The capture's peer answered each packet; a passive session does too.
    config.passive = true;
    let mut session = Session::new(config, epoch).expect("valid");

    session.handle(epoch, rx(ka_down)).expect("accepted");
    assert_eq!(session.state(), State::Init);
    session.handle(epoch + ms(800), rx(ka_init)).expect("accepted");
    assert_eq!(session.state(), State::Up);
    drain(&mut session);
    session.handle(epoch + ms(810), rx(ka_up_poll)).expect("accepted");
    let actions = drain(&mut session);
    let sent: Vec<&Repr> = actions
        .iter()
        .filter_map(|action| match action {
            Action::Send(packet) => Some(packet),
            _ => None,
        })
        .collect();
    let [final_packet] = sent[..] else { panic!("one Final: {actions:?}") };
    assert!(final_packet.final_flag && !final_packet.poll);
    assert_eq!(
        (final_packet.state, final_packet.my_discriminator, final_packet.your_discriminator),
        (State::Up, PEER, 0xb912_db38)
    );
    // keepalived's Detection Time for us would be 3 x 10 ms; ours for it is the same.
    session.handle(epoch + ms(818), rx(ka_up)).expect("accepted");
    assert_eq!(session.detection_time(), Some(ms(30)));
    assert_eq!(session.tx_interval(), ms(10));
}

#[test]
fn keepalived_log_lines() {
    let name = "peer";
    let up = Transition {
        from: State::Init,
        to: State::Up,
        diag: Diag::NoDiagnostic,
        remote_state: State::Up,
        remote_diag: Diag::NoDiagnostic,
    };
    assert_eq!(up.log_line(name).to_string(), "(peer) Entering Up state");
    let down = Transition { from: State::Up, to: State::Down, diag: Diag::ControlDetectionTimeExpired, ..up };
    assert_eq!(
        down.log_line(name).to_string(),
        "(peer) Entering Down state (Local diagnostic - Control Detection Time Expired, \
         Remote diagnostic - No Diagnostic)"
    );
    let admin = Transition { to: State::AdminDown, diag: Diag::AdministrativelyDown, ..down };
    assert_eq!(admin.log_line(name).to_string(), "(peer) Entering AdminDown state");
    assert_eq!(Action::StateChanged(up).log_line(name).as_deref(), Some("(peer) Entering Up state"));
    // As in keepalived's log: `(peer) Expired after 30 ms (38 usec overdue)`.
    let expired =
        Action::Expired { silent_for: Duration::from_micros(30_038), detection_time: ms(30), missed_for: ms(20) };
    assert_eq!(expired.log_line(name).as_deref(), Some("(peer) Expired after 30 ms (38 usec overdue)"));
    // As in keepalived's log: the line is indented past `(peer)`.
    let detection = detection(3_000_000, 30_000);
    assert_eq!(detection.log_line(name).as_deref(), Some("       Detection time is 30000 us (was 3000000 us)"));
    assert_eq!(send(peer(State::Up)).log_line(name), None);
}

#[test]
fn which_transitions_keepalived_reports_and_logs() {
    use State::{AdminDown, Down, Init, Up};
    let t = |from, to, remote_state| Transition {
        from,
        to,
        diag: Diag::NoDiagnostic,
        remote_state,
        remote_diag: Diag::NoDiagnostic,
    };
    // (transition, sent to VRRP/checker, logged without -D, warning)
    let rows = [
        (t(Init, Up, Up), true, true, false),
        (t(Down, Up, Init), true, true, false),
        (t(Up, Down, Down), true, true, true),
        // RFC 5882 3.2: the remote system's AdminDown is no failure.
        (t(Up, Down, AdminDown), false, true, true),
        (t(Down, Init, Down), false, false, false),
        (t(Init, Down, Down), false, false, true),
        (t(Up, AdminDown, Up), false, true, true),
        (t(AdminDown, Down, Down), false, false, true),
    ];
    for (transition, reported, logged, warning) in rows {
        assert_eq!(transition.reported(), reported, "{transition:?}");
        assert_eq!(transition.logged_by_default(), logged, "{transition:?}");
        assert_eq!(transition.is_warning(), warning, "{transition:?}");
    }
}

#[test]
fn config_validation() {
    let epoch = epoch();
    let rows = [
        (Config { local_discriminator: 0, ..base_config() }, Error::ZeroDiscriminator),
        (Config { params: Params { detect_mult: 0, ..base_config().params }, ..base_config() }, Error::ZeroDetectMult),
        (
            Config { params: Params { desired_min_tx: 0, ..base_config().params }, ..base_config() },
            Error::ZeroInterval { name: "min_tx" },
        ),
        (
            Config { params: Params { required_min_rx: 0, ..base_config().params }, ..base_config() },
            Error::ZeroInterval { name: "min_rx" },
        ),
        (
            Config { params: Params { idle_tx: 999_999, ..base_config().params }, ..base_config() },
            Error::IdleTxTooShort(999_999),
        ),
    ];
    for (config, error) in rows {
        assert_eq!(Session::new(config, epoch).map(|_| ()), Err(error));
    }
    // keepalived's defaults.
    let defaults = Config::new(1, 0);
    assert_eq!(
        defaults.params,
        Params { desired_min_tx: 10_000, required_min_rx: 10_000, idle_tx: 1_000_000, detect_mult: 5 }
    );
    assert_eq!((defaults.ttl, defaults.max_hops, defaults.passive), (255, Some(0), false));
}

#[test]
fn seeded_jitter_stays_in_the_rfc_window() {
    for (detect_mult, low, high) in [(3u8, 750u64, 1_000u64), (1, 750, 900)] {
        let epoch = epoch();
        let mut config = base_config();
        config.params.detect_mult = detect_mult;
        config.jitter = Jitter::Seeded(42);
        let mut session = Session::new(config, epoch).expect("valid");
        let mut now = epoch;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            session.handle(now, Input::Timeout).expect("never refused");
            let next = session.poll_timeout().expect("sending");
            let gap = u64::try_from((next - now).as_millis()).expect("short");
            assert!((low..=high).contains(&gap), "mult {detect_mult}: gap {gap} ms");
            seen.insert(gap);
            now = next;
        }
        // Jittered per packet, not once.
        assert!(seen.len() > 50, "mult {detect_mult}: only {} distinct gaps", seen.len());
    }
}

#[test]
fn counters() {
    let epoch = epoch();
    let mut session = Session::new(base_config(), epoch).expect("valid");
    for step in settled() {
        apply(&mut session, epoch, &step, true).expect("accepted");
    }
    let low_ttl = In(216, Input::Received { packet: peer(State::Up), ttl: Some(1) });
    assert!(apply(&mut session, epoch, &low_ttl, true).is_err());
    apply(&mut session, epoch, &In(217, rx(Repr { poll: true, ..peer(State::Up) })), true).expect("accepted");
    apply(&mut session, epoch, &timeout(260), true).expect("never refused");
    let stats = session.stats();
    assert_eq!(
        stats,
        Stats {
            received: 5,
            discarded: 1,
            // 0 (Down), 210 (poll), 217 (final), 220, 230, 240 (Up), 250 (Down, after the expiry at
            // 247).
            sent: 7,
            finals_sent: 1,
            polls_started: 1,
            polls_completed: 1,
            up: 1,
            down: 1,
            expired: 1,
            transitions: 3,
        }
    );
}

/// RFC 5880 6.8.7: jitter only ever shortens the interval. A caller that wakes late (a timer
/// wheel's tick) must not stretch the next interval by its lateness: the next packet is timed
/// from when this one was due; after a stall longer than the interval, from when it went.
#[test]
fn a_late_wakeup_does_not_stretch_the_next_interval() {
    let start = epoch();
    let mut config = base_config();
    config.jitter = Jitter::Fixed(0);
    let mut s = Session::new(config, start).expect("valid");
    s.handle(start, Input::Timeout).expect("timeouts are never refused");
    assert_eq!(s.poll_timeout(), Some(start + ms(1_000)));
    // Woken 3 ms late: sent now, the next one still 1 s after the due time.
    s.handle(start + ms(1_003), Input::Timeout).expect("never refused");
    assert!(matches!(s.poll_action(), Some(Action::Send(_))));
    assert_eq!(s.poll_timeout(), Some(start + ms(2_000)));
    // A stall of 5 s: the next one 1 s after the late packet, not a burst to catch up.
    s.handle(start + ms(7_000), Input::Timeout).expect("never refused");
    assert_eq!(s.poll_timeout(), Some(start + ms(8_000)));
}
