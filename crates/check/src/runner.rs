//! The I/O edge: one task owns the verdict core and schedules every check.
//!
//! A TCP_CHECK's connect is started by this task and watched with the others in flight
//! ([`Connects`]); every other check runs as its own tokio task with its own deadline. Either
//! way a slow or hung server only ever costs its own check; the scheduling task never waits
//! on a probe. Results go into [`Health`], which says when each check runs next (first runs
//! spread over the warmup, by default the whole `delay_loop`). Changes go to the daemon over a
//! bounded channel without ever blocking the checks: they queue here while the channel is
//! full. Alert mails go out from tasks of their own.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, trace};
use vigil_config::model::SslSettings;

use crate::alert::{realserver_mail, Alerter, Mail};
use crate::messages::{alert_body, down_line, failure_line, up_line};
use crate::plan::{CheckId, Plan, ProbeKind};
use crate::probes::connects::{Connects, Done};
use crate::probes::{probe, ProbeContext, TlsClient};
use crate::status::{LastRun, Status};
use crate::verdict::{Carried, Failure, Health, HealthChange, ProbeResult, Verdict};

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

/// Runs every check of `plan` until `shutdown` is cancelled or the receiver of `changes` is
/// dropped. Sends a [`HealthChange`] whenever a real server goes up or down or its dynamic
/// weight changes; the initial states are [`crate::initial_health`] (and in `status` from the
/// start). `status` is updated after every attempt.
pub async fn run(
    plan: Plan,
    changes: mpsc::Sender<HealthChange>,
    status: Arc<Status>,
    shutdown: CancellationToken,
) -> Vec<Carried> {
    run_resumed(plan, Vec::new(), changes, status, shutdown).await
}

/// [`run`] from the verdicts carried over a reload ([`crate::carry_over`]): a carried check
/// starts where it was and reports only a change. Returns every check's verdict at the end,
/// for the next reload.
pub async fn run_resumed(
    plan: Plan,
    carried: Vec<Option<Carried>>,
    changes: mpsc::Sender<HealthChange>,
    status: Arc<Status>,
    shutdown: CancellationToken,
) -> Vec<Carried> {
    let plan = Arc::new(plan);
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let ctx = ProbeContext::new(hostname.clone(), seed);
    let ctx = Arc::new(match &plan.ssl {
        None => ctx,
        Some(ssl) => ctx.with_tls(ssl_context(ssl)),
    });
    let warmup_rng = ProbeContext::new(String::new(), seed.rotate_left(32));
    let mut health = Health::resume(&plan, &carried, Instant::now().into_std(), || warmup_rng.random());
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
    loop {
        let now = Instant::now();
        connects.expire(now, &mut done);
        while let Some(id) = health.poll_due(now.into_std()) {
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

/// Takes one attempt's result, which came in at `(now, at)` (the monotonic and the wall-clock
/// time, read once for all results that came in together): the verdict, the status board, the
/// log, alerts, and the changes to send.
fn finish(
    plan: &Plan,
    health: &mut Health,
    status: &Status,
    alerts: &Alerter,
    pending: &mut VecDeque<HealthChange>,
    (now, at): (std::time::Instant, SystemTime),
    Done { id, result, latency }: Done,
) {
    let verdict = health.handle_result(now, id, &result);
    let up = health.check_up(id).unwrap_or(false);
    status.record_check(id, up, LastRun { at, latency, result: result.as_ref().map(|_| ()).map_err(Clone::clone) });
    report(plan, id, verdict, &result, alerts);
    while let Some(change) = health.poll_change() {
        let server = plan.checks[id.0].server;
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
    let Some(server) = plan.servers.get(spec.server) else { return };
    let failure = result.as_ref().err();
    match verdict {
        Verdict::StillUp => trace!(check = %spec.name, "check passed"),
        Verdict::Up { changed } => {
            info!(
                virtual_server = %server.vs_name,
                real_server = %server.name,
                check = %spec.name, kind = spec.kind.keyword(), "{}", up_line(spec, server));
            if changed && server.smtp_alert {
                alerts.send(realserver_mail_for(plan, id, true, alerts));
            }
        }
        Verdict::Retrying { attempt, retry } => {
            if let Some(f) = failure {
                let line = failure_line(spec, server, f);
                if spec.log_all_failures {
                    info!(check = %spec.name, reason = %f, attempt, retry, "{line}");
                } else {
                    debug!(check = %spec.name, reason = %f, attempt, retry, "{line}");
                }
            }
        }
        Verdict::Down { changed, retries } => {
            if let Some(f) = failure {
                info!(check = %spec.name, reason = %f, "{}", failure_line(spec, server, f));
            }
            info!(
                virtual_server = %server.vs_name,
                real_server = %server.name,
                check = %spec.name, kind = spec.kind.keyword(), "{}", down_line(spec, server, retries));
            if changed && server.smtp_alert {
                alerts.send(realserver_mail_for(plan, id, false, alerts));
            }
        }
        Verdict::StillDown => {
            if let Some(f) = failure {
                debug!(check = %spec.name, reason = %f, "{}", failure_line(spec, server, f));
            }
        }
    }
}

fn realserver_mail_for(plan: &Plan, id: CheckId, up: bool, alerts: &Alerter) -> Mail {
    let spec = &plan.checks[id.0];
    let (rs, vs) = plan.servers.get(spec.server).map(|s| (s.name.as_str(), s.vs_name.as_str())).unwrap_or_default();
    realserver_mail(alerts.router_id(), rs, vs, up, &alert_body(&spec.kind, up))
}
