//! `vigilctl maintenance` and `vigilctl weight` against a running vigild: the entries are
//! answered, published on the event stream, written to the state file ($VIGIL_STATE_DIR),
//! listed by `vigilctl status`, kept through a reload and a restart, and dropped at their
//! expiry. Bad requests are refused with a reason. The IPVS side (weights written, quorum,
//! sorry server) is tested against the in-memory kernel in the daemon's unit tests; here the
//! host may have no IPVS, and vigild then runs without its checkers.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::lab::{ask, wait_until};

const CONF: &str = "virtual_server 10.0.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n \
                    real_server 10.0.0.7 80 {\n }\n real_server 10.0.0.8 80 {\n }\n}\n";

/// A work directory and the vigild running in it; both go whatever happens.
struct Daemon {
    child: Option<Child>,
    /// Removed when the fields drop, after `drop` has stopped vigild: it writes its log, socket
    /// and state there until it ends.
    dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Daemon {
    fn new() -> Daemon {
        let dir = tempfile::Builder::new().prefix("vigil-maintenance-e2e-").tempdir().expect("a work directory");
        std::fs::write(dir.path().join("keepalived.conf"), CONF).expect("the configuration");
        Daemon { child: None, dir }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("vigild.sock")
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("vigild.log"))
            .expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_vigild"))
            .args(["-n", "-l", "-f"])
            .arg(self.dir.path().join("keepalived.conf"))
            .arg("--control-socket")
            .arg(self.socket())
            .env("VIGIL_STATE_DIR", self.state_dir())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("vigild starts");
        self.child = Some(child);
        wait_until("the control socket", || UnixStream::connect(self.socket()).is_ok());
    }

    /// SIGTERM, and the exit status.
    fn stop(&mut self) -> bool {
        let child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let mut child = child;
        child.wait().expect("it ends").success()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vigild.log")).unwrap_or_default()
    }

    fn entries(&self) -> Value {
        serde_json::from_str(&ask(&self.socket(), "maintenance")).expect("the entries are JSON")
    }
}

/// vigilctl, built beside vigild by `cargo test -p vigild -p vigilctl`.
fn vigilctl() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_BIN_EXE_vigild")).with_file_name("vigilctl");
    path.exists().then_some(path)
}

