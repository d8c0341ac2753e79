//! keepalived's JSON dump (the signal `keepalived --signum=JSON` names): `keepalived.json` in the
//! dump directory, an array with one object per vrrp_instance, `{"data": {...}, "stats": {...}}`,
//! with keepalived 2.2.7's field names and JSON types (its vrrp_json.c), so that exporters and
//! scripts written for keepalived read Vigil's file unchanged. Keys keepalived writes only when
//! set (scripts, address lists, tracking lists, the interface, the password) are left out the
//! same way.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use vigil_config::model::{AuthType, Route, RouteKind, Rule, Scope, Script, VirtualAddress, VrrpInstance};
use vigil_config::Config;

use crate::status::InstanceStatus;

/// The file's name, in the same directory as the other dumps.
pub const FILE_NAME: &str = "keepalived.json";

/// One vrrp_instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub data: Data,
    pub stats: Stats,
}

/// The instance's settings and state, in keepalived's order. keepalived writes its flags
/// either as numbers (0/1) or as booleans; each keeps the type keepalived gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Data {
    pub iname: String,
    pub dont_track_primary: u32,
    pub skip_check_adv_addr: u32,
    pub strict_mode: u32,
    /// Empty without `use_vmac`.
    pub vmac_ifname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifp_ifname: Option<String>,
    /// The priority of the Master's adverts, as last heard; 0 before any.
    pub master_priority: u32,
    /// Seconds since the Unix epoch.
    pub last_transition: f64,
    /// Seconds.
    pub garp_delay: f64,
    /// Seconds.
    pub garp_refresh: u64,
    pub garp_rep: u32,
    pub garp_refresh_rep: u32,
    /// Seconds.
    pub garp_lower_prio_delay: u64,
    pub garp_lower_prio_rep: u32,
    pub lower_prio_no_advert: u32,
    pub higher_prio_send_advert: u32,
    pub vrid: u8,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// Whether the VIPs are on the interface.
    pub vipset: bool,
    pub promote_secondaries: bool,
    /// Seconds.
    pub adver_int: f64,
    /// Seconds.
    pub master_adver_int: f64,
    pub accept: u32,
    pub nopreempt: bool,
    /// Seconds.
    pub preempt_delay: u64,
    /// keepalived's numbers: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.
    pub state: u32,
    pub wantstate: u32,
    pub version: u8,
    pub smtp_alert: bool,
    pub notify_deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_backup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_master: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_fault: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_stop: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_deleted: Option<String>,
    /// The `notify` script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_master_rx_lower_pri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vroutes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vrules: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_ifp: Vec<String>,
    /// The tracked scripts' command lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_script: Vec<String>,
    /// 0 none, 1 PASS, 2 AH.
    pub auth_type: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_data: Option<String>,
}

/// keepalived's `vrrp_stats` counters, the ones the stats dump shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    pub advert_interval_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
}

/// The dump of every running instance that `config` defines, in the VRRP task's order.
pub fn entries(config: &Config, running: &[InstanceStatus]) -> Vec<Entry> {
    running
        .iter()
        .filter_map(|i| {
            let model = config.instances.iter().find(|m| m.name == i.name)?;
            Some(Entry { data: data(config, model, i), stats: stats(i) })
        })
        .collect()
}

/// The JSON text: compact, as keepalived writes it.
pub fn render(entries: &[Entry]) -> String {
    // Plain structs of numbers, strings and lists: serializing them cannot fail.
    serde_json::to_string(entries).expect("the dump serializes")
}

