//! What a reload does to an instance, from configuration text written as admins write it:
//! golden cases (one per row of docs/status.md's reload table and per VIP syntax) and a
//! generated test of seeded random edits run on the state machine's virtual clock.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use fastrand::Rng;
use serde::Deserialize;
use vigil_vrrp::fsm::{self, Action, Input, State};
use vigil_vrrp::io::Link;
use vigil_vrrp::plan::Address;
use vigil_vrrp::router::reload::{decide, InPlace, Reconfigure, Restart};

use super::{plan, Plan};

fn link(name: &str) -> Link {
    Link {
        ifindex: 2,
        name: name.into(),
        mac: None,
        up: true,
        primary_ipv4: Some(Ipv4Addr::new(10, 99, 7, 1)),
        link_local_ipv6: Some(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
    }
}

/// The configuration of instance VI_1 with `lines` in its block, `vips` in its
/// virtual_ipaddress and `top` before it.
fn text(top: &[String], lines: &[String], vips: &[String]) -> String {
    format!(
        "{}\nvrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 100\n{}\n    virtual_ipaddress {{\n{}\n    }}\n}}\nvrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 52\n    priority 100\n    virtual_ipaddress {{\n        10.99.8.100\n    }}\n}}\n",
        top.join("\n"),
        lines.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"),
        vips.iter().map(|v| format!("        {v}")).collect::<Vec<_>>().join("\n"),
    )
}

/// VI_1's plan from `text`, as the daemon resolves it.
fn resolve(text: &str) -> Plan {
    let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == vigil_config::diag::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{text}\n{errors:?}");
    let config = parsed.config;
    let i = config.instances.iter().find(|i| i.name == "VI_1").expect("VI_1 is in every text");
    let group = config.sync_groups.iter().find(|g| g.members.iter().any(|(m, _)| m == "VI_1"));
    let interface = i.interface.as_ref().map_or("eth0", |(name, _)| name.as_str());
    plan(&config.global, i, &link(interface), group, &config.bfd_instances, None).expect("every text resolves")
}

/// A VIP as the golden files write it: `IP/PREFIX dev DEV` and its attributes.
fn show(a: &Address) -> String {
    let v = &a.vip;
    let mut s = format!("{}/{} dev {}", v.ip, v.prefix, a.device);
    if let Some(b) = v.brd {
        s += &format!(" brd {b}");
    }
    if let Some(l) = &v.label {
        s += &format!(" label {l}");
    }
    if u8::from(v.scope) != 0 {
        s += &format!(" scope {}", u8::from(v.scope));
    }
    for (set, word) in [(v.noprefixroute, "noprefixroute"), (v.nodad, "nodad"), (v.home, "home")] {
        if set {
            s += &format!(" {word}");
        }
    }
    s
}

fn reason(r: Restart) -> &'static str {
    match r {
        Restart::Interface => "interface",
        Restart::Vrid => "vrid",
        Restart::Version => "version",
        Restart::Family => "family",
        Restart::Socket => "socket",
        Restart::SyncGroup => "sync_group",
        Restart::Vmac => "vmac",
    }
}

#[derive(Deserialize)]
struct Case {
    row: String,
    #[serde(default)]
    old_top: Vec<String>,
    #[serde(default)]
    new_top: Vec<String>,
    #[serde(default)]
    old_lines: Vec<String>,
    #[serde(default)]
    new_lines: Vec<String>,
    old_vips: Vec<String>,
    new_vips: Vec<String>,
    expect: Expected,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
enum Expected {
    Unchanged,
    InPlace {
        #[serde(default)]
        settings: bool,
        #[serde(default)]
        trackers: bool,
        #[serde(default)]
        remove: Vec<String>,
        #[serde(default)]
        add: Vec<String>,
    },
    Restart {
        reason: String,
    },
}

fn observed(d: &Reconfigure) -> Expected {
    match d {
        Reconfigure::Unchanged => Expected::Unchanged,
        Reconfigure::InPlace(InPlace { fsm, remove, add, trackers_changed, .. }) => Expected::InPlace {
            settings: fsm.is_some(),
            trackers: *trackers_changed,
            remove: remove.iter().map(show).collect(),
            add: add.iter().map(show).collect(),
        },
        Reconfigure::Restart(r) => Expected::Restart { reason: reason(*r).into() },
    }
}

#[test]
fn golden_reload_cases() {
    let cases = include_str!("../../../tests/data/reload.jsonl");
    let mut n = 0;
    for (line, json) in cases.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(json).unwrap_or_else(|e| panic!("reload.jsonl:{}: {e}", line + 1));
        let old = resolve(&text(&case.old_top, &case.old_lines, &case.old_vips));
        let new = resolve(&text(&case.new_top, &case.new_lines, &case.new_vips));
        assert_eq!(observed(&decide(&old, &new)), case.expect, "reload.jsonl:{}: {}", line + 1, case.row);
        n += 1;
    }
    assert!(n >= 30, "only {n} cases read");
}

