//! One VRRP instance: RFC 3768 / RFC 5798 section 6 with keepalived's extensions.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::config::{Config, Error, Version, OWNER_PRIORITY};
use super::event::{Action, Input, NotifyState, Reason, State, Stats};
use super::timers::{Timer, Timers};

/// The last report of one tracked item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tracked {
    up: bool,
    weight: i32,
}

impl Tracked {
    /// An unweighted item that is down puts the instance in FAULT (keepalived).
    fn faults(self) -> bool {
        self.weight == 0 && !self.up
    }

    /// keepalived: a positive weight counts while up, a negative one while down.
    fn contribution(self) -> i64 {
        match (self.up, self.weight) {
            (true, weight) if weight > 0 => weight.into(),
            (false, weight) if weight < 0 => weight.into(),
            _ => 0,
        }
    }
}

/// The parts of an advert the rules look at.
#[derive(Debug, Clone, Copy)]
struct Advert {
    src: IpAddr,
    priority: u8,
    interval: Duration,
}

/// The state machine of one `vrrp_instance`: inputs in through [`handle`](Self::handle) and
/// [`handle_timeout`](Self::handle_timeout), actions out through
/// [`poll_action`](Self::poll_action). It never reads a clock: every call takes `now`.
///
/// Call [`handle_timeout`](Self::handle_timeout) once [`poll_timeout`](Self::poll_timeout) is
/// reached and before handing in later inputs, then drain [`poll_action`](Self::poll_action).
#[derive(Debug, Clone)]
pub struct Instance {
    config: Config,
    state: State,
    want: State,
    effective_priority: u8,
    master_adver_int: Duration,
    link_up: bool,
    tracked: BTreeMap<u32, Tracked>,
    preempt_ready: bool,
    timers: Timers,
    actions: VecDeque<Action>,
    stats: Stats,
}

impl Instance {
    /// A new instance in Initialize, waiting for [`Input::Startup`].
    pub fn new(config: Config) -> Result<Instance, Error> {
        config.validate()?;
        Ok(Instance {
            state: State::Initialize,
            want: State::Initialize,
            effective_priority: config.priority,
            master_adver_int: config.advert_int,
            link_up: true,
            tracked: BTreeMap::new(),
            preempt_ready: false,
            timers: Timers::default(),
            actions: VecDeque::new(),
            stats: Stats::default(),
            config,
        })
    }

    /// The configuration the instance runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The state the instance would be in on its own. It differs from [`state`](Self::state)
    /// in a sync group while a move up waits for the coordinator (Backup wanting Master,
    /// Fault wanting Backup), and after the coordinator forced the instance into a state it
    /// would not have chosen. The coordinator moves the group with [`Input::GroupForce`].
    pub fn wanted_state(&self) -> State {
        self.want
    }

    /// Whether the interface or an unweighted tracked item is down.
    pub fn is_faulty(&self) -> bool {
        !self.link_up || self.tracked.values().any(|tracked| tracked.faults())
    }

