//! A network namespace with a veth `eth0` (192.0.2.1/24) and a vigild running in it (VRRP
//! only), answering on a control socket in a work directory; all removed whatever happens.
//! Root only: `Lab::new` returns `None` (and the test skips) otherwise.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Lab {
    pub ns: String,
    /// The work directory, `_work`'s path.
    pub dir: PathBuf,
    pub daemon: Option<Child>,
    /// Owns the work directory. Fields drop after `drop` has stopped vigild, which writes its
    /// log, socket and state there until it ends, so the directory goes last, pass or fail.
    _work: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop();
        let _ = Command::new("ip").args(["netns", "delete", &self.ns]).status();
    }
}

impl Lab {
    /// The namespace `vigil-NAME-PID` with `eth0` up, or `None` without root or iproute2.
    pub fn new(name: &str) -> Option<Lab> {
        if !nix::unistd::geteuid().is_root() || Command::new("ip").arg("-V").output().is_err() {
            eprintln!("skipped: needs root and iproute2");
            return None;
        }
        let ns = format!("vigil-{name}-{}", std::process::id());
        // Made before the namespace: when it cannot be made, no namespace is left behind.
        let work = tempfile::Builder::new().prefix(&format!("{ns}-")).tempdir().expect("a work directory");
        if !Command::new("ip").args(["netns", "add", &ns]).status().is_ok_and(|s| s.success()) {
            eprintln!("skipped: cannot create a network namespace");
            return None;
        }
        let lab = Lab { ns, dir: work.path().to_path_buf(), daemon: None, _work: work };
        assert!(lab.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"]));
        assert!(lab.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"]));
        assert!(lab.ip(&["link", "set", "eth0", "up"]) && lab.ip(&["link", "set", "eth0-peer", "up"]));
        Some(lab)
    }

    /// `ip -n NS ARGS...` succeeded.
    pub fn ip(&self, args: &[&str]) -> bool {
        Command::new("ip").args(["-n", &self.ns]).args(args).status().map(|s| s.success()).unwrap_or(false)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("vigild.sock")
    }

    /// Writes `conf` as keepalived.conf and starts `vigild -n -l -P` on it; returns its pid
    /// once the control socket answers.
    pub fn start(&mut self, conf: &str) -> nix::unistd::Pid {
        self.start_with(conf, &["-P"])
    }

    /// Starts vigild on `conf` with `args` besides the lab's own; its state directory
    /// (maintenance, drains) is the work directory. The log is appended to.
    pub fn start_with(&mut self, conf: &str, args: &[&str]) -> nix::unistd::Pid {
        let path = self.dir.join("keepalived.conf");
        std::fs::write(&path, conf).expect("the configuration");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("vigild.log"))
            .expect("a log file");
        let daemon = Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_vigild"), "-n", "-l"])
            .args(args)
            .arg("-f")
            .arg(&path)
            .arg("--control-socket")
            .arg(self.socket())
            .env("VIGIL_STATE_DIR", &self.dir)
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("vigild starts");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(daemon.id()).expect("a pid"));
        self.daemon = Some(daemon);
        wait_until("the control socket", || UnixStream::connect(self.socket()).is_ok());
        pid
    }

    /// `eth0` carries the VIP 192.0.2.100.
    /// Stops vigild with SIGTERM, so that it removes what it added; SIGKILL only if it has
    /// not ended after 10 s.
    pub fn stop(&mut self) {
        self.stop_with(nix::sys::signal::Signal::SIGTERM);
    }

    /// Sends `signal` to vigild and waits for it to end (SIGKILL after 10 s).
    pub fn stop_with(&mut self, signal: nix::sys::signal::Signal) {
        let Some(mut d) = self.daemon.take() else { return };
        if let Ok(pid) = i32::try_from(d.id()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(d.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = d.kill();
        let _ = d.wait();
    }

    pub fn has_vip(&self) -> bool {
        let out = Command::new("ip").args(["-n", &self.ns, "-o", "addr", "show", "dev", "eth0"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).contains(" 192.0.2.100/")).unwrap_or(false)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("vigild.log")).unwrap_or_default()
    }

    pub fn status(&self) -> Value {
        serde_json::from_str(&ask(&self.socket(), "status")).expect("the status is JSON")
    }
}

/// Sends `command` on the control socket and reads the whole answer.
pub fn ask(socket: &Path, command: &str) -> String {
    let mut stream = UnixStream::connect(socket).expect("the control socket answers");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    stream.write_all(format!("{command}\n").as_bytes()).expect("the command is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    answer
}

/// Polls `ok` every 50 ms for up to 15 s.
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
