use std::net::Ipv6Addr;

use super::*;

const ETH0: u32 = 2;

fn want(vrid: u8, family: Family, name: Option<&str>) -> Want {
    Want { vrid, family, name: name.map(str::to_string), parent: ETH0 }
}

fn plain(ifindex: u32, name: &str) -> Existing {
    Existing { ifindex, name: name.into(), mac: Some(MacAddr([2, 0, 0, 0, 0, ifindex as u8])), macvlan: None }
}

fn macvlan(ifindex: u32, name: &str, mac: MacAddr, parent: u32, private: bool) -> Existing {
    Existing { ifindex, name: name.into(), mac: Some(mac), macvlan: Some(Macvlan { parent: Some(parent), private }) }
}

fn host() -> Vec<Existing> {
    vec![plain(1, "lo"), plain(ETH0, "eth0"), plain(3, "eth1")]
}

#[test]
fn virtual_router_macs() {
    assert_eq!(mac(51, Family::Ipv4).to_string(), "00:00:5e:00:01:33");
    assert_eq!(mac(51, Family::Ipv6).to_string(), "00:00:5e:00:02:33");
}

#[test]
fn default_names_in_keepalived_order() {
    let v4: Vec<String> = default_names(51, Family::Ipv4).take(4).collect();
    assert_eq!(v4, ["vrrp.51", "vrrp1.51", "vrrp2.51", "vrrp3.51"]);
    let v6: Vec<String> = default_names(51, Family::Ipv6).take(9).collect();
    assert_eq!(
        v6,
        ["vrrp.51", "vrrp6.51", "vrrp1.51", "vrrp2.51", "vrrp3.51", "vrrp4.51", "vrrp5.51", "vrrp7.51", "vrrp8.51"]
    );
    // Every name fits the kernel's IFNAMSIZ (15 bytes and the NUL).
    assert!(default_names(255, Family::Ipv6).all(|n| n.len() <= 15));
}

#[test]
fn a_fresh_host_gets_vrrp_dot_vrid() {
    let c = choose(&want(51, Family::Ipv4, None), &host(), &[]);
    assert_eq!(c, Choice { name: "vrrp.51".into(), mac: mac(51, Family::Ipv4), step: Step::Create, notes: vec![] });
}

#[test]
fn the_configured_name_when_free() {
    let c = choose(&want(51, Family::Ipv4, Some("vmac51")), &host(), &[]);
    assert_eq!((c.name.as_str(), c.step, c.notes.len()), ("vmac51", Step::Create, 0));
}

#[test]
fn a_matching_macvlan_is_reused_whatever_its_name() {
    let mut existing = host();
    existing.push(macvlan(7, "left.51", mac(51, Family::Ipv4), ETH0, true));
    let c = choose(&want(51, Family::Ipv4, None), &existing, &[]);
    assert_eq!(c.name, "left.51");
    assert_eq!(c.step, Step::Reuse { ifindex: 7 });
    assert_eq!(c.notes, [Note::Found { name: "left.51".into() }]);

    let c = choose(&want(51, Family::Ipv4, Some("vmac51")), &existing, &[]);
    assert_eq!(c.name, "left.51");
    assert_eq!(
        c.notes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["Found matching interface left.51", "vmac name mismatch vmac51 <=> left.51. changing to left.51."]
    );
}

#[test]
fn what_is_not_a_match() {
    let v4 = mac(51, Family::Ipv4);
    for (why, e) in [
        ("another parent", macvlan(7, "vrrp.51", v4, 3, true)),
        ("bridge mode", macvlan(7, "vrrp.51", v4, ETH0, false)),
        ("another VRID", macvlan(7, "vrrp.51", mac(52, Family::Ipv4), ETH0, true)),
        ("the IPv6 MAC", macvlan(7, "vrrp.51", mac(51, Family::Ipv6), ETH0, true)),
    ] {
        let mut existing = host();
        existing.push(e);
        let c = choose(&want(51, Family::Ipv4, None), &existing, &[]);
        assert_eq!((c.name.as_str(), c.step), ("vrrp1.51", Step::Create), "{why}");
    }
}

#[test]
fn a_matching_macvlan_of_another_instance_is_not_taken() {
    let mut existing = host();
    existing.push(macvlan(7, "vrrp.51", mac(51, Family::Ipv4), ETH0, true));
    let c = choose(&want(51, Family::Ipv4, None), &existing, &["vrrp.51".to_string()]);
    assert_eq!((c.name.as_str(), c.step), ("vrrp1.51", Step::Create));
}

#[test]
fn a_configured_name_that_is_a_private_macvlan_is_updated_or_replaced() {
    let mut existing = host();
    existing.push(macvlan(7, "vmac51", MacAddr([2, 1, 1, 1, 1, 1]), ETH0, true));
    existing.push(macvlan(8, "other51", mac(51, Family::Ipv4), 3, true));
    let c = choose(&want(51, Family::Ipv4, Some("vmac51")), &existing, &[]);
    assert_eq!((c.name.as_str(), c.step), ("vmac51", Step::Update { ifindex: 7 }));
    assert_eq!(c.notes[0].to_string(), "VMAC vmac51 already exists but is incompatible. It will be deleted/updated");
    let c = choose(&want(51, Family::Ipv4, Some("other51")), &existing, &[]);
    assert_eq!((c.name.as_str(), c.step), ("other51", Step::Replace { ifindex: 8 }));
}

