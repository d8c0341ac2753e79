//! Table-driven tests: one row per rule, each naming the RFC section or keepalived behaviour.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;

/// Our primary address; peers sit on either side of it for the equal-priority tie-break.
const OURS: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const HIGHER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20));
const LOWER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5));
const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

/// Master_Down_Interval at priority 100 with a 1 s interval: 3 s + 156/256 s.
const MDI_100: u64 = 3_609_375;

/// Only offsets from this instant matter; it is the one reading of the clock in these tests.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn us(us: u64) -> Duration {
    Duration::from_micros(us)
}

fn base_config() -> Config {
    let mut config = Config::new(51, Version::V2, 100, OURS);
    config.vips = vec![VIP];
    config
}

/// One step of a scenario, at a time in milliseconds from the epoch.
#[derive(Debug, Clone)]
enum Step {
    /// Fire due timers, then hand in the input.
    In(u64, Input),
    /// Fire every timer due by then, each at its own deadline.
    Fire(u64),
}

fn advert_from(src: IpAddr, priority: u8) -> Input {
    Input::Advert { src, priority, adver_int: 1, addresses_match: true }
}

fn adv(priority: u8) -> Input {
    advert_from(HIGHER_ADDR, priority)
}

fn v3_adv(priority: u8, centiseconds: u16) -> Input {
    Input::Advert { src: HIGHER_ADDR, priority, adver_int: centiseconds, addresses_match: true }
}

fn tracker(id: u32, up: bool, weight: i32) -> Input {
    Input::TrackerChange { id, up, weight }
}

fn changed(from: State, to: State, reason: Reason) -> Action {
    Action::StateChanged { from, to, reason }
}

fn send(priority: u8) -> Action {
    Action::SendAdvert { priority }
}

fn add_vips() -> Action {
    Action::AddVips { vips: vec![VIP], accept: true }
}

fn remove_vips() -> Action {
    Action::RemoveVips { vips: vec![VIP] }
}

fn garp(repeat: u32) -> Action {
    Action::SendGarp { vips: vec![VIP], repeat }
}

fn notify(state: NotifyState, priority: u8) -> Action {
    Action::Notify { state, priority }
}

fn wants(state: State) -> Action {
    Action::GroupWants { state }
}

/// What becoming Master at priority 100 emits: the advert first (RFC 3768 6.4.2).
fn becomes_master(from: State, reason: Reason) -> Vec<Action> {
    vec![send(100), changed(from, State::Master, reason), add_vips(), garp(5), notify(NotifyState::Master, 100)]
}

fn started() -> Vec<Step> {
    vec![Step::In(0, Input::Startup)]
}

/// Master since `MDI_100` µs: Adver_Timer at `MDI_100 + 1 s`.
fn mastered() -> Vec<Step> {
    vec![Step::In(0, Input::Startup), Step::Fire(3_610)]
}

fn no_change(_: &mut Config) {}

struct Case {
    name: &'static str,
    rule: &'static str,
    config: fn(&mut Config),
    setup: Vec<Step>,
    step: Step,
    state: State,
    actions: Vec<Action>,
    /// Timers to check after the step, as offsets from the epoch; `None` means stopped.
    timers: Vec<(Timer, Option<Duration>)>,
}

fn fire_until(vrrp: &mut Instance, epoch: Instant, limit: Instant, inclusive: bool) {
    while let Some(deadline) = vrrp.poll_timeout() {
        if deadline > limit || (!inclusive && deadline == limit) {
            break;
        }
        assert!(deadline >= epoch);
        vrrp.handle_timeout(deadline);
    }
}

fn apply(vrrp: &mut Instance, epoch: Instant, step: &Step, inclusive: bool) {
    match step {
        Step::In(at, input) => {
            let now = epoch + ms(*at);
            fire_until(vrrp, epoch, now, inclusive);
            vrrp.handle(now, input.clone());
        }
        Step::Fire(at) => fire_until(vrrp, epoch, epoch + ms(*at), true),
    }
}

fn drain(vrrp: &mut Instance) -> Vec<Action> {
    std::iter::from_fn(|| vrrp.poll_action()).collect()
}

fn run(case: &Case) {
    let epoch = epoch();
    let mut config = base_config();
    (case.config)(&mut config);
    let mut vrrp = Instance::new(config).expect("valid config");
    for step in &case.setup {
        apply(&mut vrrp, epoch, step, true);
    }
    drain(&mut vrrp);
    apply(&mut vrrp, epoch, &case.step, false);
    let actions = drain(&mut vrrp);
    assert_eq!(actions, case.actions, "{} ({}): actions", case.name, case.rule);
    assert_eq!(vrrp.state(), case.state, "{} ({}): state", case.name, case.rule);
    for (timer, expected) in &case.timers {
        let actual = vrrp.timer(*timer).map(|at| at - epoch);
        assert_eq!(actual, *expected, "{} ({}): timer {timer:?}", case.name, case.rule);
    }
}

