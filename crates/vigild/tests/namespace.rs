//! `net_namespace` (root only; skipped otherwise): vigild started in one network namespace
//! runs in the one its configuration names, as keepalived does, and `-s` overrides it.

mod support;

use std::process::Command;

use support::lab::{wait_until, Lab};

/// A second namespace with its own `eth0`, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(name: &str) -> Netns {
        let ns = format!("vigil-{name}-{}", std::process::id());
        let ip = |args: &[&str]| Command::new("ip").args(["-n", &ns]).args(args).status().is_ok_and(|s| s.success());
        assert!(Command::new("ip").args(["netns", "add", &ns]).status().is_ok_and(|s| s.success()));
        assert!(ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"]));
        assert!(ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]));
        assert!(ip(&["link", "set", "eth0", "up"]) && ip(&["link", "set", "eth0-peer", "up"]));
        Netns(ns)
    }

    fn has_vip(&self) -> bool {
        let out = Command::new("ip").args(["-n", &self.0, "-o", "addr", "show", "dev", "eth0"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).contains(" 192.0.2.100/")).unwrap_or(false)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.0]).status();
    }
}

const INSTANCE: &str = "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n \
                        priority 150\n advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n";

#[test]
fn vigild_runs_in_the_configured_namespace_and_s_overrides_it() {
    let Some(mut lab) = Lab::new("nsfrom") else { return };
    let (target, other) = (Netns::new("nsto"), Netns::new("nsalt"));
    lab.start_with(&format!("net_namespace {}\n{INSTANCE}", target.0), &["-P"]);
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    wait_until("the VIP in the configured namespace", || target.has_vip());
    assert!(!lab.has_vip(), "nothing in the namespace vigild was started in");
    assert!(lab.log().contains(&format!("Running in network namespace {}", target.0)), "{}", lab.log());

    lab.stop();
    assert!(!target.has_vip(), "removed at stop");
    lab.start_with(&format!("net_namespace {}\n{INSTANCE}", target.0), &["-P", "-s", &other.0]);
    wait_until("the VIP in the -s namespace", || other.has_vip());
    assert!(!target.has_vip() && !lab.has_vip());
    assert!(lab.log().contains("Overriding config net_namespace"), "{}", lab.log());
}