#[test]
fn a_configured_name_that_is_something_else_is_ignored() {
    let mut existing = host();
    existing.push(macvlan(7, "bridged", MacAddr([2, 1, 1, 1, 1, 1]), ETH0, false));
    for name in ["eth1", "bridged"] {
        let c = choose(&want(51, Family::Ipv4, Some(name)), &existing, &[]);
        assert_eq!((c.name.as_str(), c.step), ("vrrp.51", Step::Create));
        assert_eq!(
            c.notes[0].to_string(),
            format!("interface {name} already exists and is not a private macvlan; ignoring vmac if_name")
        );
    }
}

#[test]
fn default_names_skip_interfaces_and_other_instances() {
    let mut existing = host();
    existing.push(plain(9, "vrrp.51"));
    let c = choose(&want(51, Family::Ipv6, None), &existing, &["vrrp6.51".to_string()]);
    assert_eq!(c.name, "vrrp1.51");
    let c = choose(&want(51, Family::Ipv4, Some("vmac")), &host(), &["vmac".to_string()]);
    assert_eq!(c.name, "vrrp.51");
    assert_eq!(c.notes, [Note::NameTaken { name: "vmac".into() }]);
}

#[test]
fn xmit_base_as_keepalived_settles_it() {
    // (configured, use_vmac, unicast, strict) -> effective
    let cases = [
        ((false, true, false, false), false),
        ((true, true, false, false), true),
        ((false, true, true, false), true),
        ((true, true, true, false), true),
        ((true, true, false, true), false),
        ((false, true, true, true), false),
        ((true, false, false, false), false),
        ((false, false, true, true), false),
    ];
    for ((configured, vmac, unicast, strict), want) in cases {
        assert_eq!(xmit_base(configured, vmac, unicast, strict), want, "{configured} {vmac} {unicast} {strict}");
    }
}

#[test]
fn eui64_from_the_parents_mac() {
    let ll = eui64_link_local(MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]));
    assert_eq!(ll, "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().expect("an address"));
}

#[test]
fn devconf_numbers_from_linux_ip_h() {
    let numbers: Vec<u16> = VMAC_IPV4.iter().map(|(c, _)| c.number()).collect();
    assert_eq!(numbers, [19, 23, 8, 20]);
    assert_eq!(ArpConf::VMAC_PARENT.settings(), [(DevConf::ArpIgnore, 1), (DevConf::ArpFilter, 1)]);
    assert_eq!(DevConf::ArpFilter.number(), 13);
}

#[test]
fn a_parent_gets_its_arp_settings_back_when_its_last_vmac_goes() {
    let mut parents = Parents::default();
    let was = ArpConf { arp_ignore: 0, arp_filter: 0 };
    assert_eq!(parents.acquire(ETH0, was), Some(ArpConf::VMAC_PARENT), "the first vmac sets them");
    assert_eq!(parents.acquire(ETH0, ArpConf::VMAC_PARENT), None, "the second finds them set");
    assert_eq!(parents.release(ETH0), None, "one vmac remains");
    assert_eq!(parents.release(ETH0), Some(was), "the last one puts them back");
    assert_eq!(parents.release(ETH0), None, "nothing more to put back");
}

#[test]
fn a_parent_already_set_is_never_touched() {
    let mut parents = Parents::default();
    assert_eq!(parents.acquire(ETH0, ArpConf::VMAC_PARENT), None);
    assert_eq!(parents.release(ETH0), None);
    let half = ArpConf { arp_ignore: 1, arp_filter: 0 };
    assert_eq!(parents.acquire(3, half), Some(ArpConf::VMAC_PARENT));
    assert_eq!(parents.release(3), Some(half));
}

fn values(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|(n, v)| ((*n).to_string(), *v)).collect()
}

fn writes(list: &[RpFilterWrite]) -> Vec<(&str, u32, u32)> {
    list.iter().map(|w| (w.name.as_str(), w.from, w.to)).collect()
}

#[test]
fn rp_filter_all_at_zero_is_left_alone() {
    assert_eq!(clear_rp_filter(0, 1, &values(&[("eth0", 1)])), None);
}

#[test]
fn rp_filter_all_is_lowered_after_raising_default_and_the_interfaces() {
    let now = values(&[("lo", 0), ("eth0", 0), ("eth1", 2), ("eth2", 1)]);
    let (w, saved) = clear_rp_filter(1, 0, &now).expect("all is 1");
    assert_eq!(writes(&w), [("default", 0, 1), ("lo", 0, 1), ("eth0", 0, 1), ("all", 1, 0)]);

    // At stop, only what is still as it was left goes back.
    let later = values(&[("lo", 1), ("eth0", 2)]);
    let back = restore_rp_filter(&saved, 0, Some(1), &later);
    assert_eq!(writes(&back), [("all", 0, 1), ("default", 1, 0), ("lo", 1, 0)]);
    assert!(restore_rp_filter(&saved, 2, Some(2), &[]).is_empty(), "changed since by someone else: left");
    let unreadable = restore_rp_filter(&saved, 0, None, &later);
    assert_eq!(writes(&unreadable), [("all", 0, 1), ("lo", 1, 0)], "default unreadable: left, the others go back");
}

#[test]
fn rp_filter_default_already_high_enough_stays() {
    let (w, saved) = clear_rp_filter(2, 2, &values(&[("eth0", 2)])).expect("all is 2");
    assert_eq!(writes(&w), [("all", 2, 0)]);
    assert_eq!(writes(&restore_rp_filter(&saved, 0, Some(2), &values(&[("eth0", 2)]))), [("all", 0, 2)]);
}
