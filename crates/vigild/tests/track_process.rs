//! `vrrp_track_process` (root only, in a network namespace; skipped otherwise): an instance
//! tracking a process goes to FAULT when it ends and back to MASTER when it runs again; a
//! weighted one moves the priority instead; both appear in the status's priority terms.

mod support;

use std::process::{Child, Command};

use support::lab::{wait_until, Lab};

/// `sleep ARG`, a process of its own whose command line the trackers name.
fn sleeper(arg: &str) -> Child {
    Command::new("sleep").arg(arg).spawn().expect("sleep starts")
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn process_trackers_move_the_state_and_the_priority() {
    let Some(mut lab) = Lab::new("tproc") else { return };
    let (must, weighted) = (format!("{}1", std::process::id()), format!("{}2", std::process::id()));
    let conf = format!(
        "vrrp_track_process must {{\n process sleep {must}\n terminate_delay 0.3\n}}\n\
         vrrp_track_process extra {{\n process sleep {weighted}\n weight -50\n}}\n\
         vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n track_process {{\n  must\n  extra\n }}\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n"
    );
    let first = sleeper(&must);
    lab.start(&conf);
    let vi = |lab: &Lab| lab.status()["vrrp"][0].clone();
    wait_until("MASTER", || vi(&lab)["state"] == "MASTER");
    wait_until("the weighted tracker down: 150 - 50", || vi(&lab)["effective_priority"] == 100);
    let terms = vi(&lab)["priority_terms"].to_string();
    assert!(terms.contains("process must") && terms.contains("process extra"), "{terms}");

    let second = sleeper(&weighted);
    wait_until("the weighted tracker up: 150", || vi(&lab)["effective_priority"] == 150);
    stop(first);
    wait_until("FAULT once the tracked process ended", || vi(&lab)["state"] == "FAULT");
    assert!(!lab.has_vip(), "no VIP in FAULT");
    let again = sleeper(&must);
    wait_until("MASTER again", || vi(&lab)["state"] == "MASTER");
    assert!(lab.log().contains("VRRP_Process(must): quorum lost"), "{}", lab.log());
    lab.stop();
    stop(second);
    stop(again);
}
