use std::collections::BTreeSet;
use std::net::IpAddr;

use super::*;
use crate::display::TUNNEL_CSUM;
use crate::types::{Dest, DestKey, Family, Forwarding, Op, Protocol, Service, ServiceFlags, ServiceKey, TunnelType};

fn config(text: &str) -> vigil_config::Config {
    let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    parsed.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr { protocol: Protocol::Tcp, addr: ip(addr), port }
}

fn dk(addr: &str, port: u16) -> DestKey {
    DestKey { addr: ip(addr), port }
}

const BASE: &str = "
virtual_server 10.0.0.3 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 { weight 1 }
    real_server 10.0.1.2 80 { weight 2 }
    real_server 10.0.1.3 8080 { weight 3 }
}
";

fn desired(text: &str) -> Table {
    Pools::from_config(&config(text)).0.desired()
}

/// The ops from an empty table, as short strings, for readable expectations.
fn show(ops: &[Op]) -> Vec<String> {
    ops.iter()
        .map(|op| match op {
            Op::AddService(s) => format!("add {} {}", s.key, s.scheduler),
            Op::EditService(s) => format!("edit {} {}", s.key, s.scheduler),
            Op::DelService(k) => format!("del {k}"),
            Op::AddDest(_, d) => format!("add {} w{}", d.key, d.weight),
            Op::EditDest(_, d) => format!("edit {} w{}", d.key, d.weight),
            Op::DelDest(_, k) => format!("del {k}"),
        })
        .collect()
}

#[test]
fn cold_start_adds_everything_in_order() {
    let ops = diff(&Table::default(), &desired(BASE), &BTreeSet::new());
    assert_eq!(
        show(&ops),
        ["add [10.0.0.3]:tcp:80 rr", "add 10.0.1.1:80 w1", "add 10.0.1.2:80 w2", "add 10.0.1.3:8080 w3"]
    );
}

#[test]
fn adopting_an_equal_table_writes_nothing() {
    let want = desired(BASE);
    let mut have = Table::default();
    for op in diff(&Table::default(), &want, &BTreeSet::new()) {
        have.apply(&op);
    }
    // The kernel lists HASHED on every service; it must not count as a difference.
    for s in have.services.values_mut() {
        s.service.flags = ServiceFlags(s.service.flags.0 | ServiceFlags::HASHED);
    }
    assert!(diff(&have, &want, &BTreeSet::new()).is_empty());
}

/// One row per change of config between two runs: the ops that take the first table
/// to the second.
#[test]
fn config_changes() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("weight change", "real_server 10.0.1.2 80 { weight 2 }", &["edit 10.0.1.2:80 w5"]),
        ("server removed", "real_server 10.0.1.3 8080 { weight 3 }", &["del 10.0.1.3:8080"]),
        ("scheduler change", "lvs_sched rr", &["edit [10.0.0.3]:tcp:80 wlc"]),
    ];
    let replacements = ["real_server 10.0.1.2 80 { weight 5 }", "", "lvs_sched wlc"];
    for ((name, from, expect), to) in cases.iter().zip(replacements) {
        let after = BASE.replace(from, to);
        let mut managed = BTreeSet::new();
        managed.insert(tcp("10.0.0.3", 80));
        let ops = diff(&desired(BASE), &desired(&after), &managed);
        assert_eq!(show(&ops), *expect, "{name}");
    }
}

#[test]
fn a_removed_virtual_server_is_deleted_only_when_managed() {
    let empty = Table::default();
    let have = desired(BASE);
    assert!(diff(&have, &empty, &BTreeSet::new()).is_empty(), "a service not ours is left alone");
    let managed: BTreeSet<_> = have.services.keys().copied().collect();
    assert_eq!(show(&diff(&have, &empty, &managed)), ["del [10.0.0.3]:tcp:80"]);
}

#[test]
fn foreign_destinations_in_our_service_are_removed() {
    let want = desired(BASE);
    let mut have = want.clone();
    let key = tcp("10.0.0.3", 80);
    have.apply(&Op::AddDest(key, Dest::new(dk("10.9.9.9", 80), Forwarding::Masq, 1)));
    assert_eq!(show(&diff(&have, &want, &BTreeSet::new())), ["del 10.9.9.9:80"]);
}

