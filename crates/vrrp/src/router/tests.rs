//! The router's own decisions, on a virtual clock: sync groups moving together through the
//! router, a MASTER that cannot hold its VIPs, a reload in place.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;
use crate::io::{SocketConfig, Vip};
use crate::plan::{Address, Plan};
use crate::receive::Expect;
use crate::wire::{self, Auth, Family};

/// Only offsets from this instant matter; it is the one reading of the clock in these tests.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn plan(vrid: u8, priority: u8) -> Plan {
    let mut fsm = fsm::Config::new(vrid, fsm::Version::V2, priority, ip(1));
    fsm.vips = vec![ip(100 + vrid)];
    Plan {
        expect: Expect {
            vrid,
            version: fsm::Version::V2,
            password: None,
            vips: fsm.vips.clone(),
            skip_addr_check: false,
        },
        fsm,
        socket: SocketConfig::multicast("eth0", Family::Ipv4),
        family: Family::Ipv4,
        vips: vec![Address { device: "eth0".into(), vip: Vip::new(ip(100 + vrid), 24) }],
        wire_version: wire::Version::V2,
        auth: Auth::None,
        sync_group: None,
        tracked: Vec::new(),
        vmac: None,
    }
}

fn settings(p: &Plan) -> peers::Settings {
    peers::Settings {
        primary: p.fsm.primary_address,
        version: p.fsm.version,
        family: p.family,
        advert_int: p.fsm.advert_int,
        v3_checksum_as_v2: false,
        old_unicast_checksum: None,
    }
}

fn add(r: &mut Router, now: Instant, id: u64, p: Plan) {
    let peers = settings(&p);
    r.handle(now, RouterInput::Add { id: InstanceId(id), plan: Box::new(p), peers }).expect("valid plan");
}

/// Every queued action.
fn drain(r: &mut Router) -> Vec<(InstanceId, RouterAction)> {
    std::iter::from_fn(|| r.poll_action()).collect()
}

/// Runs the timers until `until`, returning every action.
fn run_until(r: &mut Router, until: Instant) -> Vec<(InstanceId, RouterAction)> {
    let mut out = drain(r);
    while let Some(t) = r.poll_timeout().filter(|t| *t <= until) {
        r.handle_timeout(t);
        out.extend(drain(r));
    }
    out
}

fn state(r: &Router, id: u64) -> State {
    r.fsm(InstanceId(id)).map_or(State::Initialize, fsm::Instance::state)
}

