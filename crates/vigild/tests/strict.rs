//! `vrrp_strict` (root and nft only, in a network namespace; skipped otherwise): a MASTER that
//! does not own its VIP and has no accept mode drops traffic to it with nftables, as
//! keepalived 2.2.7 does (table `ip keepalived`, set `vips`); at stop the table goes.

mod support;

use std::process::Command;

use support::lab::{wait_until, Lab};

fn ruleset(lab: &Lab) -> String {
    let out = Command::new("ip").args(["netns", "exec", &lab.ns, "nft", "list", "ruleset"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
}

fn pings(lab: &Lab) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &lab.ns, "ping", "-c", "1", "-W", "1", "192.0.2.100"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_strict_master_drops_traffic_to_its_vips_with_nftables() {
    if Command::new("nft").arg("-v").output().is_err() || Command::new("ping").arg("-V").output().is_err() {
        eprintln!("skipped: needs nft (nftables) and ping");
        return;
    }
    let Some(mut lab) = Lab::new("strict") else { return };
    assert!(lab.ip(&["link", "set", "lo", "up"]));
    let instance = "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
                    advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n";
    lab.start(&format!("global_defs {{\n vrrp_strict\n}}\n{instance}"));
    wait_until("MASTER with its VIP", || lab.has_vip());
    wait_until("the VIP in the drop set", || ruleset(&lab).contains("elements = { 192.0.2.100 }"));
    let rules = ruleset(&lab);
    assert!(rules.contains("table ip keepalived") && rules.contains("ip daddr @vips drop"), "{rules}");
    assert!(!pings(&lab), "traffic to the VIP is dropped");
    lab.stop();
    assert!(!ruleset(&lab).contains("keepalived"), "the table goes at stop: {}", ruleset(&lab));

    // With accept mode the VIP answers and no table is made.
    lab.start(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        instance.replace(" priority 150\n", " priority 150\n accept\n")
    ));
    wait_until("MASTER with its VIP", || lab.has_vip());
    assert!(pings(&lab), "accept mode: the VIP answers");
    assert!(!ruleset(&lab).contains("keepalived"), "{}", ruleset(&lab));
}