    /// Every tracked item the instance counts, by id: whether it is up, and what it adds to
    /// the priority now (see [`Input::TrackerChange`]).
    pub fn tracked(&self) -> impl Iterator<Item = (u32, bool, i64)> + '_ {
        self.tracked.iter().map(|(id, t)| (*id, t.up, t.contribution()))
    }

    /// The priority advertised and compared: the configured one plus tracking weights,
    /// clamped to 1..=254; always 255 for the address owner.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Master_Adver_Interval: the Master's advert interval as learned from its adverts (v3),
    /// or the configured one (v2, and v3 before any advert).
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_int
    }

    /// Skew_Time for the effective priority, to the microsecond as keepalived computes it.
    pub fn skew_time(&self) -> Duration {
        let interval = match self.config.version {
            // RFC 3768 6.1: Skew_Time = (256 - Priority) / 256 seconds.
            Version::V2 => Duration::from_secs(1),
            // RFC 5798 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
            Version::V3 => self.master_adver_int,
        };
        let micros = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(micros.saturating_mul(256 - u64::from(self.effective_priority)) / 256)
    }

    /// Master_Down_Interval: three Master advert intervals plus Skew_Time (RFC 3768 6.1,
    /// RFC 5798 6.1).
    pub fn master_down_interval(&self) -> Duration {
        3 * self.master_adver_int + self.skew_time()
    }

    /// When `timer` expires, if it runs.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.timers.get(timer)
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Zeroes the counters (keepalived's STATS_CLEAR signal); nothing else reads them.
    pub fn clear_stats(&mut self) {
        self.stats = Stats::default();
    }

    /// The next action to carry out, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Handles one input at `now`.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Startup => self.startup(now),
            Input::Advert { src, priority, adver_int, addresses_match } => {
                self.advert(now, src, priority, adver_int, addresses_match)
            }
            Input::LinkDown => {
                self.link_up = false;
                self.reassess(now, Reason::LinkDown);
            }
            Input::LinkUp => {
                self.link_up = true;
                self.reassess(now, Reason::LinkUp);
            }
            Input::TrackerChange { id, up, weight } => {
                self.tracked.insert(id, Tracked { up, weight });
                self.reassess(now, if up { Reason::TrackerUp } else { Reason::TrackerDown });
            }
            Input::TrackersReplaced { items } => {
                self.tracked = items.iter().map(|t| (t.id, Tracked { up: t.up, weight: t.weight })).collect();
                let reason = if self.is_faulty() { Reason::TrackerDown } else { Reason::TrackerUp };
                self.reassess(now, reason);
            }
            Input::MasterGone => {
                // As the Master_Down_Timer firing, earlier: a sync group member only asks.
                if self.state == State::Backup {
                    if !self.config.sync_group {
                        self.enter_master(now, Reason::MasterGone);
                    }
                    self.set_want(State::Master);
                }
            }
            Input::MasterSuspect => {
                if self.state == State::Backup {
                    if let Some(at) = self.timers.get(Timer::MasterDown) {
                        let sooner = at.checked_sub(2 * self.master_adver_int).unwrap_or(now).max(now);
                        if sooner < at {
                            self.timers.set(Timer::MasterDown, sooner);
                        }
                    }
                }
            }
            Input::Shutdown => self.shutdown(Some(NotifyState::Stop)),
            Input::Removed { notify_deleted } => {
                let told = match (notify_deleted, self.state) {
                    (false, State::Fault) => None,
                    (deleted, _) => Some(NotifyState::Removed { deleted }),
                };
                self.shutdown(told)
            }
            Input::GroupForce { state } => self.group_force(now, state),
        }
    }

    /// Runs `config` from `now` on without leaving the current state: a reload that changed
    /// only settings the state survives (priority, advert interval, preemption, gratuitous
    /// ARP settings, VIPs, ...). The effective priority is recomputed; a Master whose
    /// priority, advert interval or address list changed advertises at once, so that a Backup
    /// that now wins (or times differently, or was given the new list first and drops the
    /// old one) learns it without waiting a whole interval. A Backup's
    /// Master_Down_Timer runs on and is set from the new settings by the next advert. The
    /// caller keeps the VRID, version and interface: those are another instance.
    pub fn reconfigure(&mut self, now: Instant, config: Config) -> Result<(), Error> {
        config.validate()?;
        let interval_changed = config.advert_int != self.config.advert_int;
        let vips_changed = config.vips != self.config.vips;
        let before = self.effective_priority;
        let refresh_changed = config.garp_master_refresh != self.config.garp_master_refresh
            || config.garp_master_refresh_repeat != self.config.garp_master_refresh_repeat;
        self.config = config;
        let priority = self.compute_priority();
        if priority != before {
            self.actions.push_back(Action::PriorityChanged { from: before, to: priority });
            self.effective_priority = priority;
        }
        if self.state != State::Master {
            return Ok(());
        }
        self.master_adver_int = self.config.advert_int;
        // A new address list is advertised at once too: a Backup reloaded first drops the
        // adverts with the old list (RFC 3768 7.1), and would otherwise hear none it accepts
        // until the next interval.
        if interval_changed || vips_changed || priority != before {
            self.send_advert(self.effective_priority);
            self.timers.set(Timer::Advert, now + self.config.advert_int);
        }
        if refresh_changed {
            self.timers.cancel(Timer::GarpRefresh);
            if !self.config.garp_master_refresh.is_zero() && self.config.garp_master_refresh_repeat > 0 {
                self.timers.set(Timer::GarpRefresh, now + self.config.garp_master_refresh);
            }
        }
        Ok(())
    }

    /// Handles every timer expired at `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Advert => {
                    // RFC 3768 6.4.3 / RFC 5798 6.4.3: Adver_Timer fires: send an
                    // ADVERTISEMENT and reset the Adver_Timer to Advertisement_Interval.
                    self.send_advert(self.effective_priority);
                    self.timers.set(Timer::Advert, now + self.config.advert_int);
                }
                Timer::MasterDown => {
                    // RFC 3768 6.4.2 / RFC 5798 6.4.2: Master_Down_Timer fires: transition to
                    // Master. A sync group member only asks; the group goes together.
                    if !self.config.sync_group {
                        self.enter_master(now, Reason::MasterDown);
                    }
                    self.set_want(State::Master);
                }
                Timer::Preempt => self.preempt_ready = true,
                Timer::GarpDelay => self.announce(self.config.garp_master_repeat),
                Timer::GarpLowerPrio => self.announce(self.config.garp_lower_prio_repeat),
                Timer::GarpRefresh => {
                    self.announce(self.config.garp_master_refresh_repeat);
                    self.timers.set(Timer::GarpRefresh, now + self.config.garp_master_refresh);
                }
            }
        }
    }

    fn startup(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        self.start_protocol(now, Reason::Startup);
    }

    /// RFC 3768 6.4.1 / RFC 5798 6.4.1, also for leaving FAULT, which keepalived treats as a
    /// fresh start (the owner takes over at once again).
    fn start_protocol(&mut self, now: Instant, reason: Reason) {
        let target = self.start_target();
        if self.config.sync_group && self.state == State::Fault {
            self.set_want(target);
            return;
        }
        match target {
            State::Fault => self.enter_fault(reason),
            // RFC 5798 6.4.1: Priority 255: send an ADVERTISEMENT, announce the addresses, set
            // the Adver_Timer, transition to Master. A sync group member starts as Backup and
            // asks.
            State::Master if !self.config.sync_group => self.enter_master(now, reason),
            // RFC 5798 6.4.1: otherwise set Master_Adver_Interval to Advertisement_Interval, the
            // Master_Down_Timer to Master_Down_Interval, and transition to Backup.
            _ => self.enter_backup(now, reason),
        }
        self.set_want(target);
    }

    fn start_target(&self) -> State {
        if self.is_faulty() {
            State::Fault
        } else if self.config.starts_as_master() {
            State::Master
        } else {
            State::Backup
        }
    }

    fn advert(&mut self, now: Instant, src: IpAddr, priority: u8, adver_int: u16, addresses_match: bool) {
        if self.state == State::Initialize {
            return;
        }
        self.stats.adverts_received += 1;
        // Our own advert looped back: answering it would start an advert storm.
        if src == self.config.primary_address {
            return;
        }
        let interval = self.config.interval_from_wire(adver_int);
        let bad_interval = match self.config.version {
            // RFC 3768 7.1: MUST discard an advert whose Adver Int differs from ours.
            Version::V2 => interval != self.config.advert_int,
            // A zero Max Adver Int would make Master_Down_Interval almost nothing.
            Version::V3 => interval.is_zero(),
        };
        if bad_interval {
            self.stats.advert_interval_errors += 1;
            return;
        }
        // RFC 3768 7.1 / RFC 5798 7.1: addresses that do not match ours: drop, unless the
        // sender is the owner (priority 255).
        if !addresses_match && priority != OWNER_PRIORITY {
            self.stats.address_list_errors += 1;
            return;
        }
        if priority == 0 {
            self.stats.priority_zero_received += 1;
        }
        let advert = Advert { src, priority, interval };
        match self.state {
            State::Backup => self.backup_advert(now, advert),
            State::Master => self.master_advert(now, advert),
            State::Initialize | State::Fault => {}
        }
    }

    fn backup_advert(&mut self, now: Instant, advert: Advert) {
        if advert.priority == 0 {
            // RFC 3768 6.4.2 / RFC 5798 6.4.2: priority 0: set the Master_Down_Timer to
            // Skew_Time, so the best Backup takes over first.
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            self.set_want(State::Backup);
            return;
        }
        let lower = advert.priority < self.effective_priority;
        if lower && self.config.preempts() && !self.preempt_delay_running(now) {
            // RFC 3768 6.4.2 / RFC 5798 6.4.2: Preempt_Mode and a lower priority: discard, so
            // the Master_Down_Timer runs out and we take over.
            return;
        }
        if !lower {
            // A Master at least as good as us ends the tolerance of a lower one: preempt_delay
            // counts again from the next lower-priority Master, as it did from startup.
            self.preempt_ready = false;
            self.timers.cancel(Timer::Preempt);
        }
        // RFC 5798 6.4.2: priority >= ours, or Preempt_Mode False: set Master_Adver_Interval
        // to the advert's, recompute Skew_Time and Master_Down_Interval.
        if self.config.version == Version::V3 {
            self.master_adver_int = advert.interval;
        }
        // RFC 3768 6.4.2 / RFC 5798 6.4.2: reset the Master_Down_Timer to Master_Down_Interval.
        self.timers.set(Timer::MasterDown, now + self.master_down_interval());
        self.set_want(State::Backup);
    }

    /// keepalived's `preempt_delay`: a lower-priority Master is tolerated until the delay,
    /// counted from its first advert, has passed.
    fn preempt_delay_running(&mut self, now: Instant) -> bool {
        let delay = self.config.effective_preempt_delay();
        if delay.is_zero() || self.preempt_ready {
            return false;
        }
        match self.timers.get(Timer::Preempt) {
            Some(at) if at <= now => false,
            Some(_) => true,
            None => {
                self.timers.set(Timer::Preempt, now + delay);
                true
            }
        }
    }

    fn master_advert(&mut self, now: Instant, advert: Advert) {
        if advert.priority == 0 {
            // RFC 3768 6.4.3 / RFC 5798 6.4.3: priority 0: send an ADVERTISEMENT and reset the
            // Adver_Timer, so the resigning router's Backups see a Master at once.
            self.send_advert(self.effective_priority);
            self.timers.set(Timer::Advert, now + self.config.advert_int);
            return;
        }
        let higher = advert.priority > self.effective_priority
            || (advert.priority == self.effective_priority && advert.src > self.config.primary_address);
        if higher {
            if self.config.higher_prio_send_advert {
                self.send_advert(self.effective_priority);
            }
            // RFC 5798 6.4.3: higher priority, or equal and a higher primary address: cancel
            // the Adver_Timer, learn Master_Adver_Interval, set the Master_Down_Timer to
            // Master_Down_Interval, transition to Backup (RFC 3768 6.4.3 likewise, without the
            // interval).
            if self.config.version == Version::V3 {
                self.master_adver_int = advert.interval;
            }
            self.enter_backup(now, Reason::HigherPriority);
            self.set_want(State::Backup);
            return;
        }
        // RFC 3768 6.4.3 / RFC 5798 6.4.3 discard a lower-priority advert (equal priority from
        // a lower address included). keepalived answers at once and re-announces the VIPs, so
        // a router that took over during a communication break steps back and the network
        // relearns where the VIPs are.
        if !self.config.lower_prio_no_advert {
            self.send_advert(self.effective_priority);
            self.timers.set(Timer::Advert, now + self.config.advert_int);
        }
        if self.config.garp_lower_prio_repeat > 0 {
            self.announce(self.config.garp_lower_prio_repeat);
            if !self.config.garp_lower_prio_delay.is_zero() {
                self.timers.set(Timer::GarpLowerPrio, now + self.config.garp_lower_prio_delay);
            }
        }
        self.notify(NotifyState::MasterRxLowerPri);
    }

    /// Recomputes the effective priority and the fault condition after a link or tracker change.
    fn reassess(&mut self, now: Instant, reason: Reason) {
        let priority = self.compute_priority();
        if priority != self.effective_priority {
            self.actions.push_back(Action::PriorityChanged { from: self.effective_priority, to: priority });
            self.effective_priority = priority;
        }
        let faulty = self.is_faulty();
        match self.state {
            State::Initialize => {}
            State::Fault if faulty => self.set_want(State::Fault),
            State::Fault => self.start_protocol(now, reason),
            State::Backup | State::Master if faulty => {
                self.enter_fault(reason);
                self.set_want(State::Fault);
            }
            State::Backup | State::Master => {}
        }
    }

    fn compute_priority(&self) -> u8 {
        // keepalived: the owner's priority cannot be changed by tracking.
        if self.config.is_owner() {
            return OWNER_PRIORITY;
        }
        let weights: i64 = self.tracked.values().map(|tracked| tracked.contribution()).sum();
        let priority = (i64::from(self.config.priority) + weights).clamp(1, i64::from(OWNER_PRIORITY) - 1);
        u8::try_from(priority).expect("clamped to 1..=254")
    }

    /// The Shutdown event; `told` is what the notify scripts hear of it.
    fn shutdown(&mut self, told: Option<NotifyState>) {
        let from = self.state;
        if from == State::Initialize {
            return;
        }
        self.change_state(State::Initialize, Reason::Shutdown);
        if from == State::Master {
            // RFC 3768 6.4.3 / RFC 5798 6.4.3: Shutdown: cancel the Adver_Timer, send an
            // ADVERTISEMENT with Priority 0.
            self.send_advert(0);
            self.release_master();
        }
        // RFC 3768 6.4.2 / RFC 5798 6.4.2: Shutdown: cancel the Master_Down_Timer.
        self.timers.cancel_all();
        if let Some(state) = told {
            self.notify(state);
        }
        self.set_want(State::Initialize);
    }

    /// Moves a sync group member as the group coordinator says. A member that is itself faulty
    /// stays in FAULT, and one not started stays in Initialize.
    fn group_force(&mut self, now: Instant, target: State) {
        if self.state == State::Initialize || self.state == target {
            return;
        }
        let faulty = self.is_faulty();
        match target {
            State::Master if !faulty => {
                self.enter_master(now, Reason::GroupForced);
                self.set_want(State::Master);
            }
            State::Backup if !faulty => {
                self.enter_backup(now, Reason::GroupForced);
                self.set_want(State::Backup);
            }
            State::Fault => {
                self.enter_fault(Reason::GroupForced);
                self.set_want(if faulty { State::Fault } else { State::Backup });
            }
            State::Master | State::Backup | State::Initialize => {}
        }
    }

    fn enter_master(&mut self, now: Instant, reason: Reason) {
        if self.state != State::Backup {
            // Master_Adver_Interval restarts with the protocol (RFC 5798 6.4.1).
            self.master_adver_int = self.config.advert_int;
        }
        // RFC 3768 6.4.1-6.4.2 / RFC 5798 6.4.1-6.4.2: send an ADVERTISEMENT, broadcast
        // gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for the addresses, set the
        // Adver_Timer to Advertisement_Interval, then transition to Master: the advert goes
        // first, before anything else the transition does (its log line among them).
        self.send_advert(self.effective_priority);
        self.change_state(State::Master, reason);
        self.timers.cancel(Timer::MasterDown);
        self.timers.cancel(Timer::Preempt);
        self.preempt_ready = false;
        self.timers.set(Timer::Advert, now + self.config.advert_int);
        self.actions.push_back(Action::AddVips { vips: self.config.vips.clone(), accept: self.config.accepts() });
        // keepalived: a burst now, another after garp_master_delay, then a refresh burst every
        // garp_master_refresh, because switches and hosts miss or age out single messages.
        let repeat = self.config.garp_master_repeat;
        if repeat > 0 {
            self.announce(repeat);
            if !self.config.garp_master_delay.is_zero() {
                self.timers.set(Timer::GarpDelay, now + self.config.garp_master_delay);
            }
        }
        if !self.config.garp_master_refresh.is_zero() && self.config.garp_master_refresh_repeat > 0 {
            self.timers.set(Timer::GarpRefresh, now + self.config.garp_master_refresh);
        }
        self.stats.became_master += 1;
        self.notify(NotifyState::Master);
    }

    fn enter_backup(&mut self, now: Instant, reason: Reason) {
        let from = self.state;
        self.change_state(State::Backup, reason);
        match from {
            State::Master => self.release_master(),
            // RFC 5798 6.4.1: Master_Adver_Interval starts as Advertisement_Interval.
            State::Initialize | State::Fault => self.master_adver_int = self.config.advert_int,
            State::Backup => {}
        }
        self.preempt_ready = false;
        self.timers.cancel(Timer::Preempt);
        self.timers.set(Timer::MasterDown, now + self.master_down_interval());
        self.notify(NotifyState::Backup);
    }

    fn enter_fault(&mut self, reason: Reason) {
        let from = self.state;
        self.change_state(State::Fault, reason);
        if from == State::Master {
            // keepalived resigns with priority 0 so the Backups take over after Skew_Time
            // instead of Master_Down_Interval; pointless when the link itself is down.
            if self.link_up {
                self.send_advert(0);
            }
            self.release_master();
        }
        self.timers.cancel_all();
        self.notify(NotifyState::Fault);
    }

    fn release_master(&mut self) {
        for timer in [Timer::Advert, Timer::GarpDelay, Timer::GarpLowerPrio, Timer::GarpRefresh] {
            self.timers.cancel(timer);
        }
        self.actions.push_back(Action::RemoveVips { vips: self.config.vips.clone() });
        self.stats.released_master += 1;
    }

    fn change_state(&mut self, to: State, reason: Reason) {
        let from = self.state;
        self.state = to;
        self.stats.transitions += 1;
        self.actions.push_back(Action::StateChanged { from, to, reason });
    }

    fn set_want(&mut self, want: State) {
        if self.want != want {
            self.want = want;
            if self.config.sync_group {
                self.actions.push_back(Action::GroupWants { state: want });
            }
        }
    }

    fn send_advert(&mut self, priority: u8) {
        self.stats.adverts_sent += 1;
        if priority == 0 {
            self.stats.priority_zero_sent += 1;
        }
        self.actions.push_back(Action::SendAdvert { priority });
    }

    fn announce(&mut self, repeat: u32) {
        self.actions.push_back(Action::SendGarp { vips: self.config.vips.clone(), repeat });
    }

    fn notify(&mut self, state: NotifyState) {
        self.actions.push_back(Action::Notify { state, priority: self.effective_priority });
    }
}
