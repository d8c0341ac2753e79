//! Unicast pitfalls (keepalived #2458, #1283): keepalived turns a unicast_peer list that names
//! nobody into multicast with a deprecation warning, and runs a list naming only itself; the
//! other director, in unicast mode, never hears it and both become MASTER. Both are errors here,
//! at the line of the `unicast_peer` block.

use std::net::IpAddr;
use std::path::Path;

use vigil_config::{parse_str, Host, Options, Parsed, Severity};

/// A director whose eth0 carries 192.0.2.1.
struct Director;

impl Host for Director {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "lo" | "eth0")
    }
    fn local_addresses(&self) -> Vec<IpAddr> {
        vec!["127.0.0.1".parse().expect("literal"), "192.0.2.1".parse().expect("literal")]
    }
    fn executable(&self, _: &Path) -> Option<bool> {
        Some(true)
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "root"
    }
}

fn parse(unicast: &str) -> Parsed {
    let text = format!(
        "vrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 100\n{unicast}\n \
         virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n"
    );
    parse_str("keepalived.conf", &text, &Options::default(), Some(&Director))
}

/// The errors, as `line code`.
fn errors(p: &Parsed) -> Vec<String> {
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {}", d.span.line, d.code))
        .collect()
}

#[test]
fn an_empty_peer_list_is_an_error_not_multicast() {
    assert_eq!(errors(&parse(" unicast_src_ip 192.0.2.1\n unicast_peer {\n }")), ["7 unicast-without-peer"]);
    assert_eq!(errors(&parse(" unicast_peer {\n }")), ["6 unicast-without-peer"]);
    assert_eq!(errors(&parse(" unicast_src_ip 192.0.2.1")), ["1 unicast-without-peer"]);
}

#[test]
fn a_list_of_only_this_director_is_an_error() {
    // The file copied from the other director unchanged: the peer is ourselves.
    let p = parse(" unicast_src_ip 192.0.2.1\n unicast_peer {\n  192.0.2.1\n }");
    assert_eq!(errors(&p), ["7 unicast-self-only"]);
    let p = parse(" unicast_peer {\n  192.0.2.1\n }");
    assert_eq!(errors(&p), ["6 unicast-self-only"]);
    let message = &p.diagnostics.iter().find(|d| d.code == "unicast-self-only").expect("reported").message;
    assert!(message.contains("(192.0.2.1)"), "{message}");
}

#[test]
fn a_list_with_another_router_is_fine() {
    assert!(errors(&parse(" unicast_src_ip 192.0.2.1\n unicast_peer {\n  192.0.2.2\n }")).is_empty());
    // Both directors listed in a file shared by both: ourselves is skipped when sending.
    assert!(errors(&parse(" unicast_peer {\n  192.0.2.1\n  192.0.2.2\n }")).is_empty());
}