#[test]
fn a_local_destination_matches_any_method() {
    let want = desired(BASE);
    let mut have = want.clone();
    let key = tcp("10.0.0.3", 80);
    let mut d = have.services[&key].dests[&dk("10.0.1.1", 80)].clone();
    d.forwarding = Forwarding::Local;
    have.apply(&Op::EditDest(key, d));
    assert!(diff(&have, &want, &BTreeSet::new()).is_empty());
}

/// Health changes, one row each: the verdicts applied in order, and the ops from the
/// table before the last verdict to the table after it.
#[test]
fn health_changes() {
    struct Case {
        name: &'static str,
        extra: &'static str,
        verdicts: &'static [(usize, bool)],
        expect: &'static [&'static str],
        quorum: Option<bool>,
    }
    let cases = [
        Case { name: "down: removed", extra: "", verdicts: &[(0, false)], expect: &["del 10.0.1.1:80"], quorum: None },
        Case {
            name: "down then up: re-added",
            extra: "",
            verdicts: &[(0, false), (0, true)],
            expect: &["add 10.0.1.1:80 w1"],
            quorum: None,
        },
        Case {
            name: "inhibit: weight 0",
            extra: "inhibit_on_failure",
            verdicts: &[(1, false)],
            expect: &["edit 10.0.1.2:80 w0"],
            quorum: None,
        },
        Case {
            name: "inhibit: back to its weight",
            extra: "inhibit_on_failure",
            verdicts: &[(1, false), (1, true)],
            expect: &["edit 10.0.1.2:80 w2"],
            quorum: None,
        },
        Case {
            name: "last server down: sorry server in",
            extra: "sorry_server 10.0.2.1 80",
            verdicts: &[(0, false), (1, false), (2, false)],
            expect: &["add 10.0.2.1:80 w1", "del 10.0.1.3:8080"],
            quorum: Some(false),
        },
        Case {
            name: "one back: sorry server out",
            extra: "sorry_server 10.0.2.1 80",
            verdicts: &[(0, false), (1, false), (2, false), (1, true)],
            expect: &["add 10.0.1.2:80 w2", "del 10.0.2.1:80"],
            quorum: Some(true),
        },
        Case {
            name: "quorum 4: lost below it, the live ones leave for the sorry server",
            extra: "quorum 4\nsorry_server 10.0.2.1 80",
            verdicts: &[(2, false)],
            expect: &["add 10.0.2.1:80 w1", "del 10.0.1.1:80", "del 10.0.1.2:80", "del 10.0.1.3:8080"],
            quorum: Some(false),
        },
        Case {
            name: "hysteresis: 4 +- 1 holds at 3",
            extra: "quorum 4\nhysteresis 1",
            verdicts: &[(2, false), (2, true), (0, false), (1, false)],
            expect: &["del 10.0.1.2:80"],
            quorum: Some(true),
        },
        Case {
            name: "sorry_server_inhibit: kept at weight 0, then weight 1",
            extra: "sorry_server 10.0.2.1 80\nsorry_server_inhibit",
            verdicts: &[(0, false), (1, false), (2, false)],
            expect: &["edit 10.0.2.1:80 w1", "del 10.0.1.3:8080"],
            quorum: Some(false),
        },
    ];
    for c in cases {
        let text = BASE.replace("protocol TCP", &format!("protocol TCP\n{}", c.extra));
        let (mut pools, events) = Pools::from_config(&config(&text));
        assert!(events.is_empty(), "{}", c.name);
        let (last, before) = c.verdicts.split_last().expect("a verdict");
        let mut event = None;
        for &(rs, up) in before {
            event = pools.set_health(RsId { vs: 0, rs }, up, None).or(event);
        }
        let table_before = pools.desired();
        event = pools.set_health(RsId { vs: 0, rs: last.0 }, last.1, None).or(event);
        let ops = diff(&table_before, &pools.desired(), &BTreeSet::new());
        assert_eq!(show(&ops), c.expect, "{}", c.name);
        match c.quorum {
            Some(false) => assert!(matches!(event, Some(QuorumEvent::Lost { .. })), "{}: {event:?}", c.name),
            Some(true) => assert!(pools.pools[0].quorum_up, "{}", c.name),
            None => assert!(event.is_none(), "{}: {event:?}", c.name),
        }
    }
}

