//! keepalived 2.2.7's tracking rules for sync groups, as the model hands them to the daemon:
//! the group's lines apply to every member; a member's weighted trackers are dropped (or made
//! unweighted) unless the group has `sync_group_tracking_weight`; a member owning its
//! addresses clears the group's weights.

use vigil_config::{parse_str, Options};

/// A tracked item's name and weight.
type Line = (String, Option<i32>);

/// Each instance's name and its scripts then interfaces, as the daemon gets them.
fn lists(group_extra: &str, vi1_extra: &str, vi2_priority: u8) -> Vec<(String, Vec<Line>)> {
    let text = format!(
        "vrrp_script chk {{\n script /bin/true\n weight -20\n}}\n\
         vrrp_script other {{\n script /bin/true\n}}\n\
         vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n{group_extra}}}\n\
         vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n priority 100\n{vi1_extra} virtual_ipaddress {{\n 192.0.2.10\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 2\n priority {vi2_priority}\n virtual_ipaddress {{\n 192.0.2.11\n }}\n}}\n"
    );
    let config = parse_str("k.conf", &text, &Options::default(), None).config;
    config
        .instances
        .iter()
        .map(|i| {
            let tracks = i.track_script.iter().chain(&i.track_interface).map(|t| (t.name.clone(), t.weight)).collect();
            (i.name.clone(), tracks)
        })
        .collect()
}

fn t(name: &str, w: Option<i32>) -> Line {
    (name.to_string(), w)
}

#[test]
fn the_group_rules() {
    // The group's script applies to both members.
    let got = lists(" track_script {\n other\n }\n", "", 100);
    assert_eq!(got[0].1, vec![t("other", None)]);
    assert_eq!(got[1].1, vec![t("other", None)]);
    // A member's weighted script (its definition's weight) is dropped without
    // sync_group_tracking_weight, kept with it.
    assert_eq!(lists("", " track_script {\n chk\n }\n", 100)[0].1, vec![]);
    assert_eq!(lists(" sync_group_tracking_weight\n", " track_script {\n chk\n }\n", 100)[0].1, vec![t("chk", None)]);
    // A weighted tracked interface becomes unweighted.
    assert_eq!(lists("", " track_interface {\n eth1 weight 10\n }\n", 100)[0].1, vec![t("eth1", Some(0))]);
    // On both lists: once, with the group's weight unless the member's line is unweighted.
    let both = lists(
        " sync_group_tracking_weight\n track_script {\n other weight -5\n }\n",
        " track_script {\n other weight -7\n }\n",
        100,
    );
    assert_eq!(both[0].1, vec![t("other", Some(-5))]);
    // A member owning its addresses clears the group's weights.
    let owner = lists(" sync_group_tracking_weight\n track_script {\n other weight -5\n }\n", "", 255);
    assert_eq!(owner[0].1, vec![t("other", Some(0))]);
}
