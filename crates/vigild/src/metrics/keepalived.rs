//! The names of the two Prometheus exporters written for keepalived, so their dashboards and
//! alerts read Vigil unchanged:
//!
//! - keepalived-exporter (hyphen): `keepalived_vrrp_state` and the `keepalived_*_total`
//!   counters, labelled `iname`, `intf`, `vrid`;
//! - keepalived_exporter (underscore): the `keepalived_vrrp_*` counters without a `_total`
//!   suffix, labelled `name`, `intf`, `vrid`, `state`, and the `keepalived_lvs_*` counters.
//!
//! Each value comes from the status document. The exporters' metrics that the document has no
//! value for (the `keepalived_lvs_*` counters, the script states, the excluded VIPs, the error
//! counters Vigil does not keep apart) are left out rather than written as 0; docs/status.md
//! lists them.

use prometheus_client::encoding::DescriptorEncoder;

use super::{counters, gauges, untyped, Labels};
use crate::status::{Document, InstanceStatus};

/// keepalived's number for a state, as its JSON dump and the exporters write it.
fn state_number(state: &str) -> u8 {
    match state {
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 0,
    }
}

/// A VRRP counter of keepalived's statistics, under the names the two exporters give it.
struct Stat {
    /// keepalived-exporter's name.
    total: &'static str,
    /// keepalived_exporter's name.
    bare: &'static str,
    help: &'static str,
    value: fn(&InstanceStatus) -> u64,
}

fn drops(i: &InstanceStatus, reason: &str) -> u64 {
    i.drops.get(reason).copied().unwrap_or(0)
}

/// The counters the document has a value for, in keepalived-exporter's order. Vigil counts
/// every malformed advert (short, bad version, type or checksum) as one reason, reported as
/// keepalived's packet length errors, and a wrong password or authentication type as one,
/// reported as its authentication failures, as the JSON dump does.
const STATS: [Stat; 9] = [
    Stat {
        total: "keepalived_advertisements_received_total",
        bare: "keepalived_vrrp_advert_rcvd",
        help: "Advertisements received",
        value: |i| i.adverts_received,
    },
    Stat {
        total: "keepalived_advertisements_sent_total",
        bare: "keepalived_vrrp_advert_sent",
        help: "Advertisements sent",
        value: |i| i.adverts_sent,
    },
    Stat {
        total: "keepalived_become_master_total",
        bare: "keepalived_vrrp_become_master",
        help: "Became master",
        value: |i| i.became_master,
    },
    Stat {
        total: "keepalived_release_master_total",
        bare: "keepalived_vrrp_release_master",
        help: "Released master",
        value: |i| i.released_master,
    },
    Stat {
        total: "keepalived_packet_length_errors_total",
        bare: "keepalived_vrrp_packet_len_err",
        help: "Packet length errors",
        value: |i| drops(i, "malformed"),
    },
    Stat {
        total: "keepalived_advertisements_interval_errors_total",
        bare: "keepalived_vrrp_advert_interval_err",
        help: "Advertisement interval errors",
        value: |i| drops(i, "advert_interval"),
    },
    Stat {
        total: "keepalived_ip_ttl_errors_total",
        bare: "keepalived_vrrp_ip_ttl_err",
        help: "TTL errors",
        value: |i| drops(i, "bad_ttl"),
    },
    Stat {
        total: "keepalived_address_list_errors_total",
        bare: "keepalived_vrrp_addr_list_err",
        help: "Address list errors",
        value: |i| drops(i, "address_list"),
    },
    Stat {
        total: "keepalived_authentication_failure_total",
        bare: "keepalived_vrrp_auth_failure",
        help: "Authentication failure",
        value: |i| drops(i, "auth_mismatch"),
    },
];

/// Writes every `keepalived_*` family.
pub(super) fn encode(doc: &Document, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
    // The daemon answered the scrape: it is up. (The exporters write 0 when keepalived does
    // not answer their signal; a vigild that does not answer has no scrape at all.)
    gauges::<u32>(encoder, "keepalived_up", "Status", [(Labels::new(), 1)])?;
    let common = |i: &InstanceStatus| -> Labels {
        vec![("iname", i.name.clone()), ("intf", i.interface.clone()), ("vrid", i.vrid.to_string())]
    };
    for stat in &STATS {
        counters(encoder, stat.total, stat.help, doc.vrrp.iter().map(|i| (common(i), (stat.value)(i))))?;
    }
    // One series per VIP, as keepalived-exporter writes it, and one with an empty address for
    // an instance without VIPs. The document has the VIP's address without its prefix length
    // or device: `ip_address` is the bare address and `intf` the instance's interface.
    gauges::<u32>(
        encoder,
        "keepalived_vrrp_state",
        "State of vrrp",
        doc.vrrp.iter().flat_map(|i| {
            let addresses: Vec<String> =
                if i.vips.is_empty() { vec![String::new()] } else { i.vips.iter().map(ToString::to_string).collect() };
            addresses.into_iter().map(move |a| {
                let mut labels = common(i);
                labels.push(("ip_address", a));
                (labels, state_number(&i.state).into())
            })
        }),
    )?;
    let named = |i: &InstanceStatus| -> Labels {
        vec![
            ("name", i.name.clone()),
            ("intf", i.interface.clone()),
            ("vrid", i.vrid.to_string()),
            ("state", i.state.clone()),
        ]
    };
    for stat in &STATS {
        untyped(encoder, stat.bare, stat.help, doc.vrrp.iter().map(|i| (named(i), (stat.value)(i))))?;
    }
    Ok(())
}
