//! `vigilctl drain [VIP]` and `vigilctl undrain [VIP]`: a VIP's route announcement withdrawn
//! (docs/scale-out.md) while the director goes on serving the flows it has, and how many of
//! those the IPVS table still counts.

use std::net::IpAddr;

use serde_json::{json, Value};
use vigil_ipvs::{DestEntry, ServiceEntry, ServiceKey};

/// The control-socket line that drains `vip` (every VIP when `None`).
pub fn drain(vip: Option<IpAddr>) -> String {
    format!("maintenance {}", json!({"op": "drain", "vip": vip}))
}

/// The control-socket line that ends the drain of `vip` (every drain when `None`).
pub fn undrain(vip: Option<IpAddr>) -> String {
    format!("maintenance {}", json!({"op": "undrain", "vip": vip}))
}

/// What the daemon now keeps drained, from its answer.
pub fn render_drained(answer: &Value) -> String {
    let drained: Vec<String> = answer["state"]["drained"]
        .as_array()
        .map(|list| list.iter().map(|d| d["vip"].as_str().unwrap_or("every VIP").to_string()).collect())
        .unwrap_or_default();
    if drained.is_empty() {
        "drained: nothing\n".into()
    } else {
        format!("drained: {}\n", drained.join(", "))
    }
}

/// The connections IPVS still holds on the services of `vip` (all when `None`): active and
/// inactive, summed over their real servers, one line per service and a total.
pub fn remaining(vip: Option<IpAddr>, table: &[(ServiceEntry, Vec<DestEntry>)]) -> String {
    let mut out = String::new();
    let (mut active, mut inactive) = (0u64, 0u64);
    for (s, dests) in table {
        let ServiceKey::Addr { addr, .. } = s.service.key else { continue };
        if vip.is_some_and(|v| v != addr) {
            continue;
        }
        let a: u64 = dests.iter().map(|d| u64::from(d.active_conns)).sum();
        let i: u64 = dests.iter().map(|d| u64::from(d.inactive_conns)).sum();
        out.push_str(&format!("  {}: {a} active, {i} inactive connection(s)\n", s.service.key));
        active += a;
        inactive += i;
    }
    out.push_str(&format!("remaining: {active} active, {inactive} inactive connection(s)\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_ipvs::{Dest, DestKey, Forwarding, Protocol, Service, Stats};

    #[test]
    fn requests_and_remaining_connections() {
        assert_eq!(drain(None), r#"maintenance {"op":"drain","vip":null}"#);
        assert_eq!(undrain(Some(IpAddr::from([10, 0, 0, 1]))), r#"maintenance {"op":"undrain","vip":"10.0.0.1"}"#);
        let service = |last: u8| {
            let key = ServiceKey::Addr { protocol: Protocol::Tcp, addr: IpAddr::from([10, 0, 0, last]), port: 80 };
            ServiceEntry { service: Service::new(key, "mh"), stats: Stats::default() }
        };
        let dest = |active, inactive| DestEntry {
            dest: Dest::new(DestKey { addr: IpAddr::from([10, 0, 1, 1]), port: 80 }, Forwarding::DirectRoute, 1),
            active_conns: active,
            inactive_conns: inactive,
            persistent_conns: 0,
            stats: Stats::default(),
        };
        let table = vec![(service(1), vec![dest(3, 1), dest(2, 0)]), (service(2), vec![dest(7, 7)])];
        assert_eq!(
            remaining(Some(IpAddr::from([10, 0, 0, 1])), &table),
            "  [10.0.0.1]:tcp:80: 5 active, 1 inactive connection(s)\nremaining: 5 active, 1 inactive connection(s)\n"
        );
        assert!(remaining(None, &table).ends_with("remaining: 12 active, 8 inactive connection(s)\n"));
        let answer = json!({"state": {"drained": [{"vip": null, "since": 1.0}]}});
        assert_eq!(render_drained(&answer), "drained: every VIP\n");
    }
}
