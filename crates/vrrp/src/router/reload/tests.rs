//! Every field the decision reads, changed alone.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::io::{AddressScope, Mode, SocketConfig, Vip};
use crate::plan::{Tracked, TrackedKind};
use crate::receive::Expect;
use crate::wire::{self, Auth, Family};

/// A named change to a VIP, and to a plan.
type VipEdit = (&'static str, fn(&mut Address));
type PlanEdit = (&'static str, fn(&mut Plan));
type RestartEdit = (Restart, fn(&mut Plan));

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 99, 7, last))
}

fn address(last: u8) -> Address {
    Address { device: "eth0".into(), vip: Vip::new(ip(last), 24) }
}

fn plan() -> Plan {
    let mut fsm = fsm::Config::new(51, fsm::Version::V2, 100, ip(1));
    fsm.vips = vec![ip(100), ip(101)];
    Plan {
        expect: Expect {
            vrid: 51,
            version: fsm::Version::V2,
            password: None,
            vips: fsm.vips.clone(),
            skip_addr_check: false,
        },
        fsm,
        socket: SocketConfig::multicast("eth0", Family::Ipv4),
        family: Family::Ipv4,
        vips: vec![address(100), address(101)],
        wire_version: wire::Version::V2,
        auth: Auth::None,
        sync_group: None,
        tracked: Vec::new(),
        vmac: None,
    }
}

fn vmac() -> crate::plan::Vmac {
    crate::plan::Vmac {
        name: "vrrp.51".into(),
        mac: wire::MacAddr::vrrp_ipv4(51),
        parent: "eth0".into(),
        xmit_base: false,
        ipv6: false,
        link_local: None,
    }
}

fn in_place(old: &Plan, new: &Plan) -> InPlace {
    match decide(old, new) {
        Reconfigure::InPlace(p) => p,
        other => panic!("expected in place, got {other:?}"),
    }
}

#[test]
fn same_plan_is_unchanged() {
    assert_eq!(decide(&plan(), &plan()), Reconfigure::Unchanged);
}

/// A VIP changed in one attribute is removed as it was and added as it is; the other VIP is
/// not touched.
#[test]
fn each_vip_attribute_touches_only_that_vip() {
    let edits: [VipEdit; 9] = [
        ("prefix", |a| a.vip.prefix = 16),
        ("dev", |a| a.device = "eth1".into()),
        ("brd", |a| a.vip.brd = Some(Ipv4Addr::new(10, 99, 7, 255))),
        ("label", |a| a.vip.label = Some("eth0:1".into())),
        ("scope", |a| a.vip.scope = AddressScope::Link),
        ("noprefixroute", |a| a.vip.noprefixroute = true),
        ("nodad", |a| a.vip.nodad = true),
        ("home", |a| a.vip.home = true),
        ("label removed", |a| {
            a.vip.label = None;
            a.device = "eth0".into();
        }),
    ];
    for (name, edit) in edits {
        let old = plan();
        let mut new = plan();
        edit(&mut new.vips[1]);
        if new.vips[1] == old.vips[1] {
            // "label removed" from a VIP without one: no change at all.
            assert_eq!(decide(&old, &new), Reconfigure::Unchanged, "{name}");
            continue;
        }
        let p = in_place(&old, &new);
        assert_eq!(p.remove, vec![old.vips[1].clone()], "{name}");
        assert_eq!(p.add, vec![new.vips[1].clone()], "{name}");
        assert_eq!(p.fsm, None, "{name}: the VIP list of the state machine did not change");
        assert!(!p.expect_changed, "{name}");
    }
}

#[test]
fn vip_added_and_removed() {
    let old = plan();
    let mut new = plan();
    new.vips.push(address(102));
    new.fsm.vips.push(ip(102));
    new.expect.vips.push(ip(102));
    let p = in_place(&old, &new);
    assert_eq!((p.remove, p.add.clone()), (vec![], vec![address(102)]));
    assert_eq!(p.fsm, Some(new.fsm.clone()));
    assert!(p.expect_changed);

    let p = in_place(&new, &old);
    assert_eq!((p.remove, p.add), (vec![address(102)], vec![]));
}

