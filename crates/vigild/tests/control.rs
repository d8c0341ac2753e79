//! A running vigild (VRRP only, in a network namespace of its own; root only, skipped
//! otherwise) answers on its control socket: the status document follows
//! docs/status.schema.json, the metrics are Prometheus text, a reload of an unchanged file
//! keeps the instance as it is, SIGUSR2 writes the statistics, and SIGTERM removes the VIP
//! and ends with status 0. With `vrrp_strict`, Accept_Mode off is said once and shown.

mod support;

use serde_json::Value;
use support::lab::{ask, wait_until, Lab};
use support::schema::violations;

#[test]
fn a_running_vigild_answers_on_its_control_socket() {
    let Some(mut lab) = Lab::new("ctl") else { return };
    let pid = lab.start(
        "global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n state MASTER\n interface eth0\n \
         virtual_router_id 51\n priority 150\n advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    );
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert!(lab.has_vip());

    let schema: Value =
        serde_json::from_str(include_str!("../../../docs/status.schema.json")).expect("the schema parses");
    let doc = lab.status();
    let mut out = Vec::new();
    violations(&schema, &doc, "$", &mut out);
    assert!(out.is_empty(), "{out:#?}\n{doc:#}");
    assert_eq!(doc["vrrp"][0]["vips"][0], "192.0.2.100");
    assert_eq!(doc["vrrp"][0]["master"], "192.0.2.1");
    assert!(doc["ipvs"].is_null(), "-P: no IPVS part");
    // keepalived #2339: vrrp_strict turns Accept_Mode off; said once at start and in the status.
    assert_eq!(doc["vrrp"][0]["accept_mode"], false);
    let log = lab.log();
    assert_eq!(log.matches("Accept_Mode is off (vrrp_strict or no_accept)").count(), 1, "{log}");

    let metrics = ask(&lab.socket(), "metrics");
    assert!(metrics.lines().any(|l| l == "vigil_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 1"), "{metrics}");

    let sent = doc["vrrp"][0]["transitions"].clone();
    let reload: Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    assert_eq!(reload["vrrp"]["kept"][0], "VI_1", "{reload}");
    let after = lab.status();
    assert_eq!(after["vrrp"][0]["transitions"], sent, "a reload of the same file changes no state");
    violations(&schema, &after, "$", &mut out);
    assert!(out.is_empty(), "{out:#?}");

    let stats = ask(&lab.socket(), "stats");
    assert!(stats.starts_with("VRRP Instance: VI_1\n  Advertisements:\n"), "{stats}");
    assert!(ask(&lab.socket(), "nonsense").starts_with("error: unknown command"));

    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}");
    assert!(!lab.has_vip(), "the VIP is gone after SIGTERM");
    assert!(!lab.socket().exists(), "the socket file is removed");
}
