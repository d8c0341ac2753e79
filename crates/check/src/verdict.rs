//! The checker state machine and the real server verdict, without I/O.
//!
//! keepalived's rules, as its checkers implement them (check_tcp.c, check_http.c, check_misc.c):
//! - a checker starts up, or down with `alpha` ("On daemon startup assume that all RSs are down
//!   and healthchecks failed");
//! - the first run waits a random time up to `warmup` (default: the whole `delay_loop`), so
//!   checks of many servers spread over the loop;
//! - a success resets the retry count and marks the checker up; the next run is a `delay_loop`
//!   later;
//! - a failure of an up checker is retried `retry` times, `delay_before_retry` apart; only when
//!   the last retry fails too is the checker down. A down checker is not retried ("do not retry
//!   if server is already known as dead");
//! - a real server is up when all its checkers are up; its weight is its configured weight
//!   plus what dynamic checkers add (MISC_CHECK `misc_dynamic`, FILE_CHECK `weight`), never
//!   below 0.
//!
//! Time and randomness come in as arguments, so the tests below drive it exactly.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::plan::{CheckId, CheckSpec, Matches, OldChecks, Plan, Remade, RsId};
use crate::schedule::Schedule;

/// Shortest wait between two runs of a check, so that a zero `delay_loop` cannot spin.
const MIN_DELAY: Duration = Duration::from_millis(1);

/// What a successful probe says about the weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightReport {
    /// Leave the dynamic weight as it is (MISC_CHECK exit 0, every other checker).
    Unchanged,
    /// Set the real server's weight to this (MISC_CHECK `misc_dynamic` exit 2..=255: code - 2).
    Set(i32),
    /// Add this to the configured weight (FILE_CHECK: value × weight).
    Delta(i64),
}

/// A probe that passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Success {
    pub weight: WeightReport,
}

impl Success {
    pub const PLAIN: Success = Success { weight: WeightReport::Unchanged };
}

/// Why a probe failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("connection refused")]
    Refused,
    #[error("unreachable ({0})")]
    Unreachable(String),
    #[error("connect timeout")]
    ConnectTimeout,
    #[error("timeout after connecting")]
    Timeout,
    #[error("{0}")]
    Io(String),
    #[error("TLS handshake/communication error ({0})")]
    Tls(String),
    #[error("no data received")]
    NoData,
    #[error("url({url}), status_code [{status}]")]
    Status { url: String, status: u16 },
    #[error("url[{url}], MD5SUM [{}]", hex(got))]
    Digest { url: String, got: [u8; 16] },
    #[error("url[{url}], regex {}", if *no_match { "matched" } else { "did not match" })]
    Regex { url: String, no_match: bool },
    #[error("exited with status {0}")]
    Exit(i32),
    #[error("due to signal {0}")]
    Signal(i32),
    #[error("timed out")]
    ScriptTimeout,
    #[error("cannot run: {0}")]
    Spawn(String),
    #[error("bad greeting banner ({0})")]
    Banner(String),
    #[error("bad HELO response ({0})")]
    Helo(String),
    #[error("read error occurred. (rcode = {0})")]
    Rcode(u8),
    #[error("port unreachable")]
    PortUnreachable,
    #[error("reply data mismatch")]
    ReplyMismatch,
    #[error("no reply")]
    NoReply,
    #[error("track file value {0}")]
    FileFault(i64),
    /// BFD_CHECK: the session of this `bfd_instance` is not Up.
    #[error("BFD {0} is DOWN")]
    BfdDown(String),
}

/// Lower-case hex, as genhash prints an MD5 sum.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a probe returned.
pub type ProbeResult = Result<Success, Failure>;

/// MISC_CHECK: keepalived.conf(5), `misc_dynamic`: "exit status 0: svc check success, weight
/// unchanged. exit status 1: svc check failed. exit status 2-255: svc check success, then the
/// RS weight is ... (exit status - 2)". Without `misc_dynamic`, any non-zero status fails.
pub fn misc_verdict(code: i32, dynamic: bool) -> ProbeResult {
    match code {
        0 => Ok(Success::PLAIN),
        2..=255 if dynamic => Ok(Success { weight: WeightReport::Set(code - 2) }),
        _ => Err(Failure::Exit(code)),
    }
}