fn data(config: &Config, m: &VrrpInstance, i: &InstanceStatus) -> Data {
    let g = &config.global;
    let state = state_number(&i.state);
    let vipset = state == MASTER;
    let dev = i.interface.as_str();
    let track_script = m
        .track_script
        .iter()
        .filter_map(|t| config.vrrp_scripts.iter().find(|s| s.name == t.name))
        .filter_map(|s| s.script.as_ref().map(command))
        .collect();
    Data {
        iname: i.name.clone(),
        dont_track_primary: m.dont_track_primary.into(),
        skip_check_adv_addr: (m.skip_check_adv_addr || g.vrrp_skip_check_adv_addr).into(),
        strict_mode: m.strict_mode.unwrap_or(g.vrrp_strict).into(),
        vmac_ifname: i.vmac.clone().unwrap_or_default(),
        ifp_ifname: (!dev.is_empty()).then(|| dev.to_string()),
        master_priority: master_priority(i).into(),
        last_transition: i.since,
        garp_delay: m.garp_master_delay.as_secs_f64(),
        garp_refresh: m.garp_master_refresh.as_secs(),
        garp_rep: m.garp_master_repeat,
        garp_refresh_rep: m.garp_master_refresh_repeat,
        // Vigil has no separate lower-priority gratuitous ARP settings: keepalived's defaults
        // for them are the master ones.
        garp_lower_prio_delay: m.garp_master_delay.as_secs(),
        garp_lower_prio_rep: m.garp_master_repeat,
        lower_prio_no_advert: 0,
        higher_prio_send_advert: 0,
        vrid: i.vrid,
        base_priority: i.priority,
        effective_priority: i.effective_priority,
        vipset,
        promote_secondaries: false,
        adver_int: m.advert_int.as_secs_f64(),
        master_adver_int: m.advert_int.as_secs_f64(),
        accept: i.accept_mode.into(),
        nopreempt: m.nopreempt,
        preempt_delay: m.preempt_delay.as_secs(),
        state,
        wantstate: state,
        version: i.version,
        smtp_alert: m.smtp_alert.or(g.smtp_alert_vrrp).or(g.smtp_alert).unwrap_or(false),
        notify_deleted: m.notify.notify_deleted,
        script_backup: m.notify.backup.as_ref().map(command),
        script_master: m.notify.master.as_ref().map(command),
        script_fault: m.notify.fault.as_ref().map(command),
        script_stop: m.notify.stop.as_ref().map(command),
        script_deleted: m.notify.deleted.as_ref().map(command),
        script: m.notify.any.as_ref().map(command),
        script_master_rx_lower_pri: m.notify.master_rx_lower_pri.as_ref().map(command),
        vips: m.virtual_ipaddress.iter().map(|a| address(a, dev, vipset)).collect(),
        evips: m.virtual_ipaddress_excluded.iter().map(|a| address(a, dev, vipset)).collect(),
        vroutes: m.virtual_routes.iter().map(route).collect(),
        vrules: m.virtual_rules.iter().map(rule).collect(),
        // keepalived ignores a track_interface naming the instance's own interface.
        track_ifp: m.track_interface.iter().filter(|t| t.name != dev).map(|t| t.name.clone()).collect(),
        track_script,
        auth_type: match m.authentication.as_ref().map(|a| a.kind) {
            None => 0,
            Some(AuthType::Pass) => 1,
            Some(AuthType::Ah) => 2,
        },
        // keepalived writes the password too (the file is readable by root only).
        auth_data: m.authentication.as_ref().map(|a| a.pass.chars().take(8).collect()),
    }
}

/// keepalived's number for MASTER.
const MASTER: u32 = 2;

/// keepalived's state numbers (vrrp.h), from the state's name as the status document spells it.
fn state_number(state: &str) -> u32 {
    match state {
        "BACKUP" => 1,
        "MASTER" => MASTER,
        "FAULT" => 3,
        _ => 0,
    }
}

/// The priority of the Master heard while BACKUP; 0 otherwise (keepalived keeps the last
/// value it heard, Vigil does not record it).
fn master_priority(i: &InstanceStatus) -> u8 {
    let Some(master) = i.master else { return 0 };
    i.peers.iter().find(|p| p.address == master).and_then(|p| p.priority).unwrap_or(0)
}

fn stats(i: &InstanceStatus) -> Stats {
    let drop = |reason: &str| i.drops.get(reason).copied().unwrap_or(0);
    Stats {
        advert_rcvd: i.adverts_received,
        advert_sent: i.adverts_sent,
        become_master: i.became_master,
        release_master: i.released_master,
        packet_len_err: drop("malformed"),
        ip_ttl_err: drop("bad_ttl"),
        advert_interval_err: drop("advert_interval"),
        addr_list_err: drop("address_list"),
        // Vigil does not tell a wrong password from a wrong authentication type.
        auth_failure: drop("auth_mismatch"),
        ..Stats::default()
    }
}

/// keepalived's form of a command line: every word in single quotes.
fn command(script: &Script) -> String {
    script.argv.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ")
}

