//! Many routers on a simulated LAN with a virtual clock (STYLE rule 5).
//!
//! Each seed draws 2 to 5 routers (priorities, some equal, sometimes an owner, sometimes
//! `nopreempt`), an advert interval, a per-packet delay bound and a loss rate, and a schedule of
//! crashes and graceful shutdowns, each followed by a restart. Adverts go to every other router
//! with their own delay and loss. Checked at every step:
//!
//! * **At most one Master**, except within the RFC's transient: two Masters may coexist for a
//!   while after a disturbance (a router starting, crashing or shutting down, or a lost
//!   packet), because a Backup only learns of a Master from its adverts. The window is
//!   Master_Down_Interval (lowest priority) + Advertisement_Interval + twice the delay bound.
//! * **A new Master in time**: once no Master is left, one appears within Master_Down_Interval
//!   (3 * Adver_Interval + Skew_Time of some running Backup) plus the delay bound, counted from
//!   when the last Master went away or that Backup started, whichever is later.
//!
//! After a quiet period (no faults, no loss) exactly one Master must remain, and without
//! `nopreempt` it has the highest priority.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use fastrand::Rng;
use vigil_vrrp::fsm::{Action, Config, Input, Instance, State, Version, OWNER_PRIORITY};

/// The draws a scenario is made of, on top of fastrand's.
trait Draw {
    fn chance(&mut self, per_mille: u64) -> bool;

    /// Up to `bound` inclusive, to the microsecond.
    fn duration_to(&mut self, bound: Duration) -> Duration;
}

impl Draw for Rng {
    fn chance(&mut self, per_mille: u64) -> bool {
        self.u64(..1_000) < per_mille
    }

    fn duration_to(&mut self, bound: Duration) -> Duration {
        let micros = u64::try_from(bound.as_micros()).expect("short durations");
        Duration::from_micros(self.u64(..=micros))
    }
}

/// Skew_Time for `priority` with interval `interval` (RFC 3768 / RFC 5798 6.1, in µs).
fn skew(version: Version, priority: u8, interval: Duration) -> Duration {
    let base = match version {
        Version::V2 => Duration::from_secs(1),
        Version::V3 => interval,
    };
    base * (256 - u32::from(priority)) / 256
}

#[derive(Debug)]
struct Scenario {
    seed: u64,
    version: Version,
    interval: Duration,
    max_delay: Duration,
    loss_per_mille: u64,
    priorities: Vec<u8>,
    nopreempt: Vec<bool>,
    /// Faults stop before this; loss too.
    quiet_from: Duration,
    end: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Start(usize),
    Crash(usize),
    Shutdown(usize),
    Deliver { to: usize, from: usize, priority: u8 },
}

struct Node {
    config: Config,
    instance: Option<Instance>,
    started: Duration,
}

/// What a run observed, summed over seeds to show the checks had something to check.
#[derive(Debug, Default)]
struct Observed {
    failovers: u64,
    dual_master_steps: u64,
    lost_packets: u64,
}

struct Sim {
    scenario: Scenario,
    rng: Rng,
    epoch: Instant,
    now: Duration,
    nodes: Vec<Node>,
    queue: BinaryHeap<Reverse<(Duration, u64, Event)>>,
    sequence: u64,
    last_disturbance: Duration,
    masterless_since: Option<Duration>,
    trace: VecDeque<String>,
    observed: Observed,
}

impl Scenario {
    fn draw(seed: u64, version: Version, rng: &mut Rng) -> Scenario {
        let n = rng.usize(2..6);
        let interval = match version {
            Version::V2 => Duration::from_secs(rng.u64(1..=2)),
            Version::V3 => Duration::from_millis(rng.choice([1_000, 500, 300, 100]).expect("a non-empty list")),
        };
        let max_delay = rng.duration_to(interval / 10);
        let loss_per_mille = rng.choice([0, 5, 20, 50]).expect("a non-empty list");
        let mut priorities: Vec<u8> = (0..n).map(|_| rng.u8(1..=254)).collect();
        if rng.chance(300) {
            // Equal priorities: the primary address decides between Masters.
            priorities[1] = priorities[0];
        }
        if rng.chance(150) {
            priorities[rng.usize(..n)] = OWNER_PRIORITY;
        }
        let nopreempt = (0..n).map(|_| rng.chance(100)).collect();
        let quiet_from = 60 * interval;
        let mdi_max = 3 * interval + skew(version, 1, interval);
        Scenario {
            seed,
            version,
            interval,
            max_delay,
            loss_per_mille,
            priorities,
            nopreempt,
            quiet_from,
            end: quiet_from + 12 * mdi_max,
        }
    }

