//! The I/O edge: one task owns the verdict core and schedules every check.
//!
//! A TCP_CHECK's connect is started by this task and watched with the others in flight
//! ([`Connects`]); every other check runs as its own tokio task with its own deadline. Either
//! way a slow or hung server only ever costs its own check; the scheduling task never waits
//! on a probe. Results go into [`Health`], which says when each check runs next (first runs
//! spread over the warmup, by default the whole `delay_loop`). Changes go to the daemon over a
//! bounded channel without ever blocking the checks: they queue here while the channel is
//! full. Alert mails go out from tasks of their own.
//!
//! BFD_CHECKs are never run: this task watches the BFD sessions' states and hands each check
//! its session's new state the moment the BFD task reports it ([`BfdChecks`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, trace};
use vigil_config::model::SslSettings;

use crate::alert::{realserver_mail, Alerter, Mail};
use crate::bfd::{BfdChecks, Sessions};
use crate::messages::{alert_body, down_line, failure_line, up_line};
use crate::plan::{CheckId, Plan, ProbeKind};
use crate::probes::connects::{Connects, Done};
use crate::probes::{probe, ProbeContext, TlsClient};
use crate::status::{LastRun, Status};
use crate::verdict::{bfd_verdict, Carried, Failure, Health, HealthChange, ProbeResult, Verdict};

/// The `SSL` block's context. keepalived stops its checkers when it cannot build it; here
/// the other checkers go on and every SSL_GET attempt fails, so that the servers it guards are
/// taken out rather than trusted. The password is not logged (keepalived logs it).
fn ssl_context(ssl: &SslSettings) -> Option<TlsClient> {
    match TlsClient::load(ssl) {
        Ok(tls) => Some(tls),
        Err(e) => {
            let shown = |f: &Option<String>| f.clone().unwrap_or_else(|| "(null)".into());
            error!("{e}");
            error!("Error Initialize SSL, ctx Instance");
            error!("  SSL  keyfile:{}", shown(&ssl.key));
            error!("  SSL password:{}", if ssl.password.is_some() { "(set)" } else { "(null)" });
            error!("  SSL   cafile:{}", shown(&ssl.ca));
            error!("every SSL_GET check fails until the SSL block is fixed and the configuration reloaded");
            None
        }
    }
}

/// A stand-in for "never" when nothing is scheduled.
const IDLE: Duration = Duration::from_secs(3600);

/// The most checks one turn of the runner starts before it looks again at what else is ready:
/// a cancel, the attempts that finished, the changes to send. A connect over loopback runs
/// the handshake inside the call, so 100,000 checks due at once (at start, or far behind their
/// schedule on a saturated CPU) would otherwise hold a stop or a reload for as long as all of
/// them take.
pub const STARTS_PER_TURN: usize = 256;

/// Runs every check of `plan` until `shutdown` is cancelled or the receiver of `changes` is
/// dropped. Sends a [`HealthChange`] whenever a real server goes up or down or its dynamic
/// weight changes; the initial states are [`crate::initial_health`] (and in `status` from the
/// start). `status` is updated after every attempt. Without BFD sessions to follow, every
/// BFD_CHECK is told once that its session is down.
pub async fn run(
    plan: Plan,
    changes: mpsc::Sender<HealthChange>,
    status: Arc<Status>,
    shutdown: CancellationToken,
) -> Vec<Carried> {
    run_resumed(Arc::new(plan), Vec::new(), changes, status, None, shutdown).await
}