#[test]
fn reordered_vips_touch_none() {
    let old = plan();
    let mut new = plan();
    new.vips.reverse();
    new.fsm.vips.reverse();
    new.expect.vips.reverse();
    let p = in_place(&old, &new);
    assert!(!p.touches_vips());
}

#[test]
fn settings_change_in_place() {
    let edits: [PlanEdit; 8] = [
        ("priority", |p| p.fsm.priority = 150),
        ("advert_int", |p| p.fsm.advert_int = Duration::from_secs(2)),
        ("nopreempt", |p| p.fsm.nopreempt = true),
        ("preempt_delay", |p| p.fsm.preempt_delay = Duration::from_secs(30)),
        ("garp_master_delay", |p| p.fsm.garp_master_delay = Duration::from_secs(1)),
        ("garp_master_repeat", |p| p.fsm.garp_master_repeat = 2),
        ("garp_master_refresh", |p| p.fsm.garp_master_refresh = Duration::from_secs(60)),
        ("accept", |p| p.fsm.accept = false),
    ];
    for (name, edit) in edits {
        let old = plan();
        let mut new = plan();
        edit(&mut new);
        let p = in_place(&old, &new);
        assert_eq!(p.fsm, Some(new.fsm.clone()), "{name}");
        assert!(!p.touches_vips(), "{name}");
    }
    let old = plan();
    let mut new = plan();
    new.auth = Auth::Pass(*b"secret\0\0");
    new.expect.password = Some(*b"secret\0\0");
    let p = in_place(&old, &new);
    assert!(p.expect_changed && p.fsm.is_none() && !p.touches_vips());
}

#[test]
fn tracked_lists_change_in_place() {
    let old = plan();
    let mut new = plan();
    new.tracked.push(Tracked { kind: TrackedKind::Interface, name: "eth1".into(), weight: None, reverse: false });
    let p = in_place(&old, &new);
    assert!(p.trackers_changed && p.fsm.is_none() && !p.touches_vips());
    let mut reweighted = new.clone();
    reweighted.tracked[0].weight = Some(-20);
    assert!(in_place(&new, &reweighted).trackers_changed);
}

#[test]
fn identity_changes_restart() {
    let edits: [RestartEdit; 10] = [
        (Restart::Interface, |p| p.socket.interface = "eth1".into()),
        (Restart::Vrid, |p| {
            p.fsm.vrid = 52;
            p.expect.vrid = 52;
        }),
        (Restart::Version, |p| {
            p.fsm.version = fsm::Version::V3;
            p.wire_version = wire::Version::V3;
        }),
        (Restart::Socket, |p| p.socket.mode = Mode::Unicast { peers: vec![ip(2)] }),
        (Restart::Socket, |p| p.socket.src = Some(ip(3))),
        (Restart::Socket, |p| p.socket.ttl = 64),
        (Restart::Socket, |p| p.fsm.primary_address = ip(3)),
        (Restart::SyncGroup, |p| {
            p.sync_group = Some(crate::plan::Membership { group: "G1".into(), members: vec!["VI_1".into()] });
            p.fsm.sync_group = true;
        }),
        (Restart::Vmac, |p| {
            p.vmac = Some(vmac());
            p.socket.interface = "vrrp.51".into();
        }),
        (Restart::Vmac, |p| {
            p.vmac = Some(crate::plan::Vmac { xmit_base: true, ..vmac() });
        }),
    ];
    for (reason, edit) in edits {
        let old = plan();
        let mut new = plan();
        edit(&mut new);
        assert_eq!(decide(&old, &new), Reconfigure::Restart(reason), "{reason}");
    }
}