/// FILE_CHECK: keepalived.conf(5), Track files: "If the weight configured against the
/// track_file is 0, a non-zero value in the file will be treated as a failure status, and a
/// zero value will be treated as an OK status, otherwise the value will be multiplied by the
/// weight ... The value, once multiplied by the weight, will be added to the real server's
/// IPVS weight." A product at or below i32::MIN is a fault, as keepalived's IPVS_WEIGHT_FAULT.
pub fn file_verdict(value: i64, weight: i32, reverse: bool) -> ProbeResult {
    if weight == 0 {
        return if value == 0 { Ok(Success::PLAIN) } else { Err(Failure::FileFault(value)) };
    }
    let w = if reverse { -i64::from(weight) } else { i64::from(weight) };
    let product = value.saturating_mul(w);
    if product <= i64::from(i32::MIN) {
        return Err(Failure::FileFault(value));
    }
    Ok(Success { weight: WeightReport::Delta(product) })
}

/// BFD_CHECK: the check passes while the session of `name` is Up (check_bfd.c).
pub fn bfd_verdict(name: &str, up: bool) -> ProbeResult {
    if up {
        Ok(Success::PLAIN)
    } else {
        Err(Failure::BfdDown(name.to_string()))
    }
}

/// A real server's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHealth {
    pub rs: RsId,
    pub up: bool,
    /// The effective weight (configured plus dynamic).
    pub weight: i32,
}

/// Which checker caused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    CheckerUp(CheckId),
    CheckerDown(CheckId),
    WeightChanged(CheckId),
}

/// A real server went up or down, or its dynamic weight changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthChange {
    pub rs: RsId,
    pub up: bool,
    /// The effective weight when the server has dynamic checkers; `None`: the configured weight.
    pub weight: Option<i32>,
    pub reason: Reason,
}

/// What one result did to its checker, for logging and alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Success of an up checker.
    StillUp,
    /// Success of a down checker, or the first success; `changed` when it was down.
    Up { changed: bool },
    /// Failure of an up checker with retries left: attempt `attempt` of `retry` follows.
    Retrying { attempt: u32, retry: u32 },
    /// Failure after all retries, or the first run's; `changed` when it was up.
    Down { changed: bool, retries: u32 },
    /// Failure of a down checker.
    StillDown,
}

/// A check's running state; its settings (timing, server) are in the plan.
#[derive(Clone, Debug)]
struct CheckState {
    up: bool,
    has_run: bool,
    retry_it: u32,
    delta: i64,
    /// When the current run was due.
    due: Instant,
    /// Whether it runs on a schedule; BFD_CHECK only takes its session's reports.
    scheduled: bool,
}

/// A real server's running state; its identity, configured weight and checks are in the plan.
#[derive(Clone, Debug)]
struct ServerState {
    up: bool,
    weight: i32,
    dynamic: bool,
}

/// A real server's state from its checkers': up when all are, its configured weight plus
/// their dynamic changes.
fn server_state(checks: impl IntoIterator<Item = (bool, i64)>, base: i32) -> (bool, i32) {
    let (mut up, mut sum) = (true, 0i64);
    for (check_up, delta) in checks {
        up &= check_up;
        sum = sum.saturating_add(delta);
    }
    let weight = (i64::from(base) + sum).clamp(0, i64::from(i32::MAX));
    (up, i32::try_from(weight).unwrap_or(i32::MAX))
}

/// A checker's verdict, carried over a reload to the same check in the new plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carried {
    pub up: bool,
    /// The change its last result made to the server's weight (MISC_CHECK's misc_dynamic,
    /// FILE_CHECK).
    pub delta: i64,
}

/// Which checks of `new` are the same as a check of `old` (same virtual server, real server,
/// position among its checks, and settings), with the verdict `carried` has for it; `same` is
/// [`same_servers`](crate::plan::same_servers)`(old, new)`, and `checks` says where the checks
/// of `old` are.
pub fn carry_over(
    old: &Plan,
    carried: &[Carried],
    new: &Plan,
    same: &Matches,
    checks: OldChecks,
) -> Vec<Option<Carried>> {
    let remade = match checks {
        OldChecks::InPlan => None,
        OldChecks::Remade { old, new } => Some(Remade::new(old, new)),
    };
    let mut out = vec![None; new.checks.len()];
    let mut made;
    for (s, o) in new.servers.iter().zip(same.iter()) {
        let Some(o) = o.and_then(|o| old.servers.get(o)) else { continue };
        let (was, is) = (o.checks(), s.checks());
        let before: &[CheckSpec] = match &remade {
            None => old.checks.get(was.clone()).unwrap_or_default(),
            Some(r) if r.unchanged(o.id(), s.id()) => {
                for (k, slot) in out[is.clone()].iter_mut().enumerate().take(was.len()) {
                    *slot = carried.get(was.start + k).copied();
                }
                continue;
            }
            Some(r) => {
                made = r.checks(o.id());
                &made
            }
        };
        for (k, c) in new.checks[is.clone()].iter().enumerate().take(was.len()) {
            if before.get(k).is_some_and(|b| b.same_check(c)) {
                out[is.start + k] = carried.get(was.start + k).copied();
            }
        }
    }
    out
}