/// [`run`] from the verdicts carried over a reload ([`crate::carry_over`]): a carried check
/// starts where it was and reports only a change. BFD_CHECKs follow the sessions `bfd`
/// reports: each takes the current states at the start (so a carried one changes only if its
/// session did) and every change as it comes; should the sender go, they keep the last ones.
/// Returns every check's verdict at the end, for the next reload.
pub async fn run_resumed(
    plan: Arc<Plan>,
    carried: Vec<Option<Carried>>,
    changes: mpsc::Sender<HealthChange>,
    status: Arc<Status>,
    bfd: Option<watch::Receiver<Sessions>>,
    shutdown: CancellationToken,
) -> Vec<Carried> {
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let ctx = ProbeContext::new(hostname.clone(), seed);
    let ctx = Arc::new(match &plan.ssl {
        None => ctx,
        Some(ssl) => ctx.with_tls(ssl_context(ssl)),
    });
    let warmup_rng = ProbeContext::new(String::new(), seed.rotate_left(32));
    let mut health = Health::resume(plan.clone(), &carried, Instant::now().into_std(), || warmup_rng.random());
    // Read once: kept in this future it would be a vector for every check (1.5 MiB at
    // 100,000) for as long as the checks run.
    drop(carried);
    let alerts = Alerter::new(plan.alerts.clone(), hostname);
    let mut probes: JoinSet<(ProbeResult, Duration)> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, CheckId> = HashMap::new();
    let mut connects = Connects::default();
    let mut done: Vec<Done> = Vec::new();
    let mut pending: VecDeque<HealthChange> = VecDeque::new();
    let sleep = tokio::time::sleep(IDLE);
    let cancelled = shutdown.cancelled();
    tokio::pin!(sleep, cancelled);
    info!(checks = plan.checks.len(), servers = plan.servers.len(), "Activating healthchecker");
    let mut bfd_checks = BfdChecks::new(&plan);
    let mut bfd = bfd.filter(|_| !bfd_checks.is_empty());
    if !bfd_checks.is_empty() {
        let sessions = bfd.as_mut().map(|rx| rx.borrow_and_update().clone()).unwrap_or_default();
        bfd_reports(&plan, &mut health, &status, &alerts, &mut pending, &mut bfd_checks, &sessions);
    }
    loop {
        // The changes queued so far, as many as the channel takes: the select below sends one
        // a turn, which falls behind when many real servers change at once. A closed channel
        // is left to that select, which ends the run.
        while !pending.is_empty() {
            let Ok(permit) = changes.try_reserve() else { break };
            if let Some(change) = pending.pop_front() {
                permit.send(change);
            }
        }
        let now = Instant::now();
        connects.expire(now, &mut done);
        for _ in 0..STARTS_PER_TURN {
            let Some(id) = health.poll_due(now.into_std()) else { break };
            let spec = &plan.checks[id.0];
            if let ProbeKind::Tcp(ep) = &spec.kind {
                connects.start(id, ep, spec.timing.timeout, now, &mut done);
                continue;
            }
            let (plan, ctx) = (Arc::clone(&plan), Arc::clone(&ctx));
            let handle = probes.spawn(async move {
                let start = Instant::now();
                let result = probe(&plan.checks[id.0], &ctx).await;
                (result, start.elapsed())
            });
            running.insert(handle.id(), id);
        }
        // After the due checks are started: one that failed at once is scheduled again no
        // earlier than its delay_before_retry from now, the next time round.
        if !done.is_empty() {
            let at = (now.into_std(), wall_clock());
            for d in done.drain(..) {
                finish(&plan, &mut health, &status, &alerts, &mut pending, at, d);
            }
        }
        let wake = health.poll_timeout().map_or(now + IDLE, Instant::from_std);
        let wake = connects.next_deadline().map_or(wake, |deadline| wake.min(deadline));
        if sleep.deadline() != wake {
            sleep.as_mut().reset(wake);
        }
        tokio::select! {
            biased;
            () = &mut cancelled => break,
            Some(done) = probes.join_next_with_id(), if !probes.is_empty() => {
                // Every probe that has finished by now, in one go: under load many finish
                // between two wake-ups, and each trip through this loop costs a timer reset.
                let mut next = Some(done);
                let at = (Instant::now().into_std(), wall_clock());
                while let Some(done) = next {
                    let (task, (result, latency)) = match done {
                        Ok((task, out)) => (task, out),
                        Err(e) => (e.id(), (Err(Failure::Io(format!("probe task failed: {e}"))), Duration::ZERO)),
                    };
                    if let Some(id) = running.remove(&task) {
                        finish(&plan, &mut health, &status, &alerts, &mut pending, at, Done { id, result, latency });
                    }
                    next = probes.try_join_next_with_id();
                }
            }
            () = std::future::poll_fn(|cx| connects.poll_done(cx, &mut done)), if connects.in_flight() > 0 => {}
            reported = async {
                match bfd.as_mut() {
                    Some(rx) => rx.changed().await,
                    None => std::future::pending().await,
                }
            }, if bfd.is_some() => match (reported, bfd.as_mut()) {
                (Ok(()), Some(rx)) => {
                    let sessions = rx.borrow_and_update().clone();
                    bfd_reports(&plan, &mut health, &status, &alerts, &mut pending, &mut bfd_checks, &sessions);
                }
                // The BFD task is gone: the checks keep the states it last reported.
                _ => bfd = None,
            },
            permit = changes.reserve(), if !pending.is_empty() => match permit {
                Ok(permit) => {
                    if let Some(change) = pending.pop_front() {
                        permit.send(change);
                    }
                }
                Err(_) => break,
            },
            _ = &mut sleep => {}
        }
    }
    probes.shutdown().await;
    health.carried()
}

