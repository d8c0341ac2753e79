//! A running vigild (VRRP only, in a network namespace of its own; root only, skipped
//! otherwise) answers on its control socket: the status document follows
//! docs/status.schema.json, the metrics are Prometheus text, a reload of an unchanged file
//! keeps the instance as it is, SIGUSR2 writes the statistics, and SIGTERM removes the VIP
//! and ends with status 0. With `vrrp_strict`, Accept_Mode off is said once and shown.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::schema::violations;

/// The namespace, the daemon and its files; all removed whatever happens.
struct Lab {
    ns: String,
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = Command::new("ip").args(["netns", "delete", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Lab {
    fn ip(&self, args: &[&str]) -> bool {
        Command::new("ip").args(["-n", &self.ns]).args(args).status().map(|s| s.success()).unwrap_or(false)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("vigild.sock")
    }

    fn has_vip(&self) -> bool {
        let out = Command::new("ip").args(["-n", &self.ns, "-o", "addr", "show", "dev", "eth0"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).contains(" 192.0.2.100/")).unwrap_or(false)
    }
}

fn ask(socket: &Path, command: &str) -> String {
    let mut stream = UnixStream::connect(socket).expect("the control socket answers");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    stream.write_all(format!("{command}\n").as_bytes()).expect("the command is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    answer
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(lab: &Lab) -> Value {
    serde_json::from_str(&ask(&lab.socket(), "status")).expect("the status is JSON")
}

#[test]
fn a_running_vigild_answers_on_its_control_socket() {
    let root = nix::unistd::geteuid().is_root();
    if !root || Command::new("ip").arg("-V").output().is_err() {
        eprintln!("skipped: needs root and iproute2");
        return;
    }
    let ns = format!("vigil-ctl-{}", std::process::id());
    if !Command::new("ip").args(["netns", "add", &ns]).status().is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot create a network namespace");
        return;
    }
    let dir = std::env::temp_dir().join(&ns);
    let mut lab = Lab { ns, dir, daemon: None };
    std::fs::create_dir_all(&lab.dir).expect("a work directory");
    assert!(lab.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"]));
    assert!(lab.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"]));
    assert!(lab.ip(&["link", "set", "eth0", "up"]) && lab.ip(&["link", "set", "eth0-peer", "up"]));
    let conf = lab.dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n state MASTER\n interface eth0\n \
         virtual_router_id 51\n priority 150\n advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    )
    .expect("the configuration");
    let log = std::fs::File::create(lab.dir.join("vigild.log")).expect("a log file");
    let daemon = Command::new("ip")
        .args(["netns", "exec", &lab.ns, env!("CARGO_BIN_EXE_vigild"), "-n", "-l", "-P", "-f"])
        .arg(&conf)
        .arg("--control-socket")
        .arg(lab.socket())
        .stdout(log.try_clone().expect("the log"))
        .stderr(log)
        .spawn()
        .expect("vigild starts");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(daemon.id()).expect("a pid"));
    lab.daemon = Some(daemon);
    wait_until("the control socket", || UnixStream::connect(lab.socket()).is_ok());
    wait_until("MASTER", || status(&lab)["vrrp"][0]["state"] == "MASTER");
    assert!(lab.has_vip());

    let schema: Value =
        serde_json::from_str(include_str!("../../../docs/status.schema.json")).expect("the schema parses");
    let doc = status(&lab);
    let mut out = Vec::new();
    violations(&schema, &doc, "$", &mut out);
    assert!(out.is_empty(), "{out:#?}\n{doc:#}");
    assert_eq!(doc["vrrp"][0]["vips"][0], "192.0.2.100");
    assert_eq!(doc["vrrp"][0]["master"], "192.0.2.1");
    assert!(doc["ipvs"].is_null(), "-P: no IPVS part");
    // keepalived #2339: vrrp_strict turns Accept_Mode off; said once at start and in the status.
    assert_eq!(doc["vrrp"][0]["accept_mode"], false);
    let log = std::fs::read_to_string(lab.dir.join("vigild.log")).expect("the log");
    assert_eq!(log.matches("Accept_Mode is off (vrrp_strict or no_accept)").count(), 1, "{log}");

    let metrics = ask(&lab.socket(), "metrics");
    assert!(metrics.lines().any(|l| l == "vigil_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 1"), "{metrics}");

    let sent = doc["vrrp"][0]["transitions"].clone();
    let reload: Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    assert_eq!(reload["vrrp"]["kept"][0], "VI_1", "{reload}");
    let after = status(&lab);
    assert_eq!(after["vrrp"][0]["transitions"], sent, "a reload of the same file changes no state");
    violations(&schema, &after, "$", &mut out);
    assert!(out.is_empty(), "{out:#?}");

    let stats = ask(&lab.socket(), "stats");
    assert!(stats.starts_with("VRRP Instance: VI_1\n  Advertisements:\n"), "{stats}");
    assert!(ask(&lab.socket(), "nonsense").starts_with("error: unknown command"));

    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}");
    assert!(!lab.has_vip(), "the VIP is gone after SIGTERM");
    assert!(!lab.socket().exists(), "the socket file is removed");
}