/// Each real server's state at the start of a plan given the carried verdicts (see
/// [`Health::resume`]).
pub fn resumed_health(plan: &Plan, carried: &[Option<Carried>]) -> Vec<ServerHealth> {
    each_resumed(plan, carried).collect()
}

/// [`resumed_health`], one server at a time.
pub(crate) fn each_resumed<'a>(
    plan: &'a Plan,
    carried: &'a [Option<Carried>],
) -> impl Iterator<Item = ServerHealth> + 'a {
    plan.servers.iter().map(|s| {
        let checks = plan.checks[s.checks()].iter().enumerate().map(|(i, c)| {
            let k = carried.get(s.checks().start + i).copied().flatten();
            (k.map_or(!c.alpha, |k| k.up), k.map_or(0, |k| k.delta))
        });
        let (up, weight) = server_state(checks, s.weight);
        ServerHealth { rs: s.id(), up, weight }
    })
}

/// Initial state of every real server: up unless one of its checkers starts down (alpha).
pub fn initial_health(plan: &Plan) -> Vec<ServerHealth> {
    resumed_health(plan, &[])
}

/// All checkers and real servers of a plan.
#[derive(Debug)]
pub struct Health {
    plan: Arc<Plan>,
    checks: Vec<CheckState>,
    servers: Vec<ServerState>,
    queue: Schedule,
    changes: VecDeque<HealthChange>,
}

impl Health {
    /// Starts every checker and schedules its first run after a random part of its warmup;
    /// `random` gives uniformly distributed numbers.
    pub fn new(plan: impl Into<Arc<Plan>>, now: Instant, random: impl FnMut() -> u64) -> Health {
        Health::resume(plan, &[], now, random)
    }

    /// Like [`new`](Self::new), but a check with a verdict in `carried` (by index into
    /// [`Plan::checks`]; missing or `None`: a new check) starts from it, as if it had run:
    /// only a different result is a change. Its first run comes after a random part of its
    /// `delay_loop`, so a reload does not probe every server at once.
    pub fn resume(
        plan: impl Into<Arc<Plan>>,
        carried: &[Option<Carried>],
        now: Instant,
        mut random: impl FnMut() -> u64,
    ) -> Health {
        let plan = plan.into();
        let mut checks = Vec::with_capacity(plan.checks.len());
        let mut servers = Vec::with_capacity(plan.servers.len());
        for s in &plan.servers {
            for (ci, c) in plan.checks[s.checks()].iter().enumerate() {
                let carry = carried.get(s.checks().start + ci).copied().flatten();
                checks.push(CheckState {
                    up: carry.map_or(!c.alpha, |k| k.up),
                    has_run: carry.is_some(),
                    retry_it: 0,
                    delta: carry.map_or(0, |k| k.delta),
                    due: now,
                    scheduled: !matches!(c.kind, crate::plan::ProbeKind::Bfd(_)),
                });
            }
            let dynamic = plan.checks[s.checks()].iter().any(|c| match &c.kind {
                crate::plan::ProbeKind::Misc(m) => m.dynamic,
                crate::plan::ProbeKind::File(f) => f.weight != 0,
                _ => false,
            });
            let (up, weight) = server_state(checks[s.checks()].iter().map(|c| (c.up, c.delta)), s.weight);
            servers.push(ServerState { up, weight, dynamic });
        }
        let mut queue = Schedule::new(checks.len(), now);
        for ((i, c), spec) in checks.iter().enumerate().zip(&plan.checks).filter(|((_, c), _)| c.scheduled) {
            let spread = if c.has_run { spec.timing.delay_loop } else { spec.timing.warmup };
            let spread = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
            let offset = if spread == 0 { 0 } else { random() % spread };
            queue.push(now + Duration::from_nanos(offset), i, None);
        }
        Health { plan, checks, servers, queue, changes: VecDeque::new() }
    }