fn groups(out: &[(InstanceId, RouterAction)]) -> Vec<State> {
    out.iter()
        .filter_map(|(_, a)| match a {
            RouterAction::Group { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sync_group_moves_together_and_notifies_once_per_agreement() {
    let t0 = epoch();
    let mut r = Router::new();
    add(&mut r, t0, 1, plan(51, 100));
    add(&mut r, t0, 2, plan(52, 100));
    r.handle(t0, RouterInput::Groups(vec![("G1".into(), vec![InstanceId(1), InstanceId(2)])])).expect("groups");
    for id in [1, 2] {
        r.handle(t0, RouterInput::Fsm { id: InstanceId(id), input: Input::Startup }).expect("startup");
    }
    let out = run_until(&mut r, t0 + Duration::from_secs(5));
    assert_eq!((state(&r, 1), state(&r, 2)), (State::Master, State::Master));
    assert_eq!(groups(&out), vec![State::Backup, State::Master], "the group's notify: BACKUP at start, then MASTER");

    // An unweighted tracked item of one member fails: both go to FAULT, the group once.
    let t1 = t0 + Duration::from_secs(6);
    r.handle(t1, RouterInput::Fsm { id: InstanceId(2), input: Input::TrackerChange { id: 7, up: false, weight: 0 } })
        .expect("tracker");
    let out = drain(&mut r);
    assert_eq!((state(&r, 1), state(&r, 2)), (State::Fault, State::Fault));
    assert_eq!(groups(&out), vec![State::Fault]);
    let removed: Vec<InstanceId> = out
        .iter()
        .filter(|(_, a)| matches!(a, RouterAction::Fsm(Action::RemoveVips { .. })))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(removed.len(), 2, "both members drop their VIPs: {out:?}");
}

#[test]
fn a_master_that_cannot_hold_its_vips_goes_to_fault_and_retries_with_backoff() {
    let t0 = epoch();
    let mut r = Router::new();
    add(&mut r, t0, 1, plan(51, 255));
    r.handle(t0, RouterInput::Fsm { id: InstanceId(1), input: Input::Startup }).expect("startup");
    // The address owner is MASTER at once: its actions are queued, the GARP among them.
    let (id, first) = r.poll_action().expect("actions");
    assert_eq!(id, InstanceId(1));
    assert!(matches!(first, RouterAction::Fsm(_)));
    r.handle(t0, RouterInput::VipsHeld { id: InstanceId(1), held: false }).expect("held");
    let out = drain(&mut r);
    assert!(
        !out.iter().any(|(_, a)| matches!(a, RouterAction::Fsm(Action::SendGarp { .. }))),
        "no gratuitous ARP for a VIP not held: {out:?}"
    );
    assert!(out.contains(&(InstanceId(1), RouterAction::CannotHold { retry_in: HOLD_RETRY_FIRST })));
    assert_eq!(state(&r, 1), State::Fault);

    // After the first wait it tries again: out of FAULT, MASTER again (the owner), fails again.
    let out = run_until(&mut r, t0 + HOLD_RETRY_FIRST);
    assert!(out.contains(&(InstanceId(1), RouterAction::RetryHold)));
    assert_eq!(state(&r, 1), State::Master);
    r.handle(t0 + HOLD_RETRY_FIRST, RouterInput::VipsHeld { id: InstanceId(1), held: false }).expect("held");
    let out = drain(&mut r);
    assert!(out.contains(&(InstanceId(1), RouterAction::CannotHold { retry_in: HOLD_RETRY_FIRST * 2 })));

    // A VIP removed behind its back is restored only by a MASTER.
    r.handle(t0 + HOLD_RETRY_FIRST, RouterInput::VipRemoved { id: InstanceId(1), ip: ip(151) }).expect("removed");
    assert!(drain(&mut r).is_empty(), "in FAULT it holds nothing to restore");

    // Held at the next try: the wait starts over.
    run_until(&mut r, t0 + HOLD_RETRY_FIRST * 3);
    r.handle(t0 + HOLD_RETRY_FIRST * 3, RouterInput::VipsHeld { id: InstanceId(1), held: true }).expect("held");
    assert_eq!(state(&r, 1), State::Master);
    r.handle(t0 + HOLD_RETRY_FIRST * 3, RouterInput::VipRemoved { id: InstanceId(1), ip: ip(151) }).expect("removed");
    let restore = RouterAction::RestoreVip { ip: ip(151), repeat: fsm::DEFAULT_GARP_REPEAT };
    assert_eq!(drain(&mut r), vec![(InstanceId(1), restore)]);
    r.handle(t0 + HOLD_RETRY_FIRST * 4, RouterInput::VipsHeld { id: InstanceId(1), held: false }).expect("held");
    assert!(drain(&mut r).contains(&(InstanceId(1), RouterAction::CannotHold { retry_in: HOLD_RETRY_FIRST })));
}

#[test]
fn a_reload_in_place_keeps_the_state_and_advertises_the_new_priority() {
    let t0 = epoch();
    let mut r = Router::new();
    add(&mut r, t0, 1, plan(51, 100));
    r.handle(t0, RouterInput::Fsm { id: InstanceId(1), input: Input::Startup }).expect("startup");
    run_until(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(state(&r, 1), State::Master);
    let t1 = t0 + Duration::from_millis(5_500);
    let new = plan(51, 150);
    let peers = settings(&new);
    let decision = r.reconfigure(t1, InstanceId(1), new, peers, Vec::new()).expect("known").expect("valid");
    assert!(matches!(decision, Reconfigure::InPlace(_)));
    let out = drain(&mut r);
    assert_eq!(
        out,
        vec![
            (InstanceId(1), RouterAction::Fsm(Action::PriorityChanged { from: 100, to: 150 })),
            (InstanceId(1), RouterAction::Fsm(Action::SendAdvert { priority: 150 })),
        ]
    );
    assert_eq!(state(&r, 1), State::Master);
    let restart = r.reconfigure(t1, InstanceId(1), plan(61, 150), settings(&plan(61, 150)), Vec::new());
    assert!(matches!(restart, Some(Ok(Reconfigure::Restart(reload::Restart::Vrid)))));
    assert_eq!(r.plan(InstanceId(1)).map(|p| p.fsm.vrid), Some(51), "a restart leaves the running plan");
}

#[test]
fn a_reload_that_changes_the_tracked_items_applies_them_in_one_step() {
    let t0 = epoch();
    let mut r = Router::new();
    add(&mut r, t0, 1, plan(51, 100));
    r.handle(t0, RouterInput::Fsm { id: InstanceId(1), input: Input::Startup }).expect("startup");
    run_until(&mut r, t0 + Duration::from_secs(5));
    let t1 = t0 + Duration::from_millis(5_500);
    // A weighted script added while it fails: the priority drops, the state stays.
    let mut new = plan(51, 100);
    new.tracked.push(crate::plan::Tracked {
        kind: crate::plan::TrackedKind::Script,
        name: "chk".into(),
        weight: Some(-30),
        reverse: false,
    });
    let report = fsm::TrackerReport { id: 1, up: false, weight: -30 };
    let peers = settings(&new);
    let decision = r.reconfigure(t1, InstanceId(1), new.clone(), peers.clone(), vec![report]);
    assert!(matches!(decision, Some(Ok(Reconfigure::InPlace(ref p))) if p.trackers_changed));
    let out = drain(&mut r);
    assert_eq!(out[0], (InstanceId(1), RouterAction::Fsm(Action::PriorityChanged { from: 100, to: 70 })));
    assert_eq!(state(&r, 1), State::Master);
    // The same item unweighted and down: FAULT, without a restart.
    let mut unweighted = new;
    unweighted.tracked[0].weight = Some(0);
    let report = fsm::TrackerReport { id: 1, up: false, weight: 0 };
    r.reconfigure(t1, InstanceId(1), unweighted, peers, vec![report]).expect("known").expect("valid");
    assert_eq!(state(&r, 1), State::Fault);
}

/// An advert for `vrid` from `src` as the receive checks pass it on.
fn advert(r: &mut Router, now: Instant, id: u64, src: IpAddr, priority: u8) {
    let repr = crate::wire::VrrpRepr {
        version: wire::Version::V2,
        vrid: 1,
        priority,
        advert_int: crate::wire::AdvertInterval::from_secs(1),
        addresses: vec![ip(101)],
        auth: Auth::None,
        v3_checksum_as_v2: false,
        old_unicast_checksum: false,
    };
    let input = Input::Advert { src, priority, adver_int: 1, addresses_match: true };
    let accepted = Accepted { input, repr };
    r.handle(now, RouterInput::Advert { id: InstanceId(id), src, accepted, at: SystemTime::UNIX_EPOCH })
        .expect("an advert is never refused");
}

#[test]
fn a_fallen_bfd_session_to_the_master_hands_over_at_once_unless_its_adverts_still_arrive() {
    let t0 = epoch();
    let ms = Duration::from_millis;
    let master = ip(2);
    let setup = |r: &mut Router| {
        add(r, t0, 1, plan(1, 100));
        r.handle(t0, RouterInput::Fsm { id: InstanceId(1), input: Input::Startup }).expect("startup");
        advert(r, t0 + ms(1_000), 1, master, 150);
        drain(r);
        assert_eq!(state(r, 1), State::Backup);
    };
    let gone = |r: &mut Router, at: Duration, neighbor: IpAddr| {
        let input = RouterInput::MasterGone { id: InstanceId(1), neighbor, missing_since: t0 + at - ms(20) };
        r.handle(t0 + at, input).expect("never refused");
        drain(r)
    };

    // The Master's last advert 530 ms before: it died; MASTER now, 3.1 s before the timer.
    let mut r = Router::new();
    setup(&mut r);
    let out = gone(&mut r, ms(1_530), master);
    assert!(matches!(out.first(), Some((_, RouterAction::MasterGone { verdict: Ok(()), .. }))), "{out:?}");
    assert!(out.iter().any(|(_, a)| matches!(a, RouterAction::Fsm(Action::StateChanged { to: State::Master, .. }))));
    assert_eq!(state(&r, 1), State::Master);

    // An advert 10 ms before the session fell, after a BFD packet went missing (20 ms before):
    // the Master lives, the instance stays BACKUP.
    let mut r = Router::new();
    setup(&mut r);
    advert(&mut r, t0 + ms(1_520), 1, master, 150);
    let out = gone(&mut r, ms(1_530), master);
    let veto = master_gone::Veto::AdvertsStillArriving { neighbor: master, ago: ms(10), missed_for: ms(20) };
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(matches!(&out[0].1, RouterAction::MasterGone { verdict: Err(v), .. } if *v == veto));
    assert_eq!(state(&r, 1), State::Backup);
    // It waits for the Master's next advert only: 1 s plus Skew_Time after the last one, not 3.
    let timer = r.fsm(InstanceId(1)).and_then(|f| f.timer(fsm::Timer::MasterDown));
    assert_eq!(timer, Some(t0 + ms(1_520) + ms(1_000) + Duration::from_micros(609_375)));

    // A session to another router says nothing of the Master.
    let mut r = Router::new();
    setup(&mut r);
    let out = gone(&mut r, ms(1_530), ip(3));
    assert!(matches!(&out[0].1, RouterAction::MasterGone { verdict: Err(master_gone::Veto::NotTheMaster { .. }), .. }));
    assert_eq!(state(&r, 1), State::Backup);
}