/// One VIP: its address and attributes, written in any of the syntaxes keepalived accepts
/// for them.
#[derive(Clone, Debug, PartialEq)]
struct GenVip {
    last: u8,
    prefix: Option<u8>,
    dev: Option<&'static str>,
    brd: bool,
    label: bool,
    scope: Option<&'static str>,
    noprefixroute: bool,
}

impl GenVip {
    /// The address as the kernel would hold it, whatever the spelling.
    fn meaning(&self) -> GenVip {
        GenVip {
            prefix: Some(self.prefix.unwrap_or(32)),
            dev: Some(self.dev.unwrap_or("eth0")),
            scope: self.scope.filter(|s| *s != "global"),
            ..self.clone()
        }
    }

    fn random(rng: &mut Rng, last: u8) -> GenVip {
        let dev = rng.choice([None, Some("eth0"), Some("eth1")]).expect("a non-empty list");
        GenVip {
            last,
            prefix: rng.choice([None, Some(32), Some(24), Some(16)]).expect("a non-empty list"),
            dev,
            brd: rng.u8(..4) == 0,
            label: rng.u8(..4) == 0,
            scope: rng.choice([None, None, Some("global"), Some("link"), Some("host")]).expect("a non-empty list"),
            noprefixroute: rng.u8(..5) == 0,
        }
    }

    /// The same address in another spelling: `/32` or nothing, `dev` naming the instance's
    /// interface or nothing, `scope global` or nothing, the words in another order.
    fn respell(&self, rng: &mut Rng) -> String {
        let mut words = vec![];
        let prefix = match self.prefix {
            None | Some(32) if rng.bool() => String::new(),
            None | Some(32) => "/32".into(),
            Some(p) => format!("/{p}"),
        };
        words.push(format!("10.99.7.{}{prefix}", self.last));
        let mut rest: Vec<String> = vec![];
        match self.dev {
            Some("eth0") | None if rng.bool() => rest.push("dev eth0".into()),
            Some("eth0") | None => {}
            Some(d) => rest.push(format!("dev {d}")),
        }
        let dev = self.dev.unwrap_or("eth0");
        if self.brd {
            rest.push("brd 10.99.255.255".into());
        }
        if self.label {
            rest.push(format!("label {dev}:{}", self.last));
        }
        match self.scope {
            Some("global") | None if rng.u8(..3) == 0 => rest.push("scope global".into()),
            Some("global") | None => {}
            Some(s) => rest.push(format!("scope {s}")),
        }
        if self.noprefixroute {
            rest.push("noprefixroute".into());
        }
        // keepalived reads the options in any order.
        rng.shuffle(&mut rest);
        words.extend(rest);
        words.join(" ")
    }
}

/// One instance as the generator writes it.
#[derive(Clone, Debug)]
struct Gen {
    vips: Vec<GenVip>,
    priority: u8,
    garp_delay: u8,
    garp_repeat: u8,
    preempt_delay: u8,
    advert_int: u8,
    notify: bool,
}

impl Gen {
    fn text(&self, rng: &mut Rng) -> String {
        let mut lines = vec![
            format!("advert_int {}", self.advert_int),
            format!("garp_master_delay {}", self.garp_delay),
            format!("garp_master_repeat {}", self.garp_repeat),
            format!("preempt_delay {}", self.preempt_delay),
        ];
        lines.push(format!("priority {}", self.priority));
        if self.notify {
            lines.push("notify_master /bin/true".into());
        }
        let vips: Vec<String> = self.vips.iter().map(|v| v.respell(rng)).collect();
        text(&[], &lines, &vips)
    }
}

