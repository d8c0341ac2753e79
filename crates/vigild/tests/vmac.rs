//! `use_vmac` and `vmac_xmit_base` in a running vigild (root only, in a network namespace of its
//! own; skipped otherwise): the macvlan is created on `eth0` in private mode with the virtual
//! router MAC, the VIP goes on it while MASTER, adverts leave with the virtual router MAC as
//! their source (or `eth0`'s with `vmac_xmit_base`), `eth0` gets `arp_ignore` and `arp_filter`
//! while the vmac lives, and SIGTERM removes the vmac and puts `eth0`'s settings back. A matching
//! macvlan left from an earlier run is used as it is, whatever its name. A strict
//! `net.ipv4.conf.all.rp_filter` is lowered to 0 (the interfaces raised first) and put back.

mod support;

use std::process::{Child, Command, Stdio};

use support::lab::{ask, wait_until, Lab};

/// `eth0`'s own MAC in these tests.
const ETH0_MAC: &str = "02:00:00:00:00:0a";

/// tcpdump on `eth0-peer`, the far end of `eth0`, printing link-level headers of VRRP (both
/// families) and ARP to a file; stopped with SIGTERM when dropped.
struct Capture {
    child: Child,
    out: std::path::PathBuf,
}

impl Capture {
    fn start(lab: &Lab) -> Capture {
        let out = lab.dir.join("capture.txt");
        let err = lab.dir.join("capture.err");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns,
                "tcpdump",
                "-i",
                "eth0-peer",
                "-e",
                "-n",
                "-l",
                "-U",
                "vrrp or arp or (ip6 and ip6 proto 112)",
            ])
            .stdout(std::fs::File::create(&out).expect("the capture file"))
            .stderr(std::fs::File::create(&err).expect("tcpdump's messages"))
            .stdin(Stdio::null())
            .spawn()
            .expect("tcpdump starts");
        wait_until("tcpdump listening", || std::fs::read_to_string(&err).unwrap_or_default().contains("listening on"));
        Capture { child, out }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// The output of `ip -n NS ARGS...`.
fn ip_out(lab: &Lab, args: &[&str]) -> String {
    let out = Command::new("ip").args(["-n", &lab.ns]).args(args).output().expect("ip runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `net.ipv4.conf.IF.NAME` inside the namespace.
fn sysctl(lab: &Lab, interface: &str, name: &str) -> String {
    let path = format!("/proc/sys/net/ipv4/conf/{interface}/{name}");
    let out = Command::new("ip").args(["netns", "exec", &lab.ns, "cat", &path]).output().expect("cat runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn has_link(lab: &Lab, name: &str) -> bool {
    lab.ip(&["link", "show", "dev", name])
}

fn config(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n {extra}\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n"
    )
}

/// The lab with `eth0` given [`ETH0_MAC`], and the tcpdump on its far end.
fn lab(name: &str) -> Option<(Lab, Capture)> {
    if !Command::new("tcpdump").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: needs tcpdump");
        return None;
    }
    let lab = Lab::new(name)?;
    assert!(lab.ip(&["link", "set", "eth0", "address", ETH0_MAC]));
    let capture = Capture::start(&lab);
    Some((lab, capture))
}

/// Stops vigild with SIGTERM and checks that it ended well.
fn stop(lab: &mut Lab, pid: nix::unistd::Pid) {
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}\n{}", lab.log());
}

