//! The current state of every check and real server, for a status API: the runner writes it,
//! anyone holding the `Arc` reads a snapshot.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

#[cfg(doc)]
use crate::plan::same_servers;
use crate::plan::{widened, CheckId, Matches, Plan};
use crate::verdict::{each_resumed, Carried, Failure, ServerHealth};

/// A real server's state on the board: its [`ServerHealth`] but its `rs`, which is its place
/// in [`Plan::servers`] (eight bytes less a server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerState {
    pub up: bool,
    /// The effective weight (configured plus dynamic).
    pub weight: i32,
}

impl From<ServerHealth> for ServerState {
    fn from(h: ServerHealth) -> ServerState {
        ServerState { up: h.up, weight: h.weight }
    }
}

/// The last attempt of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRun {
    pub at: SystemTime,
    /// From the start of the attempt to its result.
    pub latency: Duration,
    /// Boxed, as the board keeps it: most attempts succeed.
    pub result: Result<(), Box<Failure>>,
}

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults, from a
/// millisecond up to the longest connect timeout people set).
pub const LATENCY_BOUNDS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How long the attempts of a [`LatencyGroup`]'s checks took, for metrics: non-cumulative
/// counts per bucket of [`LATENCY_BOUNDS`], the attempts above the last bound, and the sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latencies {
    pub buckets: [u64; LATENCY_BOUNDS.len()],
    pub over: u64,
    pub sum: Duration,
}

impl Latencies {
    fn record(&mut self, latency: Duration) {
        let secs = latency.as_secs_f64();
        match LATENCY_BOUNDS.iter().position(|b| secs <= *b) {
            Some(i) => self.buckets[i] += 1,
            None => self.over += 1,
        }
        self.sum += latency;
    }
}

/// One check as the status API shows it, in [`Plan::checks`] order: the plan names it (its
/// real server, kind and name are there, not repeated here for each of 100,000 checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckStatus {
    pub up: bool,
    /// Attempts so far.
    pub runs: u64,
    pub last: Option<LastRun>,
}

/// The latencies of the checks of one kind in the virtual servers of one name (`FWM 1` of
/// IPv4 and of IPv6, or a group's TCP and UDP virtual servers, share theirs, as the metrics
/// name them alike). One histogram for each check would be 100,000 of them at scale, in
/// memory and in every scrape of the metrics; the last latency of each check is in its
/// [`CheckStatus`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyGroup {
    pub vs_name: Arc<str>,
    /// The checker's keyword (`TCP_CHECK`, ...).
    pub kind: &'static str,
    pub latencies: Latencies,
}

/// A check's [`CheckStatus`] as the board keeps it, in 32 bytes instead of 56: the attempt's
/// start in milliseconds since the Unix epoch, its latency in microseconds.
#[derive(Clone, Debug, Default)]
struct Entry {
    /// The last attempt's reason to fail; `None` when it succeeded.
    failure: Option<Box<Failure>>,
    at_ms: u64,
    runs: u32,
    latency_us: u32,
    up: bool,
    /// Whether an attempt ended yet.
    ran: bool,
}

impl Entry {
    fn new(up: bool) -> Entry {
        Entry { up, ..Entry::default() }
    }

    fn record(&mut self, up: bool, last: LastRun) {
        self.up = up;
        self.runs = self.runs.saturating_add(1);
        self.ran = true;
        self.at_ms = millis(last.at);
        self.latency_us = u32::try_from(last.latency.as_micros()).unwrap_or(u32::MAX);
        self.failure = last.result.err();
    }

    fn status(&self) -> CheckStatus {
        CheckStatus {
            up: self.up,
            runs: u64::from(self.runs),
            last: self.ran.then(|| LastRun {
                at: from_millis(self.at_ms),
                latency: Duration::from_micros(u64::from(self.latency_us)),
                result: self.failure.clone().map_or(Ok(()), Err),
            }),
        }
    }
}

/// What the runner writes as each attempt ends.
#[derive(Debug)]
struct Checks {
    each: Vec<Entry>,
    groups: Vec<LatencyGroup>,
}

/// What a reload's new board takes from the plan before it: where each of the new plan's
/// servers was ([`same_servers`]), and each old server's checks. Kept instead of that plan,
/// so that the plan can go before the new board is made (15 MiB at 100,000 real servers).
#[derive(Debug)]
pub struct Before {
    pub same: Matches,
    /// Each old server's range of checks.
    checks: Vec<(u32, u32)>,
}

