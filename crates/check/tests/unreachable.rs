//! Checker deadlines (keepalived #1822, #765): a real server behind a router that answers
//! "host unreachable" must fail its check when the ICMP error arrives, not after
//! connect_timeout, and be reported as unreachable rather than as a timeout.
//!
//! Two network namespaces made by the test (root only, skipped otherwise): the director, whose
//! default route goes to the router, and the router, whose `unreachable` route for
//! 198.51.100.0/24 makes it answer every forwarded packet there with ICMP host unreachable.
//! The probes run on a thread inside the director's namespace; nothing leaves them.

mod common;

use std::fs::File;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::check_of;
use nix::sched::{setns, CloneFlags};
use vigil_check::probes::{probe, ProbeContext};
use vigil_check::verdict::{Failure, ProbeResult};

/// The two namespaces; deleted whatever happens.
struct Lab {
    director: String,
    router: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.director, &self.router] {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).status().is_ok_and(|s| s.success())
}

impl Lab {
    fn new() -> Option<Lab> {
        if !nix::unistd::geteuid().is_root() || !ip(&["-V"]) {
            eprintln!("skipped: needs root and iproute2");
            return None;
        }
        let id = std::process::id();
        let lab = Lab { director: format!("vigil-unr-d-{id}"), router: format!("vigil-unr-r-{id}") };
        for ns in [&lab.director, &lab.router] {
            if !ip(&["netns", "add", ns]) {
                eprintln!("skipped: cannot create a network namespace");
                return None;
            }
        }
        let (d, r) = (lab.director.as_str(), lab.router.as_str());
        assert!(ip(&["-n", d, "link", "add", "d0", "type", "veth", "peer", "name", "r0", "netns", r]));
        for (ns, dev, addr) in [(d, "d0", "10.99.0.1/24"), (r, "r0", "10.99.0.2/24")] {
            assert!(ip(&["-n", ns, "addr", "add", addr, "dev", dev]));
            assert!(ip(&["-n", ns, "link", "set", dev, "up"]));
            assert!(ip(&["-n", ns, "link", "set", "lo", "up"]));
        }
        assert!(ip(&["-n", d, "route", "add", "default", "via", "10.99.0.2"]));
        // The router's "unreachable" errors to one source are rate-limited (a burst of five,
        // then one a second): each probe comes from an address of its own (`bindto`).
        for i in 10..20 {
            assert!(ip(&["-n", d, "addr", "add", &format!("10.99.0.{i}/24"), "dev", "d0"]));
        }
        assert!(Command::new("ip")
            .args(["netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
            .status()
            .is_ok_and(|s| s.success()));
        assert!(ip(&["-n", r, "route", "add", "unreachable", "198.51.100.0/24"]));
        Some(lab)
    }

    /// Runs one probe from inside the director's namespace; its result and how long it took.
    fn probe_from_director(&self, target: SocketAddr, checker: &str) -> (ProbeResult, Duration) {
        let path = format!("/run/netns/{}", self.director);
        let check = check_of(target, checker);
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let netns = File::open(&path).expect("open the namespace");
                    setns(&netns, CloneFlags::CLONE_NEWNET).expect("enter the namespace");
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    rt.block_on(async {
                        let started = tokio::time::Instant::now();
                        let result = probe(&check, &ProbeContext::new("tester".into(), 42)).await;
                        (result, started.elapsed())
                    })
                })
                .join()
                .expect("the probe thread")
        })
    }
}

#[test]
fn an_icmp_host_unreachable_fails_the_check_at_once() {
    let Some(lab) = Lab::new() else { return };
    let target: SocketAddr = "198.51.100.7:80".parse().expect("literal");
    let checkers = [
        "TCP_CHECK",
        "HTTP_GET {\n url {\n path /\n }",
        "SSL_GET {\n url {\n path /\n }",
        "SMTP_CHECK",
        "DNS_CHECK {\n name example.org",
        "UDP_CHECK {\n payload 68656c6c6f\n require_reply",
        "PING_CHECK",
    ];
    for (i, head) in checkers.into_iter().enumerate() {
        let open = if head.contains('{') { "" } else { " {" };
        let checker = format!("{head}{open}\n bindto 10.99.0.{}\n connect_timeout 5\n }}", 10 + i);
        let checker = checker.as_str();
        let (result, took) = lab.probe_from_director(target, checker);
        let kind = checker.split_whitespace().next().unwrap_or_default();
        // Unreachable, not ConnectTimeout: the probe ended on the ICMP error, well before the
        // five seconds of connect_timeout.
        assert!(matches!(result, Err(Failure::Unreachable(_))), "{kind}: {result:?} after {took:?}");
        eprintln!("{kind}: {result:?} after {took:?} (connect_timeout 5 s)");
    }
}