#[test]
fn use_vmac_creates_a_private_macvlan_with_the_virtual_mac_and_removes_it() {
    let Some((mut lab, capture)) = lab("vmac") else { return };
    assert_eq!(sysctl(&lab, "eth0", "arp_ignore"), "0");
    let pid = lab.start(&config("use_vmac"));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");

    let link = ip_out(&lab, &["-d", "link", "show", "dev", "vrrp.51"]);
    assert!(link.contains("vrrp.51@eth0"), "{link}");
    assert!(link.contains("link/ether 00:00:5e:00:01:33"), "{link}");
    assert!(link.contains("macvlan mode private"), "{link}");
    assert!(link.contains(",UP,") || link.contains("<UP,") || link.contains(",UP>"), "{link}");
    assert!(link.contains("addrgenmode none"), "{link}");
    assert!(ip_out(&lab, &["-o", "addr", "show", "dev", "vrrp.51"]).contains(" 192.0.2.100/24 "));
    assert!(!lab.has_vip(), "the VIP is on the vmac, not on eth0");
    for (name, want) in [("arp_ignore", "1"), ("accept_local", "1"), ("rp_filter", "0"), ("promote_secondaries", "1")] {
        assert_eq!(sysctl(&lab, "vrrp.51", name), want, "vrrp.51 {name}");
    }
    assert_eq!((sysctl(&lab, "eth0", "arp_ignore"), sysctl(&lab, "eth0", "arp_filter")), ("1".into(), "1".into()));

    wait_until("an advert from the virtual router MAC", || {
        capture.text().lines().any(|l| l.contains("00:00:5e:00:01:33 > 01:00:5e:00:00:12") && l.contains("vrid 51"))
    });
    wait_until("a gratuitous ARP from the virtual router MAC", || {
        capture
            .text()
            .lines()
            .any(|l| sent_by(l, "00:00:5e:00:01:33") && l.contains("ARP") && l.contains("192.0.2.100"))
    });
    assert!(
        !capture.text().lines().any(|l| l.contains("vrid 51") && sent_by(l, ETH0_MAC)),
        "no advert leaves with eth0's MAC:\n{}",
        capture.text()
    );
    assert!(lab.log().contains("(VI_1): Success creating VMAC interface vrrp.51"), "{}", lab.log());

    // A reload of the same file keeps the instance on the same vmac.
    let before = ip_out(&lab, &["-o", "link", "show", "dev", "vrrp.51"]);
    let reload: serde_json::Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    assert_eq!(reload["vrrp"]["kept"][0], "VI_1", "{reload}");
    assert_eq!(ip_out(&lab, &["-o", "link", "show", "dev", "vrrp.51"]), before, "the same interface");
    assert_eq!(lab.status()["vrrp"][0]["state"], "MASTER");

    stop(&mut lab, pid);
    assert!(!has_link(&lab, "vrrp.51"), "the vmac is gone");
    assert_eq!((sysctl(&lab, "eth0", "arp_ignore"), sysctl(&lab, "eth0", "arp_filter")), ("0".into(), "0".into()));
    assert!(lab.log().contains("(VI_1) Success removing VMAC interface vrrp.51"), "{}", lab.log());
}

#[test]
fn vmac_xmit_base_sends_adverts_from_the_parent() {
    let Some((mut lab, capture)) = lab("vmacxb") else { return };
    let pid = lab.start(&config("use_vmac vmac51\n vmac_xmit_base"));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(ip_out(&lab, &["-d", "link", "show", "dev", "vmac51"]).contains("link/ether 00:00:5e:00:01:33"));
    assert!(ip_out(&lab, &["-o", "addr", "show", "dev", "vmac51"]).contains(" 192.0.2.100/24 "));

    wait_until("an advert from eth0's MAC", || {
        capture.text().lines().any(|l| sent_by(l, ETH0_MAC) && l.contains("vrid 51"))
    });
    assert!(
        !capture.text().lines().any(|l| l.contains("vrid 51") && sent_by(l, "00:00:5e:00:01:33")),
        "no advert leaves with the virtual router MAC:\n{}",
        capture.text()
    );
    stop(&mut lab, pid);
    assert!(!has_link(&lab, "vmac51"), "the vmac is gone");
}

#[test]
fn a_matching_macvlan_is_reused_whatever_its_name() {
    let Some((mut lab, _capture)) = lab("vmacold") else { return };
    assert!(lab.ip(&[
        "link",
        "add",
        "link",
        "eth0",
        "name",
        "old.51",
        "address",
        "00:00:5e:00:01:33",
        "type",
        "macvlan",
        "mode",
        "private",
    ]));
    let pid = lab.start(&config("use_vmac"));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(lab.log().contains("(VI_1) Found matching interface old.51"), "{}", lab.log());
    assert!(!has_link(&lab, "vrrp.51"), "no second vmac");
    assert!(ip_out(&lab, &["-o", "addr", "show", "dev", "old.51"]).contains(" 192.0.2.100/24 "));
    stop(&mut lab, pid);
    assert!(!has_link(&lab, "old.51"), "keepalived removes the vmac it used, found or made");
}