impl Before {
    /// From the plan before and [`same_servers`] of it and the new plan.
    pub fn new(old: &Plan, same: Matches) -> Before {
        Before { same, checks: old.servers.iter().map(|s| s.check_range).collect() }
    }

    /// The checks the old server `o` had.
    fn checks(&self, o: usize) -> std::ops::Range<usize> {
        self.checks.get(o).map_or(0..0, |&range| widened(range))
    }
}

/// Shared between the runner and readers.
#[derive(Debug)]
pub struct Status {
    checks: Mutex<Checks>,
    /// Each check's index in `groups`, in [`Plan::checks`] order.
    group_of: Vec<u32>,
    /// Each server's state and since when it is up or down, in milliseconds since the Unix
    /// epoch (8 bytes, not a `SystemTime`'s 16).
    servers: Mutex<Vec<(ServerState, u64)>>,
}

fn millis(at: SystemTime) -> u64 {
    let since_epoch = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

fn from_millis(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values half-written in a way that matters.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Status {
    /// The board for a plan, with the initial states, at `now`.
    pub fn new(plan: &Plan, now: SystemTime) -> Arc<Status> {
        Status::resumed(plan, &[], now, None)
    }

    /// The board for a plan started from carried verdicts (see
    /// [`Health::resume`](crate::verdict::Health::resume)); with `previous`, the board of the
    /// plan before and what it takes from that plan ([`Before`]), a server and check that stay
    /// keep their history (time in state, runs, last result), and the latency histograms go
    /// on by virtual server name and kind. The previous board is left empty: each of its parts
    /// goes as soon as the new board has taken from it, so that two whole boards are never
    /// held at once (7 MiB each at 100,000 real servers, at a reload's peak).
    pub fn resumed(
        plan: &Plan,
        carried: &[Option<Carried>],
        now: SystemTime,
        previous: Option<(&Status, &Before)>,
    ) -> Arc<Status> {
        let now_ms = millis(now);
        let mut servers: Vec<(ServerState, u64)> = each_resumed(plan, carried).map(|h| (h.into(), now_ms)).collect();
        if let Some((old, before)) = previous {
            let old_servers = std::mem::take(&mut *lock(&old.servers));
            for (i, o) in before.same.iter().enumerate() {
                let Some(o) = o else { continue };
                if let (Some((h, since)), Some((oh, old_since))) = (servers.get_mut(i), old_servers.get(o)) {
                    if h.up == oh.up {
                        *since = *old_since;
                    }
                }
            }
        }
        let (group_of, mut groups) = latency_groups(plan);
        if let Some((old, _)) = previous {
            let old_groups = std::mem::take(&mut lock(&old.checks).groups);
            let kept: std::collections::HashMap<(&str, &str), &Latencies> =
                old_groups.iter().map(|g| ((&*g.vs_name, g.kind), &g.latencies)).collect();
            for g in &mut groups {
                if let Some(l) = kept.get(&(&*g.vs_name, g.kind)) {
                    g.latencies.clone_from(l);
                }
            }
        }
        let mut checks: Vec<Entry> = plan
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| Entry::new(carried.get(i).copied().flatten().map_or(!c.alpha, |k| k.up)))
            .collect();
        if let Some((old, before)) = previous {
            let old_checks = std::mem::take(&mut lock(&old.checks).each);
            for (s, o) in plan.servers.iter().zip(before.same.iter()) {
                let Some(o) = o else { continue };
                let was = before.checks(o);
                for (k, c) in s.checks().enumerate() {
                    let at = was.start + k;
                    if carried.get(c).copied().flatten().is_some() && at < was.end {
                        if let (Some(oc), Some(entry)) = (old_checks.get(at), checks.get_mut(c)) {
                            *entry = Entry { up: entry.up, ..oc.clone() };
                        }
                    }
                }
            }
        }
        Arc::new(Status { checks: Mutex::new(Checks { each: checks, groups }), group_of, servers: Mutex::new(servers) })
    }

    /// A copy of every check's status.
    pub fn checks(&self) -> Vec<CheckStatus> {
        lock(&self.checks).each.iter().map(Entry::status).collect()
    }

    /// A copy of the latency histograms, in the order of their first check in the plan.
    pub fn latencies(&self) -> Vec<LatencyGroup> {
        lock(&self.checks).groups.clone()
    }

    /// A copy of every real server's state, in [`Plan::servers`] order.
    pub fn servers(&self) -> Vec<ServerState> {
        lock(&self.servers).iter().map(|(h, _)| *h).collect()
    }

    /// `f` of each of `items` and the state of the real server at its place in
    /// [`Plan::servers`] order (as many as the shorter has), made under the lock: no copy of
    /// the whole list (megabytes at 100,000 real servers).
    pub fn zip_servers<T, U>(
        &self,
        items: impl IntoIterator<Item = T>,
        mut f: impl FnMut(T, &ServerState) -> U,
    ) -> Vec<U> {
        lock(&self.servers).iter().zip(items).map(|((h, _), t)| f(t, h)).collect()
    }

    /// Every real server's state and since when it is up or down, in [`Plan::servers`] order.
    pub fn servers_since(&self) -> Vec<(ServerState, SystemTime)> {
        lock(&self.servers).iter().map(|&(h, since)| (h, from_millis(since))).collect()
    }

    pub(crate) fn record_check(&self, id: CheckId, up: bool, last: LastRun) {
        let mut checks = lock(&self.checks);
        let Checks { each, groups } = &mut *checks;
        if let Some(c) = each.get_mut(id.0) {
            if let Some(g) = self.group_of.get(id.0).and_then(|&g| groups.get_mut(g as usize)) {
                g.latencies.record(last.latency);
            }
            c.record(up, last);
        }
    }

    pub(crate) fn record_server(&self, index: usize, health: ServerHealth, now: SystemTime) {
        if let Some((s, since)) = lock(&self.servers).get_mut(index) {
            if s.up != health.up {
                *since = millis(now);
            }
            *s = health.into();
        }
    }
}

/// Each check's group (one for each virtual server name and checker keyword), and the groups.
fn latency_groups(plan: &Plan) -> (Vec<u32>, Vec<LatencyGroup>) {
    let mut index: std::collections::HashMap<(&str, &'static str), u32> = std::collections::HashMap::new();
    // Each group's virtual server and kind first, then the groups at their exact number: a
    // vector of them grown by doubling, then shrunk, held twice their room at a reload's
    // peak (10,000 groups of 152 bytes at 10,000 virtual servers).
    let mut keys: Vec<(Option<&Arc<str>>, &'static str)> = Vec::new();
    let group_of = plan
        .checks
        .iter()
        .map(|c| {
            let kind = c.kind.keyword();
            let vs_name = plan.servers.get(c.server()).and_then(|s| plan.vs_name_of(s));
            *index.entry((vs_name.map_or("", |n| n), kind)).or_insert_with(|| {
                keys.push((vs_name, kind));
                u32::try_from(keys.len() - 1).unwrap_or(u32::MAX)
            })
        })
        .collect();
    drop(index);
    let groups = keys
        .into_iter()
        .map(|(vs_name, kind)| LatencyGroup {
            vs_name: vs_name.map_or_else(|| Arc::from(""), Arc::clone),
            kind,
            latencies: Latencies::default(),
        })
        .collect();
    (group_of, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_board_entry_stays_small_and_gives_back_what_was_recorded() {
        assert!(std::mem::size_of::<Entry>() <= 32, "Entry is {} bytes", std::mem::size_of::<Entry>());
        let mut e = Entry::new(true);
        assert_eq!(e.status(), CheckStatus { up: true, runs: 0, last: None });
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_765_000_000_123);
        let failed = LastRun { at, latency: Duration::from_micros(2_500), result: Err(Box::new(Failure::Timeout)) };
        e.record(false, failed.clone());
        assert_eq!(e.status(), CheckStatus { up: false, runs: 1, last: Some(failed) });
        let ok = LastRun { at, latency: Duration::from_micros(700), result: Ok(()) };
        e.record(true, ok.clone());
        assert_eq!(e.status(), CheckStatus { up: true, runs: 2, last: Some(ok) });
    }

    fn plan(weight: u32) -> Plan {
        plan_with(weight, "")
    }

    /// With `first` before the first real server.
    fn plan_with(weight: u32, first: &str) -> Plan {
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n{first}\
             real_server 10.0.1.1 80 {{\n weight {weight}\n TCP_CHECK {{\n }}\n }}\n\
             real_server 10.0.1.2 80 {{\n TCP_CHECK {{\n }}\n MISC_CHECK {{\n misc_path /bin/true\n }}\n }}\n}}\n\
             virtual_server 10.0.0.2 80 {{\n protocol TCP\n real_server 10.0.1.1 80 {{\n TCP_CHECK {{\n }}\n }}\n}}\n"
        );
        let parsed = vigil_config::parse_str("k.conf", &text, &vigil_config::Options::default(), None);
        let errors = parsed.diagnostics.iter().filter(|d| d.severity > vigil_config::Severity::Warning);
        assert_eq!(errors.count(), 0, "{:?}", parsed.diagnostics);
        crate::plan(&parsed.config)
    }

    fn run(ms: u64) -> LastRun {
        LastRun { at: SystemTime::UNIX_EPOCH, latency: Duration::from_millis(ms), result: Ok(()) }
    }

    fn counts(status: &Status) -> Vec<(String, &'static str, u64)> {
        let count = |l: &Latencies| l.buckets.iter().sum::<u64>() + l.over;
        status.latencies().iter().map(|g| (g.vs_name.to_string(), g.kind, count(&g.latencies))).collect()
    }

    fn owned(want: &[(&str, &'static str, u64)]) -> Vec<(String, &'static str, u64)> {
        want.iter().map(|&(vs, kind, n)| (vs.to_string(), kind, n)).collect()
    }

    #[test]
    fn virtual_servers_of_one_name_share_their_histogram() {
        let text = "virtual_server_group G {\n 10.0.0.5 80\n}\n\
                    virtual_server group G {\n protocol TCP\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n }\n }\n}\n\
                    virtual_server group G {\n protocol UDP\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n }\n }\n}\n";
        let parsed = vigil_config::parse_str("k.conf", text, &vigil_config::Options::default(), None);
        let plan = crate::plan(&parsed.config);
        assert_eq!(plan.servers.len(), 2, "{:?}", parsed.diagnostics);
        assert_eq!(plan.vs_name(&plan.servers[0]), plan.vs_name(&plan.servers[1]), "the metrics name both alike");
        let status = Status::new(&plan, SystemTime::UNIX_EPOCH);
        status.record_check(CheckId(0), true, run(1));
        status.record_check(CheckId(1), true, run(1));
        assert_eq!(counts(&status), owned(&[("[G]", "TCP_CHECK", 2)]));
    }

    #[test]
    fn latencies_are_kept_by_virtual_server_and_checker_and_carried_over_a_reload() {
        let before = plan(1);
        let status = Status::new(&before, SystemTime::UNIX_EPOCH);
        for (check, ms) in [(0, 2), (1, 3), (1, 4), (2, 20_000), (3, 1)] {
            status.record_check(CheckId(check), true, run(ms));
        }
        let (one, two) = ("[10.0.0.1]:tcp:80", "[10.0.0.2]:tcp:80");
        assert_eq!(counts(&status), owned(&[(one, "TCP_CHECK", 3), (one, "MISC_CHECK", 1), (two, "TCP_CHECK", 1)]));
        let groups = status.latencies();
        assert_eq!(groups[0].latencies.buckets[1], 1, "2 ms");
        assert_eq!(groups[0].latencies.buckets[2], 2, "3 and 4 ms");
        assert_eq!(groups[1].latencies.over, 1, "20 s is above the last bound");
        assert_eq!(groups[0].latencies.sum, Duration::from_millis(9));

        let after = plan(2);
        let carried = vec![Some(Carried { up: true, delta: 0 }); after.checks.len()];
        let resumed = Status::resumed(
            &after,
            &carried,
            SystemTime::UNIX_EPOCH,
            Some((&status, &Before::new(&before, crate::same_servers(&before, &after)))),
        );
        assert_eq!(resumed.latencies(), groups);
        let runs: Vec<u64> = resumed.checks().iter().map(|c| c.runs).collect();
        assert_eq!(runs, [1, 2, 1, 1]);
        assert_eq!(resumed.checks()[0].last, Some(run(2)));
        assert_eq!(
            (status.checks(), status.servers(), status.latencies()),
            (vec![], vec![], vec![]),
            "taken, not copied"
        );

        let moved = plan_with(1, "real_server 10.0.1.9 80 {\n TCP_CHECK {\n }\n }\n");
        let carried = vec![Some(Carried { up: true, delta: 0 }); moved.checks.len()];
        let resumed = Status::resumed(
            &moved,
            &carried,
            SystemTime::UNIX_EPOCH,
            Some((&resumed, &Before::new(&after, crate::same_servers(&after, &moved)))),
        );
        let runs: Vec<u64> = resumed.checks().iter().map(|c| c.runs).collect();
        assert_eq!(runs, [0, 1, 2, 1, 1], "each server's history found by name after one was put first");
    }
}