fn run(ctl: &Path, socket: &Path, args: &[&str]) -> Output {
    Command::new(ctl).args(args).arg("--socket").arg(socket).output().expect("vigilctl runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Reads the event stream on a thread; each line as JSON.
fn follow(socket: &Path) -> mpsc::Receiver<Value> {
    let mut stream = UnixStream::connect(socket).expect("the control socket answers");
    stream.write_all(b"events\n").expect("sent");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            let Ok(v) = serde_json::from_str(&line) else { return };
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next event of `kind`, waiting up to 15 s.
fn next_of(rx: &mpsc::Receiver<Value>, kind: &str) -> Value {
    loop {
        let e = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_else(|_| panic!("no {kind} event"));
        if e["type"] == kind {
            return e;
        }
    }
}

#[test]
fn maintenance_through_vigilctl_survives_a_reload_and_a_restart() {
    let Some(ctl) = vigilctl() else {
        eprintln!("SKIP: vigilctl is not built beside vigild (run cargo test -p vigild -p vigilctl)");
        return;
    };
    let mut d = Daemon::new();
    d.start();
    let socket = d.socket();
    let events = follow(&socket);

    let on = run(
        &ctl,
        &socket,
        &["maintenance", "on", "10.0.0.1:80", "10.0.0.7:80", "--reason", "disk swap", "--expires", "1d"],
    );
    assert!(on.status.success(), "{}", text(&on));
    assert!(text(&on).starts_with("maintenance on (quiescent) for RS 10.0.0.7:80 of VS 10.0.0.1:80"), "{}", text(&on));
    let e = next_of(&events, "MAINTENANCE");
    assert_eq!(
        (&e["state"], &e["scope"], &e["vs"], &e["rs"], &e["mode"], &e["reason"]),
        (
            &"ON".into(),
            &"real_server".into(),
            &"10.0.0.1:80".into(),
            &"10.0.0.7:80".into(),
            &"quiescent".into(),
            &"disk swap".into()
        )
    );

    // The keepalived form the status shows is taken too, and names the same server.
    let w = run(&ctl, &socket, &["weight", "[10.0.0.1]:tcp:80", "[10.0.0.8]:tcp:80", "5"]);
    assert!(w.status.success(), "{}", text(&w));
    let e = next_of(&events, "WEIGHT");
    assert_eq!((&e["rs"], &e["weight"]), (&"10.0.0.8:80".into(), &5.into()));

    let entries = d.entries();
    assert_eq!(entries["maintenance"][0]["target"]["rs"], "10.0.0.7:80");
    assert_eq!(entries["maintenance"][0]["mode"], "quiescent");
    assert_eq!(entries["weights"][0]["weight"], 5);
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(d.state_dir().join("runtime.json")).expect("the state file is written"),
    )
    .expect("the state file is JSON");
    assert_eq!(file, entries, "the file holds what vigild answers");

    let status = run(&ctl, &socket, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    let shown = text(&status);
    assert!(shown.contains("MAINTENANCE\n"), "{shown}");
    assert!(shown.contains("RS 10.0.0.7:80 of VS 10.0.0.1:80  quiescent"), "{shown}");
    assert!(shown.contains("disk swap"), "{shown}");
    assert!(shown.contains("WEIGHT OVERRIDES\n"), "{shown}");

    // Refused, with the reason; nothing changes.
    let bad = run(&ctl, &socket, &["weight", "10.0.0.1:80", "10.0.0.7:80", "70000"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("weight 70000 out of range"), "{}", text(&bad));
    let bad = run(&ctl, &socket, &["maintenance", "on", "10.0.0.1", "10.0.0.7:80"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("is not a virtual server"), "{}", text(&bad));
    let bad = run(&ctl, &socket, &["maintenance", "off", "10.0.0.1:80"]);
    assert!(text(&bad).contains("VS 10.0.0.1:80 is not in maintenance"), "{}", text(&bad));
    let bad = run(&ctl, &socket, &["maintenance", "on"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert_eq!(d.entries(), entries);

    // An entry is dropped at its time, with an event saying so.
    let short = run(&ctl, &socket, &["maintenance", "on", "--director", "--remove", "--expires", "1s"]);
    assert!(short.status.success(), "{}", text(&short));
    assert_eq!(next_of(&events, "MAINTENANCE")["scope"], "director");
    let gone = next_of(&events, "MAINTENANCE");
    assert_eq!(
        (&gone["state"], &gone["scope"], &gone["reason"]),
        (&"OFF".into(), &"director".into(), &"expired".into())
    );
    assert_eq!(d.entries(), entries, "only the expired entry went");

    let reload = run(&ctl, &socket, &["reload"]);
    assert!(reload.status.success(), "{}", text(&reload));
    assert_eq!(d.entries(), entries, "a reload keeps them");

    assert!(d.stop(), "SIGTERM ends vigild with status 0");
    d.start();
    assert_eq!(d.entries(), entries, "a restart keeps them");
    assert!(d.log().contains("Maintenance on for RS 10.0.0.7:80 of VS 10.0.0.1:80 (kept from before the restart)"));

    let off = run(&ctl, &socket, &["maintenance", "off", "10.0.0.1:80", "10.0.0.7:80"]);
    assert!(off.status.success(), "{}", text(&off));
    let clear = run(&ctl, &socket, &["weight", "10.0.0.1:80", "10.0.0.8:80", "--clear"]);
    assert!(clear.status.success(), "{}", text(&clear));
    let list = run(&ctl, &socket, &["maintenance", "list"]);
    assert_eq!(text(&list), "no maintenance entries and no weight overrides\n");
    assert!(d.stop());
}
