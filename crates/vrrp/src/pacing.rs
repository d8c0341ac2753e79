//! `vrrp_garp_interval`, `vrrp_gna_interval` and `garp_group`: the least time between two
//! gratuitous ARPs (or two unsolicited neighbour advertisements) on one interface, whichever
//! instance sends them, as keepalived 2.2.7 spaces them. Pure: time is an argument.

use std::time::{Duration, Instant};

/// One interface's pacing of one kind of frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pacer {
    interval: Duration,
    /// The earliest time the next frame may go.
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Pacer {
        Pacer { interval, next: None }
    }

    /// When a frame asked for at `now` goes: at once, or when the interval since the
    /// previous one has passed; the one after it waits for this one's interval.
    pub fn slot(&mut self, now: Instant) -> Instant {
        let at = self.next.map_or(now, |next| next.max(now));
        self.next = Some(at + self.interval);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only offsets from this instant matter; it is the one reading of the clock here.
    #[allow(clippy::disallowed_methods)]
    fn epoch() -> Instant {
        Instant::now()
    }

    #[test]
    fn frames_are_spaced_by_the_interval_and_a_quiet_interface_sends_at_once() {
        let t = epoch();
        let ms = Duration::from_millis;
        let mut p = Pacer::new(ms(50));
        // a burst of three at t: t, t+50, t+100
        assert_eq!([p.slot(t), p.slot(t), p.slot(t)], [t, t + ms(50), t + ms(100)]);
        // one asked for at t+120 waits for t+150; one at t+400 goes at once
        assert_eq!(p.slot(t + ms(120)), t + ms(150));
        assert_eq!(p.slot(t + ms(400)), t + ms(400));
        let mut none = Pacer::new(Duration::ZERO);
        assert_eq!([none.slot(t), none.slot(t)], [t, t]);
    }
}