    fn address(&self, node: usize) -> IpAddr {
        let host = u8::try_from(node + 1).expect("few nodes");
        match self.version {
            Version::V2 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)),
            Version::V3 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(host))),
        }
    }

    fn config(&self, node: usize) -> Config {
        let mut config = Config::new(51, self.version, self.priorities[node], self.address(node));
        config.advert_int = self.interval;
        config.nopreempt = self.nopreempt[node];
        config.vips = vec![match self.version {
            Version::V2 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
            Version::V3 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        }];
        config
    }

    /// The largest Master_Down_Interval any router can have.
    fn mdi_max(&self) -> Duration {
        let lowest = self.priorities.iter().copied().min().expect("at least two routers");
        3 * self.interval + skew(self.version, lowest, self.interval)
    }

    /// How long after a disturbance two Masters may still coexist.
    fn transient(&self) -> Duration {
        self.mdi_max() + self.interval + 2 * self.max_delay
    }

    fn wire_interval(&self) -> u16 {
        let unit = match self.version {
            Version::V2 => Duration::from_secs(1),
            Version::V3 => Duration::from_millis(10),
        };
        u16::try_from(self.interval.as_millis() / unit.as_millis()).expect("valid interval")
    }
}

impl Sim {
    fn new(seed: u64, version: Version) -> Sim {
        let mut rng = Rng::with_seed(seed);
        let scenario = Scenario::draw(seed, version, &mut rng);
        let nodes = (0..scenario.priorities.len())
            .map(|node| Node { config: scenario.config(node), instance: None, started: Duration::ZERO })
            .collect();
        let mut sim = Sim {
            scenario,
            rng,
            epoch: epoch(),
            now: Duration::ZERO,
            nodes,
            queue: BinaryHeap::new(),
            sequence: 0,
            last_disturbance: Duration::ZERO,
            masterless_since: None,
            trace: VecDeque::new(),
            observed: Observed::default(),
        };
        sim.schedule_faults();
        sim
    }

    fn schedule(&mut self, at: Duration, event: Event) {
        self.sequence += 1;
        self.queue.push(Reverse((at, self.sequence, event)));
    }

    fn schedule_faults(&mut self) {
        let interval = self.scenario.interval;
        for node in 0..self.nodes.len() {
            let at = self.rng.duration_to(interval);
            self.schedule(at, Event::Start(node));
        }
        let mdi = self.scenario.mdi_max();
        let last = self.scenario.quiet_from - 6 * mdi;
        for _ in 0..self.rng.u8(..7) {
            let node = self.rng.usize(..self.nodes.len());
            let at = 2 * interval + self.rng.duration_to(last - 2 * interval);
            let event = if self.rng.chance(600) { Event::Crash(node) } else { Event::Shutdown(node) };
            self.schedule(at, event);
            let down_for = mdi / 2 + self.rng.duration_to(5 * mdi);
            self.schedule(at + down_for, Event::Start(node));
        }
    }

    fn fail(&self, what: &str) -> ! {
        let states: Vec<_> = self
            .nodes
            .iter()
            .map(|node| node.instance.as_ref().map(|vrrp| (vrrp.state(), vrrp.effective_priority())))
            .collect();
        let trace: Vec<_> = self.trace.iter().map(String::as_str).collect();
        panic!(
            "seed {}: {what} at {:?}\n{:#?}\nstates: {states:?}\nlast steps:\n{}",
            self.scenario.seed,
            self.now,
            self.scenario,
            trace.join("\n")
        );
    }

    fn note(&mut self, step: String) {
        if self.trace.len() == 40 {
            self.trace.pop_front();
        }
        self.trace.push_back(format!("{:?} {step}", self.now));
    }

    fn disturbed(&mut self) {
        self.last_disturbance = self.now;
    }

    fn masters(&self) -> usize {
        self.nodes
            .iter()
            .filter(|node| node.instance.as_ref().is_some_and(|vrrp| vrrp.state() == State::Master))
            .count()
    }

    /// Carries out a router's actions: adverts go to every other router.
    fn flush(&mut self, from: usize) {
        let Some(vrrp) = self.nodes[from].instance.as_mut() else { return };
        let actions: Vec<_> = std::iter::from_fn(|| vrrp.poll_action()).collect();
        for action in actions {
            self.note(format!("node {from}: {action:?}"));
            let Action::SendAdvert { priority } = action else { continue };
            for to in (0..self.nodes.len()).filter(|to| *to != from) {
                if self.now < self.scenario.quiet_from && self.rng.chance(self.scenario.loss_per_mille) {
                    self.observed.lost_packets += 1;
                    self.disturbed();
                    continue;
                }
                let at = self.now + self.rng.duration_to(self.scenario.max_delay);
                self.schedule(at, Event::Deliver { to, from, priority });
            }
        }
    }

    fn apply(&mut self, event: Event) {
        let now = self.epoch + self.now;
        match event {
            Event::Start(node) if self.nodes[node].instance.is_none() => {
                let mut vrrp = Instance::new(self.nodes[node].config.clone()).expect("valid config");
                vrrp.handle(now, Input::Startup);
                self.nodes[node].instance = Some(vrrp);
                self.nodes[node].started = self.now;
                self.disturbed();
                self.flush(node);
            }
            Event::Crash(node) if self.nodes[node].instance.is_some() => {
                self.note(format!("node {node} crashes"));
                self.nodes[node].instance = None;
                self.disturbed();
            }
            Event::Shutdown(node) => {
                if let Some(vrrp) = self.nodes[node].instance.as_mut() {
                    vrrp.handle(now, Input::Shutdown);
                    self.flush(node);
                    self.nodes[node].instance = None;
                    self.disturbed();
                }
            }
            Event::Deliver { to, from, priority } => {
                let src = self.scenario.address(from);
                let adver_int = self.scenario.wire_interval();
                if let Some(vrrp) = self.nodes[to].instance.as_mut() {
                    vrrp.handle(now, Input::Advert { src, priority, adver_int, addresses_match: true });
                    self.flush(to);
                }
            }
            Event::Start(_) | Event::Crash(_) => {}
        }
    }

