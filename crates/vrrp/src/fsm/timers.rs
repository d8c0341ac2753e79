//! The instance's timers: a small table of deadlines, so expiry is data a test can inject.

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One of the instance's timers.
///
/// The order of the variants is the order in which timers expiring at the same instant are
/// handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timer {
    /// Adver_Timer: the Master's next advert.
    Advert,
    /// Master_Down_Timer: a Backup's deadline for hearing from the Master.
    MasterDown,
    /// End of `preempt_delay`: from then on a Backup ignores a lower-priority Master.
    Preempt,
    /// Second gratuitous ARP / unsolicited NA burst after becoming Master.
    GarpDelay,
    /// Second burst after a Master heard a lower-priority advert.
    GarpLowerPrio,
    /// Periodic refresh burst while Master.
    GarpRefresh,
}

impl Timer {
    /// Every timer, in handling order.
    pub const ALL: [Timer; 6] =
        [Timer::Advert, Timer::MasterDown, Timer::Preempt, Timer::GarpDelay, Timer::GarpLowerPrio, Timer::GarpRefresh];

    fn index(self) -> usize {
        self as usize
    }
}

/// Deadlines indexed by [`Timer`]; `None` is a timer that is not running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Timers {
    deadlines: [Option<Instant>; Timer::ALL.len()],
}

impl Timers {
    pub(super) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    pub(super) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    pub(super) fn cancel(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    pub(super) fn cancel_all(&mut self) {
        self.deadlines = Default::default();
    }

    /// The earliest deadline of any running timer.
    pub(super) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stops and returns the timer that expired first at or before `now`, ties in
    /// [`Timer::ALL`] order.
    pub(super) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::ALL
            .into_iter()
            .filter_map(|timer| self.get(timer).filter(|at| *at <= now).map(|at| (at, timer)))
            .min()
            .map(|(_, timer)| timer)?;
        self.cancel(timer);
        Some(timer)
    }
}
