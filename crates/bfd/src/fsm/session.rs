//! One BFD session: RFC 5880 section 6 in asynchronous mode, with keepalived's `idle_tx` and
//! `passive`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::{Config, Error, Jitter, Params, MIN_IDLE_TX};
use super::event::{Action, Discard, Input, Stats, Transition};
use crate::wire::{Diag, Repr, State};

/// One of the session's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timer {
    /// The Detection Time (RFC 5880 6.8.4) counted from the last packet: in Init or Up its
    /// expiry takes the session down; in Down it forgets the remote system (RFC 5880 6.8.1,
    /// 6.8.18; keepalived's reset timer). Handled first when both are due at once, so that
    /// the packet sent at the same instant says Down.
    Detect,
    /// The next periodic Control packet (RFC 5880 6.8.7).
    Transmit,
}

/// Why [`Session::handle`] refused an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// A received packet was discarded.
    #[error("discarded packet: {0}")]
    Packet(#[from] Discard),
    /// [`Input::SetParams`] carried invalid timing; the old one stays.
    #[error("invalid parameters: {0}")]
    Params(#[from] Error),
}

/// The state machine of one `bfd_instance`: inputs in through [`handle`](Self::handle),
/// actions out through [`poll_action`](Self::poll_action). It never reads a clock: every call
/// takes `now`.
///
/// Hand in [`Input::Timeout`] once [`poll_timeout`](Self::poll_timeout) is reached, and drain
/// [`poll_action`](Self::poll_action) after every call.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    // RFC 5880 6.8.1 state variables; bfd.LocalDiscr, bfd.DesiredMinTxInterval,
    // bfd.RequiredMinRxInterval and bfd.DetectMult live in `config`.
    state: State,
    remote_state: State,
    remote_discr: u32,
    local_diag: Diag,
    remote_diag: Diag,
    remote_min_rx: u32,
    remote_demand: bool,
    /// The Desired Min TX Interval last received.
    remote_min_tx: u32,
    /// The Detect Mult last received; zero until the remote system is heard.
    remote_detect_mult: u8,
    /// A Poll Sequence is being transmitted (RFC 5880 6.5).
    poll: bool,
    /// The bfd.DesiredMinTxInterval the transmit interval is computed from: an increase waits
    /// for the Poll Sequence to complete (RFC 5880 6.8.3).
    tx_in_use: u32,
    /// The bfd.RequiredMinRxInterval the Detection Time is computed from: a reduction waits
    /// for the Poll Sequence to complete (RFC 5880 6.8.3).
    rx_in_use: u32,
    /// When the last packet was received, for the `Expired after` log.
    last_rx: Option<Instant>,
    /// Where the Detection Time is counted from: the last packet, or the expiry that took the
    /// session down.
    detect_from: Option<Instant>,
    tx_at: Option<Instant>,
    detect_at: Option<Instant>,
    /// While AdminDown: until when packets still go out (RFC 5880 6.8.16).
    admin_down_until: Option<Instant>,
    /// The Detection Time last reported, in microseconds (0: none).
    reported_detection_us: u64,
    /// Draws the jitter of [`Jitter::Seeded`]: the same transmissions for the same seed.
    rng: fastrand::Rng,
    actions: VecDeque<Action>,
    stats: Stats,
}

impl Session {
    /// A session in Down (RFC 5880 6.8.1). Unless passive, its first packet is due at `now`,
    /// as keepalived sends one at once on startup.
    pub fn new(config: Config, now: Instant) -> Result<Session, Error> {
        config.validate()?;
        let rng = fastrand::Rng::with_seed(match config.jitter {
            Jitter::Seeded(seed) => seed,
            // Never drawn from.
            Jitter::Fixed(_) => 0,
        });
        let mut session = Session {
            state: State::Down,
            remote_state: State::Down,
            remote_discr: 0,
            local_diag: Diag::NoDiagnostic,
            remote_diag: Diag::NoDiagnostic,
            // RFC 5880 6.8.1: bfd.RemoteMinRxInterval "MUST be initialized to 1".
            remote_min_rx: 1,
            remote_demand: false,
            remote_min_tx: 0,
            remote_detect_mult: 0,
            poll: false,
            tx_in_use: 0,
            rx_in_use: config.params.required_min_rx,
            last_rx: None,
            detect_from: None,
            tx_at: None,
            detect_at: None,
            admin_down_until: None,
            reported_detection_us: 0,
            rng,
            actions: VecDeque::new(),
            stats: Stats::default(),
            config,
        };
        session.tx_in_use = session.desired_min_tx();
        if !session.config.passive {
            session.tx_at = Some(now);
        }
        Ok(session)
    }

