use vigil_config::model::VrrpInstance;
use vigil_vrrp::vmac::{Existing, Macvlan, Step};
use vigil_vrrp::wire::Family;

use super::{choose, choose_again, Made};

/// The instance `VI_1` (VRID 51) on `eth0` with `use_vmac VMAC_ARGS`.
fn instance(vmac_args: &str) -> VrrpInstance {
    let text = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n use_vmac {vmac_args}\n \
         virtual_ipaddress {{\n 192.0.2.100\n }}\n}}\n"
    );
    let parsed = vigil_config::parse_str("keepalived.conf", &text, &vigil_config::Options::default(), None);
    parsed.config.instances.into_iter().next().expect("an instance")
}

/// A private macvlan on interface 2 with the virtual router MAC of `vrid`.
fn macvlan(ifindex: u32, name: &str, vrid: u8) -> Existing {
    Existing {
        ifindex,
        name: name.into(),
        mac: Some(vigil_vrrp::vmac::mac(vrid, Family::Ipv4)),
        macvlan: Some(Macvlan { parent: Some(2), private: true }),
    }
}

fn made(ifindex: u32, name: &str) -> Made {
    Made { name: name.into(), ifindex, parent: 2, parent_counted: false }
}

#[test]
fn a_name_a_kept_instance_uses_is_not_taken_over() {
    // VI_1 asks for `vmac`, which another instance (VRID 52) that keeps running uses.
    let existing = [macvlan(7, "vmac", 52)];
    let kept = ["vmac".to_string()];
    let c = choose(&instance("vmac"), Family::Ipv4, 2, &existing, &kept);
    assert_eq!((c.name.as_str(), c.step), ("vrrp.51", Step::Create));
    // Without the kept instance's name, it would change that vmac's MAC.
    let c = choose(&instance("vmac"), Family::Ipv4, 2, &existing, &[]);
    assert_eq!(c.step, Step::Update { ifindex: 7 });
}

#[test]
fn a_renamed_vmac_is_not_found_again_by_its_mac() {
    let existing = [macvlan(7, "vrrp.51", 51)];
    let running = made(7, "vrrp.51");
    let was = instance("");
    let c = choose_again(&instance("newname"), (&was, Some(&running)), Family::Ipv4, 2, &existing, &[]);
    assert_eq!((c.name.as_str(), c.step), ("newname", Step::Create));
}

#[test]
fn an_unrenamed_vmac_is_found_again_whatever_its_name() {
    // Started with `use_vmac newname` on a matching `old.51`, which it keeps using.
    let existing = [macvlan(7, "old.51", 51)];
    let running = made(7, "old.51");
    let was = instance("newname");
    let c = choose_again(&was, (&was, Some(&running)), Family::Ipv4, 2, &existing, &[]);
    assert_eq!((c.name.as_str(), c.step), ("old.51", Step::Reuse { ifindex: 7 }));
    let c = choose_again(&instance(""), (&was, Some(&running)), Family::Ipv4, 2, &existing, &[]);
    assert_eq!(c.name, "old.51");
}
