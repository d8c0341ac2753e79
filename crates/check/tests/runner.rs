//! The runner against real listeners: one of three real servers stops and comes back.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use common::*;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vigil_check::plan::AlertSettings;
use vigil_check::{initial_health, HealthChange, Reason, RsId, Status};

fn config(servers: &[SocketAddr], smtp: SocketAddr) -> String {
    let mut text = format!(
        "global_defs {{\n router_id lb-test\n notification_email {{\n ops@example.com\n }}\n notification_email_from \"Vigil <vigil@example.com>\"\n smtp_server {} {}\n smtp_connect_timeout 2\n}}\n",
        smtp.ip(),
        smtp.port()
    );
    text.push_str("virtual_server 127.0.0.2 80 {\n protocol TCP\n delay_loop 0.2\n warmup 0\n");
    for s in servers {
        text.push_str(&format!(
            " real_server {} {} {{\n TCP_CHECK {{\n connect_timeout 0.5\n retry 2\n delay_before_retry 0.25\n }}\n }}\n",
            s.ip(),
            s.port()
        ));
    }
    text.push_str("}\n");
    text
}

async fn next_change(rx: &mut mpsc::Receiver<HealthChange>) -> HealthChange {
    tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a change in time").expect("runner alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_goes_down_and_comes_back() {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("vigil_check=debug").try_init();
    let listeners: Vec<_> = (0..3).map(|_| listener(LOOPBACK)).collect();
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().expect("addr")).collect();
    let mut acceptors: Vec<_> = listeners.into_iter().map(acceptor).collect();
    let (smtp, mails) = smtp_sink("220 sink ESMTP").await;
    let plan = plan_of(&config(&addrs, smtp));
    assert!(initial_health(&plan).iter().all(|h| h.up));
    assert_eq!(plan.alerts.as_ref().map(|a: &AlertSettings| a.port), Some(smtp.port()));
    let status = Status::new(&plan, wall_clock());
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(vigil_check::run(plan, tx, status.clone(), shutdown.clone()));

    // Let every server pass a few checks: nothing changes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err(), "no change while all are up");

    // Server 1 stops: one change, after the retries (2 × 0.25 s at least).
    acceptors[1].abort();
    let stopped = Instant::now();
    let change = next_change(&mut rx).await;
    let took = stopped.elapsed();
    assert_eq!(change.rs, RsId { vs: 0, rs: 1 });
    assert!(!change.up);
    assert_eq!(change.weight, None);
    assert!(matches!(change.reason, Reason::CheckerDown(_)));
    assert!(took >= Duration::from_millis(480), "down after {took:?}, before its retries");
    assert!(!status.servers()[1].up);
    let down_check = status.checks()[1].clone();
    assert!(!down_check.up);
    assert!(down_check.last.as_ref().is_some_and(|l| l.result.is_err()));

    // It comes back on the same port: one change up, within a delay_loop or so.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err(), "exactly one change while down");
    acceptors[1] = acceptor(listener(addrs[1]));
    let change = next_change(&mut rx).await;
    assert_eq!((change.rs, change.up), (RsId { vs: 0, rs: 1 }, true));
    assert!(matches!(change.reason, Reason::CheckerUp(_)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err(), "nothing else changed");
    assert!(status.servers().iter().all(|s| s.up));
    // A success's latency is within its connect_timeout (0.5 s), whatever the machine's load.
    let timeout = Duration::from_millis(500);
    assert!(status.checks().iter().all(|c| c.last.as_ref().is_some_and(|l| l.latency <= timeout)));

    // Both transitions were mailed, in keepalived's form.
    let deadline = Instant::now() + Duration::from_secs(3);
    while mails.lock().expect("lock").len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = mails.lock().expect("lock").clone();
    assert_eq!(got.len(), 2, "{got:#?}");
    let rs = format!("[{}]:tcp:{}", addrs[1].ip(), addrs[1].port());
    assert!(
        got[0]
            .data
            .contains(&format!("Subject: [lb-test] Realserver {rs} of virtual server [127.0.0.2]:tcp:80 - DOWN")),
        "{got:#?}"
    );
    assert!(got[0].data.contains("=> TCP CHECK failed on service <="));
    assert!(got[1].data.contains("- UP\r\n"));
    assert_eq!(got[0].from, "<vigil@example.com>");
    assert_eq!(got[0].to, ["<ops@example.com>"]);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), runner).await.expect("runner stops").expect("no panic");
}

