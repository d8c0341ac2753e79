//! When each check runs next, earliest first.
//!
//! A check is nearly always rescheduled a fixed delay after its last run was due (its
//! `delay_loop`, or its `delay_before_retry`), and runs come due in time order, so the runs
//! rescheduled with one delay arrive in time order too. Each delay gets a first-in first-out
//! lane; a run that would break its lane's order (the first runs, spread at random; a result
//! that came back late) goes into a heap instead. The next run is the earliest of the lanes'
//! fronts and the heap's top: with thousands of checks, that is a look at a few queue heads
//! where a single heap would sift through thousands of entries on every run.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

/// Lanes kept at most: configurations use a handful of distinct delays; any more share the heap.
const MAX_LANES: usize = 16;

/// A run: when, and which check (the tie-break, as in a heap of pairs).
type Run = (Instant, usize);

#[derive(Debug, Default)]
pub(crate) struct Schedule {
    lanes: Vec<(Duration, VecDeque<Run>)>,
    heap: BinaryHeap<Reverse<Run>>,
}

impl Schedule {
    pub fn with_capacity(n: usize) -> Schedule {
        Schedule { lanes: Vec::new(), heap: BinaryHeap::with_capacity(n) }
    }

    /// Schedules check `id` at `at`, `delay` after its last run was due (`None`: no such delay).
    pub fn push(&mut self, at: Instant, id: usize, delay: Option<Duration>) {
        let run = (at, id);
        if let Some(delay) = delay {
            let room = self.lanes.len() < MAX_LANES;
            match self.lanes.iter_mut().find(|(d, _)| *d == delay) {
                Some((_, lane)) if lane.back().is_none_or(|last| *last <= run) => return lane.push_back(run),
                Some(_) => {}
                None if room => return self.lanes.push((delay, VecDeque::from([run]))),
                None => {}
            }
        }
        self.heap.push(Reverse(run));
    }

    /// The earliest run.
    pub fn peek(&self) -> Option<Run> {
        self.earliest().map(|(run, _)| run)
    }

    /// Takes the earliest run.
    pub fn pop(&mut self) -> Option<Run> {
        let (_, from) = self.earliest()?;
        self.take(from)
    }

    /// Takes the earliest run if it is due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Run> {
        match self.earliest()? {
            ((at, _), from) if at <= now => self.take(from),
            _ => None,
        }
    }

    /// The earliest run and where it is: in a lane (its index) or in the heap (`None`).
    fn earliest(&self) -> Option<(Run, Option<usize>)> {
        let mut first = self.heap.peek().map(|Reverse(run)| (*run, None));
        for (i, (_, lane)) in self.lanes.iter().enumerate() {
            match (lane.front(), first) {
                (Some(run), Some((best, _))) if *run >= best => {}
                (Some(run), _) => first = Some((*run, Some(i))),
                (None, _) => {}
            }
        }
        first
    }

    fn take(&mut self, from: Option<usize>) -> Option<Run> {
        match from {
            Some(lane) => self.lanes.get_mut(lane)?.1.pop_front(),
            None => self.heap.pop().map(|Reverse(run)| run),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (splitmix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    /// Runs come out in the same order as from one heap, whatever order they go in: here as
    /// the runner drives it (pop the earliest, put it back a delay later, now and then out of
    /// order), with more distinct delays than lanes.
    #[test]
    fn same_order_as_a_heap() {
        let start = tokio::time::Instant::now().into_std();
        let mut rng = Rng(7);
        let mut schedule = Schedule::with_capacity(64);
        let mut heap = BinaryHeap::new();
        for id in 0..64 {
            let at = start + Duration::from_millis(rng.next() % 1000);
            schedule.push(at, id, None);
            heap.push(Reverse((at, id)));
        }
        for i in 0..20_000 {
            let expected = heap.pop().map(|Reverse(run)| run);
            let taken = match expected {
                Some((at, _)) if i % 2 == 0 => {
                    assert_eq!(schedule.pop_due(at - Duration::from_nanos(1)), None, "not due yet");
                    schedule.pop_due(at)
                }
                _ => schedule.pop(),
            };
            assert_eq!(taken, expected);
            let Some((at, id)) = expected else { break };
            let delay = Duration::from_millis([1000, 1000, 1000, 3000, 250][(rng.next() % 5) as usize])
                + Duration::from_millis(rng.next() % 20 / 19 * (rng.next() % 40));
            let late = Duration::from_millis(if rng.next() % 10 == 0 { rng.next() % 1500 } else { 0 });
            let next = at + delay + late;
            schedule.push(next, id, Some(delay));
            heap.push(Reverse((next, id)));
            assert_eq!(schedule.peek(), heap.peek().map(|Reverse(run)| *run));
        }
    }

    #[test]
    fn ties_go_to_the_lower_check() {
        let at = tokio::time::Instant::now().into_std();
        let mut s = Schedule::default();
        s.push(at, 5, Some(Duration::from_secs(1)));
        s.push(at, 2, None);
        s.push(at, 3, Some(Duration::from_secs(2)));
        assert_eq!([s.pop(), s.pop(), s.pop(), s.pop()], [Some((at, 2)), Some((at, 3)), Some((at, 5)), None]);
    }
}
