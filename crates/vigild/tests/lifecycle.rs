//! What a running vigild does around its start and stop (root only, in a network namespace of
//! its own; skipped otherwise): `startup_script` runs once before anything starts, not again on
//! a reload; `static_ipaddress` is on its interface whatever the instance's state, comes back
//! when deleted, and is removed at stop; `shutdown_script` runs once after everything stopped.

mod support;

use serde_json::Value;
use support::lab::{ask, wait_until, Lab};

/// A script that appends `WHAT vip=N static=N` to `marks`: how many of the VIP and the static
/// address eth0 carries when it runs.
fn marker(lab: &Lab, what: &str) -> String {
    let path = lab.dir.join(format!("{what}.sh"));
    let marks = lab.dir.join("marks");
    let body = format!(
        "#!/bin/sh\na=$(ip -o addr show dev eth0)\n\
         v=$(printf '%s\\n' \"$a\" | grep -c ' 192.0.2.100/')\n\
         s=$(printf '%s\\n' \"$a\" | grep -c ' 192.0.2.77/')\n\
         echo \"{what} vip=$v static=$s\" >> {}\n",
        marks.display()
    );
    std::fs::write(&path, body).expect("the script");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("executable");
    path.display().to_string()
}

fn has_static(lab: &Lab) -> bool {
    let out = std::process::Command::new("ip").args(["-n", &lab.ns, "-o", "addr", "show", "dev", "eth0"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).contains(" 192.0.2.77/24 ")).unwrap_or(false)
}

#[test]
fn startup_and_shutdown_scripts_and_static_addresses() {
    let Some(mut lab) = Lab::new("life") else { return };
    let (startup, shutdown) = (marker(&lab, "startup"), marker(&lab, "shutdown"));
    let pid = lab.start(&format!(
        "global_defs {{\n script_user root\n enable_script_security\n startup_script {startup}\n \
         shutdown_script {shutdown}\n shutdown_script_timeout 5\n}}\n\
         static_ipaddress {{\n 192.0.2.77/24 dev eth0\n}}\n\
         vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n"
    ));
    let marks = || std::fs::read_to_string(lab.dir.join("marks")).unwrap_or_default();
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");
    assert_eq!(marks(), "startup vip=0 static=0\n", "the startup script ran once, before anything");
    assert!(has_static(&lab));

    // Deleted behind vigild's back: put back.
    assert!(lab.ip(&["addr", "del", "192.0.2.77/24", "dev", "eth0"]));
    wait_until("the static address back", || has_static(&lab));
    assert!(lab.log().contains("Restoring deleted static address 192.0.2.77/24 dev eth0"), "{}", lab.log());

    let reload: Value = serde_json::from_str(&ask(&lab.socket(), "reload")).expect("the outcome is JSON");
    assert_eq!(reload["ok"], true, "{reload}");
    assert_eq!(marks(), "startup vip=0 static=0\n", "a reload runs no startup script");
    assert!(has_static(&lab), "a reload of the same file keeps the static address");

    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        marks(),
        "startup vip=0 static=0\nshutdown vip=0 static=0\n",
        "the shutdown script ran once, after the VIP and the static address were removed"
    );
    assert!(!has_static(&lab) && !lab.has_vip());
    let log = lab.log();
    let (running, stopped) = (log.find("Running shutdown script"), log.find("Stopped Vigil"));
    assert!(running.is_some() && running < stopped, "{log}");
}