#[test]
fn alpha_starts_down_and_loses_the_quorum_at_once() {
    let text = BASE.replace("protocol TCP", "protocol TCP\nalpha\nsorry_server 10.0.2.1 80");
    let (pools, events) = Pools::from_config(&config(&text));
    assert!(matches!(events.as_slice(), [QuorumEvent::Lost { vs: 0, weight: 0, .. }]));
    let t = pools.desired();
    let dests: Vec<_> = t.services[&tcp("10.0.0.3", 80)].dests.keys().copied().collect();
    assert_eq!(dests, [dk("10.0.2.1", 80)]);
}

#[test]
fn misc_dynamic_weight_replaces_the_configured_one() {
    let (mut pools, _) = Pools::from_config(&config(BASE));
    let before = pools.desired();
    pools.set_health(RsId { vs: 0, rs: 2 }, true, Some(7));
    assert_eq!(show(&diff(&before, &pools.desired(), &BTreeSet::new())), ["edit 10.0.1.3:8080 w7"]);
}

#[test]
fn service_settings_from_the_config() {
    let text = "
virtual_server fwmark 7 {
    lvs_sched sh
    sh-port
    sh-fallback
    lvs_method DR
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    real_server 10.0.1.1 80 { }
}
virtual_server 2001:db8::1 53 {
    lvs_sched rr
    lvs_method TUN
    protocol UDP
    ops
    persistence_timeout 30
    persistence_granularity 64
    real_server 2001:db8::2 {
        weight 4
        uthreshold 100
        lthreshold 10
    }
}
";
    let t = desired(text);
    let fw = &t.services[&ServiceKey::Fwmark { family: Family::Inet, mark: 7 }];
    let mut want = Service::new(ServiceKey::Fwmark { family: Family::Inet, mark: 7 }, "sh");
    want.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::SCHED2);
    want.timeout = 600;
    want.netmask = 0xffff_ff00;
    assert_eq!(fw.service, want);
    // keepalived clears a fwmark real server's port ("has port specified - clearing").
    assert_eq!(fw.dests[&dk("10.0.1.1", 0)].forwarding, Forwarding::DirectRoute);

    let key = ServiceKey::Addr { protocol: Protocol::Udp, addr: ip("2001:db8::1"), port: 53 };
    let v6 = &t.services[&key];
    assert_eq!(v6.service.flags, ServiceFlags(ServiceFlags::ONEPACKET | ServiceFlags::PERSISTENT));
    assert_eq!(v6.service.netmask, 64, "an IPv6 granularity is a prefix length");
    let d = &v6.dests[&dk("2001:db8::2", 53)];
    assert_eq!((d.forwarding, d.weight, d.u_threshold, d.l_threshold), (Forwarding::Tunnel, 4, 100, 10));
}

#[test]
fn tunnel_types_from_lvs_method() {
    let text = "
virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_method TUN type gue port 6080 csum
    real_server 10.0.1.1 80 { }
    real_server 10.0.1.2 80 {
        lvs_method TUN type gre
    }
    real_server 10.0.1.3 80 {
        lvs_method TUN
    }
}
";
    let t = desired(text);
    let svc = &t.services[&tcp("10.0.0.1", 80)];
    let tun = |a: &str| {
        let d = &svc.dests[&dk(a, 80)];
        (d.forwarding, d.tunnel_type, d.tunnel_port, d.tunnel_flags)
    };
    assert_eq!(tun("10.0.1.1"), (Forwarding::Tunnel, TunnelType::Gue, 6080, TUNNEL_CSUM));
    assert_eq!(tun("10.0.1.2"), (Forwarding::Tunnel, TunnelType::Gre, 0, 0));
    assert_eq!(tun("10.0.1.3"), (Forwarding::Tunnel, TunnelType::IpIp, 0, 0));
}

