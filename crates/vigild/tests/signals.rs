//! keepalived's signals, by keepalived's numbers (`keepalived --signum=NAME`): the JSON signal
//! writes keepalived.json in keepalived 2.2.7's layout, STATS_CLEAR writes the stats dump and
//! zeroes the counters, and no other real-time signal ends the daemon (their default action).
//! The dumps go to `TMPDIR`, as keepalived's, here the test's own directory. Root only,
//! skipped otherwise.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use support::lab::{ask, wait_until, Lab};

/// keepalived 2.2.7's numbers on glibc: JSON is SIGRTMIN+2, STATS_CLEAR SIGRTMAX-1.
const JSON: i32 = 36;
const STATS_CLEAR: i32 = 63;
const STATS: i32 = 12;

/// The keys keepalived 2.2.7 writes in every instance's `stats` object (in order, though
/// `Value` sorts them).
const STATS_KEYS: [&str; 14] = [
    "advert_rcvd",
    "advert_sent",
    "become_master",
    "release_master",
    "packet_len_err",
    "advert_interval_err",
    "ip_ttl_err",
    "invalid_type_rcvd",
    "addr_list_err",
    "invalid_authtype",
    "authtype_mismatch",
    "auth_failure",
    "pri_zero_rcvd",
    "pri_zero_sent",
];

/// The keys keepalived 2.2.7 writes in every `data` object whatever the configuration (the
/// others only when set).
const DATA_KEYS: [&str; 33] = [
    "iname",
    "dont_track_primary",
    "skip_check_adv_addr",
    "strict_mode",
    "vmac_ifname",
    "ifp_ifname",
    "master_priority",
    "last_transition",
    "garp_delay",
    "garp_refresh",
    "garp_rep",
    "garp_refresh_rep",
    "garp_lower_prio_delay",
    "garp_lower_prio_rep",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "vrid",
    "base_priority",
    "effective_priority",
    "vipset",
    "promote_secondaries",
    "adver_int",
    "master_adver_int",
    "accept",
    "nopreempt",
    "preempt_delay",
    "state",
    "wantstate",
    "version",
    "smtp_alert",
    "notify_deleted",
    "vips",
    "auth_type",
];