/// An IPv6 instance: the IPv6 virtual router MAC, eth0's link-local address lent to the vmac,
/// adverts from the vmac to ff02::12.
#[test]
fn an_ipv6_vmac_sends_from_the_parents_link_local_address() {
    let Some((mut lab, capture)) = lab("vmac6") else { return };
    // Once duplicate address detection is over, eth0's link-local address is what the vmac
    // borrows (before, the one eth0's MAC makes would be).
    wait_until("eth0's link-local address usable", || {
        let out = ip_out(&lab, &["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]);
        out.contains("fe80:") && !out.contains("tentative")
    });
    let pid = lab.start(
        "vrrp_instance VI_6 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n use_vmac\n virtual_ipaddress {\n  2001:db8::100/64\n }\n}\n",
    );
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(ip_out(&lab, &["-d", "link", "show", "dev", "vrrp.51"]).contains("link/ether 00:00:5e:00:02:33"));
    let parent = ip_out(&lab, &["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]);
    let link_local = parent.split_whitespace().nth(3).expect("eth0's link-local address").to_string();
    let vmac = ip_out(&lab, &["-6", "-o", "addr", "show", "dev", "vrrp.51"]);
    assert!(vmac.contains(&format!(" {link_local} ")), "{link_local} on vrrp.51:\n{vmac}");
    assert!(vmac.contains(" 2001:db8::100/64 "), "{vmac}");
    assert_eq!(vmac.matches(" fe80:").count(), 1, "no link-local address of its own:\n{vmac}");
    wait_until("an advert from the IPv6 virtual router MAC", || {
        capture
            .text()
            .lines()
            .any(|l| sent_by(l, "00:00:5e:00:02:33") && l.contains("ff02::12") && l.contains("VRRPv3"))
    });
    stop(&mut lab, pid);
    assert!(!has_link(&lab, "vrrp.51"), "the vmac is gone");
}

#[test]
fn strict_rp_filter_is_lowered_for_the_vmac_and_put_back() {
    let Some((mut lab, _capture)) = lab("vmacrpf") else { return };
    let set = |name: &str, value: &str| {
        let key = format!("net.ipv4.conf.{name}.rp_filter={value}");
        let ok = Command::new("ip").args(["netns", "exec", &lab.ns, "sysctl", "-qw", &key]).status();
        assert!(ok.is_ok_and(|s| s.success()), "{key}");
    };
    set("all", "1");
    set("default", "1");
    set("eth0", "0");
    let pid = lab.start(&config("use_vmac"));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    let now = |lab: &Lab, name: &str| sysctl(lab, name, "rp_filter");
    let values = (now(&lab, "all"), now(&lab, "default"), now(&lab, "eth0"), now(&lab, "vrrp.51"));
    assert_eq!(values, ("0".into(), "1".into(), "1".into(), "0".into()), "all, default, eth0, vrrp.51");
    assert!(lab.log().contains("NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from 1 to 0"), "{}", lab.log());
    stop(&mut lab, pid);
    let values = (now(&lab, "all"), now(&lab, "default"), now(&lab, "eth0"));
    assert_eq!(values, ("1".into(), "1".into(), "0".into()), "all, default, eth0 after the stop");
    assert!(lab.log().contains("NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to 1"), "{}", lab.log());
}

/// Writes `conf` as the lab's configuration and reloads vigild on it: the outcome.
fn reload(lab: &Lab, conf: &str) -> serde_json::Value {
    std::fs::write(lab.dir.join("keepalived.conf"), conf).expect("the configuration");
    let reload: serde_json::Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    reload
}

/// An instance that keeps running keeps its vmac in a reload, even when a new instance earlier
/// in the file names it: the new one takes another name.
#[test]
fn a_reload_leaves_the_vmac_of_a_kept_instance_to_it() {
    let Some((mut lab, _capture)) = lab("vmackeep") else { return };
    let kept = config("use_vmac");
    let pid = lab.start(&kept);
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    let before = ip_out(&lab, &["-o", "link", "show", "dev", "vrrp.51"]);
    assert!(before.contains("00:00:5e:00:01:33"), "{before}");

    let first = "vrrp_instance VI_0 {\n state BACKUP\n interface eth0\n virtual_router_id 52\n priority 100\n \
                 advert_int 1\n use_vmac vrrp.51\n virtual_ipaddress {\n  192.0.2.101/24\n }\n}\n";
    let outcome = reload(&lab, &format!("{first}{kept}"));
    assert_eq!(outcome["vrrp"]["kept"][0], "VI_1", "{outcome}");
    assert_eq!(ip_out(&lab, &["-o", "link", "show", "dev", "vrrp.51"]), before, "VI_1's vmac is left as it was");
    wait_until("VI_0 on a vmac of its own", || {
        ip_out(&lab, &["-o", "link", "show", "dev", "vrrp.52"]).contains("00:00:5e:00:01:34")
    });

    stop(&mut lab, pid);
    assert!(!has_link(&lab, "vrrp.51") && !has_link(&lab, "vrrp.52"), "both vmacs are gone");
    assert!(!lab.log().contains("Error removing VMAC"), "{}", lab.log());
}

/// A vmac renamed in the configuration is replaced: the old one goes, the new one comes.
#[test]
fn a_reload_that_renames_the_vmac_replaces_it() {
    let Some((mut lab, _capture)) = lab("vmacren") else { return };
    let pid = lab.start(&config("use_vmac"));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(has_link(&lab, "vrrp.51"));

    let outcome = reload(&lab, &config("use_vmac vmacnew"));
    assert_eq!(outcome["vrrp"]["restarted"][0], "VI_1", "{outcome}");
    wait_until("the renamed vmac", || has_link(&lab, "vmacnew"));
    assert!(!has_link(&lab, "vrrp.51"), "the old vmac is gone");
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(ip_out(&lab, &["-o", "addr", "show", "dev", "vmacnew"]).contains(" 192.0.2.100/24 "));
    stop(&mut lab, pid);
    assert!(!has_link(&lab, "vmacnew"), "the vmac is gone");
}

/// Whether tcpdump `-e` printed `line` for a frame from `mac`: "HH:MM:SS.micros SRC > DST, ...".
fn sent_by(line: &str, mac: &str) -> bool {
    line.split_whitespace().nth(1) == Some(mac)
}