    /// The latest time a new Master may appear while there is none.
    fn failover_deadline(&self, since: Duration) -> Option<Duration> {
        self.nodes
            .iter()
            .filter_map(|node| {
                let vrrp = node.instance.as_ref().filter(|vrrp| vrrp.state() == State::Backup)?;
                // RFC 3768 / RFC 5798 6.1, from the scenario rather than the instance under test.
                let scenario = &self.scenario;
                let mdi = 3 * scenario.interval + skew(scenario.version, vrrp.effective_priority(), scenario.interval);
                Some(since.max(node.started) + mdi + scenario.max_delay)
            })
            .min()
    }

    fn check_safety(&mut self) {
        let masters = self.masters();
        if masters > 1 {
            self.observed.dual_master_steps += 1;
            if self.now - self.last_disturbance > self.scenario.transient() {
                self.fail(&format!(
                    "{masters} Masters, {:?} after the last disturbance",
                    self.now - self.last_disturbance
                ));
            }
        }
        match (masters, self.masterless_since) {
            (0, None) => self.masterless_since = Some(self.now),
            (0, Some(_)) => {}
            (_, Some(_)) => {
                self.observed.failovers += 1;
                self.masterless_since = None;
            }
            (_, None) => {}
        }
    }

    fn run(mut self) -> Observed {
        loop {
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(index, node)| Some((node.instance.as_ref()?.poll_timeout()? - self.epoch, index)))
                .min();
            let event = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let at = match (timer, event) {
                (Some((timer_at, _)), Some(event_at)) => timer_at.min(event_at),
                (Some((timer_at, _)), None) => timer_at,
                (None, Some(event_at)) => event_at,
                (None, None) => break,
            };
            if at > self.scenario.end {
                break;
            }
            assert!(at >= self.now, "time goes forward");
            if let Some(deadline) = self.masterless_since.and_then(|since| self.failover_deadline(since)) {
                if at > deadline {
                    self.now = deadline;
                    self.fail("no new Master by Master_Down_Interval + delay");
                }
            }
            self.now = at;
            match timer {
                Some((timer_at, node)) if timer_at == at => {
                    let vrrp = self.nodes[node].instance.as_mut().expect("only running routers have timers");
                    vrrp.handle_timeout(self.epoch + at);
                    self.flush(node);
                }
                _ => {
                    let Reverse((_, _, event)) = self.queue.pop().expect("an event is due");
                    self.apply(event);
                }
            }
            self.check_safety();
        }
        self.check_converged();
        self.observed
    }

    fn check_converged(&self) {
        let masters: Vec<_> = self
            .nodes
            .iter()
            .filter_map(|node| node.instance.as_ref())
            .filter(|vrrp| vrrp.state() == State::Master)
            .collect();
        if masters.len() != 1 {
            self.fail(&format!("{} Masters after the quiet period", masters.len()));
        }
        let highest = self.scenario.priorities.iter().copied().max().expect("at least two routers");
        if !self.scenario.nopreempt.contains(&true) && masters[0].effective_priority() != highest {
            self.fail("the Master after the quiet period is not the highest priority");
        }
    }
}

/// Only offsets from this instant are used: the virtual clock starts here.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn many_seeds(version: Version, seeds: std::ops::Range<u64>) -> Observed {
    let mut total = Observed::default();
    for seed in seeds {
        let observed = Sim::new(seed, version).run();
        total.failovers += observed.failovers;
        total.dual_master_steps += observed.dual_master_steps;
        total.lost_packets += observed.lost_packets;
    }
    total
}

const SEEDS: std::ops::Range<u64> = 0..500;

#[test]
fn v2_routers_elect_one_master() {
    let observed = many_seeds(Version::V2, SEEDS);
    assert!(observed.failovers > 100, "{observed:?}");
    assert!(observed.dual_master_steps > 0, "{observed:?}");
    assert!(observed.lost_packets > 100, "{observed:?}");
}

#[test]
fn v3_routers_elect_one_master() {
    let observed = many_seeds(Version::V3, SEEDS);
    assert!(observed.failovers > 100, "{observed:?}");
    assert!(observed.dual_master_steps > 0, "{observed:?}");
    assert!(observed.lost_packets > 100, "{observed:?}");
}

#[test]
fn scenarios_are_reproducible() {
    // The seed field is the same, so that only what is drawn tells two seeds apart.
    let draw = |seed| format!("{:?}", Scenario::draw(0, Version::V3, &mut Rng::with_seed(seed)));
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
}