fn cases() -> Vec<Case> {
    use NotifyState as N;
    use State::{Backup, Fault, Initialize, Master};
    vec![
        // Startup.
        Case {
            name: "startup_backup",
            rule: "RFC 3768 6.4.1 / RFC 5798 6.4.1: non-owner starts as Backup with Master_Down_Timer",
            config: no_change,
            setup: vec![],
            step: Step::In(0, Input::Startup),
            state: Backup,
            actions: vec![changed(Initialize, Backup, Reason::Startup), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100))), (Timer::Advert, None)],
        },
        Case {
            name: "startup_owner_master",
            rule: "RFC 3768 6.4.1 / RFC 5798 6.4.1: priority 255 sends an advert, GARPs, and is Master",
            config: |c| c.priority = 255,
            setup: vec![],
            step: Step::In(0, Input::Startup),
            state: Master,
            actions: vec![
                send(255),
                changed(Initialize, Master, Reason::Startup),
                add_vips(),
                garp(5),
                notify(N::Master, 255),
            ],
            timers: vec![
                (Timer::Advert, Some(ms(1_000))),
                (Timer::GarpDelay, Some(ms(5_000))),
                (Timer::MasterDown, None),
            ],
        },
        Case {
            name: "startup_owner_state_backup",
            rule: "keepalived: priority 255 with state BACKUP waits Master_Down_Interval",
            config: |c| {
                c.priority = 255;
                c.initial_state = Some(InitialState::Backup);
            },
            setup: vec![],
            step: Step::In(0, Input::Startup),
            state: Backup,
            actions: vec![changed(Initialize, Backup, Reason::Startup), notify(N::Backup, 255)],
            timers: vec![(Timer::MasterDown, Some(us(3_003_906)))],
        },
        Case {
            name: "startup_state_master_non_owner",
            rule: "keepalived: state MASTER below 255 still starts as Backup",
            config: |c| c.initial_state = Some(InitialState::Master),
            setup: vec![],
            step: Step::In(0, Input::Startup),
            state: Backup,
            actions: vec![changed(Initialize, Backup, Reason::Startup), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "startup_link_down",
            rule: "keepalived: an instance whose interface is down starts in FAULT",
            config: no_change,
            setup: vec![Step::In(0, Input::LinkDown)],
            step: Step::In(0, Input::Startup),
            state: Fault,
            actions: vec![changed(Initialize, Fault, Reason::Startup), notify(N::Fault, 100)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "startup_tracker_down",
            rule: "keepalived: an unweighted tracked item down at startup means FAULT",
            config: no_change,
            setup: vec![Step::In(0, tracker(1, false, 0))],
            step: Step::In(0, Input::Startup),
            state: Fault,
            actions: vec![changed(Initialize, Fault, Reason::Startup), notify(N::Fault, 100)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "startup_twice",
            rule: "RFC 5798 6.4.1: Startup is only an event in Initialize",
            config: no_change,
            setup: started(),
            step: Step::In(500, Input::Startup),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        // Backup.
        Case {
            name: "backup_priority_zero",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: priority 0 sets Master_Down_Timer to Skew_Time",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, adv(0)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(1_609_375)))],
        },
        Case {
            name: "backup_higher_priority",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: higher priority resets Master_Down_Timer",
            config: no_change,
            setup: started(),
            step: Step::In(2_000, adv(200)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "backup_equal_priority",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: equal priority resets Master_Down_Timer whatever the address",
            config: no_change,
            setup: started(),
            step: Step::In(2_000, advert_from(LOWER_ADDR, 100)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "backup_lower_priority_preempt",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: Preempt_Mode discards a lower priority",
            config: no_change,
            setup: started(),
            step: Step::In(2_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_master_gone",
            rule: "Vigil's master_down_bfd: the Master's BFD session fell; a Backup acts as if Master_Down_Timer fired now",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(150))],
            step: Step::In(1_030, Input::MasterGone),
            state: Master,
            actions: becomes_master(Backup, Reason::MasterGone),
            timers: vec![(Timer::MasterDown, None), (Timer::Advert, Some(ms(2_030)))],
        },
        Case {
            name: "backup_master_suspect",
            rule: "Vigil's master_down_bfd: the Master's BFD session fell but it advertised meanwhile; wait for its next advert only (one interval plus Skew_Time)",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(150))],
            step: Step::In(1_030, Input::MasterSuspect),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100 + 1_000_000 - 2_000_000)))],
        },
        Case {
            name: "backup_master_suspect_then_its_advert",
            rule: "Vigil's master_down_bfd: the Master's next advert sets the Master_Down_Timer back to Master_Down_Interval",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(150)), Step::In(1_030, Input::MasterSuspect)],
            step: Step::In(2_000, adv(150)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "backup_master_suspect_and_silent",
            rule: "Vigil's master_down_bfd: no advert one interval plus Skew_Time after the last: the Master is down",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(150)), Step::In(1_030, Input::MasterSuspect)],
            step: Step::Fire(2_610),
            state: Master,
            actions: becomes_master(Backup, Reason::MasterDown),
            // Master at 2.609375 s (1 s + 1 s + Skew_Time 0.609375 s), its first advert then.
            timers: vec![(Timer::MasterDown, None), (Timer::Advert, Some(us(MDI_100)))],
        },
        Case {
            name: "master_gone_while_master",
            rule: "Vigil's master_down_bfd: only a Backup waits for a Master; a Master ignores it",
            config: no_change,
            setup: mastered(),
            step: Step::In(3_700, Input::MasterGone),
            state: Master,
            actions: vec![],
            timers: vec![(Timer::Advert, Some(us(MDI_100 + 1_000_000)))],
        },
        Case {
            name: "backup_lower_priority_preempt_takes_over",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: the discarded Master is replaced when Master_Down_Timer fires",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(50)), Step::In(2_000, adv(50))],
            step: Step::Fire(3_610),
            state: Master,
            actions: becomes_master(Backup, Reason::MasterDown),
            timers: vec![(Timer::Advert, Some(us(MDI_100 + 1_000_000)))],
        },
        Case {
            name: "backup_lower_priority_nopreempt",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: Preempt_Mode False accepts a lower priority",
            config: |c| c.nopreempt = true,
            setup: started(),
            step: Step::In(2_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "backup_nopreempt_cleared_by_state_master",
            rule: "keepalived: nopreempt does not work with initial state MASTER",
            config: |c| {
                c.nopreempt = true;
                c.initial_state = Some(InitialState::Master);
            },
            setup: started(),
            step: Step::In(2_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_preempt_delay_first_lower_advert",
            rule: "keepalived preempt_delay: the first lower-priority advert is accepted and starts the delay",
            config: |c| c.preempt_delay = ms(2_500),
            setup: started(),
            step: Step::In(1_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(1_000_000 + MDI_100))), (Timer::Preempt, Some(ms(3_500)))],
        },
        Case {
            name: "backup_preempt_delay_running",
            rule: "keepalived preempt_delay: lower-priority adverts are accepted until the delay ends",
            config: |c| c.preempt_delay = ms(2_500),
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(50)), Step::In(2_000, adv(50))],
            step: Step::In(3_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(3_000_000 + MDI_100))), (Timer::Preempt, Some(ms(3_500)))],
        },
        Case {
            name: "backup_preempt_delay_over",
            rule: "keepalived preempt_delay, then RFC 5798 6.4.2: after the delay a lower priority is discarded",
            config: |c| c.preempt_delay = ms(2_500),
            setup: vec![
                Step::In(0, Input::Startup),
                Step::In(1_000, adv(50)),
                Step::In(2_000, adv(50)),
                Step::In(3_000, adv(50)),
            ],
            step: Step::In(4_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(3_000_000 + MDI_100))), (Timer::Preempt, None)],
        },
        Case {
            name: "backup_preempt_delay_reset_by_higher",
            rule: "keepalived preempt_delay: a higher-priority Master restarts the delay",
            config: |c| c.preempt_delay = ms(2_500),
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(50))],
            step: Step::In(2_000, adv(200)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100))), (Timer::Preempt, None)],
        },
        Case {
            name: "backup_preempt_delay_cleared_by_state_master",
            rule: "keepalived: preempt_delay does not work with initial state MASTER",
            config: |c| {
                c.preempt_delay = ms(2_500);
                c.initial_state = Some(InitialState::Master);
            },
            setup: started(),
            step: Step::In(1_000, adv(50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100))), (Timer::Preempt, None)],
        },
        Case {
            name: "backup_v3_learns_interval",
            rule: "RFC 5798 6.4.2: Backup learns Master_Adver_Interval and recomputes Master_Down_Interval",
            config: |c| c.version = Version::V3,
            setup: started(),
            // 3 * 0.5 s + 156 * 0.5 s / 256.
            step: Step::In(1_000, v3_adv(200, 50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(1_000_000 + 1_500_000 + 304_687)))],
        },
        Case {
            name: "backup_v3_priority_zero_skew_uses_learned_interval",
            rule: "RFC 5798 6.4.2: Skew_Time scales with Master_Adver_Interval",
            config: |c| c.version = Version::V3,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, v3_adv(200, 50))],
            step: Step::In(1_200, v3_adv(0, 50)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(1_200_000 + 304_687)))],
        },
        Case {
            name: "backup_v2_interval_mismatch",
            rule: "RFC 3768 7.1: an advert whose Adver Int differs from ours is discarded",
            config: no_change,
            setup: started(),
            step: Step::In(
                1_000,
                Input::Advert { src: HIGHER_ADDR, priority: 200, adver_int: 2, addresses_match: true },
            ),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_v3_zero_interval",
            rule: "RFC 5798 5.2.7: a zero Max Adver Int is not a usable interval",
            config: |c| c.version = Version::V3,
            setup: started(),
            step: Step::In(1_000, v3_adv(200, 0)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_address_mismatch",
            rule: "RFC 3768 7.1 / RFC 5798 7.1: mismatched addresses from a non-owner are dropped",
            config: no_change,
            setup: started(),
            step: Step::In(
                1_000,
                Input::Advert { src: HIGHER_ADDR, priority: 200, adver_int: 1, addresses_match: false },
            ),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_address_mismatch_owner",
            rule: "RFC 3768 7.1 / RFC 5798 7.1: mismatched addresses from the owner are processed",
            config: no_change,
            setup: started(),
            step: Step::In(
                1_000,
                Input::Advert { src: HIGHER_ADDR, priority: 255, adver_int: 1, addresses_match: false },
            ),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(1_000_000 + MDI_100)))],
        },
        Case {
            name: "backup_own_advert",
            rule: "an advert from our own address is our own, looped back",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, advert_from(OURS, 200)),
            state: Backup,
            actions: vec![],
            timers: vec![(Timer::MasterDown, Some(us(MDI_100)))],
        },
        Case {
            name: "backup_master_down",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: Master_Down_Timer fires: advert, GARP, Master",
            config: no_change,
            setup: started(),
            step: Step::Fire(3_610),
            state: Master,
            actions: becomes_master(Backup, Reason::MasterDown),
            timers: vec![
                (Timer::MasterDown, None),
                (Timer::Advert, Some(us(MDI_100 + 1_000_000))),
                (Timer::GarpDelay, Some(us(MDI_100 + 5_000_000))),
                (Timer::GarpRefresh, None),
            ],
        },
        Case {
            name: "backup_master_down_no_second_garp",
            rule: "keepalived: garp_master_delay 0 sends no second burst",
            config: |c| c.garp_master_delay = Duration::ZERO,
            setup: started(),
            step: Step::Fire(3_610),
            state: Master,
            actions: becomes_master(Backup, Reason::MasterDown),
            timers: vec![(Timer::GarpDelay, None)],
        },
        Case {
            name: "backup_master_down_no_accept",
            rule: "RFC 5798 6.1 Accept_Mode: no_accept is passed on with the VIPs",
            config: |c| c.accept = false,
            setup: started(),
            step: Step::Fire(3_610),
            state: Master,
            actions: vec![
                send(100),
                changed(Backup, Master, Reason::MasterDown),
                Action::AddVips { vips: vec![VIP], accept: false },
                garp(5),
                notify(N::Master, 100),
            ],
            timers: vec![],
        },
        // Master.
        Case {
            name: "master_adver_timer",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3: Adver_Timer fires: send an advert, reset the timer",
            config: no_change,
            setup: mastered(),
            step: Step::Fire(4_610),
            state: Master,
            actions: vec![send(100)],
            timers: vec![(Timer::Advert, Some(us(MDI_100 + 2_000_000)))],
        },
        Case {
            name: "master_second_garp_burst",
            rule: "keepalived: a second GARP burst garp_master_delay after becoming Master",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(8_000)],
            step: Step::Fire(8_610),
            state: Master,
            // Same instant as an advert: the table order puts the advert first.
            actions: vec![send(100), garp(5)],
            timers: vec![(Timer::GarpDelay, None)],
        },
        Case {
            name: "master_garp_refresh",
            rule: "keepalived: garp_master_refresh repeats a burst of garp_master_refresh_repeat",
            config: |c| {
                c.garp_master_refresh = ms(10_000);
                c.garp_master_refresh_repeat = 2;
                c.garp_master_delay = Duration::ZERO;
            },
            setup: vec![Step::In(0, Input::Startup), Step::Fire(13_000)],
            step: Step::Fire(13_610),
            state: Master,
            actions: vec![send(100), garp(2)],
            timers: vec![(Timer::GarpRefresh, Some(us(MDI_100 + 20_000_000)))],
        },
        Case {
            name: "master_higher_priority",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3: higher priority: Backup with Master_Down_Timer",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, adv(200)),
            state: Backup,
            actions: vec![changed(Master, Backup, Reason::HigherPriority), remove_vips(), notify(N::Backup, 100)],
            timers: vec![
                (Timer::Advert, None),
                (Timer::GarpDelay, None),
                (Timer::MasterDown, Some(us(4_000_000 + MDI_100))),
            ],
        },
        Case {
            name: "master_equal_priority_higher_address",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3: equal priority from a higher address: Backup",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, advert_from(HIGHER_ADDR, 100)),
            state: Backup,
            actions: vec![changed(Master, Backup, Reason::HigherPriority), remove_vips(), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(4_000_000 + MDI_100)))],
        },
        Case {
            name: "master_equal_priority_lower_address",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3 discard; keepalived answers as for a lower priority",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, advert_from(LOWER_ADDR, 100)),
            state: Master,
            actions: vec![send(100), garp(5), notify(N::MasterRxLowerPri, 100)],
            timers: vec![(Timer::Advert, Some(ms(5_000))), (Timer::GarpLowerPrio, Some(ms(9_000)))],
        },
        Case {
            name: "master_lower_priority",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3 discard; keepalived sends an advert and GARPs at once",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, adv(50)),
            state: Master,
            actions: vec![send(100), garp(5), notify(N::MasterRxLowerPri, 100)],
            timers: vec![(Timer::Advert, Some(ms(5_000))), (Timer::GarpLowerPrio, Some(ms(9_000)))],
        },
        Case {
            name: "master_lower_priority_no_advert",
            rule: "keepalived lower_prio_no_advert: RFC 5798 6.4.3 discard, the GARPs stay",
            config: |c| {
                c.lower_prio_no_advert = true;
                c.garp_lower_prio_delay = Duration::ZERO;
            },
            setup: mastered(),
            step: Step::In(4_000, adv(50)),
            state: Master,
            actions: vec![garp(5), notify(N::MasterRxLowerPri, 100)],
            timers: vec![(Timer::Advert, Some(us(MDI_100 + 1_000_000))), (Timer::GarpLowerPrio, None)],
        },
        Case {
            name: "master_lower_priority_second_burst",
            rule: "keepalived: a second burst garp_lower_prio_delay after a lower-priority advert",
            config: |c| c.garp_lower_prio_repeat = 2,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(3_610), Step::In(4_000, adv(50)), Step::Fire(8_700)],
            step: Step::Fire(9_000),
            state: Master,
            actions: vec![send(100), garp(2)],
            timers: vec![(Timer::GarpLowerPrio, None)],
        },
        Case {
            name: "master_priority_zero",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3: priority 0: send an advert, reset Adver_Timer",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, adv(0)),
            state: Master,
            actions: vec![send(100)],
            timers: vec![(Timer::Advert, Some(ms(5_000)))],
        },
        Case {
            name: "master_v3_higher_learns_interval",
            rule: "RFC 5798 6.4.3: Master_Adver_Interval from the advert, then Master_Down_Interval",
            config: |c| c.version = Version::V3,
            setup: mastered(),
            step: Step::In(4_000, v3_adv(200, 200)),
            state: Backup,
            actions: vec![changed(Master, Backup, Reason::HigherPriority), remove_vips(), notify(N::Backup, 100)],
            // 3 * 2 s + 156 * 2 s / 256.
            timers: vec![(Timer::MasterDown, Some(us(4_000_000 + 6_000_000 + 1_218_750)))],
        },
        Case {
            name: "master_higher_priority_send_advert",
            rule: "keepalived higher_prio_send_advert: one advert of ours before RFC 5798 6.4.3's Backup",
            config: |c| c.higher_prio_send_advert = true,
            setup: mastered(),
            step: Step::In(4_000, adv(200)),
            state: Backup,
            actions: vec![
                send(100),
                changed(Master, Backup, Reason::HigherPriority),
                remove_vips(),
                notify(N::Backup, 100),
            ],
            timers: vec![],
        },
        // Shutdown.
        Case {
            name: "shutdown_master",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3: Shutdown: priority 0 advert, Initialize",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, Input::Shutdown),
            state: Initialize,
            actions: vec![changed(Master, Initialize, Reason::Shutdown), send(0), remove_vips(), notify(N::Stop, 100)],
            timers: vec![(Timer::Advert, None), (Timer::GarpDelay, None)],
        },
        Case {
            name: "shutdown_backup",
            rule: "RFC 3768 6.4.2 / RFC 5798 6.4.2: Shutdown: cancel Master_Down_Timer, Initialize",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, Input::Shutdown),
            state: Initialize,
            actions: vec![changed(Backup, Initialize, Reason::Shutdown), notify(N::Stop, 100)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "removed_master_says_fault",
            rule: "keepalived: an instance a reload removes notifies FAULT (its older way)",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, Input::Removed { notify_deleted: false }),
            state: Initialize,
            actions: vec![changed(Master, Initialize, Reason::Shutdown), send(0), remove_vips(), notify(N::Removed { deleted: false }, 100)],
            timers: vec![(Timer::Advert, None), (Timer::GarpDelay, None)],
        },
        Case {
            name: "removed_with_notify_deleted_says_deleted",
            rule: "keepalived: with notify_deleted, an instance a reload removes notifies DELETED",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, Input::Removed { notify_deleted: true }),
            state: Initialize,
            actions: vec![changed(Backup, Initialize, Reason::Shutdown), notify(N::Removed { deleted: true }, 100)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "removed_in_fault_says_nothing",
            rule: "keepalived: an instance already in FAULT is not told FAULT again when removed",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(500, Input::LinkDown)],
            step: Step::In(1_000, Input::Removed { notify_deleted: false }),
            state: Initialize,
            actions: vec![changed(Fault, Initialize, Reason::Shutdown)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "shutdown_then_startup",
            rule: "RFC 5798 6.4.1: a new Startup event after Shutdown starts again",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::Shutdown)],
            step: Step::In(2_000, Input::Startup),
            state: Backup,
            actions: vec![changed(Initialize, Backup, Reason::Startup), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "initialize_ignores_adverts",
            rule: "RFC 5798 6.4.1: Initialize only waits for Startup",
            config: no_change,
            setup: vec![],
            step: Step::In(1_000, adv(200)),
            state: Initialize,
            actions: vec![],
            timers: vec![(Timer::MasterDown, None)],
        },
        // FAULT.
        Case {
            name: "link_down_master",
            rule: "keepalived: interface down: FAULT, VIPs removed, no advert on a dead link",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, Input::LinkDown),
            state: Fault,
            actions: vec![changed(Master, Fault, Reason::LinkDown), remove_vips(), notify(N::Fault, 100)],
            timers: vec![(Timer::Advert, None), (Timer::GarpDelay, None)],
        },
        Case {
            name: "link_down_backup",
            rule: "keepalived: interface down: FAULT, Master_Down_Timer stopped",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, Input::LinkDown),
            state: Fault,
            actions: vec![changed(Backup, Fault, Reason::LinkDown), notify(N::Fault, 100)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "tracker_down_master",
            rule: "keepalived: unweighted tracked item down: FAULT, resigning with priority 0",
            config: no_change,
            setup: mastered(),
            step: Step::In(4_000, tracker(7, false, 0)),
            state: Fault,
            actions: vec![changed(Master, Fault, Reason::TrackerDown), send(0), remove_vips(), notify(N::Fault, 100)],
            timers: vec![(Timer::Advert, None)],
        },
        Case {
            name: "link_up_backup",
            rule: "keepalived: leaving FAULT restarts as RFC 5798 6.4.1 Backup",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::LinkDown)],
            step: Step::In(2_000, Input::LinkUp),
            state: Backup,
            actions: vec![changed(Fault, Backup, Reason::LinkUp), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(2_000_000 + MDI_100)))],
        },
        Case {
            name: "link_up_tracker_still_down",
            rule: "keepalived: FAULT lasts while any fault condition does",
            config: no_change,
            setup: vec![
                Step::In(0, Input::Startup),
                Step::In(1_000, Input::LinkDown),
                Step::In(1_000, tracker(1, false, 0)),
            ],
            step: Step::In(2_000, Input::LinkUp),
            state: Fault,
            actions: vec![],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "tracker_up_owner_master",
            rule: "keepalived: the owner leaving FAULT is Master at once (RFC 5798 6.4.1)",
            config: |c| c.priority = 255,
            setup: vec![Step::In(0, tracker(1, false, 0)), Step::In(0, Input::Startup)],
            step: Step::In(1_000, tracker(1, true, 0)),
            state: Master,
            actions: vec![
                send(255),
                changed(Fault, Master, Reason::TrackerUp),
                add_vips(),
                garp(5),
                notify(N::Master, 255),
            ],
            timers: vec![(Timer::Advert, Some(ms(2_000)))],
        },
        Case {
            name: "fault_ignores_adverts",
            rule: "keepalived: FAULT takes no part in elections",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::LinkDown)],
            step: Step::In(2_000, adv(0)),
            state: Fault,
            actions: vec![],
            timers: vec![(Timer::MasterDown, None)],
        },
        // Tracking weights.
        Case {
            name: "weight_positive_up",
            rule: "keepalived: a positive weight adds while the item is up",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, tracker(1, true, 20)),
            state: Backup,
            actions: vec![Action::PriorityChanged { from: 100, to: 120 }],
            timers: vec![],
        },
        Case {
            name: "weight_positive_down",
            rule: "keepalived: a positive weight adds nothing while the item is down",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, tracker(1, false, 20)),
            state: Backup,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "weight_negative_down",
            rule: "keepalived: a negative weight subtracts while the item is down",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, tracker(1, false, -30)),
            state: Backup,
            actions: vec![Action::PriorityChanged { from: 100, to: 70 }],
            timers: vec![],
        },
        Case {
            name: "weight_clamped_high",
            rule: "keepalived: tracking cannot raise a priority to 255",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(0, tracker(1, true, 100))],
            step: Step::In(1_000, tracker(2, true, 100)),
            state: Backup,
            actions: vec![Action::PriorityChanged { from: 200, to: 254 }],
            timers: vec![],
        },
        Case {
            name: "weight_clamped_low",
            rule: "keepalived: tracking cannot lower a priority below 1",
            config: no_change,
            setup: started(),
            step: Step::In(1_000, tracker(1, false, -200)),
            state: Backup,
            actions: vec![Action::PriorityChanged { from: 100, to: 1 }],
            timers: vec![],
        },
        Case {
            name: "weight_owner_unchanged",
            rule: "keepalived: the owner's priority is not changed by tracking",
            config: |c| c.priority = 255,
            setup: started(),
            step: Step::In(1_000, tracker(1, false, -50)),
            state: Master,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "weight_master_advertises_new_priority",
            rule: "keepalived: the next advert carries the effective priority, no extra advert",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(3_610), Step::In(4_000, tracker(1, false, -60))],
            step: Step::Fire(4_610),
            state: Master,
            actions: vec![send(40)],
            timers: vec![],
        },
        Case {
            name: "weight_master_loses_to_peer",
            rule: "RFC 3768 6.4.3 / RFC 5798 6.4.3 with the effective priority: the peer's advert now wins",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(3_610), Step::In(4_000, tracker(1, false, -60))],
            step: Step::In(4_200, adv(90)),
            state: Backup,
            actions: vec![changed(Master, Backup, Reason::HigherPriority), remove_vips(), notify(N::Backup, 40)],
            // Skew_Time at priority 40: 216/256 s.
            timers: vec![(Timer::MasterDown, Some(us(4_200_000 + 3_843_750)))],
        },
        Case {
            name: "weight_backup_preempts_after_rise",
            rule: "RFC 5798 6.4.2 with the effective priority: a risen Backup discards the Master's adverts",
            config: no_change,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, adv(110)), Step::In(1_500, tracker(1, true, 20))],
            step: Step::In(2_000, adv(110)),
            state: Backup,
            actions: vec![],
            // Master_Down_Interval at priority 100 from the first advert, not reset since.
            timers: vec![(Timer::MasterDown, Some(us(1_000_000 + MDI_100)))],
        },
        // Sync groups.
        Case {
            name: "group_master_down_asks",
            rule: "keepalived sync group: RFC 5798 6.4.2's move to Master waits for the group",
            config: |c| c.sync_group = true,
            setup: started(),
            step: Step::Fire(3_610),
            state: Backup,
            actions: vec![wants(Master)],
            timers: vec![(Timer::MasterDown, None), (Timer::Advert, None)],
        },
        Case {
            name: "group_advert_withdraws_wish",
            rule: "keepalived sync group: a Master heard again withdraws the wish (RFC 5798 6.4.2)",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(3_610)],
            step: Step::In(4_000, adv(200)),
            state: Backup,
            actions: vec![wants(Backup)],
            timers: vec![(Timer::MasterDown, Some(us(4_000_000 + MDI_100)))],
        },
        Case {
            name: "group_force_master",
            rule: "keepalived sync group: the coordinator moves the member to Master",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::Fire(3_610)],
            step: Step::In(3_700, Input::GroupForce { state: Master }),
            state: Master,
            actions: becomes_master(Backup, Reason::GroupForced),
            timers: vec![(Timer::Advert, Some(ms(4_700)))],
        },
        Case {
            name: "group_force_fault_healthy_member",
            rule: "keepalived sync group: a healthy member forced to FAULT resigns and wants Backup",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::In(3_610, Input::GroupForce { state: Master })],
            step: Step::In(4_000, Input::GroupForce { state: Fault }),
            state: Fault,
            actions: vec![
                changed(Master, Fault, Reason::GroupForced),
                send(0),
                remove_vips(),
                notify(N::Fault, 100),
                wants(Backup),
            ],
            timers: vec![(Timer::Advert, None)],
        },
        Case {
            name: "group_fault_cleared_asks",
            rule: "keepalived sync group: leaving FAULT waits for the group",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::LinkDown)],
            step: Step::In(2_000, Input::LinkUp),
            state: Fault,
            actions: vec![wants(Backup)],
            timers: vec![(Timer::MasterDown, None)],
        },
        Case {
            name: "group_force_backup_from_fault",
            rule: "keepalived sync group: the coordinator ends FAULT; RFC 5798 6.4.1 Backup",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::LinkDown), Step::In(2_000, Input::LinkUp)],
            step: Step::In(2_500, Input::GroupForce { state: Backup }),
            state: Backup,
            actions: vec![changed(Fault, Backup, Reason::GroupForced), notify(N::Backup, 100)],
            timers: vec![(Timer::MasterDown, Some(us(2_500_000 + MDI_100)))],
        },
        Case {
            name: "group_force_ignored_when_faulty",
            rule: "keepalived sync group: a member with its own fault stays in FAULT",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::In(1_000, Input::LinkDown)],
            step: Step::In(2_000, Input::GroupForce { state: Master }),
            state: Fault,
            actions: vec![],
            timers: vec![(Timer::Advert, None)],
        },
        Case {
            name: "group_force_ignored_before_startup",
            rule: "RFC 5798 6.4.1: nothing leaves Initialize but Startup",
            config: |c| c.sync_group = true,
            setup: vec![],
            step: Step::In(0, Input::GroupForce { state: Master }),
            state: Initialize,
            actions: vec![],
            timers: vec![],
        },
        Case {
            name: "group_owner_startup_asks",
            rule: "keepalived sync group: the owner starts as Backup and asks for Master",
            config: |c| {
                c.priority = 255;
                c.sync_group = true;
            },
            setup: vec![],
            step: Step::In(0, Input::Startup),
            state: Backup,
            actions: vec![changed(Initialize, Backup, Reason::Startup), notify(N::Backup, 255), wants(Master)],
            timers: vec![(Timer::MasterDown, Some(us(3_003_906)))],
        },
        Case {
            name: "group_master_steps_down_alone",
            rule: "keepalived sync group: RFC 5798 6.4.3's move to Backup is made at once",
            config: |c| c.sync_group = true,
            setup: vec![Step::In(0, Input::Startup), Step::In(3_610, Input::GroupForce { state: Master })],
            step: Step::In(4_000, adv(200)),
            state: Backup,
            actions: vec![
                changed(Master, Backup, Reason::HigherPriority),
                remove_vips(),
                notify(N::Backup, 100),
                wants(Backup),
            ],
            timers: vec![],
        },
    ]
}

