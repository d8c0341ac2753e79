//! `vigilctl realserver` in a network namespace of its own (root only; skipped otherwise):
//! start, start again, stop and start again leave exactly the intended state, and stop puts
//! back only what start changed (an address or sysctl that was already there stays).

use std::process::{Command, Output};

/// A namespace that is deleted (with its record under /run/vigil) whatever happens.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Option<Netns> {
        let name = format!("vigil-rs-test-{}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().map(|s| s.success()).unwrap_or(false);
        ok.then_some(Netns { name })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("ip").args(["netns", "exec", &self.name]).args(args).output().expect("ip netns exec runs")
    }

    fn vigilctl(&self, args: &[&str]) -> (bool, String) {
        let mut full = vec![env!("CARGO_BIN_EXE_vigilctl"), "realserver"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    fn sysctl(&self, path: &str) -> String {
        let out = self.run(&["cat", &format!("/proc/sys/{path}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn lo_addresses(&self) -> Vec<String> {
        let out = self.run(&["ip", "-o", "addr", "show", "dev", "lo"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
            .filter(|a| !a.starts_with("127.") && a != "::1/128")
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let ns = self.run(&["readlink", "/proc/self/ns/net"]);
        let id: String = String::from_utf8_lossy(&ns.stdout).chars().filter(char::is_ascii_digit).collect();
        let _ = std::fs::remove_file(format!("/run/vigil/realserver-net{id}.state"));
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

#[test]
fn start_stop_start_in_a_namespace() {
    let Some(ns) = Netns::new() else {
        eprintln!("skipped: needs root to create a network namespace");
        return;
    };
    // Already there before start: must survive stop.
    ns.run(&["ip", "addr", "add", "192.0.2.200/32", "dev", "lo"]);
    ns.run(&["sh", "-c", "echo 2 >/proc/sys/net/ipv4/conf/lo/arp_announce"]);

    let (ok, text) = ns.vigilctl(&["status", "--vip", "192.0.2.100"]);
    assert!(!ok && text.contains("not ready"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok, "{text}");
    assert!(text.contains("net.ipv4.conf.all.arp_ignore 0 -> 1"), "{text}");
    assert!(!text.contains("lo.arp_announce"), "it was set already: {text}");
    assert!(text.contains("added 192.0.2.100/32 to lo") && !text.contains("added 192.0.2.200"), "{text}");
    let (ok, again) = ns.vigilctl(&["start", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok && again.contains("nothing changed"), "{again}");
    assert_eq!(ns.lo_addresses(), ["192.0.2.200/32", "192.0.2.100/32"]);
    let (ok, text) = ns.vigilctl(&["status"]);
    assert!(ok && text.contains("ready to be an LVS-DR real server"), "{text}");
    for (path, want) in [
        ("net/ipv4/conf/all/arp_ignore", "1"),
        ("net/ipv4/conf/all/arp_announce", "2"),
        ("net/ipv4/conf/lo/arp_ignore", "1"),
        ("net/ipv4/conf/lo/arp_announce", "2"),
    ] {
        assert_eq!(ns.sysctl(path), want, "{path}");
    }

    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok, "{text}");
    assert_eq!(ns.lo_addresses(), ["192.0.2.200/32"], "stop removes only what start added");
    assert_eq!(ns.sysctl("net/ipv4/conf/all/arp_ignore"), "0");
    assert_eq!(ns.sysctl("net/ipv4/conf/lo/arp_announce"), "2", "stop restores only what start changed");
    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok && text.contains("nothing to undo"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("added 192.0.2.100/32 to lo"), "{text}");
    let (ok, text) = ns.vigilctl(&["stop", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("removed 192.0.2.100/32") && text.contains("back to 0"), "{text}");
}
