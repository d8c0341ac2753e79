//! `vigilctl realserver` in network namespaces of its own (root only; skipped otherwise):
//! start, start again, stop and start again leave exactly the intended state, and stop puts
//! back only what start changed (an address or sysctl that was already there stays), in DR
//! and in TUN mode.

use std::process::{Command, Output};

/// A namespace that is deleted (with its record under /run/vigil) whatever happens.
struct Netns {
    name: String,
}

impl Netns {
    /// A new namespace named after `test`, so that tests running at once do not share one.
    fn new(test: &str) -> Option<Netns> {
        let name = format!("vigil-rs-{test}-{}", std::process::id());
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

    fn set_sysctl(&self, path: &str, value: &str) {
        let out = self.run(&["sh", "-c", &format!("echo {value} >/proc/sys/{path}")]);
        assert!(out.status.success(), "setting {path}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn ip(&self, args: &[&str]) -> bool {
        let mut full = vec!["ip"];
        full.extend_from_slice(args);
        self.run(&full).status.success()
    }

    /// The addresses on `dev` other than the loopback and link-local ones.
    fn addresses(&self, dev: &str) -> Vec<String> {
        let out = self.run(&["ip", "-o", "addr", "show", "dev", dev]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
            .filter(|a| !a.starts_with("127.") && a != "::1/128" && !a.starts_with("fe80:"))
            .collect()
    }

    /// Whether `dev` is administratively up.
    fn is_up(&self, dev: &str) -> bool {
        let out = self.run(&["ip", "-o", "link", "show", "dev", dev]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.split(['<', '>']).nth(1).is_some_and(|flags| flags.split(',').any(|f| f == "UP"))
    }

    /// Makes sure the namespace has a `tunl0`, as the ipip module creates it; says how, or why
    /// there is none.
    fn tunl0(&self) -> Result<&'static str, String> {
        self.run(&["modprobe", "ipip"]);
        if self.ip(&["link", "show", "dev", "tunl0"]) {
            return Ok("the ipip module's tunl0");
        }
        // Without ipip, a veth under that name: vigilctl finds interfaces by name and does the
        // same with it (sysctls, link state, addresses, record); only the module loading is
        // not exercised. Its peer is up so that tunl0 is running once vigilctl brings it up.
        let veth = self.ip(&["link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0-peer"])
            && self.ip(&["link", "set", "tunl0-peer", "up"]);
        if veth {
            Ok("a veth stand-in (this kernel has no ipip)")
        } else {
            Err("this kernel has no ipip module and no veth to stand in for tunl0".into())
        }
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
    let Some(ns) = Netns::new("dr") else {
        eprintln!("skipped: needs root to create a network namespace");
        return;
    };
    // Already there before start: must survive stop.
    ns.run(&["ip", "addr", "add", "192.0.2.200/32", "dev", "lo"]);
    ns.set_sysctl("net/ipv4/conf/lo/arp_announce", "2");

    let (ok, text) = ns.vigilctl(&["status", "--vip", "192.0.2.100"]);
    assert!(!ok && text.contains("not ready"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok, "{text}");
    assert!(text.contains("net.ipv4.conf.all.arp_ignore 0 -> 1"), "{text}");
    assert!(!text.contains("lo.arp_announce"), "it was set already: {text}");
    assert!(text.contains("added 192.0.2.100/32 to lo") && !text.contains("added 192.0.2.200"), "{text}");
    let (ok, again) = ns.vigilctl(&["start", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok && again.contains("nothing changed"), "{again}");
    assert_eq!(ns.addresses("lo"), ["192.0.2.200/32", "192.0.2.100/32"]);
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
    assert_eq!(ns.addresses("lo"), ["192.0.2.200/32"], "stop removes only what start added");
    assert_eq!(ns.sysctl("net/ipv4/conf/all/arp_ignore"), "0");
    assert_eq!(ns.sysctl("net/ipv4/conf/lo/arp_announce"), "2", "stop restores only what start changed");
    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok && text.contains("nothing to undo"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("added 192.0.2.100/32 to lo"), "{text}");
    let (ok, text) = ns.vigilctl(&["stop", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("removed 192.0.2.100/32") && text.contains("back to 0"), "{text}");
}

/// The sysctls TUN mode sets, and their values once it has.
const TUN_SYSCTLS: [(&str, &str); 6] = [
    ("net/ipv4/conf/all/arp_ignore", "1"),
    ("net/ipv4/conf/all/arp_announce", "2"),
    ("net/ipv4/conf/tunl0/arp_ignore", "1"),
    ("net/ipv4/conf/tunl0/arp_announce", "2"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/tunl0/rp_filter", "0"),
];

#[test]
fn tun_mode_start_stop_start_in_a_namespace() {
    let Some(ns) = Netns::new("tun") else {
        eprintln!("skipped: needs root to create a network namespace");
        return;
    };
    let how = match ns.tunl0() {
        Ok(how) => how,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    eprintln!("tunl0 is {how}");
    // Already so before start: must survive stop. Strict reverse-path filtering, as some
    // distributions set it, must come back.
    assert!(ns.ip(&["addr", "add", "192.0.2.200/32", "dev", "tunl0"]));
    ns.set_sysctl("net/ipv4/conf/tunl0/arp_announce", "2");
    ns.set_sysctl("net/ipv4/conf/all/rp_filter", "1");
    ns.set_sysctl("net/ipv4/conf/tunl0/rp_filter", "1");
    let before: Vec<String> = TUN_SYSCTLS.iter().map(|(path, _)| ns.sysctl(path)).collect();

    let (ok, text) = ns.vigilctl(&["status", "--mode", "tun", "--vip", "192.0.2.100"]);
    assert!(!ok && text.contains("tunl0                    DOWN") && text.contains("not ready"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--mode", "tun", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok, "{text}");
    assert!(text.contains("net.ipv4.conf.all.rp_filter 1 -> 0"), "{text}");
    assert!(text.contains("net.ipv4.conf.tunl0.rp_filter 1 -> 0"), "{text}");
    assert!(text.contains("net.ipv4.conf.tunl0.arp_ignore 0 -> 1"), "{text}");
    assert!(!text.contains("tunl0.arp_announce"), "it was set already: {text}");
    assert!(text.contains("brought tunl0 up"), "{text}");
    assert!(text.contains("added 192.0.2.100/32 to tunl0") && !text.contains("added 192.0.2.200"), "{text}");
    let (ok, again) = ns.vigilctl(&["start", "--mode", "tun", "--vip", "192.0.2.100,192.0.2.200"]);
    assert!(ok && again.contains("already a TUN real server for these VIPs: nothing changed"), "{again}");
    assert_eq!(ns.addresses("tunl0"), ["192.0.2.200/32", "192.0.2.100/32"]);
    assert!(ns.addresses("lo").is_empty(), "TUN mode leaves lo alone");
    assert!(ns.is_up("tunl0"));
    for (path, want) in TUN_SYSCTLS {
        assert_eq!(ns.sysctl(path), want, "{path}");
    }
    let (ok, text) = ns.vigilctl(&["status", "--mode", "tun"]);
    assert!(ok && text.contains("VIP 192.0.2.100") && text.contains("ready to be an LVS-TUN real server"), "{text}");
    let (ok, text) = ns.vigilctl(&["status"]);
    assert!(!ok && text.contains("the VIPs recorded are for the other --mode"), "{text}");

    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok && text.contains("took tunl0 down again"), "{text}");
    assert_eq!(ns.addresses("tunl0"), ["192.0.2.200/32"], "stop removes only what start added");
    assert!(!ns.is_up("tunl0"), "stop takes tunl0 down: it was down before start");
    let after: Vec<String> = TUN_SYSCTLS.iter().map(|(path, _)| ns.sysctl(path)).collect();
    assert_eq!(after, before, "stop puts every sysctl back, and leaves alone those start did not change");
    assert_eq!(ns.sysctl("net/ipv4/conf/all/rp_filter"), "1");
    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok && text.contains("nothing to undo"), "{text}");

    let (ok, text) = ns.vigilctl(&["start", "--mode", "tun", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("added 192.0.2.100/32 to tunl0"), "{text}");
    let (ok, text) = ns.vigilctl(&["stop", "--mode", "tun", "--vip", "192.0.2.100"]);
    assert!(ok && text.contains("removed 192.0.2.100/32 from tunl0"), "{text}");
    assert!(text.contains("net.ipv4.conf.tunl0.rp_filter back to 1"), "{text}");
    assert!(!ns.is_up("tunl0"));
}

#[test]
fn tun_mode_without_tunl0_says_so_and_changes_nothing() {
    let Some(ns) = Netns::new("notun") else {
        eprintln!("skipped: needs root to create a network namespace");
        return;
    };
    ns.run(&["modprobe", "ipip"]);
    if ns.ip(&["link", "show", "dev", "tunl0"]) {
        eprintln!("skipped: this kernel has ipip, so tunl0 is never missing");
        return;
    }
    let (ok, text) = ns.vigilctl(&["start", "--mode", "tun", "--vip", "192.0.2.100"]);
    assert!(!ok && text.contains("tunl0 does not exist") && text.contains("ipip module"), "{text}");
    assert_eq!(ns.sysctl("net/ipv4/conf/all/arp_ignore"), "0", "nothing changes when tunl0 is missing");
    let (ok, text) = ns.vigilctl(&["stop"]);
    assert!(ok && text.contains("nothing to undo"), "{text}");
    let (ok, text) = ns.vigilctl(&["status", "--mode", "tun", "--vip", "192.0.2.100"]);
    assert!(!ok && text.contains("MISSING (needs the ipip module)"), "{text}");
}