    /// Hands in an input at `now`. A refused input changes nothing but the counters, with one
    /// exception: a packet discarded because the session is AdminDown still updates the remote
    /// system's variables, which RFC 5880 6.8.6 updates before that check.
    pub fn handle(&mut self, now: Instant, input: Input) -> Result<(), Rejected> {
        match input {
            Input::Received { packet, ttl } => {
                self.stats.received += 1;
                self.receive(now, &packet, ttl).inspect_err(|_| self.stats.discarded += 1)?;
            }
            Input::Timeout => self.fire_timers(now),
            Input::AdminDown => self.admin_down(now),
            Input::AdminUp => self.admin_up(now),
            Input::SetParams(params) => self.set_params(now, params)?,
        }
        Ok(())
    }

    /// The next action, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to hand in [`Input::Timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.tx_at, self.detect_at].into_iter().flatten().min()
    }

    /// The deadline of one timer, `None` when it is stopped.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        match timer {
            Timer::Detect => self.detect_at,
            Timer::Transmit => self.tx_at,
        }
    }

    /// bfd.SessionState.
    pub fn state(&self) -> State {
        self.state
    }

    /// bfd.RemoteSessionState.
    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    /// bfd.LocalDiag.
    pub fn local_diag(&self) -> Diag {
        self.local_diag
    }

    /// bfd.LocalDiscr.
    pub fn local_discriminator(&self) -> u32 {
        self.config.local_discriminator
    }

    /// bfd.RemoteDiscr: zero while the remote system is not known.
    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discr
    }

    /// The configuration, with the timing now advertised.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// bfd.DesiredMinTxInterval as advertised now: `min_tx` while Up, `idle_tx` (at least 1 s)
    /// otherwise (RFC 5880 6.8.3), in microseconds.
    pub fn desired_min_tx(&self) -> u32 {
        if self.state == State::Up {
            self.config.params.desired_min_tx
        } else {
            self.config.params.idle_tx.max(MIN_IDLE_TX)
        }
    }

    /// The negotiated transmit interval before jitter (RFC 5880 6.8.2, 6.8.7): the larger of
    /// our Desired Min TX in use and the remote system's Required Min RX.
    pub fn tx_interval(&self) -> Duration {
        Duration::from_micros(self.tx_interval_us().into())
    }

    fn tx_interval_us(&self) -> u32 {
        self.tx_in_use.max(self.remote_min_rx)
    }

    /// The Detection Time (RFC 5880 6.8.4, asynchronous mode): the remote system's Detect Mult
    /// times the larger of our Required Min RX in use and its last Desired Min TX; `None`
    /// until the remote system is heard.
    pub fn detection_time(&self) -> Option<Duration> {
        (self.remote_detect_mult != 0).then(|| {
            let interval = self.rx_in_use.max(self.remote_min_tx);
            Duration::from_micros(u64::from(self.remote_detect_mult) * u64::from(interval))
        })
    }

    /// Whether a Poll Sequence is being transmitted.
    pub fn poll_in_progress(&self) -> bool {
        self.poll
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// RFC 5880 6.8.6, after [`Repr::parse`]'s checks.
    fn receive(&mut self, now: Instant, packet: &Repr, ttl: Option<u8>) -> Result<(), Discard> {
        // RFC 5881 5: single hop requires TTL 255; keepalived's `max_hops` relaxes it, and a
        // TTL the socket did not report is not checked.
        if let (Some(max_hops), Some(ttl)) = (self.config.max_hops, ttl) {
            if ttl != 0 && u16::from(ttl) + u16::from(max_hops) < u16::from(self.config.ttl) {
                return Err(Discard::Ttl { ttl, min: self.config.ttl.saturating_sub(max_hops) });
            }
        }
        // RFC 5880 6.8.6: "If the Your Discriminator field is nonzero, it MUST be used to
        // select the session with which this BFD packet is associated. If no session is
        // found, the packet MUST be discarded."
        let ours = self.config.local_discriminator;
        if packet.your_discriminator != 0 && packet.your_discriminator != ours {
            return Err(Discard::WrongDiscriminator { got: packet.your_discriminator, ours });
        }
        // RFC 5880 6.8.6: "If the A bit is set and no authentication is in use (bfd.AuthType
        // is zero), the packet MUST be discarded."
        if packet.auth.is_some() {
            return Err(Discard::AuthNotInUse);
        }
        let old_tx_interval = self.tx_interval_us();
        // RFC 5880 6.8.6: the remote variables.
        self.remote_discr = packet.my_discriminator;
        self.remote_state = packet.state;
        self.remote_demand = packet.demand;
        self.remote_min_rx = packet.required_min_rx;
        self.remote_min_tx = packet.desired_min_tx;
        self.remote_detect_mult = packet.detect_mult;
        self.remote_diag = packet.diag;
        // RFC 5880 6.8.6: "If a Poll Sequence is being transmitted by the local system and the
        // Final (F) bit in the received packet is set, the Poll Sequence MUST be terminated."
        if packet.final_flag && self.poll {
            self.end_poll();
        }
        // RFC 5880 6.8.6: "Update the transmit interval as described in section 6.8.2.
        // Update the Detection Time as described in section 6.8.4."
        self.refresh(now, old_tx_interval);
        // RFC 5880 6.8.6: "If bfd.SessionState is AdminDown: Discard the packet".
        if self.state == State::AdminDown {
            return Err(Discard::AdminDown);
        }
        let old_tx_interval = self.tx_interval_us();
        if packet.state == State::AdminDown {
            // RFC 5880 6.8.6: "If received state is AdminDown: If bfd.SessionState is not
            // Down: Set bfd.LocalDiag to 3 (Neighbor signaled session down), Set
            // bfd.SessionState to Down".
            if self.state != State::Down {
                self.change_state(State::Down, Diag::NeighborSignaledSessionDown);
            }
        } else {
            match (self.state, packet.state) {
                // RFC 5880 6.8.6: "If bfd.SessionState is Down: If received State is Down: Set
                // bfd.SessionState to Init. Else if received State is Init: Set
                // bfd.SessionState to Up".
                (State::Down, State::Down) => self.change_state(State::Init, Diag::NoDiagnostic),
                (State::Down, State::Init) => self.change_state(State::Up, Diag::NoDiagnostic),
                // RFC 5880 6.8.6: "Else if bfd.SessionState is Init: If received State is Init
                // or Up: Set bfd.SessionState to Up".
                (State::Init, State::Init | State::Up) => self.change_state(State::Up, Diag::NoDiagnostic),
                // RFC 5880 6.8.6: "Else (bfd.SessionState is Up): If received State is Down:
                // Set bfd.LocalDiag to 3 (Neighbor signaled session down), Set
                // bfd.SessionState to Down".
                (State::Up, State::Down) => self.change_state(State::Down, Diag::NeighborSignaledSessionDown),
                _ => {}
            }
        }
        // RFC 5880 6.8.6: periodic transmission ceases while Demand mode is active on the
        // remote system, and runs otherwise.
        if self.periodic_allowed() {
            if self.tx_at.is_none() {
                let next = now + self.jittered(self.tx_interval_us());
                self.tx_at = Some(next);
            }
        } else {
            self.tx_at = None;
        }
        // RFC 5880 6.8.6: "If the Poll (P) bit is set, send a BFD Control packet to the remote
        // system with the Poll (P) bit clear, and the Final (F) bit set"; RFC 5880 6.8.7: "as
        // soon as practicable, without respect to the transmission timer". A Poll Sequence of
        // our own goes on in the periodic packets: the P and F bits never share a packet
        // (RFC 5880 6.5).
        if packet.poll {
            self.stats.finals_sent += 1;
            self.send(false, true);
        }
        // RFC 5880 6.8.6: "If the packet was not discarded, it has been received for purposes
        // of the Detection Time expiration rules in section 6.8.4."
        self.last_rx = Some(now);
        self.detect_from = Some(now);
        self.refresh(now, old_tx_interval);
        Ok(())
    }

    /// Fires every timer due by `now`, earliest first.
    fn fire_timers(&mut self, now: Instant) {
        loop {
            let due = [(self.detect_at, Timer::Detect), (self.tx_at, Timer::Transmit)]
                .into_iter()
                .filter_map(|(at, timer)| at.filter(|at| *at <= now).map(|at| (at, timer)))
                .min();
            match due {
                Some((_, Timer::Detect)) => {
                    self.detect_at = None;
                    self.expire(now);
                }
                Some((due, Timer::Transmit)) => {
                    self.tx_at = None;
                    self.transmit(now, due);
                }
                None => break,
            }
        }
    }

    /// The Detection Time ran out.
    fn expire(&mut self, now: Instant) {
        let old_tx_interval = self.tx_interval_us();
        match self.state {
            State::Init | State::Up => {
                let detection_time = self.detection_time().unwrap_or_default();
                let silent_for = self.last_rx.map(|at| now.saturating_duration_since(at)).unwrap_or_default();
                let interval = Duration::from_micros(u64::from(self.rx_in_use.max(self.remote_min_tx)));
                let missed_for = silent_for.saturating_sub(interval);
                self.actions.push_back(Action::Expired { silent_for, detection_time, missed_for });
                self.stats.expired += 1;
                // RFC 5880 6.8.1: bfd.RemoteDiscr "MUST be set to zero" when a Detection Time
                // passes without a packet.
                self.remote_discr = 0;
                // RFC 5880 6.8.4: "the session has gone down -- the local system MUST set
                // bfd.SessionState to Down and bfd.LocalDiag to 1 (Control Detection Time
                // Expired)."
                self.change_state(State::Down, Diag::ControlDetectionTimeExpired);
                // The remote system is forgotten one more Detection Time later, as keepalived
                // does (its reset timer).
                self.detect_from = Some(now);
            }
            State::Down | State::AdminDown => {
                // RFC 5880 6.8.18: with no packet for a Detection Time, the session state need
                // not be kept, and bfd.RemoteMinRxInterval goes back to its initial 1.
                self.remote_discr = 0;
                self.remote_state = State::Down;
                self.remote_diag = Diag::NoDiagnostic;
                self.remote_min_rx = 1;
                self.remote_min_tx = 0;
                self.remote_detect_mult = 0;
                self.remote_demand = false;
                self.last_rx = None;
                self.detect_from = None;
            }
        }
        self.refresh(now, old_tx_interval);
    }

    /// The periodic packet, due at `due`, goes at `now`.
    fn transmit(&mut self, now: Instant, due: Instant) {
        if self.state == State::AdminDown {
            // RFC 5880 6.8.16: "BFD Control packets SHOULD be transmitted for at least a
            // Detection Time after transitioning to AdminDown state".
            match self.admin_down_until {
                Some(until) if now <= until => {}
                _ => {
                    self.admin_down_until = None;
                    return;
                }
            }
        } else if !self.periodic_allowed() {
            return;
        }
        self.send(self.poll, false);
        // The next packet is timed from when this one was due, not from when it went: a caller
        // woken a little late (a timer wheel's millisecond tick) would otherwise stretch every
        // interval by its lateness, where RFC 5880 6.8.7's jitter only ever shortens it. After
        // a stall longer than the interval, from now.
        let interval = self.jittered(self.tx_interval_us());
        let next = due + interval;
        self.tx_at = Some(if next > now { next } else { now + interval });
    }

    /// RFC 5880 6.8.7: whether periodic packets may go out, outside AdminDown.
    fn periodic_allowed(&self) -> bool {
        // RFC 5880 6.8.7: "A system MUST NOT transmit BFD Control packets if bfd.RemoteDiscr
        // is zero and the system is taking the Passive role." keepalived's passive sessions
        // also fall silent whenever they go Down.
        if self.config.passive && (self.remote_discr == 0 || self.state == State::Down) {
            return false;
        }
        // RFC 5880 6.8.7: "A system MUST NOT periodically transmit BFD Control packets if
        // bfd.RemoteMinRxInterval is zero."
        if self.remote_min_rx == 0 {
            return false;
        }
        // RFC 5880 6.8.7: nor "if Demand mode is active on the remote system
        // (bfd.RemoteDemandMode is 1, bfd.SessionState is Up, and bfd.RemoteSessionState is
        // Up) and a Poll Sequence is not being transmitted."
        !(self.remote_demand && self.state == State::Up && self.remote_state == State::Up && !self.poll)
    }

    /// Queues a Control packet built from the state variables (RFC 5880 6.8.7).
    fn send(&mut self, poll: bool, final_flag: bool) {
        let packet = Repr {
            diag: self.local_diag,
            state: self.state,
            poll,
            final_flag,
            // Vigil's BFD runs in the control plane and shares its fate.
            control_plane_independent: false,
            // Demand mode is not implemented; the remote system's is honoured.
            demand: false,
            detect_mult: self.config.params.detect_mult,
            my_discriminator: self.config.local_discriminator,
            your_discriminator: self.remote_discr,
            desired_min_tx: self.desired_min_tx(),
            required_min_rx: self.config.params.required_min_rx,
            // No Echo function.
            required_min_echo_rx: 0,
            auth: None,
        };
        self.stats.sent += 1;
        self.actions.push_back(Action::Send(packet));
    }

    /// Moves to `to`; `diag` is the diagnostic of a move to Down.
    fn change_state(&mut self, to: State, diag: Diag) {
        let from = self.state;
        if from == to {
            return;
        }
        let old_desired = self.desired_min_tx();
        self.state = to;
        self.local_diag = match to {
            // keepalived clears the diagnostic on the way up; RFC 5880 leaves it open.
            State::Init | State::Up => Diag::NoDiagnostic,
            State::Down => diag,
            State::AdminDown => Diag::AdministrativelyDown,
        };
        self.stats.transitions += 1;
        if to == State::Up {
            self.stats.up += 1;
        }
        if from == State::Up {
            self.stats.down += 1;
        }
        self.actions.push_back(Action::StateChanged(Transition {
            from,
            to,
            diag: self.local_diag,
            remote_state: self.remote_state,
            remote_diag: self.remote_diag,
        }));
        if to != State::Up {
            // A Poll Sequence negotiates the timing of an Up session only.
            self.poll = false;
        }
        self.timing_changed(old_desired, self.config.params.required_min_rx);
        if self.config.passive && to == State::Down {
            self.tx_at = None;
        }
    }

    /// The advertised Desired Min TX or Required Min RX may have changed from the old values.
    fn timing_changed(&mut self, old_desired: u32, old_required: u32) {
        let desired = self.desired_min_tx();
        let required = self.config.params.required_min_rx;
        if self.state != State::Up {
            self.tx_in_use = desired;
            self.rx_in_use = required;
            return;
        }
        if desired == old_desired && required == old_required {
            return;
        }
        // RFC 5880 6.8.3: "If either bfd.DesiredMinTxInterval is changed or
        // bfd.RequiredMinRxInterval is changed, a Poll Sequence MUST be initiated". Until it
        // completes, "the actual transmission interval used MUST NOT change" for an increased
        // bfd.DesiredMinTxInterval, and "the previous value of bfd.RequiredMinRxInterval MUST
        // be used when calculating the Detection Time" for a reduced one. The opposite changes
        // are safe at once. keepalived starts one on coming Up when `idle_tx` differs from
        // `min_tx`, which this rule covers.
        self.tx_in_use = self.tx_in_use.min(desired);
        self.rx_in_use = self.rx_in_use.max(required);
        if !self.poll {
            self.poll = true;
            self.stats.polls_started += 1;
        }
    }

    /// The Final came: the new timing applies in full.
    fn end_poll(&mut self) {
        self.poll = false;
        self.stats.polls_completed += 1;
        self.tx_in_use = self.desired_min_tx();
        self.rx_in_use = self.config.params.required_min_rx;
    }

    /// After any change of timing: brings a pending transmission forward when the interval
    /// shrank (as keepalived does), re-arms the detection timer and reports a new Detection
    /// Time.
    fn refresh(&mut self, now: Instant, old_tx_interval: u32) {
        let interval = self.tx_interval_us();
        if interval < old_tx_interval {
            if let Some(at) = self.tx_at {
                let sooner = now + self.jittered(interval);
                self.tx_at = Some(at.min(sooner));
            }
        }
        let detection = self.detection_time();
        self.detect_at = self.detect_from.zip(detection).map(|(from, time)| from + time);
        let us = detection.map_or(0, |time| u64::try_from(time.as_micros()).unwrap_or(u64::MAX));
        if us != self.reported_detection_us {
            self.actions.push_back(Action::DetectionTimeChanged { from_us: self.reported_detection_us, to_us: us });
            self.reported_detection_us = us;
        }
    }

    /// RFC 5880 6.8.16, disabling.
    fn admin_down(&mut self, now: Instant) {
        if self.state == State::AdminDown {
            return;
        }
        let old_tx_interval = self.tx_interval_us();
        // The remote system's Detection Time for us: our Detect Mult times the interval it
        // last heard from us.
        let remote_detection =
            Duration::from_micros(u64::from(self.config.params.detect_mult) * u64::from(old_tx_interval));
        self.change_state(State::AdminDown, Diag::AdministrativelyDown);
        self.admin_down_until = Some(now + remote_detection);
        // The remote system hears of it at once, if there is one to tell.
        if self.remote_discr != 0 || !self.config.passive {
            self.tx_at = Some(now);
        }
        self.refresh(now, old_tx_interval);
    }

    /// RFC 5880 6.8.16, enabling: "Set bfd.SessionState to Down".
    fn admin_up(&mut self, now: Instant) {
        if self.state != State::AdminDown {
            return;
        }
        let old_tx_interval = self.tx_interval_us();
        self.change_state(State::Down, self.local_diag);
        self.admin_down_until = None;
        if !self.config.passive {
            self.tx_at = Some(now);
        }
        self.refresh(now, old_tx_interval);
    }

    /// New timing (RFC 5880 6.8.3).
    fn set_params(&mut self, now: Instant, params: Params) -> Result<(), Error> {
        params.validate()?;
        let old_tx_interval = self.tx_interval_us();
        let old_desired = self.desired_min_tx();
        let old_required = self.config.params.required_min_rx;
        self.config.params = params;
        self.timing_changed(old_desired, old_required);
        self.refresh(now, old_tx_interval);
        Ok(())
    }

    /// `interval` microseconds less the jitter (RFC 5880 6.8.7): "the interval MUST be reduced
    /// by a random value of 0 to 25%", and with bfd.DetectMult 1 "MUST be no more than 90% of
    /// the negotiated transmission interval, and MUST be no less than 75%".
    fn jittered(&mut self, interval: u32) -> Duration {
        let floor: u64 = if self.config.params.detect_mult == 1 { 100 } else { 0 };
        let permille = match self.config.jitter {
            Jitter::Fixed(percent) => (u64::from(percent) * 10).clamp(floor, 250),
            Jitter::Seeded(_) => self.rng.u64(floor..=250),
        };
        let interval = u64::from(interval);
        Duration::from_micros(interval - interval * permille / 1000)
    }
}