/// Sends signal number `sig` (real-time ones have no [`Signal`] variant).
fn send(pid: Pid, sig: i32) {
    let status = Command::new("kill").args(["-s", &sig.to_string(), &pid.to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -s {sig} {pid}");
}

/// Removes `file`, sends `sig` and waits for the file to be written anew.
fn dump(pid: Pid, sig: i32, file: &Path) -> String {
    let _ = std::fs::remove_file(file);
    send(pid, sig);
    wait_until(&format!("{} after signal {sig}", file.display()), || file.exists());
    std::fs::read_to_string(file).expect("the dump reads")
}

/// An object's keys, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn sorted<const N: usize>(mut keys: [&'static str; N]) -> [&'static str; N] {
    keys.sort_unstable();
    keys
}

fn alive(lab: &mut Lab) -> bool {
    lab.daemon.as_mut().expect("started").try_wait().expect("its status").is_none()
}

#[test]
fn json_and_stats_clear_signals() {
    let Some(mut lab) = Lab::new("signals") else {
        eprintln!("SKIP json_and_stats_clear_signals: needs root, iproute2 and network namespaces");
        return;
    };
    let tmp: PathBuf = lab.dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("the dump directory");
    let conf = lab.dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         version 3\n advert_int 0.1\n notify_master \"/bin/true master\"\n \
         virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    )
    .expect("the configuration");
    let log = std::fs::File::create(lab.dir.join("vigild.log")).expect("a log file");
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.ns, env!("CARGO_BIN_EXE_vigild"), "-n", "-l", "-P", "-f"])
        .arg(&conf)
        .arg("--control-socket")
        .arg(lab.socket())
        .env("TMPDIR", &tmp)
        .stdout(log.try_clone().expect("the log"))
        .stderr(log)
        .spawn()
        .expect("vigild starts");
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    lab.daemon = Some(child);
    wait_until("the control socket", || std::os::unix::net::UnixStream::connect(lab.socket()).is_ok());
    wait_until("MASTER with adverts sent", || {
        let doc = lab.status();
        doc["vrrp"][0]["state"] == "MASTER" && doc["vrrp"][0]["adverts_sent"].as_u64().unwrap_or(0) >= 5
    });

    // JSON: keepalived's layout, an array of {"data", "stats"}, before any clearing.
    let text = dump(pid, JSON, &tmp.join("keepalived.json"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let entries = doc.as_array().expect("an array");
    assert_eq!(entries.len(), 1, "{doc}");
    assert_eq!(keys(&entries[0]), ["data", "stats"]);
    let data = &entries[0]["data"];
    let data_keys = keys(data);
    let always: Vec<&str> = data_keys.iter().copied().filter(|k| DATA_KEYS.contains(k)).collect();
    assert_eq!(always, sorted(DATA_KEYS), "{data}");
    let optional: Vec<&str> = data_keys.iter().copied().filter(|k| !DATA_KEYS.contains(k)).collect();
    assert_eq!(optional, ["script_master"], "only the scripts and lists configured: {data}");
    assert_eq!(keys(&entries[0]["stats"]), sorted(STATS_KEYS));
    assert_eq!(data["iname"], "VI_1");
    assert_eq!((data["vrid"].as_u64(), data["state"].as_u64(), data["version"].as_u64()), (Some(51), Some(2), Some(3)));
    assert_eq!(data["vipset"], true);
    assert_eq!(data["vips"], serde_json::json!(["192.0.2.100/24 dev eth0 scope global set"]));
    assert_eq!(data["adver_int"].as_f64(), Some(0.1));
    assert_eq!(entries[0]["stats"]["become_master"], 1);
    assert!(entries[0]["stats"]["advert_sent"].as_u64().unwrap_or(0) >= 5, "{doc}");

    // STATS_CLEAR writes the counters as they were, then zeroes them.
    let stats_file = tmp.join("keepalived.stats");
    let before = dump(pid, STATS_CLEAR, &stats_file);
    assert!(before.contains("  Became master: 1\n"), "{before}");
    let after = dump(pid, STATS, &stats_file);
    assert!(after.contains("  Became master: 0\n"), "cleared: {after}");
    let sent = |text: &str| -> u64 {
        let line = text.lines().find(|l| l.trim_start().starts_with("Sent: ")).expect("a Sent line");
        line.trim_start().trim_start_matches("Sent: ").parse().expect("a count")
    };
    assert!(sent(&after) < sent(&before), "{before}\n{after}");
    let cleared: Value = serde_json::from_str(&dump(pid, JSON, &tmp.join("keepalived.json"))).expect("JSON");
    assert_eq!(cleared[0]["stats"]["become_master"], 0);
    assert_eq!(cleared[0]["data"]["state"], 2, "still MASTER");

    // Every other real-time signal (glibc's SIGRTMIN to SIGRTMAX): ignored, as keepalived
    // ignores them. A signal whose default action ends the process ends it as it is sent, so
    // the control socket's answer after them is from a survivor.
    for sig in 34..=64 {
        if sig != JSON && sig != STATS_CLEAR {
            send(pid, sig);
        }
    }
    assert!(ask(&lab.socket(), "status").contains("\"MASTER\""), "{}", lab.log());
    assert!(alive(&mut lab), "{}", lab.log());

    let log = lab.log();
    for line in [
        "Printing VRRP as json for process(",
        "Printing and clearing VRRP stats for process(",
        "Printing VRRP stats for process(",
    ] {
        assert!(log.contains(line), "{line} in\n{log}");
    }
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}\n{}", lab.log());
}

/// SIGTERM in the middle of a reload stops vigild at once, with its VIP removed: the reload
/// here waits for ever, reading an included FIFO that nobody writes, as a reload of a very
/// large configuration keeps vigild busy. Before, the stop waited for the reload to end.
#[test]
fn sigterm_during_a_reload_stops() {
    let Some(mut lab) = Lab::new("termreload") else {
        eprintln!("SKIP sigterm_during_a_reload_stops: needs root, iproute2 and network namespaces");
        return;
    };
    let instance = "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 52\n priority 150\n \
                    advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n";
    let pid = lab.start(instance);
    wait_until("the VIP", || lab.has_vip());
    let fifo = lab.dir.join("never-written.conf");
    assert!(Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()), "mkfifo");
    std::fs::write(lab.dir.join("keepalived.conf"), format!("include {}\n{instance}", fifo.display()))
        .expect("the new configuration");
    kill(pid, Signal::SIGHUP).expect("SIGHUP");
    wait_until("the reload to begin", || lab.log().contains("Reloading"));
    assert!(alive(&mut lab), "{}", lab.log());
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    wait_until("vigild to end", || !alive(&mut lab));
    let status = lab.daemon.take().expect("started").wait().expect("its status");
    let log = lab.log();
    assert!(status.success(), "{status}: {log}");
    assert!(!log.contains("Reload finished"), "the reload never ended: {log}");
    assert!(log.contains("Stopping before the work under way was finished"), "{log}");
    assert!(!lab.has_vip(), "the VIP is removed at stop: {log}");
}
