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

/// A run as kept: nanoseconds after the schedule's base, and the check. 16 bytes instead of
/// an `Instant` and a `usize`'s 24: at 100,000 checks the lanes hold them all.
type Kept = (u64, u32);

/// Heap capacity kept at the least: the first runs (spread at random) all go through the heap,
/// which gives its room back as it empties ([`Schedule::take`]); a heap sized for them would
/// stay allocated, empty, for good.
const HEAP_KEPT: usize = 1024;

#[derive(Debug)]
pub(crate) struct Schedule {
    /// What the kept runs count from: no run is due before it.
    base: Instant,
    lanes: Vec<(Duration, VecDeque<Kept>)>,
    heap: BinaryHeap<Reverse<Kept>>,
}

impl Schedule {
    /// Room for `n` runs in the heap at first; no run is due before `base` (one pushed for
    /// earlier is due at `base`).
    pub fn new(n: usize, base: Instant) -> Schedule {
        Schedule { base, lanes: Vec::new(), heap: BinaryHeap::with_capacity(n) }
    }

    fn kept(&self, (at, id): Run) -> Kept {
        let after = at.saturating_duration_since(self.base).as_nanos();
        (u64::try_from(after).unwrap_or(u64::MAX), u32::try_from(id).unwrap_or(u32::MAX))
    }

    fn run(&self, (after, id): Kept) -> Run {
        (self.base + Duration::from_nanos(after), id as usize)
    }

    /// Schedules check `id` at `at`, `delay` after its last run was due (`None`: no such delay).
    pub fn push(&mut self, at: Instant, id: usize, delay: Option<Duration>) {
        let run = self.kept((at, id));
        if let Some(delay) = delay {
            let room = self.lanes.len() < MAX_LANES;
            match self.lanes.iter_mut().find(|(d, _)| *d == delay) {
                Some((_, lane)) if lane.back().is_none_or(|last| *last <= run) => {
                    // Grown by an eighth, not doubled: the first runs move from the heap into
                    // the lanes, and at 100,000 checks a doubled lane holds room for 131,072.
                    if lane.len() == lane.capacity() {
                        lane.reserve_exact(lane.len() / 8 + 1);
                    }
                    return lane.push_back(run);
                }
                Some(_) => {}
                None if room => return self.lanes.push((delay, VecDeque::from([run]))),
                None => {}
            }
        }
        self.heap.push(Reverse(run));
    }

    /// The earliest run.
    pub fn peek(&self) -> Option<Run> {
        self.earliest().map(|(run, _)| self.run(run))
    }

    /// Takes the earliest run.
    pub fn pop(&mut self) -> Option<Run> {
        let (_, from) = self.earliest()?;
        self.take(from)
    }

    /// Takes the earliest run if it is due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Run> {
        match self.earliest()? {
            (run, from) if self.run(run).0 <= now => self.take(from),
            _ => None,
        }
    }

    /// The earliest run and where it is: in a lane (its index) or in the heap (`None`).
    fn earliest(&self) -> Option<(Kept, Option<usize>)> {
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
        let run = match from {
            Some(lane) => self.lanes.get_mut(lane)?.1.pop_front(),
            None => {
                let run = self.heap.pop().map(|Reverse(run)| run);
                // Three quarters empty: its room goes down to twice what it holds, while the
                // lanes fill with the same runs. The margin keeps a heap whose length hovers
                // (runs beyond the lanes, late results) from shrinking and growing back on
                // every run.
                if self.heap.capacity() > HEAP_KEPT && self.heap.len() <= self.heap.capacity() / 4 {
                    self.heap.shrink_to((2 * self.heap.len()).max(HEAP_KEPT));
                }
                run
            }
        };
        run.map(|run| self.run(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs come out in the same order as from one heap, whatever order they go in: here as
    /// the runner drives it (pop the earliest, put it back a delay later, now and then out of
    /// order), with more distinct delays than lanes.
    #[test]
    fn same_order_as_a_heap() {
        let start = tokio::time::Instant::now().into_std();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut schedule = Schedule::new(64, start);
        let mut heap = BinaryHeap::new();
        for id in 0..64 {
            let at = start + Duration::from_millis(rng.u64(..1000));
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
            let delay = Duration::from_millis(rng.choice([1000, 1000, 1000, 3000, 250]).expect("a non-empty list"))
                + Duration::from_millis(if rng.u8(..20) == 0 { rng.u64(..40) } else { 0 });
            let late = Duration::from_millis(if rng.u8(..10) == 0 { rng.u64(..1500) } else { 0 });
            let next = at + delay + late;
            schedule.push(next, id, Some(delay));
            heap.push(Reverse((next, id)));
            assert_eq!(schedule.peek(), heap.peek().map(|Reverse(run)| *run));
        }
    }

    #[test]
    fn the_first_runs_heap_goes_once_empty_and_a_run_before_the_base_is_due_at_it() {
        let base = tokio::time::Instant::now().into_std();
        let mut s = Schedule::new(10_000, base);
        for id in 0..10_000 {
            s.push(base + Duration::from_millis(id as u64 * 7 % 1000), id, None);
        }
        assert!(s.heap.capacity() >= 10_000);
        let mut last = base;
        while let Some((at, _)) = s.pop() {
            assert!(at >= last, "in order");
            last = at;
            assert!(s.heap.capacity() <= (4 * s.heap.len() + 3).max(HEAP_KEPT), "room given back as it empties");
        }
        assert!(s.heap.capacity() <= HEAP_KEPT, "{} kept", s.heap.capacity());
        let before = base.checked_sub(Duration::from_secs(1)).expect("a second after boot");
        s.push(before, 3, None);
        assert_eq!(s.pop(), Some((base, 3)));
    }

    #[test]
    fn a_heap_hovering_at_one_length_keeps_its_room() {
        let base = tokio::time::Instant::now().into_std();
        let mut s = Schedule::new(0, base);
        for id in 0..20_000 {
            s.push(base + Duration::from_millis(id as u64), id, None);
        }
        // Down to where its room was given back last, then a run in and a run out, as a heap
        // holding the runs beyond the lanes does.
        let mut room = s.heap.capacity();
        while s.heap.capacity() == room {
            s.pop();
        }
        room = s.heap.capacity();
        for id in 0..1_000 {
            s.push(base + Duration::from_secs(60) + Duration::from_millis(id as u64), id, None);
            assert_eq!(s.heap.capacity(), room, "no regrowth after a shrink");
            s.pop();
            assert_eq!(s.heap.capacity(), room, "no shrink around one length");
        }
    }

    #[test]
    fn a_lane_grows_by_an_eighth() {
        let base = tokio::time::Instant::now().into_std();
        let mut s = Schedule::new(0, base);
        for id in 0..10_000 {
            s.push(base + Duration::from_millis(id as u64), id, Some(Duration::from_secs(6)));
        }
        let lane = &s.lanes[0].1;
        assert_eq!(lane.len(), 10_000);
        assert!(lane.capacity() <= 10_000 + 10_000 / 8 + 1, "{} for 10,000 runs", lane.capacity());
    }

    #[test]
    fn ties_go_to_the_lower_check() {
        let at = tokio::time::Instant::now().into_std();
        let mut s = Schedule::new(0, at);
        s.push(at, 5, Some(Duration::from_secs(1)));
        s.push(at, 2, None);
        s.push(at, 3, Some(Duration::from_secs(2)));
        assert_eq!([s.pop(), s.pop(), s.pop(), s.pop()], [Some((at, 2)), Some((at, 3)), Some((at, 5)), None]);
    }
}
