//! The `PROCESS_priority`, `PROCESS_rt_priority` and `PROCESS_rlimit_rttime` keywords act on
//! the thread that does that process's work (root only, in a network namespace of its own;
//! skipped otherwise): BFD's thread runs SCHED_RR at `bfd_rt_priority` with keepalived's
//! RLIMIT_RTTIME's warning point, VRRP's at `vrrp_priority`'s nice value, and neither leaks
//! into the other; a reload applies the new settings, as keepalived's processes reapply theirs.

mod support;

use support::lab::{ask, wait_until, Lab};

/// A thread of `pid` by name (the main thread: `None`): its nice value, real-time priority
/// and policy (/proc's stat).
fn thread(pid: nix::unistd::Pid, name: Option<&str>) -> Option<(i64, i64, i64)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let wanted = match name {
            Some(name) => comm.trim_end() == name,
            None => task.file_name().to_str() == Some(&pid.to_string()),
        };
        if !wanted {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        let fields: Vec<i64> = stat.rsplit_once(") ")?.1.split(' ').map(|f| f.parse().unwrap_or(-1)).collect();
        // Fields 19, 40 and 41 of proc(5), counted from the state (field 3).
        return Some((fields[16], fields[37], fields[38]));
    }
    None
}

const SCHED_OTHER: i64 = 0;
const SCHED_RR: i64 = 2;

#[test]
fn bfd_runs_real_time_and_vrrp_at_its_nice_value() {
    let Some(mut lab) = Lab::new("sched") else { return };
    let pid = lab.start(
        "global_defs {\n bfd_rt_priority 10\n bfd_rlimit_rttime 50000\n vrrp_priority -3\n vrrp_rt_priority 20\n}\n\
         bfd_instance peer {\n neighbor_ip 192.0.2.2\n}\n\
         vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    );
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    wait_until("the bfd thread", || thread(pid, Some("bfd")).is_some());
    assert_eq!(
        thread(pid, Some("bfd")),
        Some((0, 10, SCHED_RR)),
        "BFD: SCHED_RR 10, the nice value vigild started with"
    );
    assert_eq!(thread(pid, None), Some((-3, 0, SCHED_OTHER)), "VRRP: nice -3, not real-time");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let rttime = limits.lines().find(|l| l.starts_with("Max realtime timeout")).expect("the RLIMIT_RTTIME line");
    let words: Vec<&str> = rttime.split_whitespace().collect();
    assert_eq!(words[3..6], ["25000", "unlimited", "us"], "half the limit warns; no hard limit: {rttime}");
    assert!(lab.log().contains("vrrp_rt_priority is not acted on"), "{}", lab.log());

    // Both settings gone: a reload gives both threads back vigild's start.
    std::fs::write(
        lab.dir.join("keepalived.conf"),
        "bfd_instance peer {\n neighbor_ip 192.0.2.2\n}\n\
         vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    )
    .expect("the new configuration");
    let reload: serde_json::Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    wait_until("BFD back to SCHED_OTHER", || thread(pid, Some("bfd")) == Some((0, 0, SCHED_OTHER)));
    assert_eq!(thread(pid, None), Some((0, 0, SCHED_OTHER)), "VRRP back to nice 0");
}

/// Scripts do not run at the nice value of the thread that starts them: a notify script and a
/// vrrp_script started by VRRP's thread at `vrrp_priority -3` run at the value vigild started
/// with, as keepalived's children do.
#[test]
fn scripts_run_at_the_nice_value_vigild_started_with() {
    let Some(mut lab) = Lab::new("nice") else { return };
    let script = lab.dir.join("nice.sh");
    // Its own nice value (field 19 of /proc's stat), after a moment: vigild resets it just
    // after the start.
    std::fs::write(
        &script,
        "#!/bin/sh\nout=\"$0.$1\"\nsleep 0.2\nset -- $(cat /proc/$$/stat)\necho \"${19}\" > \"$out\"\n",
    )
    .expect("the script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let s = script.display();
    let pid = lab.start(&format!(
        "global_defs {{\n vrrp_priority -3\n}}\n\
         vrrp_script chk {{\n script \"{s} chk\"\n interval 1\n}}\n\
         vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n track_script {{\n  chk\n }}\n \
         notify_master \"{s} master\"\n}}\n"
    ));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert_eq!(thread(pid, None).map(|t| t.0), Some(-3), "VRRP's thread runs at nice -3");
    let nice_of = |which: &str| std::fs::read_to_string(format!("{s}.{which}")).ok().map(|n| n.trim().to_string());
    wait_until("both scripts ran", || nice_of("chk").is_some() && nice_of("master").is_some());
    assert_eq!((nice_of("chk"), nice_of("master")), (Some("0".into()), Some("0".into())), "{}", lab.log());
}