    /// Every checker's verdict, by index into [`Plan::checks`], to carry over a reload.
    pub fn carried(&self) -> Vec<Carried> {
        self.checks.iter().map(|c| Carried { up: c.up, delta: c.delta }).collect()
    }

    /// The next check due at `now`, if any; it is not scheduled again until its result is in.
    pub fn poll_due(&mut self, now: Instant) -> Option<CheckId> {
        let (at, i) = self.queue.pop_due(now)?;
        if let Some(c) = self.checks.get_mut(i) {
            c.due = at;
        }
        Some(CheckId(i))
    }

    /// When the next check is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.queue.peek().map(|(at, _)| at)
    }

    /// A change for the daemon, if any.
    pub fn poll_change(&mut self) -> Option<HealthChange> {
        self.changes.pop_front()
    }

    /// A real server's current state.
    pub fn server(&self, index: usize) -> Option<ServerHealth> {
        let (s, spec) = (self.servers.get(index)?, self.plan.servers.get(index)?);
        Some(ServerHealth { rs: spec.id(), up: s.up, weight: s.weight })
    }

    /// Whether a checker is up.
    pub fn check_up(&self, id: CheckId) -> Option<bool> {
        self.checks.get(id.0).map(|c| c.up)
    }

    /// Applies a probe's result, schedules the check's next run and queues any change.
    pub fn handle_result(&mut self, now: Instant, id: CheckId, result: &ProbeResult) -> Verdict {
        let Some((verdict, delay)) = self.apply(id, result) else { return Verdict::StillDown };
        let due = self.checks[id.0].due;
        // Counting the delay from when the run was due, not from when its result came in,
        // keeps the spread the warmup made: otherwise checks that finish together (after a
        // busy moment) stay together, and the bunches grow. A run that took longer than the
        // delay counts from its end, as keepalived does, so a slow server still gets it whole.
        let delay = delay.max(MIN_DELAY);
        let (next, after_due) = if now < due + delay { (due + delay, Some(delay)) } else { (now + delay, None) };
        self.queue.push(next, id.0, after_due);
        verdict
    }

    /// Applies a result that came without a run (BFD_CHECK: its session's report) and
    /// queues any change; nothing is scheduled.
    pub fn handle_event(&mut self, id: CheckId, result: &ProbeResult) -> Verdict {
        self.apply(id, result).map_or(Verdict::StillDown, |(verdict, _)| verdict)
    }

    /// Applies a result to its checker and the checker's server; returns the verdict and the
    /// delay until the next run.
    fn apply(&mut self, id: CheckId, result: &ProbeResult) -> Option<(Verdict, Duration)> {
        let (c, spec) = (self.checks.get_mut(id.0)?, self.plan.checks.get(id.0)?);
        let timing = &*spec.timing;
        let was_up = c.up;
        let first = !c.has_run;
        c.has_run = true;
        let (verdict, delay) = match result {
            Ok(success) => {
                c.retry_it = 0;
                c.up = true;
                match success.weight {
                    WeightReport::Unchanged => {}
                    WeightReport::Set(w) => c.delta = i64::from(w) - i64::from(self.plan.servers[spec.server()].weight),
                    WeightReport::Delta(d) => c.delta = d,
                }
                let v = if was_up && !first { Verdict::StillUp } else { Verdict::Up { changed: !was_up } };
                (v, timing.delay_loop)
            }
            Err(_) if was_up && c.retry_it < timing.retry => {
                c.retry_it += 1;
                (Verdict::Retrying { attempt: c.retry_it, retry: timing.retry }, timing.delay_before_retry)
            }
            Err(_) => {
                let retries = std::mem::take(&mut c.retry_it);
                c.up = false;
                let v = if was_up || first { Verdict::Down { changed: was_up, retries } } else { Verdict::StillDown };
                (v, timing.delay_loop)
            }
        };
        let server = spec.server();
        let reason = match verdict {
            Verdict::Up { changed: true } => Reason::CheckerUp(id),
            Verdict::Down { changed: true, .. } => Reason::CheckerDown(id),
            _ => Reason::WeightChanged(id),
        };
        self.update_server(server, reason);
        Some((verdict, delay))
    }

    fn update_server(&mut self, index: usize, reason: Reason) {
        let spec = &self.plan.servers[index];
        let (up, weight) = server_state(self.checks[spec.checks()].iter().map(|c| (c.up, c.delta)), spec.weight);
        let s = &mut self.servers[index];
        if up == s.up && weight == s.weight {
            return;
        }
        s.up = up;
        s.weight = weight;
        self.changes.push_back(HealthChange { rs: spec.id(), up, weight: s.dynamic.then_some(weight), reason });
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests need some instant to start from
mod tests {
    use super::*;
    use crate::plan::{same_servers, CheckSpec, Endpoint, FileSpec, MiscSpec, Name, ProbeKind, ServerSpec, Timing};

    const S: Duration = Duration::from_secs(1);

    fn timing(retry: u32) -> Timing {
        Timing { timeout: S, retry, delay_before_retry: 2 * S, delay_loop: 10 * S, warmup: Duration::ZERO }
    }

    fn tcp(alpha: bool, retry: u32) -> CheckSpec {
        let endpoint = Endpoint::new("127.0.0.1:80".parse().expect("literal"));
        CheckSpec {
            server_index: 0,
            kind: ProbeKind::Tcp(endpoint),
            timing: timing(retry).into(),
            alpha,
            log_all_failures: false,
        }
    }

    /// One real server (weight 10) with the given checks.
    fn one_server(checks: Vec<CheckSpec>) -> Plan {
        let n = checks.len();
        Plan {
            servers: vec![ServerSpec {
                name: Name::new("127.0.0.1:80".parse().expect("literal"), vigil_config::model::Protocol::Tcp),
                vs: 0,
                rs: 0,
                weight: 10,
                check_range: (0, u32::try_from(n).expect("a few checks")),
                smtp_alert: false,
            }],
            checks,
            vs_names: vec!["[127.0.0.2]:tcp:80".into()],
            ..Plan::default()
        }
    }

    const RS: RsId = RsId { vs: 0, rs: 0 };
    const OK: ProbeResult = Ok(Success::PLAIN);
    fn fail() -> ProbeResult {
        Err(Failure::Refused)
    }

    /// Runs results for check 0 in order, each at the time the check is due; returns the
    /// time of each run (seconds after start), the verdicts and the changes.
    fn drive(h: &mut Health, start: Instant, results: &[ProbeResult]) -> (Vec<u64>, Vec<Verdict>, Vec<HealthChange>) {
        let (mut times, mut verdicts, mut changes) = (Vec::new(), Vec::new(), Vec::new());
        for r in results {
            let at = h.poll_timeout().expect("always scheduled");
            let id = h.poll_due(at).expect("due");
            times.push(at.duration_since(start).as_secs());
            verdicts.push(h.handle_result(at, id, r));
            while let Some(c) = h.poll_change() {
                changes.push(c);
            }
        }
        (times, verdicts, changes)
    }

    fn down(check: usize) -> HealthChange {
        HealthChange { rs: RS, up: false, weight: None, reason: Reason::CheckerDown(CheckId(check)) }
    }
    fn up(check: usize) -> HealthChange {
        HealthChange { rs: RS, up: true, weight: None, reason: Reason::CheckerUp(CheckId(check)) }
    }

    #[test]
    fn retries_then_down_then_up() {
        struct Case {
            name: &'static str,
            alpha: bool,
            retry: u32,
            results: Vec<ProbeResult>,
            times: Vec<u64>,
            verdicts: Vec<Verdict>,
            changes: Vec<HealthChange>,
        }
        let cases = vec![
            Case {
                name: "retry 1: down after the retry, a delay_before_retry later",
                alpha: false,
                retry: 1,
                results: vec![OK, fail(), fail(), fail(), OK],
                times: vec![0, 10, 12, 22, 32],
                verdicts: vec![
                    Verdict::Up { changed: false },
                    Verdict::Retrying { attempt: 1, retry: 1 },
                    Verdict::Down { changed: true, retries: 1 },
                    Verdict::StillDown,
                    Verdict::Up { changed: true },
                ],
                changes: vec![down(0), up(0)],
            },
            Case {
                name: "a success during the retries resets them",
                alpha: false,
                retry: 2,
                results: vec![OK, fail(), OK, fail(), fail(), fail()],
                times: vec![0, 10, 12, 22, 24, 26],
                verdicts: vec![
                    Verdict::Up { changed: false },
                    Verdict::Retrying { attempt: 1, retry: 2 },
                    Verdict::StillUp,
                    Verdict::Retrying { attempt: 1, retry: 2 },
                    Verdict::Retrying { attempt: 2, retry: 2 },
                    Verdict::Down { changed: true, retries: 2 },
                ],
                changes: vec![down(0)],
            },
            Case {
                name: "retry 0: the first failure is final",
                alpha: false,
                retry: 0,
                results: vec![fail(), OK],
                times: vec![0, 10],
                verdicts: vec![Verdict::Down { changed: true, retries: 0 }, Verdict::Up { changed: true }],
                changes: vec![down(0), up(0)],
            },
            Case {
                name: "alpha: down until the first success, no retries while down",
                alpha: true,
                retry: 3,
                results: vec![fail(), fail(), OK, OK],
                times: vec![0, 10, 20, 30],
                verdicts: vec![
                    Verdict::Down { changed: false, retries: 0 },
                    Verdict::StillDown,
                    Verdict::Up { changed: true },
                    Verdict::StillUp,
                ],
                changes: vec![up(0)],
            },
        ];
        let start = Instant::now();
        for case in cases {
            let plan = one_server(vec![tcp(case.alpha, case.retry)]);
            assert_eq!(initial_health(&plan)[0].up, !case.alpha, "{}", case.name);
            let mut h = Health::new(plan.clone(), start, || 0);
            let (times, verdicts, changes) = drive(&mut h, start, &case.results);
            assert_eq!(times, case.times, "{}", case.name);
            assert_eq!(verdicts, case.verdicts, "{}", case.name);
            assert_eq!(changes, case.changes, "{}", case.name);
        }
    }

    #[test]
    fn a_server_is_up_only_when_all_its_checkers_are() {
        let plan = one_server(vec![tcp(false, 0), tcp(false, 0)]);
        let start = Instant::now();
        let mut h = Health::new(plan.clone(), start, || 0);
        let (a, b) = (CheckId(0), CheckId(1));
        assert_eq!(h.poll_due(start), Some(a));
        assert_eq!(h.poll_due(start), Some(b));
        assert_eq!(h.poll_due(start), None);
        h.handle_result(start, a, &fail());
        assert_eq!(h.poll_change(), Some(down(0)));
        h.handle_result(start, b, &fail());
        assert_eq!(h.poll_change(), None, "already down");
        h.handle_result(start, a, &OK);
        assert_eq!(h.poll_change(), None, "b is still down");
        h.handle_result(start, b, &OK);
        assert_eq!(h.poll_change(), Some(up(1)));
        assert_eq!(h.server(0), Some(ServerHealth { rs: RS, up: true, weight: 10 }));
    }

    #[test]
    fn warmup_spreads_first_runs() {
        let mut checks: Vec<CheckSpec> = (0..4).map(|_| tcp(false, 0)).collect();
        for c in &mut checks {
            Arc::make_mut(&mut c.timing).warmup = 10 * S;
        }
        let plan = one_server(checks);
        let start = Instant::now();
        let mut draws = [3u64, 1, 4, 1].map(|n| n * 1_000_000_000 + 10_000_000_000).into_iter();
        let mut h = Health::new(plan.clone(), start, || draws.next().unwrap_or(0));
        let mut firsts = Vec::new();
        while let Some(at) = h.poll_timeout() {
            let id = h.poll_due(at).expect("due");
            firsts.push((at.duration_since(start).as_secs(), id.0));
        }
        assert_eq!(firsts, [(1, 1), (1, 3), (3, 0), (4, 2)]);
    }

    #[test]
    fn next_runs_keep_their_phase_unless_the_check_was_slow() {
        let plan = one_server(vec![tcp(false, 0)]);
        let start = Instant::now();
        let mut h = Health::new(plan.clone(), start, || 0);
        let id = h.poll_due(start).expect("due");
        h.handle_result(start + Duration::from_millis(300), id, &OK);
        assert_eq!(h.poll_timeout(), Some(start + 10 * S), "a quick result: a delay_loop after it was due");
        let id = h.poll_due(start + 10 * S).expect("due");
        h.handle_result(start + 19 * S, id, &OK);
        assert_eq!(h.poll_timeout(), Some(start + 20 * S), "a result within the delay keeps the phase");
        let id = h.poll_due(start + 20 * S).expect("due");
        h.handle_result(start + 31 * S, id, &OK);
        assert_eq!(h.poll_timeout(), Some(start + 41 * S), "a slow result: a delay_loop after it came in");
    }

    #[test]
    fn misc_exit_codes() {
        assert_eq!(misc_verdict(0, false), OK);
        assert_eq!(misc_verdict(1, false), Err(Failure::Exit(1)));
        assert_eq!(misc_verdict(7, false), Err(Failure::Exit(7)));
        assert_eq!(misc_verdict(0, true), OK);
        assert_eq!(misc_verdict(1, true), Err(Failure::Exit(1)));
        assert_eq!(misc_verdict(2, true), Ok(Success { weight: WeightReport::Set(0) }));
        assert_eq!(misc_verdict(255, true), Ok(Success { weight: WeightReport::Set(253) }));
    }

    #[test]
    fn file_values() {
        assert_eq!(file_verdict(0, 0, false), OK);
        assert_eq!(file_verdict(3, 0, false), Err(Failure::FileFault(3)));
        assert_eq!(file_verdict(3, 2, false), Ok(Success { weight: WeightReport::Delta(6) }));
        assert_eq!(file_verdict(3, 2, true), Ok(Success { weight: WeightReport::Delta(-6) }));
        assert_eq!(file_verdict(i64::from(i32::MIN), 1, false), Err(Failure::FileFault(i64::from(i32::MIN))));
    }

    #[test]
    fn dynamic_weights() {
        let misc = CheckSpec {
            kind: ProbeKind::Misc(Box::new(MiscSpec { argv: vec!["/bin/true".into()], dynamic: true, user: None })),
            ..tcp(false, 0)
        };
        let file = CheckSpec {
            kind: ProbeKind::File(FileSpec { path: "/x".into(), weight: 2, reverse: false }),
            ..tcp(false, 0)
        };
        let plan = one_server(vec![misc, file]);
        let start = Instant::now();
        let mut h = Health::new(plan.clone(), start, || 0);
        let (m, f) = (CheckId(0), CheckId(1));
        let weight = |w| HealthChange { rs: RS, up: true, weight: Some(w), reason: Reason::WeightChanged(m) };
        // exit 7 sets the weight to 5; the file adds 2 × 3.
        h.handle_result(start, m, &misc_verdict(7, true));
        assert_eq!(h.poll_change(), Some(weight(5)));
        h.handle_result(start, f, &file_verdict(3, 2, false));
        assert_eq!(
            h.poll_change(),
            Some(HealthChange { rs: RS, up: true, weight: Some(11), reason: Reason::WeightChanged(f) })
        );
        // exit 0 keeps the weight the script set; exit 1 takes the server down.
        h.handle_result(start, m, &misc_verdict(0, true));
        assert_eq!(h.poll_change(), None);
        h.handle_result(start, m, &misc_verdict(1, true));
        assert_eq!(
            h.poll_change(),
            Some(HealthChange { rs: RS, up: false, weight: Some(11), reason: Reason::CheckerDown(m) })
        );
        // A large negative file value cannot take the weight below 0.
        h.handle_result(start, f, &file_verdict(-100, 2, false));
        assert_eq!(
            h.poll_change(),
            Some(HealthChange { rs: RS, up: false, weight: Some(0), reason: Reason::WeightChanged(f) })
        );
    }

    fn bfd(alpha: bool) -> CheckSpec {
        let never = Duration::ZERO;
        let timing = Timing { timeout: never, retry: 0, delay_before_retry: never, delay_loop: never, warmup: never };
        CheckSpec { kind: ProbeKind::Bfd("b1".into()), timing: timing.into(), ..tcp(alpha, 0) }
    }

    #[test]
    fn a_bfd_check_takes_each_report_at_once() {
        struct Case {
            name: &'static str,
            alpha: bool,
            reports: Vec<bool>,
            verdicts: Vec<Verdict>,
            changes: Vec<HealthChange>,
        }
        let down0 = |changed| Verdict::Down { changed, retries: 0 };
        let cases = vec![
            Case {
                name: "up until told otherwise; no retries",
                alpha: false,
                reports: vec![false, false, true, true, false],
                verdicts: vec![
                    down0(true),
                    Verdict::StillDown,
                    Verdict::Up { changed: true },
                    Verdict::StillUp,
                    down0(true),
                ],
                changes: vec![down(0), up(0), down(0)],
            },
            Case {
                name: "up and first told up: no change",
                alpha: false,
                reports: vec![true, false],
                verdicts: vec![Verdict::Up { changed: false }, down0(true)],
                changes: vec![down(0)],
            },
            Case {
                name: "alpha: down until the session comes up",
                alpha: true,
                reports: vec![false, true, false],
                verdicts: vec![down0(false), Verdict::Up { changed: true }, down0(true)],
                changes: vec![up(0), down(0)],
            },
        ];
        let start = Instant::now();
        for case in cases {
            let plan = one_server(vec![bfd(case.alpha)]);
            assert_eq!(initial_health(&plan)[0].up, !case.alpha, "{}", case.name);
            let mut h = Health::new(plan.clone(), start, || 0);
            assert_eq!(h.poll_timeout(), None, "{}: never scheduled", case.name);
            let (mut verdicts, mut changes) = (Vec::new(), Vec::new());
            for up in case.reports {
                verdicts.push(h.handle_event(CheckId(0), &bfd_verdict("b1", up)));
                changes.extend(std::iter::from_fn(|| h.poll_change()));
            }
            assert_eq!(verdicts, case.verdicts, "{}", case.name);
            assert_eq!(changes, case.changes, "{}", case.name);
            assert_eq!(h.poll_timeout(), None, "{}: still never scheduled", case.name);
        }
    }

    #[test]
    fn a_bfd_check_and_a_probed_check_of_one_server() {
        let plan = one_server(vec![tcp(false, 0), bfd(false)]);
        let start = Instant::now();
        let mut h = Health::new(plan.clone(), start, || 0);
        let (t, b) = (CheckId(0), CheckId(1));
        assert_eq!(h.poll_due(start), Some(t));
        assert_eq!(h.poll_due(start), None, "only the probed check runs");
        h.handle_event(b, &bfd_verdict("b1", false));
        assert_eq!(h.poll_change(), Some(down(1)));
        h.handle_result(start, t, &fail());
        assert_eq!(h.poll_change(), None, "already down");
        h.handle_event(b, &bfd_verdict("b1", true));
        assert_eq!(h.poll_change(), None, "the TCP check is still down");
        h.handle_result(start + 10 * S, t, &OK);
        assert_eq!(h.poll_change(), Some(up(0)));
        h.handle_event(b, &bfd_verdict("b1", false));
        assert_eq!(h.poll_change(), Some(down(1)));
        assert_eq!(bfd_verdict("b1", false), Err(Failure::BfdDown("b1".into())));
    }

    #[test]
    fn a_server_without_checkers_is_up() {
        let plan = one_server(Vec::new());
        assert_eq!(initial_health(&plan), [ServerHealth { rs: RS, up: true, weight: 10 }]);
        let mut h = Health::new(plan.clone(), Instant::now(), || 0);
        assert_eq!(h.poll_timeout(), None);
        assert_eq!(h.poll_change(), None);
    }

    #[test]
    fn a_reload_carries_verdicts_to_the_same_checks() {
        let start = Instant::now();
        let old = one_server(vec![tcp(false, 0)]);
        let mut h = Health::new(old.clone(), start, || 0);
        let (_, _, changes) = drive(&mut h, start, &[fail()]);
        assert_eq!(changes.len(), 1, "down");
        let carried = h.carried();
        assert_eq!(carried, [Carried { up: false, delta: 0 }]);

        // The same check in a new plan (another weight): it starts down and a failure is no
        // change; a success is.
        let mut new = one_server(vec![tcp(false, 0)]);
        new.servers[0].weight = 5;
        let resume = carry_over(&old, &carried, &new, &same_servers(&old, &new), OldChecks::InPlan);
        assert_eq!(resume, [Some(Carried { up: false, delta: 0 })]);
        assert_eq!(resumed_health(&new, &resume), [ServerHealth { rs: RS, up: false, weight: 5 }]);
        let mut h = Health::resume(new.clone(), &resume, start, || 0);
        let (_, _, changes) = drive(&mut h, start, &[fail()]);
        assert!(changes.is_empty(), "{changes:?}");
        let (_, _, changes) = drive(&mut h, start, &[OK]);
        assert_eq!(changes.len(), 1);

        // A check with other settings, or on another server, starts afresh.
        let mut other = one_server(vec![tcp(false, 2)]);
        assert_eq!(carry_over(&old, &carried, &other, &same_servers(&old, &other), OldChecks::InPlan), [None]);
        other = one_server(vec![tcp(false, 0)]);
        other.servers[0].name.ip = "127.0.0.9".parse().expect("literal");
        assert_eq!(carry_over(&old, &carried, &other, &same_servers(&old, &other), OldChecks::InPlan), [None]);
    }
}
