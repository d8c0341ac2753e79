//! `bfd_instance` and `track_bfd` as keepalived 2.2.7 reads them: its defaults, the units
//! (milliseconds with three decimals, kept in microseconds), the instances it disables, and
//! which process (VRRP, checker) hears of each.

use std::net::IpAddr;

use vigil_config::model::{BfdInstance, Config};
use vigil_config::{exit_code, parse_str, Options};

fn read(text: &str) -> (Config, Vec<&'static str>, i32) {
    let parsed = parse_str("t.conf", text, &Options::default(), None);
    let codes = parsed.diagnostics.iter().map(|d| d.code).collect();
    let exit = exit_code(&parsed.diagnostics, false);
    (parsed.config, codes, exit)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("a literal address")
}

fn only(config: &Config) -> &BfdInstance {
    assert_eq!(config.bfd_instances.len(), 1, "{:?}", config.bfd_instances);
    &config.bfd_instances[0]
}

#[test]
fn defaults_are_keepalived_s() {
    let (config, codes, exit) = read("bfd_instance peer {\n neighbor_ip 192.0.2.2\n}\n");
    assert_eq!((codes.len(), exit), (0, 0));
    let b = only(&config);
    assert_eq!(b.neighbor, ip("192.0.2.2"));
    assert_eq!((b.min_rx_us, b.min_tx_us, b.idle_tx_us, b.multiplier), (10_000, 10_000, 1_000_000, 5));
    assert_eq!((b.ttl, b.max_hops, b.passive, b.weight, b.weight_reverse), (255, Some(0), false, 0, false));
    assert_eq!((b.to_vrrp, b.to_checker), (true, true), "neither named: both hear of it");

    let (config, _, _) = read("bfd_instance six {\n neighbour_ip 2001:db8::2\n}\n");
    assert_eq!(only(&config).ttl, 64, "keepalived's IPv6 hop limit default");
}

#[test]
fn every_setting_is_read_in_its_unit() {
    let text = "bfd_instance gw {\n neighbor_ip 192.0.2.254\n source_ip 192.0.2.1\n min_rx 12.5\n min_tx 20\n \
                idle_tx 2000.125\n multiplier 3\n passive\n ttl 200\n max_hops -1\n weight -30 reverse\n vrrp\n}\n";
    let (config, codes, _) = read(text);
    assert!(codes.is_empty(), "{codes:?}");
    let b = only(&config);
    assert_eq!(b.source, Some(ip("192.0.2.1")));
    assert_eq!((b.min_rx_us, b.min_tx_us, b.idle_tx_us, b.multiplier), (12_500, 20_000, 2_000_125, 3));
    assert_eq!((b.passive, b.ttl, b.max_hops), (true, 200, None));
    assert_eq!((b.weight, b.weight_reverse, b.to_vrrp, b.to_checker), (-30, true, true, false));
}

#[test]
fn a_bad_value_keeps_the_default_with_a_warning() {
    let (config, codes, exit) = read("bfd_instance p {\n neighbor_ip 192.0.2.2\n min_rx 0.5\n multiplier 0\n}\n");
    let b = only(&config);
    assert_eq!((b.min_rx_us, b.multiplier), (10_000, 5));
    assert_eq!((codes, exit), (vec!["out-of-range", "out-of-range"], 5));
}

#[test]
fn keepalived_disables_what_it_cannot_run() {
    for (text, code) in [
        ("bfd_instance p {\n min_rx 10\n}\n", "missing-value"),
        ("bfd_instance p {\n neighbor_ip 192.0.2.300\n}\n", "bad-address"),
        ("bfd_instance p {\n neighbor_ip 192.0.2.2\n source_ip 2001:db8::1\n}\n", "bad-address"),
    ] {
        let (config, codes, exit) = read(text);
        assert!(config.bfd_instances.is_empty(), "{text}");
        assert_eq!((codes, exit), (vec![code], 5), "{text}");
    }
    let (config, codes, _) =
        read("bfd_instance p {\n neighbor_ip 192.0.2.2\n}\nbfd_instance q {\n neighbor_ip 192.0.2.2\n}\n");
    assert_eq!((only(&config).name.as_str(), codes), ("p", vec!["duplicate"]));
    let (config, codes, _) = read("bfd_instance p {\n neighbor_ip 192.0.2.2\n ttl 10\n max_hops 20\n}\n");
    assert_eq!((only(&config).max_hops, codes), (Some(10), vec!["out-of-range"]), "max_hops lowered to the ttl");
}

#[test]
fn track_bfd_names_an_instance_the_vrrp_process_hears_of() {
    let vrrp = |bfd_body: &str, tracked: &str| {
        format!(
            "bfd_instance p {{\n neighbor_ip 192.0.2.2\n{bfd_body}}}\nvrrp_instance V {{\n interface eth0\n \
             virtual_router_id 3\n virtual_ipaddress {{\n 192.0.2.9\n }}\n track_bfd {{\n{tracked} }}\n}}\n"
        )
    };
    let (config, codes, exit) = read(&vrrp("", " p weight -20\n"));
    assert_eq!((codes.len(), exit), (0, 0), "{codes:?}");
    let t = &config.instances[0].track_bfd;
    assert_eq!((t.len(), t[0].name.as_str(), t[0].weight, t[0].reverse), (1, "p", Some(-20), false));
    for (body, tracked, code) in [
        (" checker\n", " p\n", "unknown-reference"),
        ("", " nosuch\n", "unknown-reference"),
        ("", " p\n p\n", "duplicate"),
    ] {
        let (_, codes, exit) = read(&vrrp(body, tracked));
        assert_eq!((codes, exit), (vec![code], 5), "{body:?} {tracked:?}");
    }
}

#[test]
fn master_down_bfd_is_a_documented_vigil_extension() {
    let text = |extra: &str| {
        format!(
            "bfd_instance peer {{\n neighbor_ip 192.0.2.2\n}}\nvrrp_instance V {{\n interface eth0\n \
             virtual_router_id 3\n virtual_ipaddress {{\n 192.0.2.9\n }}\n master_down_bfd peer\n{extra}}}\n"
        )
    };
    let (config, codes, exit) = read(&text(""));
    assert_eq!(config.instances[0].master_down_bfd.as_ref().map(|(n, _)| n.as_str()), Some("peer"));
    assert_eq!((codes, exit), (vec!["vigil-extension"], 0), "a note: the file stays valid");
    let (_, codes, exit) = read(&text(" track_bfd {\n peer\n }\n"));
    assert_eq!((codes, exit), (vec!["vigil-extension", "master-down-bfd-tracked"], 5));
    let (_, codes, _) = read(&text("").replace("master_down_bfd peer", "master_down_bfd nope"));
    assert_eq!(codes, vec!["vigil-extension", "unknown-reference"]);
}