/// keepalived's form of a VIP: `192.0.2.100/24 dev eth0 scope global set`.
fn address(a: &VirtualAddress, dev: &str, set: bool) -> String {
    let mut s = format!("{}/{}", a.addr, a.prefix);
    if let Some(brd) = a.brd {
        s += &format!(" brd {brd}");
    }
    s += &format!(" dev {}", a.dev.as_deref().unwrap_or(dev));
    s += &format!(" scope {}", scope_name(a.scope.unwrap_or(Scope::Global)));
    if let Some(label) = &a.label {
        s += &format!(" label {label}");
    }
    if let Some((peer, prefix)) = a.peer {
        s += &format!(" peer {peer}/{prefix}");
    }
    for (on, word) in [(a.home, " home"), (a.nodad, " -nodad"), (a.noprefixroute, " noprefixroute"), (set, " set")] {
        if on {
            s += word;
        }
    }
    s
}

fn scope_name(scope: Scope) -> String {
    match scope {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "inet"
    } else {
        "inet6"
    }
}

/// keepalived's form of a route: `prepend 198.51.100.0/24 via inet 192.0.2.254 dev eth0`.
fn route(r: &Route) -> String {
    let mut s = String::from("prepend ");
    match r.kind {
        RouteKind::Unicast => {}
        RouteKind::Blackhole => s += "blackhole ",
        RouteKind::Unreachable => s += "unreachable ",
        RouteKind::Prohibit => s += "prohibit ",
        RouteKind::Throw => s += "throw ",
    }
    match r.dest {
        Some((ip, prefix)) => s += &format!("{ip}/{prefix}"),
        None => s += "default",
    }
    if let Some(src) = r.src {
        s += &format!(" src {src}");
    }
    if let Some(via) = r.via {
        s += &format!(" via {} {via}", family(via));
    }
    if let Some(dev) = &r.dev {
        s += &format!(" dev {dev}");
    }
    if let Some(table) = r.table {
        s += &format!(" table {table}");
    }
    if let Some(scope) = r.scope {
        s += &format!(" scope {}", scope.number());
    }
    if let Some(metric) = r.metric {
        s += &format!(" metric {metric}");
    }
    if r.onlink {
        s += " onlink";
    }
    if r.no_track {
        s += " no_track";
    }
    s
}

/// keepalived's form of a rule: `from 192.0.2.100 priority 100 tos 0x0 lookup 100`.
fn rule(r: &Rule) -> String {
    let mut s = match r.from {
        Some((ip, prefix)) => format!("from {}", net(ip, prefix)),
        None => "from all".into(),
    };
    if let Some((ip, prefix)) = r.to {
        s += &format!(" to {}", net(ip, prefix));
    }
    if let Some(p) = r.priority {
        s += &format!(" priority {p}");
    }
    s += " tos 0x0";
    if let Some(mark) = r.fwmark {
        s += &format!(" fwmark {mark:#x}");
    }
    if let Some(iif) = &r.iif {
        s += &format!(" iif {iif}");
    }
    if let Some(oif) = &r.oif {
        s += &format!(" oif {oif}");
    }
    if let Some(table) = r.table {
        s += &format!(" lookup {table}");
    }
    s
}