/// The wall-clock time, for the status API.
fn wall_clock() -> SystemTime {
    #[allow(clippy::disallowed_methods)] // the edge reads the clock
    SystemTime::now()
}

/// Hands each BFD_CHECK whose session changed in `sessions` its new state, as [`finish`] does
/// with an attempt's result.
fn bfd_reports(
    plan: &Plan,
    health: &mut Health,
    status: &Status,
    alerts: &Alerter,
    pending: &mut VecDeque<HealthChange>,
    checks: &mut BfdChecks,
    sessions: &BTreeMap<String, bool>,
) {
    let at = (Instant::now().into_std(), wall_clock());
    for (id, up) in checks.changes(sessions) {
        let Some(ProbeKind::Bfd(name)) = plan.checks.get(id.0).map(|c| &c.kind) else { continue };
        let done = Done { id, result: bfd_verdict(name, up), latency: Duration::ZERO };
        finish(plan, health, status, alerts, pending, at, done);
    }
}

/// Takes one attempt's result (or a BFD_CHECK's new state), which came in at `(now, at)` (the
/// monotonic and the wall-clock time, read once for all results that came in together): the
/// verdict, the status board, the log, alerts, and the changes to send.
fn finish(
    plan: &Plan,
    health: &mut Health,
    status: &Status,
    alerts: &Alerter,
    pending: &mut VecDeque<HealthChange>,
    (now, at): (std::time::Instant, SystemTime),
    Done { id, result, latency }: Done,
) {
    let verdict = match plan.checks.get(id.0).map(|c| &c.kind) {
        Some(ProbeKind::Bfd(_)) => health.handle_event(id, &result),
        _ => health.handle_result(now, id, &result),
    };
    let up = health.check_up(id).unwrap_or(false);
    let kept = result.as_ref().map(|_| ()).map_err(|e| Box::new(e.clone()));
    status.record_check(id, up, LastRun { at, latency, result: kept });
    report(plan, id, verdict, &result, alerts);
    while let Some(change) = health.poll_change() {
        let server = plan.checks[id.0].server();
        if let Some(h) = health.server(server) {
            status.record_server(server, h, at);
        }
        debug!(vs = change.rs.vs, rs = change.rs.rs, up = change.up, weight = ?change.weight, "real server changed");
        pending.push_back(change);
    }
}

/// Logs an attempt's result in keepalived's words and sends the alert for a transition.
fn report(plan: &Plan, id: CheckId, verdict: Verdict, result: &ProbeResult, alerts: &Alerter) {
    let spec = &plan.checks[id.0];
    let Some(server) = plan.servers.get(spec.server()) else { return };
    let vs_name = plan.vs_name(server);
    // A BFD_CHECK says it all in the verdict's one line, as keepalived does.
    let failure = result.as_ref().err().filter(|_| !matches!(spec.kind, ProbeKind::Bfd(_)));
    match verdict {
        Verdict::StillUp => trace!(check = %spec.name(server), "check passed"),
        Verdict::Up { changed } => {
            info!(
                virtual_server = %vs_name,
                real_server = %server.name,
                check = %spec.name(server), kind = spec.kind.keyword(), "{}", up_line(spec, server, vs_name));
            if changed && server.smtp_alert {
                alerts.send(realserver_mail_for(plan, id, true, alerts));
            }
        }
        Verdict::Retrying { attempt, retry } => {
            if let Some(f) = failure {
                let line = failure_line(spec, server, vs_name, f);
                if spec.log_all_failures {
                    info!(check = %spec.name(server), reason = %f, attempt, retry, "{line}");
                } else {
                    debug!(check = %spec.name(server), reason = %f, attempt, retry, "{line}");
                }
            }
        }
        Verdict::Down { changed, retries } => {
            if let Some(f) = failure {
                info!(check = %spec.name(server), reason = %f, "{}", failure_line(spec, server, vs_name, f));
            }
            info!(
                virtual_server = %vs_name,
                real_server = %server.name,
                check = %spec.name(server), kind = spec.kind.keyword(), "{}", down_line(spec, server, vs_name, retries));
            if changed && server.smtp_alert {
                alerts.send(realserver_mail_for(plan, id, false, alerts));
            }
        }
        Verdict::StillDown => {
            if let Some(f) = failure {
                debug!(check = %spec.name(server), reason = %f, "{}", failure_line(spec, server, vs_name, f));
            }
        }
    }
}

