//! `interface_up_down_delays`: an interface's link changes, held for a while before the
//! instances hear of them, so that a link that flaps shorter than the delay moves nothing.
//!
//! keepalived 2.2.7's rules, per interface: a change from the state last acted on starts a
//! timer of the down or the up delay; a change back before it expires cancels it ("Delay
//! timer for eth0 cancelled") and nothing is acted on; a further change in the same direction
//! keeps the timer running. Until the interface has been seen up once, changes are acted on
//! at once, and so is any change of an interface without delays. Pure: time is an argument.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The delays of one interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delays {
    pub down: Duration,
    pub up: Duration,
}

/// What to do with a link change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Act on it now.
    Now,
    /// Held: it is acted on at this time unless the link changes back first.
    Held(Instant),
    /// It cancelled a held change in the other direction: nothing to act on.
    Cancelled,
    /// Nothing changed from what was acted on, or a change already held.
    Unchanged,
}

#[derive(Clone, Copy, Debug)]
struct Link {
    delays: Delays,
    /// The state last acted on.
    up: bool,
    seen_up: bool,
    /// A held change: its direction and when it is due.
    held: Option<(bool, Instant)>,
}

/// Every interface's delays and pending changes, by interface index.
#[derive(Debug, Default)]
pub struct Debounce {
    links: HashMap<u32, Link>,
}

impl Debounce {
    /// Sets the delays of interface `ifindex`, whose link is now `up`.
    pub fn set(&mut self, ifindex: u32, delays: Delays, up: bool) {
        let held = self.links.get(&ifindex).and_then(|l| l.held);
        self.links.insert(ifindex, Link { delays, up, seen_up: up, held });
    }

    /// Whether any interface has delays.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The link of `ifindex` is now `up`.
    pub fn change(&mut self, now: Instant, ifindex: u32, up: bool) -> Verdict {
        let Some(link) = self.links.get_mut(&ifindex) else { return Verdict::Now };
        if let Some((direction, due)) = link.held {
            if direction == up {
                return Verdict::Held(due);
            }
            link.held = None;
            if link.up == up {
                return Verdict::Cancelled;
            }
        }
        if link.up == up {
            return Verdict::Unchanged;
        }
        let delay = if up { link.delays.up } else { link.delays.down };
        if link.seen_up && !delay.is_zero() {
            let due = now + delay;
            link.held = Some((up, due));
            return Verdict::Held(due);
        }
        link.up = up;
        link.seen_up |= up;
        Verdict::Now
    }

    /// The held changes due at `now`, acted on from now: (interface, up).
    pub fn due(&mut self, now: Instant) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        for (ifindex, link) in &mut self.links {
            if let Some((up, due)) = link.held {
                if due <= now {
                    link.held = None;
                    link.up = up;
                    link.seen_up |= up;
                    out.push((*ifindex, up));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// When the next held change is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.links.values().filter_map(|l| l.held.map(|(_, due)| due)).min()
    }
}

/// The longest delay an instance with `advert_int` allows: keepalived resets a delay of two
/// advert intervals or more (with its default of three adverts before Master_Down) to just
/// under that, so that a flap never outlasts the peers' patience.
pub fn cap(advert_int: Duration) -> Duration {
    advert_int * 2 - advert_int / 256
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAYS: Delays = Delays { down: Duration::from_millis(1500), up: Duration::from_millis(500) };

    /// Only offsets from this instant matter; it is the one reading of the clock here.
    #[allow(clippy::disallowed_methods)]
    fn epoch() -> Instant {
        Instant::now()
    }

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn a_flap_shorter_than_the_delay_moves_nothing() {
        let t = epoch();
        let mut d = Debounce::default();
        d.set(2, DELAYS, true);
        assert_eq!(d.change(t, 2, false), Verdict::Held(at(t, 1500)));
        assert_eq!(d.change(at(t, 100), 2, false), Verdict::Held(at(t, 1500)), "a repeat keeps the timer");
        assert_eq!(d.next_due(), Some(at(t, 1500)));
        assert_eq!(d.change(at(t, 400), 2, true), Verdict::Cancelled);
        assert_eq!(d.next_due(), None);
        assert_eq!(d.due(at(t, 2000)), Vec::new());
    }

    #[test]
    fn a_change_that_lasts_is_acted_on_at_its_time() {
        let t = epoch();
        let mut d = Debounce::default();
        d.set(2, DELAYS, true);
        assert_eq!(d.change(t, 2, false), Verdict::Held(at(t, 1500)));
        assert_eq!(d.due(at(t, 1499)), Vec::new());
        assert_eq!(d.due(at(t, 1500)), vec![(2, false)]);
        assert_eq!(d.change(at(t, 1600), 2, false), Verdict::Unchanged);
        // back up: the up delay
        assert_eq!(d.change(at(t, 2000), 2, true), Verdict::Held(at(t, 2500)));
        assert_eq!(d.due(at(t, 2500)), vec![(2, true)]);
    }

    #[test]
    fn without_delays_or_before_it_was_up_a_change_is_acted_on_at_once() {
        let t = epoch();
        let mut d = Debounce::default();
        assert_eq!(d.change(t, 9, false), Verdict::Now, "an interface without delays");
        d.set(3, DELAYS, false);
        assert_eq!(d.change(t, 3, false), Verdict::Unchanged);
        assert_eq!(d.change(t, 3, true), Verdict::Now, "never seen up: at once");
        assert_eq!(d.change(at(t, 10), 3, false), Verdict::Held(at(t, 1510)), "seen up now");
        d.set(4, Delays { down: Duration::ZERO, up: Duration::from_secs(1) }, true);
        assert_eq!(d.change(t, 4, false), Verdict::Now, "a zero delay");
    }

    #[test]
    fn the_cap_is_just_under_two_advert_intervals() {
        assert_eq!(cap(Duration::from_secs(1)), Duration::from_nanos(1_996_093_750));
    }
}