/// An address with its prefix length, the length left out for a single host as keepalived does.
fn net(ip: IpAddr, prefix: u8) -> String {
    let host = if ip.is_ipv4() { 32 } else { 128 };
    if prefix == host {
        ip.to_string()
    } else {
        format!("{ip}/{prefix}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use serde_json::Value;

    use super::*;
    use crate::status::PeerSeen;

    /// The configuration keepalived 2.2.7 ran for [`KEEPALIVED`] (in a network namespace with
    /// eth0 and eth1, `TMPDIR` set, `kill -s $(keepalived --signum=JSON)` to its pid).
    const CONF: &str = r#"global_defs {
    router_id sigexp
    enable_script_security
    script_user root
}
vrrp_script chk {
    script "/bin/true"
    interval 1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    track_interface {
        eth1
    }
    track_script {
        chk
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
    virtual_ipaddress_excluded {
        192.0.2.200/24
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254
    }
    virtual_rules {
        from 192.0.2.100 table 100
    }
    notify_master "/bin/true master"
    notify_backup "/bin/true backup"
    notify_fault "/bin/true fault"
    notify_stop "/bin/true stop"
    notify "/bin/true"
}
"#;

    /// keepalived 2.2.7's keepalived.json for [`CONF`], as Debian 12's build (configured with
    /// --enable-json) wrote it, byte for byte.
    const KEEPALIVED: &str = r#"[{"data":{"iname":"VI_1","dont_track_primary":0,"skip_check_adv_addr":0,"strict_mode":0,"vmac_ifname":"","ifp_ifname":"eth0","master_priority":0,"last_transition":1796511372.832757,"garp_delay":5,"garp_refresh":0,"garp_rep":5,"garp_refresh_rep":1,"garp_lower_prio_delay":5,"garp_lower_prio_rep":5,"lower_prio_no_advert":0,"higher_prio_send_advert":0,"vrid":51,"base_priority":150,"effective_priority":150,"vipset":true,"promote_secondaries":false,"adver_int":1,"master_adver_int":1,"accept":1,"nopreempt":false,"preempt_delay":0,"state":2,"wantstate":2,"version":2,"smtp_alert":false,"notify_deleted":false,"script_backup":"'\/usr\/bin\/true' 'backup'","script_master":"'\/usr\/bin\/true' 'master'","script_fault":"'\/usr\/bin\/true' 'fault'","script_stop":"'\/usr\/bin\/true' 'stop'","script":"'\/usr\/bin\/true'","vips":["192.0.2.100\/24 dev eth0 scope global set"],"evips":["192.0.2.200\/24 dev eth0 scope global set"],"vroutes":["prepend 198.51.100.0\/24 via inet 192.0.2.254 proto 18 no_track"],"vrules":["from 192.0.2.100 priority 16384 tos 0x0 protocol 18 lookup 100"],"track_ifp":["eth1"],"track_script":["'\/usr\/bin\/true'"],"auth_type":1,"auth_data":"secret"},"stats":{"advert_rcvd":0,"advert_sent":2,"become_master":1,"release_master":0,"packet_len_err":0,"advert_interval_err":0,"ip_ttl_err":0,"invalid_type_rcvd":0,"addr_list_err":0,"invalid_authtype":0,"authtype_mismatch":0,"auth_failure":0,"pri_zero_rcvd":0,"pri_zero_sent":0}}]"#;

    /// The shape of a JSON value: its keys at every level with the JSON type of each leaf (any number is a number: keepalived writes 5 where serde writes 5.0).
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                Value::Array(m.iter().map(|(k, v)| Value::Array(vec![k.clone().into(), shape(v)])).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
            Value::Number(_) => "number".into(),
            Value::String(_) => "string".into(),
            Value::Bool(_) => "bool".into(),
            Value::Null => "null".into(),
        }
    }

    fn status(state: &str) -> InstanceStatus {
        InstanceStatus {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            version: 2,
            state: state.into(),
            priority: 150,
            effective_priority: 150,
            // Ours: the status document names this router while MASTER.
            master: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            vips: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
            accept_mode: true,
            since: 1_796_511_372.5,
            last_transition: None,
            adverts_sent: 7,
            adverts_received: 3,
            became_master: 1,
            released_master: 2,
            transitions: 4,
            vips_restored: 0,
            conflicts: 0,
            drops: BTreeMap::from([
                ("bad_ttl".into(), 5),
                ("malformed".into(), 6),
                ("auth_mismatch".into(), 8),
                ("address_list".into(), 9),
                ("advert_interval".into(), 10),
            ]),
            peers: vec![PeerSeen {
                address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                priority: Some(200),
                last_seen: Some(1_796_511_373.0),
                checksum: None,
            }],
            priority_terms: Vec::new(),
            vmac: None,
        }
    }

    fn config() -> Config {
        let parsed = vigil_config::parse_str("keepalived.conf", CONF, &vigil_config::Options::default(), None);
        parsed.config
    }

    #[test]
    fn keepalived_dump_reads_into_the_structs_and_back() {
        // deny_unknown_fields: every key keepalived writes is a field, spelled the same; the
        // round trip writes the same keys with the same types.
        let parsed: Vec<Entry> = serde_json::from_str(KEEPALIVED).expect("keepalived's dump reads");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].data.iname, "VI_1");
        assert_eq!(parsed[0].data.track_script, vec!["'/usr/bin/true'".to_string()]);
        assert_eq!(parsed[0].stats.advert_sent, 2);
        let ours: Value = serde_json::from_str(&render(&parsed)).expect("ours reads");
        let theirs: Value = serde_json::from_str(KEEPALIVED).expect("theirs reads");
        assert_eq!(shape(&ours), shape(&theirs));
    }

    #[test]
    fn same_keys_as_keepalived_on_the_same_configuration() {
        let ours: Value = serde_json::from_str(&render(&entries(&config(), &[status("MASTER")]))).expect("ours reads");
        let theirs: Value = serde_json::from_str(KEEPALIVED).expect("theirs reads");
        assert_eq!(shape(&ours), shape(&theirs));
    }

    #[test]
    fn values_from_the_configuration_and_the_state() {
        let e = entries(&config(), &[status("MASTER")]).pop().expect("one instance");
        let d = &e.data;
        assert_eq!((d.vrid, d.base_priority, d.state, d.wantstate, d.version), (51, 150, 2, 2, 2));
        assert!(d.vipset);
        assert_eq!(d.ifp_ifname.as_deref(), Some("eth0"));
        assert_eq!((d.garp_delay, d.garp_rep, d.garp_refresh_rep), (5.0, 5, 1));
        assert_eq!(d.adver_int, 1.0);
        assert_eq!(d.last_transition, 1_796_511_372.5);
        assert_eq!(d.script_master.as_deref(), Some("'/bin/true' 'master'"));
        assert_eq!(d.script.as_deref(), Some("'/bin/true'"));
        assert_eq!(d.script_deleted, None);
        assert_eq!(d.vips, vec!["192.0.2.100/24 dev eth0 scope global set".to_string()]);
        assert_eq!(d.evips, vec!["192.0.2.200/24 dev eth0 scope global set".to_string()]);
        assert_eq!(d.vroutes, vec!["prepend 198.51.100.0/24 via inet 192.0.2.254".to_string()]);
        assert_eq!(d.vrules, vec!["from 192.0.2.100 tos 0x0 lookup 100".to_string()]);
        assert_eq!(d.track_ifp, vec!["eth1".to_string()]);
        assert_eq!(d.track_script, vec!["'/bin/true'".to_string()]);
        assert_eq!((d.auth_type, d.auth_data.as_deref()), (1, Some("secret")));
        // While MASTER no other Master is heard, though a peer with priority 200 was.
        assert_eq!(d.master_priority, 0);
        let expected = Stats {
            advert_rcvd: 3,
            advert_sent: 7,
            become_master: 1,
            release_master: 2,
            packet_len_err: 6,
            ip_ttl_err: 5,
            auth_failure: 8,
            addr_list_err: 9,
            advert_interval_err: 10,
            ..Stats::default()
        };
        assert_eq!(e.stats, expected);
    }

    #[test]
    fn the_vmac_is_the_one_chosen() {
        let mut on_vmac = status("MASTER");
        on_vmac.vmac = Some("vrrp1.51".into());
        assert_eq!(entries(&config(), &[on_vmac]).pop().expect("one instance").data.vmac_ifname, "vrrp1.51");
        assert_eq!(entries(&config(), &[status("MASTER")]).pop().expect("one instance").data.vmac_ifname, "");
    }

    #[test]
    fn a_backup_reports_its_master_and_no_vips_set() {
        let mut backup = status("BACKUP");
        backup.master = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        let d = entries(&config(), &[backup]).pop().expect("one instance").data;
        assert_eq!((d.state, d.master_priority, d.vipset), (1, 200, false));
        assert_eq!(d.vips, vec!["192.0.2.100/24 dev eth0 scope global".to_string()]);
        let fault = entries(&config(), &[status("FAULT")]).pop().expect("one instance").data;
        assert_eq!(fault.state, 3);
    }

    #[test]
    fn optional_keys_are_left_out_as_keepalived_does() {
        let conf =
            "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  192.0.2.9\n }\n}\n";
        let parsed = vigil_config::parse_str("keepalived.conf", conf, &vigil_config::Options::default(), None);
        let mut s = status("BACKUP");
        s.name = "VI_2".into();
        let ours: Value = serde_json::from_str(&render(&entries(&parsed.config, &[s]))).expect("ours reads");
        let data = ours[0]["data"].as_object().expect("an object");
        for gone in ["script_master", "script", "evips", "vroutes", "vrules", "track_ifp", "track_script", "auth_data"]
        {
            assert!(!data.contains_key(gone), "{gone} in {data:?}");
        }
        assert_eq!(data["vips"], serde_json::json!(["192.0.2.9/32 dev eth0 scope global"]));
        assert_eq!(data["auth_type"], 0);
        // An instance the configuration does not know (never the case while running) is left out.
        assert!(entries(&parsed.config, &[status("MASTER")]).is_empty());
    }
}