fn realserver_mail_for(plan: &Plan, id: CheckId, up: bool, alerts: &Alerter) -> Mail {
    let spec = &plan.checks[id.0];
    let (rs, vs) = plan.servers.get(spec.server()).map(|s| (s.name.to_string(), plan.vs_name(s))).unwrap_or_default();
    realserver_mail(alerts.router_id(), &rs, vs, up, &alert_body(&spec.kind, up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    /// Only ends a hang: the runner answers a report at once.
    const HANG: Duration = Duration::from_secs(60);

    fn sessions(states: &[(&str, bool)]) -> Sessions {
        Arc::new(states.iter().map(|(n, up)| (n.to_string(), *up)).collect())
    }

    async fn next(rx: &mut mpsc::Receiver<HealthChange>) -> (bool, crate::RsId) {
        let change = tokio::time::timeout(HANG, rx.recv()).await.expect("a change").expect("runner alive");
        (change.up, change.rs)
    }

    #[tokio::test]
    async fn bfd_checks_follow_each_report_and_keep_the_last_when_the_sender_goes() {
        let text = "bfd_instance b1 {\n neighbor_ip 10.0.0.7\n}\nbfd_instance b2 {\n neighbor_ip 10.0.0.8\n}\n\
            virtual_server 10.0.0.1 80 {\n protocol TCP\n\
            real_server 10.0.0.7 80 {\n BFD_CHECK {\n name b1\n }\n }\n\
            real_server 10.0.0.8 80 {\n BFD_CHECK {\n name b2\n alpha\n }\n }\n}\n";
        let parsed = vigil_config::parse_str("bfd.conf", text, &vigil_config::Options::default(), None);
        let plan = crate::plan(&parsed.config);
        let (a, b) = (plan.servers[0].id(), plan.servers[1].id());
        let status = Status::new(&plan, SystemTime::UNIX_EPOCH);
        let (report, reports) = watch::channel(sessions(&[("b2", true)]));
        let (tx, mut rx) = mpsc::channel(8);
        let shutdown = CancellationToken::new();
        let runner =
            tokio::spawn(run_resumed(Arc::new(plan), Vec::new(), tx, status.clone(), Some(reports), shutdown.clone()));
        // At the start: b1 has not come Up (a was up, not alpha), b2 is Up (b was down, alpha).
        let mut first = vec![next(&mut rx).await, next(&mut rx).await];
        first.sort_by_key(|(_, rs)| *rs);
        assert_eq!(first, [(false, a), (true, b)]);
        report.send_replace(sessions(&[("b1", true), ("b2", true)]));
        assert_eq!(next(&mut rx).await, (true, a));
        report.send_replace(sessions(&[("b1", true)]));
        assert_eq!(next(&mut rx).await, (false, b), "a session no longer listed is down");
        report.send_replace(sessions(&[("b1", false), ("b2", true)]));
        let mut both = vec![next(&mut rx).await, next(&mut rx).await];
        both.sort_by_key(|(_, rs)| *rs);
        assert_eq!(both, [(false, a), (true, b)]);
        drop(report);
        shutdown.cancel();
        let carried = tokio::time::timeout(HANG, runner).await.expect("runner ends").expect("runner ran");
        assert_eq!(carried, [Carried { up: false, delta: 0 }, Carried { up: true, delta: 0 }]);
        let board: Vec<(bool, u64)> = status.checks().iter().map(|c| (c.up, c.runs)).collect();
        assert_eq!(board, [(false, 3), (true, 3)], "one entry per state each check was given");
    }
}