#[test]
fn a_group_stands_for_every_member() {
    let text = "
virtual_server_group web {
    10.0.0.10-12 80
    fwmark 9
}
virtual_server group web {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    real_server 10.0.1.1 80 { }
}
";
    let t = desired(text);
    let keys: Vec<_> = t.services.keys().copied().collect();
    assert_eq!(
        keys,
        [
            tcp("10.0.0.10", 80),
            tcp("10.0.0.11", 80),
            tcp("10.0.0.12", 80),
            ServiceKey::Fwmark { family: Family::Inet, mark: 9 },
        ]
    );
    assert!(t.services.values().all(|s| s.dests.len() == 1));
}

#[test]
fn reload_keeps_health_of_unchanged_servers() {
    let (mut old, _) = Pools::from_config(&config(BASE));
    old.set_health(RsId { vs: 0, rs: 1 }, false, None);
    let changed = BASE.replace("real_server 10.0.1.1 80 { weight 1 }", "real_server 10.0.1.1 80 { weight 9 }");
    let (mut new, _) = Pools::from_config(&config(&changed));
    new.carry_over(&old);
    assert!(!new.pools[0].members[1].alive, "10.0.1.2 stays down across the reload");
    let ops = diff(&old.desired(), &new.desired(), &BTreeSet::new());
    assert_eq!(show(&ops), ["edit 10.0.1.1:80 w9"]);
}

#[test]
fn direct_routing_serves_the_virtual_port() {
    // The kernel forces a DR destination onto the service's port; asking for it keeps
    // the next diff empty.
    let text = BASE.replace("lvs_method NAT", "lvs_method DR");
    let t = desired(&text);
    let ports: Vec<u16> = t.services[&tcp("10.0.0.3", 80)].dests.keys().map(|k| k.port).collect();
    assert_eq!(ports, [80, 80, 80]);
}

/// `Pools::diff_from` gives the ops of `diff` against `Pools::desired`, in the same order, for
/// every pair of these configurations (groups that overlap another virtual server's service
/// included) and these kernel tables, with and without the services managed; and those ops
/// applied together (`Table::apply_all`) make the table they make one by one.
#[test]
fn diffing_service_by_service_gives_the_whole_table_diff() {
    let group = "
virtual_server_group web {
    10.0.0.3 80
    10.0.0.10-11 80
}
virtual_server group web {
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    real_server 10.0.1.7 80 { weight 4 }
}
virtual_server fwmark 9 {
    lvs_sched rr
    real_server 10.0.1.1 80 { }
}
";
    let texts = [
        BASE.to_string(),
        BASE.replace("{ weight 2 }", "{ weight 5 }").replace("lvs_sched rr", "lvs_sched wlc"),
        BASE.replace("real_server 10.0.1.3 8080 { weight 3 }", ""),
        format!("{BASE}{group}"),
        group.to_string(),
        String::new(),
    ];
    let mut tables: Vec<Table> = texts.iter().map(|t| desired(t)).collect();
    let mut foreign = desired(BASE);
    foreign.apply(&Op::AddDest(tcp("10.0.0.3", 80), Dest::new(dk("10.9.9.9", 80), Forwarding::Masq, 1)));
    foreign.apply(&Op::AddService(Service::new(tcp("10.0.0.99", 80), "rr")));
    tables.push(foreign);
    let mut compared = 0;
    for text in &texts {
        let (pools, _) = Pools::from_config(&config(text));
        for current in &tables {
            for managed in [BTreeSet::new(), current.services.keys().copied().collect()] {
                let whole = diff(current, &pools.desired(), &managed);
                assert_eq!(pools.diff_from(current, &managed), whole, "{text}\nfrom {current:?}");
                compared += usize::from(!whole.is_empty());
                let (mut each, mut all) = (current.clone(), current.clone());
                whole.iter().for_each(|op| each.apply(op));
                all.apply_all(&whole);
                assert_eq!(all, each, "the ops applied together as one by one\n{text}\nfrom {current:?}");
            }
        }
        assert_eq!(pools.keys(), pools.desired().services.keys().copied().collect::<BTreeSet<_>>());
    }
    assert!(compared > 40, "most pairs differ ({compared})");
}