#[tokio::test]
async fn runner_stops_when_the_receiver_is_gone() {
    let l = listener(LOOPBACK);
    let addr = l.local_addr().expect("addr");
    drop(l);
    let plan = plan_of(&format!(
        "virtual_server 127.0.0.2 80 {{\n protocol TCP\n delay_loop 0.1\n warmup 0\n real_server {} {} {{\n TCP_CHECK {{\n retry 0\n }}\n }}\n}}\n",
        addr.ip(),
        addr.port()
    ));
    let status = Status::new(&plan, wall_clock());
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let runner = tokio::spawn(vigil_check::run(plan, tx, status, CancellationToken::new()));
    tokio::time::timeout(Duration::from_secs(2), runner).await.expect("runner stops").expect("no panic");
}

#[tokio::test]
async fn a_hung_server_does_not_hold_up_other_checks() {
    let l = listener(LOOPBACK);
    let fast = l.local_addr().expect("addr");
    let _a = acceptor(l);
    let (hung, _) = http_server(Reply::Silence).await;
    let plan = plan_of(&format!(
        "virtual_server 127.0.0.2 80 {{\n protocol TCP\n delay_loop 0.1\n warmup 0\n real_server {} {} {{\n TCP_CHECK {{ }}\n }}\n real_server {} {} {{\n HTTP_GET {{\n connect_timeout 60\n url {{\n path /\n }}\n }}\n }}\n}}\n",
        fast.ip(),
        fast.port(),
        hung.ip(),
        hung.port()
    ));
    let status = Status::new(&plan, wall_clock());
    let (tx, _rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(vigil_check::run(plan, tx, status.clone(), shutdown.clone()));
    // The TCP check runs again and again while the HTTP check waits for its silent server (up
    // to its 60 s timeout). Counted in runs, not timed: a loaded machine only makes it slower.
    let mut checks = status.checks();
    for _ in 0..300 {
        if checks[0].runs >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        checks = status.checks();
    }
    assert!(checks[0].runs >= 5, "the TCP check ran {} times", checks[0].runs);
    assert!(checks[1].last.is_none(), "the HTTP check is still waiting for its server");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), runner).await.expect("runner stops").expect("no panic");
}

#[tokio::test]
async fn a_cancel_is_heard_between_slices_of_due_checks() {
    // 3,000 checks all due at once (warmup 0), each bound to an address this host does not
    // have (TEST-NET-1), so that every attempt fails at its bind, inside the turn that starts
    // it, and sends nothing: the board counts the attempts the runner started. Cancelled
    // before it starts, the runner makes one slice of them and stops (before, it started
    // every due check before looking at the cancel: at 100,000 real servers behind their
    // schedule, a stop or a reload waited for all of them).
    let mut text = String::from("virtual_server 127.0.0.2 80 {\n protocol TCP\n delay_loop 60\n warmup 0\n");
    for port in 0..3000u16 {
        text.push_str(&format!(
            " real_server 127.0.0.1 {} {{\n TCP_CHECK {{\n retry 0\n bindto 192.0.2.1\n }}\n }}\n",
            40000 + port
        ));
    }
    text.push_str("}\n");
    let plan = plan_of(&text);
    let attempted = |status: &Status| status.checks().iter().filter(|c| c.last.is_some()).count();
    let status = Status::new(&plan, wall_clock());
    let (tx, _rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    let runner = tokio::spawn(vigil_check::run(plan.clone(), tx, status.clone(), shutdown));
    tokio::time::timeout(Duration::from_secs(30), runner).await.expect("runner stops").expect("no panic");
    let started = attempted(&status);
    assert_eq!(started, vigil_check::STARTS_PER_TURN, "checks started after the cancel, of 3000");

    // Not cancelled, the slices follow one another: every check is attempted.
    let status = Status::new(&plan, wall_clock());
    let (tx, _rx) = mpsc::channel(4096);
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(vigil_check::run(plan, tx, status.clone(), shutdown.clone()));
    for _ in 0..300 {
        if attempted(&status) == 3000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attempted(&status), 3000, "every due check is attempted, slice after slice");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), runner).await.expect("runner stops").expect("no panic");
}

#[allow(clippy::disallowed_methods)] // the test is the edge: it reads the clock
fn wall_clock() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