/// The edits of the reload table's in-place rows.
fn edit(rng: &mut Rng, g: &Gen) -> Gen {
    let mut n = g.clone();
    let free = (100..=200).find(|l| !g.vips.iter().any(|v| v.last == *l)).unwrap_or(250);
    match rng.u8(..9) {
        0 => n.vips.push(GenVip::random(rng, free)),
        1 if n.vips.len() > 1 => {
            let i = rng.usize(..n.vips.len());
            n.vips.remove(i);
        }
        2 | 3 => {
            let i = rng.usize(..n.vips.len());
            let last = n.vips[i].last;
            n.vips[i] = GenVip::random(rng, last);
        }
        4 => n.priority = rng.u8(1..=254),
        5 => {
            n.garp_delay = rng.u8(..10);
            n.garp_repeat = rng.u8(1..=5);
        }
        6 => n.preempt_delay = rng.u8(..60),
        7 => n.notify = !n.notify,
        _ => n.advert_int = rng.u8(1..=3),
    }
    n
}

/// Runs a MASTER with `old`'s settings, applies `change` at some point between two adverts,
/// and runs on: no state change, and no gap between adverts beyond the longer interval.
fn master_through(old: &Plan, new: &Plan, change: &InPlace, offset: Duration) {
    let start = Instant::now();
    let mut config = old.fsm.clone();
    // The address owner starts as MASTER at once.
    config.priority = fsm::OWNER_PRIORITY;
    let mut i = fsm::Instance::new(config).expect("valid settings");
    i.handle(start, Input::Startup);
    assert_eq!(i.state(), State::Master);
    let mut now = start;
    let mut adverts = vec![];
    let mut applied = false;
    let change_at = start + old.fsm.advert_int * 3 + offset;
    while now < start + Duration::from_secs(20) {
        while let Some(a) = i.poll_action() {
            match a {
                Action::SendAdvert { .. } => adverts.push(now),
                Action::StateChanged { from, to, .. } if applied => {
                    panic!("state changed from {from} to {to} after an in-place change")
                }
                _ => {}
            }
        }
        let next = i.poll_timeout().expect("a MASTER always has its advert timer");
        if !applied && next > change_at {
            now = change_at;
            if let Some(c) = &change.fsm {
                let mut c = c.clone();
                c.priority = fsm::OWNER_PRIORITY;
                i.reconfigure(now, c).expect("the new settings are valid");
            }
            applied = true;
            continue;
        }
        now = next;
        i.handle_timeout(now);
    }
    assert_eq!(i.state(), State::Master);
    let longest = old.fsm.advert_int.max(new.fsm.advert_int);
    for w in adverts.windows(2) {
        assert!(w[1] - w[0] <= longest, "advert gap {:?} beyond {longest:?}", w[1] - w[0]);
    }
}