#[test]
fn transitions() {
    let cases = cases();
    let mut names: Vec<_> = cases.iter().map(|case| case.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for case in &cases {
        run(case);
    }
}

#[test]
fn skew_and_master_down_interval() {
    // (version, priority, Master_Adver_Interval in cs for v3 adverts, Skew_Time µs, MDI µs)
    let rows: [(Version, u8, Option<u16>, u64, u64); 7] = [
        // RFC 3768 6.1: (256 - Priority) / 256 s, whatever the interval.
        (Version::V2, 100, None, 609_375, 3_609_375),
        (Version::V2, 254, None, 7_812, 3_007_812),
        (Version::V2, 1, None, 996_093, 3_996_093),
        // RFC 5798 6.1: ((256 - Priority) * Master_Adver_Interval) / 256.
        (Version::V3, 100, None, 609_375, 3_609_375),
        (Version::V3, 100, Some(50), 304_687, 1_804_687),
        (Version::V3, 200, Some(10), 21_875, 321_875),
        (Version::V3, 1, Some(4095), 40_790_039, 163_640_039),
    ];
    let epoch = epoch();
    for (version, priority, learned, skew, mdi) in rows {
        let mut config = base_config();
        config.version = version;
        config.priority = priority;
        let mut vrrp = Instance::new(config).expect("valid config");
        vrrp.handle(epoch, Input::Startup);
        if let Some(centiseconds) = learned {
            vrrp.handle(epoch, v3_adv(255, centiseconds));
        }
        assert_eq!(vrrp.skew_time(), us(skew), "{version} priority {priority} {learned:?}");
        assert_eq!(vrrp.master_down_interval(), us(mdi), "{version} priority {priority} {learned:?}");
    }
}

#[test]
fn config_validation() {
    type Row = (&'static str, fn(&mut Config), Option<Error>);
    let rows: [Row; 8] = [
        ("defaults", no_change, None),
        ("vrid 0", |c| c.vrid = 0, Some(Error::Vrid { vrid: 0 })),
        ("priority 0", |c| c.priority = 0, Some(Error::Priority { priority: 0 })),
        (
            "v2 fractional",
            |c| c.advert_int = ms(1_500),
            Some(Error::AdvertInterval {
                version: Version::V2,
                interval: ms(1_500),
                expected: "whole seconds 1..=255",
            }),
        ),
        (
            "v2 256 s",
            |c| c.advert_int = Duration::from_secs(256),
            Some(Error::AdvertInterval {
                version: Version::V2,
                interval: Duration::from_secs(256),
                expected: "whole seconds 1..=255",
            }),
        ),
        (
            "v3 zero",
            |c| {
                c.version = Version::V3;
                c.advert_int = Duration::ZERO;
            },
            Some(Error::AdvertInterval {
                version: Version::V3,
                interval: Duration::ZERO,
                expected: "whole centiseconds 1..=4095",
            }),
        ),
        (
            "v3 5 ms",
            |c| {
                c.version = Version::V3;
                c.advert_int = ms(5);
            },
            Some(Error::AdvertInterval {
                version: Version::V3,
                interval: ms(5),
                expected: "whole centiseconds 1..=4095",
            }),
        ),
        (
            "v3 40.95 s",
            |c| {
                c.version = Version::V3;
                c.advert_int = ms(40_950);
            },
            None,
        ),
    ];
    for (name, change, expected) in rows {
        let mut config = base_config();
        change(&mut config);
        assert_eq!(config.validate().err(), expected, "{name}");
        assert_eq!(Instance::new(config).err(), expected, "{name}");
    }
}

#[test]
fn error_messages() {
    let error = Error::AdvertInterval { version: Version::V2, interval: ms(1_500), expected: "whole seconds 1..=255" };
    assert_eq!(error.to_string(), "advert_int 1.5s is not valid for VRRPv2: whole seconds 1..=255");
    assert_eq!(Error::Vrid { vrid: 0 }.to_string(), "virtual_router_id 0 out of range 1..=255");
}

#[test]
fn stats_count_what_happened() {
    let epoch = epoch();
    let mut vrrp = Instance::new(base_config()).expect("valid config");
    vrrp.handle(epoch, Input::Startup);
    vrrp.handle(
        epoch + ms(500),
        Input::Advert { src: HIGHER_ADDR, priority: 200, adver_int: 3, addresses_match: true },
    );
    vrrp.handle(
        epoch + ms(600),
        Input::Advert { src: HIGHER_ADDR, priority: 200, adver_int: 1, addresses_match: false },
    );
    vrrp.handle(epoch + ms(700), adv(0));
    vrrp.handle_timeout(epoch + ms(1_400));
    vrrp.handle(epoch + ms(1_500), adv(0));
    vrrp.handle(epoch + ms(1_600), Input::Shutdown);
    let expected = Stats {
        adverts_received: 4,
        // On becoming Master, answering priority 0, and priority 0 on shutdown.
        adverts_sent: 3,
        became_master: 1,
        released_master: 1,
        priority_zero_received: 2,
        priority_zero_sent: 1,
        advert_interval_errors: 1,
        address_list_errors: 1,
        transitions: 3,
    };
    assert_eq!(*vrrp.stats(), expected);
}

#[test]
fn timers_expire_in_deadline_then_table_order() {
    let epoch = epoch();
    let mut config = base_config();
    config.priority = 255;
    // The refresh burst falls on the same instant as an advert and the second burst.
    config.garp_master_refresh = ms(5_000);
    let mut vrrp = Instance::new(config).expect("valid config");
    vrrp.handle(epoch, Input::Startup);
    drain(&mut vrrp);
    assert_eq!(vrrp.poll_timeout(), Some(epoch + ms(1_000)));
    vrrp.handle_timeout(epoch + ms(5_000));
    // Each advert timer firing re-arms from the `now` it is handled at, so a late call sends
    // one advert rather than a burst of missed ones.
    assert_eq!(drain(&mut vrrp), vec![send(255), garp(5), garp(1)]);
    assert_eq!(vrrp.poll_timeout(), Some(epoch + ms(6_000)));
}

#[test]
fn wanted_state_follows_state_alone() {
    let epoch = epoch();
    let mut vrrp = Instance::new(base_config()).expect("valid config");
    assert_eq!(vrrp.wanted_state(), State::Initialize);
    vrrp.handle(epoch, Input::Startup);
    assert_eq!(vrrp.wanted_state(), State::Backup);
    vrrp.handle_timeout(epoch + us(MDI_100));
    assert_eq!(vrrp.wanted_state(), State::Master);
    vrrp.handle(epoch + ms(4_000), Input::LinkDown);
    assert_eq!(vrrp.wanted_state(), State::Fault);
    assert!(vrrp.is_faulty());
    assert!(drain(&mut vrrp).iter().all(|action| !matches!(action, Action::GroupWants { .. })));
}

#[test]
fn inputs_and_actions_round_trip_through_json() {
    let inputs = [
        Input::Startup,
        adv(200),
        Input::LinkDown,
        Input::LinkUp,
        tracker(3, false, -10),
        Input::Shutdown,
        Input::GroupForce { state: State::Fault },
    ];
    for input in inputs {
        let json = serde_json::to_string(&input).expect("serializable");
        assert_eq!(serde_json::from_str::<Input>(&json).expect("parsable"), input, "{json}");
    }
    let json = serde_json::to_string(&changed(State::Backup, State::Master, Reason::MasterDown)).expect("serializable");
    assert_eq!(json, r#"{"type":"StateChanged","from":"BACKUP","to":"MASTER","reason":"MasterDown"}"#);
    let json = serde_json::to_string(&notify(NotifyState::MasterRxLowerPri, 100)).expect("serializable");
    assert_eq!(json, r#"{"type":"Notify","state":"MASTER_RX_LOWER_PRI","priority":100}"#);
}

#[test]
fn config_json_defaults_are_keepalived_defaults() {
    let config: Config =
        serde_json::from_str(r#"{"vrid": 51, "version": "v2", "priority": 100, "primary_address": "192.0.2.10"}"#)
            .expect("parsable");
    assert_eq!(config, Config::new(51, Version::V2, 100, OURS));
    let json = serde_json::to_value(&config).expect("serializable");
    assert_eq!(json["advert_int_ms"], 1_000);
    assert_eq!(json["garp_master_delay_ms"], 5_000);
    assert!(serde_json::from_str::<Config>(
        r#"{"vrid": 1, "version": "v2", "priority": 1, "primary_address": "192.0.2.10", "bogus": 1}"#
    )
    .is_err());
}

#[test]
fn state_names_are_keepalived_words() {
    let names: Vec<_> =
        [State::Initialize, State::Backup, State::Master, State::Fault].iter().map(ToString::to_string).collect();
    assert_eq!(names, ["INIT", "BACKUP", "MASTER", "FAULT"]);
}

/// A reload that changes settings but not the instance: the state stays, the new priority,
/// interval or address list is advertised at once by a Master, nothing at all happens when
/// nothing changed.
#[test]
fn reconfigure_keeps_the_state() {
    let epoch = epoch();
    let mut vrrp = Instance::new(base_config()).expect("valid config");
    for step in mastered() {
        apply(&mut vrrp, epoch, &step, true);
    }
    assert_eq!(vrrp.state(), State::Master);
    drain(&mut vrrp);
    let now = epoch + ms(4_000);
    let advert_before = vrrp.timer(Timer::Advert);

    vrrp.reconfigure(now, base_config()).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![], "an unchanged configuration changes nothing");
    assert_eq!(vrrp.timer(Timer::Advert), advert_before, "the advert timer runs on");

    let mut lower = base_config();
    lower.priority = 90;
    vrrp.reconfigure(now, lower).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![Action::PriorityChanged { from: 100, to: 90 }, send(90)]);
    assert_eq!(vrrp.state(), State::Master);
    assert_eq!(vrrp.effective_priority(), 90);
    assert_eq!(vrrp.timer(Timer::Advert), Some(now + ms(1_000)));

    let mut slower = base_config();
    slower.priority = 90;
    slower.advert_int = ms(2_000);
    vrrp.reconfigure(now, slower.clone()).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![send(90)]);
    assert_eq!(vrrp.timer(Timer::Advert), Some(now + ms(2_000)));
    assert_eq!(vrrp.master_adver_interval(), ms(2_000));

    let mut moved = slower.clone();
    moved.vips.push("192.0.2.200".parse().expect("address"));
    let later = now + ms(500);
    vrrp.reconfigure(later, moved.clone()).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![send(90)], "a new address list is advertised at once");
    assert_eq!(vrrp.timer(Timer::Advert), Some(later + ms(2_000)));
    vrrp.reconfigure(later, moved).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![], "the same list again is not");

    let mut bad = base_config();
    bad.priority = 0;
    assert!(vrrp.reconfigure(now, bad).is_err(), "an invalid configuration is refused");
    assert_eq!(vrrp.effective_priority(), 90, "and changes nothing");
}

#[test]
fn reconfigure_a_backup_keeps_its_timer() {
    let epoch = epoch();
    let mut vrrp = Instance::new(base_config()).expect("valid config");
    apply(&mut vrrp, epoch, &Step::In(0, Input::Startup), true);
    drain(&mut vrrp);
    let down = vrrp.timer(Timer::MasterDown);
    let mut higher = base_config();
    higher.priority = 200;
    vrrp.reconfigure(epoch + ms(100), higher).expect("valid config");
    assert_eq!(drain(&mut vrrp), vec![Action::PriorityChanged { from: 100, to: 200 }]);
    assert_eq!(vrrp.state(), State::Backup);
    assert_eq!(vrrp.timer(Timer::MasterDown), down);
}