#[test]
fn generated_in_place_edits() {
    let seed = std::env::var("VIGIL_RELOAD_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1e55_u64);
    let runs: usize = std::env::var("VIGIL_RELOAD_EDITS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let mut rng = Rng::with_seed(seed);
    let mut g = Gen {
        vips: (100..103).map(|l| GenVip::random(&mut rng, l)).collect(),
        priority: 100,
        garp_delay: 5,
        garp_repeat: 5,
        preempt_delay: 0,
        advert_int: 1,
        notify: false,
    };
    let mut touched = 0;
    for n in 0..runs {
        let next = edit(&mut rng, &g);
        let (old_text, new_text) = (g.text(&mut rng), next.text(&mut rng));
        let (old, new) = (resolve(&old_text), resolve(&new_text));
        let change = match decide(&old, &new) {
            Reconfigure::Unchanged => {
                InPlace { fsm: None, expect_changed: false, trackers_changed: false, remove: vec![], add: vec![] }
            }
            Reconfigure::InPlace(p) => p,
            Reconfigure::Restart(r) => panic!("seed {seed:#x} edit {n}: restart ({r})\n{old_text}\n{new_text}"),
        };
        // Every VIP written the same way in both files, whatever the spelling, is kept.
        let meant = |g: &Gen| g.vips.iter().map(GenVip::meaning).collect::<Vec<_>>();
        let (before, after) = (meant(&g), meant(&next));
        for v in before.iter().filter(|v| after.contains(v)) {
            let ip = IpAddr::V4(Ipv4Addr::new(10, 99, 7, v.last));
            let touched_vip = change.remove.iter().chain(&change.add).any(|a| a.vip.ip == ip);
            assert!(!touched_vip, "seed {seed:#x} edit {n}: {ip} touched\n{old_text}\n{new_text}");
        }
        // Every VIP that changed is touched: removed as it was, added as it is.
        for v in after.iter().filter(|v| !before.contains(v)) {
            let ip = IpAddr::V4(Ipv4Addr::new(10, 99, 7, v.last));
            assert!(change.add.iter().any(|a| a.vip.ip == ip), "seed {seed:#x} edit {n}: {ip} not added");
        }
        touched += usize::from(change.remove.len() + change.add.len() > 0);
        let offset = Duration::from_millis(rng.u64(..1000));
        master_through(&old, &new, &change, offset);
        g = next;
    }
    assert!(touched > runs / 10, "only {touched} of {runs} edits touched a VIP");
}

#[test]
fn restart_rows_restart_once() {
    let base = text(&[], &[], &["10.99.7.100/24 dev eth0".into()]);
    let restarts = [
        ("interface", base.replacen("interface eth0", "interface eth1", 1)),
        ("virtual_router_id", base.replacen("virtual_router_id 51", "virtual_router_id 61", 1)),
        ("version", base.replacen("priority 100", "priority 100\n    version 3", 1)),
        (
            "unicast_peer",
            base.replacen("priority 100", "priority 100\n    unicast_peer {\n        10.99.7.2\n    }", 1),
        ),
        ("unicast_src_ip", base.replacen("priority 100", "priority 100\n    mcast_src_ip 10.99.7.9", 1)),
        ("sync group", format!("vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n}}\n{base}")),
    ];
    let old = resolve(&base);
    for (row, new) in restarts {
        assert!(matches!(decide(&old, &resolve(&new)), Reconfigure::Restart(_)), "{row}");
        assert!(matches!(decide(&resolve(&new), &old), Reconfigure::Restart(_)), "{row} undone");
    }
}

/// `track_bfd` on an instance and on its sync group, as keepalived 2.2.7 merges them.
#[test]
fn track_bfd_of_a_member_and_its_group() {
    let read = |group_lines: &str, own: &str| {
        let text = format!(
            "bfd_instance a {{\n neighbor_ip 192.0.2.1\n}}\nbfd_instance b {{\n neighbor_ip 192.0.2.2\n}}\n\
             vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n{group_lines}}}\n\
             vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n track_bfd {{\n{own} }}\n virtual_ipaddress {{\n 192.0.2.10\n }}\n}}\n\
             vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {{\n 192.0.2.11\n }}\n}}\n"
        );
        let parsed = vigil_config::parse_str("k.conf", &text, &vigil_config::Options::default(), None);
        let c = parsed.config;
        let g = c.sync_groups.first();
        let list = |name: &str| {
            let i = c.instances.iter().find(|i| i.name == name).expect("the instance");
            super::track_bfd(i, g, &c.bfd_instances).into_iter().map(|t| (t.name, t.weight)).collect::<Vec<_>>()
        };
        (list("VI_1"), list("VI_2"))
    };
    let s = |n: &str, w: Option<i32>| (n.to_string(), w);
    // The group's lines apply to every member, after the member's own.
    assert_eq!(read(" track_bfd {\n b\n }\n", " a\n"), (vec![s("a", Some(0)), s("b", Some(0))], vec![s("b", Some(0))]));
    // A member's weighted line is ignored without sync_group_tracking_weight ...
    assert_eq!(read("", " a weight -10\n").0, vec![]);
    // ... and kept with it.
    assert_eq!(read(" sync_group_tracking_weight\n", " a weight -10\n").0, vec![s("a", Some(-10))]);
    // On both lists: tracked once; the group's weight replaces a weighted line of the member's.
    assert_eq!(
        read(" sync_group_tracking_weight\n track_bfd {\n a weight -20\n }\n", " a weight -10\n").0,
        vec![s("a", Some(-20))]
    );
    assert_eq!(
        read(" track_bfd {\n a weight -20\n }\n", " a\n").0,
        vec![s("a", Some(0))],
        "an unweighted line stays so"
    );
}

/// VI_1's plan with `lines` and `vips` (as `text` writes them) and a vmac named `vmac_name`.
fn resolve_vmac(lines: &[&str], vips: &[&str], vmac_name: Option<&str>) -> Plan {
    let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
    let vips: Vec<String> = vips.iter().map(ToString::to_string).collect();
    let parsed = vigil_config::parse_str("k.conf", &text(&[], &lines, &vips), &vigil_config::Options::default(), None);
    let c = parsed.config;
    let i = c.instances.iter().find(|i| i.name == "VI_1").expect("VI_1");
    let mut eth0 = link("eth0");
    eth0.mac = Some(vigil_vrrp::wire::MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    plan(&c.global, i, &eth0, None, &c.bfd_instances, vmac_name).expect("it resolves")
}

/// `use_vmac`: the socket is on the vmac unless `vmac_xmit_base`; the VIPs of the instance's
/// family that would go on its interface go on the vmac, the others where they were.
#[test]
fn use_vmac_moves_the_socket_and_the_vips() {
    let vips = ["10.99.7.100/24", "10.99.7.101/24 dev eth0", "10.99.9.100/24 dev eth1"];
    let p = resolve_vmac(&["use_vmac"], &vips, None);
    let v = p.vmac.clone().expect("a vmac");
    assert_eq!(
        (v.name.as_str(), v.mac.to_string().as_str(), v.parent.as_str()),
        ("vrrp.51", "00:00:5e:00:01:33", "eth0")
    );
    assert!(!v.xmit_base && !v.ipv6 && v.link_local.is_none());
    assert_eq!(p.socket.interface, "vrrp.51");
    let devices: Vec<&str> = p.vips.iter().map(|a| a.device.as_str()).collect();
    assert_eq!(devices, ["vrrp.51", "vrrp.51", "eth1"]);

    let p = resolve_vmac(&["use_vmac vmac51", "vmac_xmit_base"], &vips, Some("vmac51"));
    assert_eq!(p.socket.interface, "eth0", "vmac_xmit_base sends from the parent");
    assert!(p.vmac.as_ref().is_some_and(|v| v.xmit_base && v.name == "vmac51"));
    assert_eq!(p.vips[0].device, "vmac51");

    let p = resolve_vmac(&[], &vips, None);
    assert!(p.vmac.is_none());
    assert_eq!(p.socket.interface, "eth0");
    assert_eq!(p.vips[0].device, "eth0");
}

#[test]
fn use_vmac_with_unicast_sends_from_the_parent_unless_strict() {
    let unicast = ["use_vmac", "unicast_peer {", "  10.99.7.2", "}"];
    let p = resolve_vmac(&unicast, &["10.99.7.100/24"], None);
    assert!(p.vmac.as_ref().is_some_and(|v| v.xmit_base));
    assert_eq!(p.socket.interface, "eth0");
    let strict = ["use_vmac", "vmac_xmit_base", "strict_mode on"];
    let p = resolve_vmac(&strict, &["10.99.7.100/24"], None);
    assert!(p.vmac.as_ref().is_some_and(|v| !v.xmit_base));
    assert_eq!(p.socket.interface, "vrrp.51");
}

/// An IPv6 instance's vmac has the IPv6 virtual router MAC and sends from its parent's
/// link-local address, which it gets too; an IPv4 one keeps IPv6 on only for excluded IPv6
/// VIPs.
#[test]
fn use_vmac_for_ipv6() {
    let p = resolve_vmac(&["use_vmac"], &["2001:db8::100/64"], None);
    let v = p.vmac.expect("a vmac");
    assert_eq!(v.mac.to_string(), "00:00:5e:00:02:33");
    assert!(v.ipv6);
    assert_eq!(v.link_local, Some(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)));
    let p = resolve_vmac(&["use_vmac", "vmac_xmit_base"], &["2001:db8::100/64"], None);
    assert_eq!(p.vmac.expect("a vmac").link_local, None, "the parent sends: the vmac needs no address");
    let excluded = ["use_vmac", "virtual_ipaddress_excluded {", "  2001:db8::7/64", "}"];
    assert!(resolve_vmac(&excluded, &["10.99.7.100/24"], None).vmac.is_some_and(|v| v.ipv6));
}

/// A parent without a link-local address lends the one its MAC makes.
#[test]
fn use_vmac_for_ipv6_without_a_link_local_on_the_parent() {
    let parsed = vigil_config::parse_str(
        "k.conf",
        &text(&[], &["use_vmac".to_string()], &["2001:db8::100/64".to_string()]),
        &vigil_config::Options::default(),
        None,
    );
    let c = parsed.config;
    let i = c.instances.iter().find(|i| i.name == "VI_1").expect("VI_1");
    let mut eth0 = link("eth0");
    eth0.link_local_ipv6 = None;
    eth0.mac = Some(vigil_vrrp::wire::MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    let p = plan(&c.global, i, &eth0, None, &c.bfd_instances, None).expect("it resolves");
    let ll: Ipv6Addr = "fe80::5054:ff:fe12:3456".parse().expect("an address");
    assert_eq!((p.fsm.primary_address, p.vmac.and_then(|v| v.link_local)), (IpAddr::V6(ll), Some(ll)));
}
