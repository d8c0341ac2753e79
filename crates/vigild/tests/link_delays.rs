//! `interface_up_down_delays` (root only, in a network namespace; skipped otherwise): a link
//! that flaps for less than the down delay moves nothing, one that stays down is acted on
//! after it, and a delay of two advert intervals or more is cut to just under that, as
//! keepalived 2.2.7 does.

mod support;

use std::time::Instant;

use support::lab::{wait_until, Lab};

fn conf(down: &str) -> String {
    format!(
        "interface_up_down_delays {{\n eth0 {down} 0.2\n}}\n\
         vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         advert_int 1\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n"
    )
}

fn state(lab: &Lab) -> String {
    lab.status()["vrrp"][0]["state"].as_str().unwrap_or_default().to_string()
}

#[test]
fn short_flaps_are_ignored_and_long_ones_acted_on_after_the_delay() {
    let Some(mut lab) = Lab::new("delays") else { return };
    lab.start(&conf("1.5"));
    wait_until("MASTER", || state(&lab) == "MASTER");

    // The peer end down takes eth0's carrier: a link-down event for eth0.
    assert!(lab.ip(&["link", "set", "eth0-peer", "down"]));
    wait_until("the change held", || lab.log().contains("eth0: link down, acted on in"));
    assert!(lab.ip(&["link", "set", "eth0-peer", "up"]));
    wait_until("the timer cancelled", || lab.log().contains("Delay timer for eth0 cancelled"));
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(state(&lab), "MASTER", "a flap shorter than the delay moves nothing");
    assert!(!lab.log().contains("Entering FAULT STATE"), "{}", lab.log());

    let down = Instant::now();
    assert!(lab.ip(&["link", "set", "eth0-peer", "down"]));
    wait_until("FAULT", || state(&lab) == "FAULT");
    eprintln!("FAULT {:.2} s after the link went down (down delay 1.5 s)", down.elapsed().as_secs_f64());
    assert!(lab.ip(&["link", "set", "eth0-peer", "up"]));
    wait_until("MASTER again", || state(&lab) == "MASTER");
    lab.stop();

    lab.start(&conf("5"));
    wait_until("MASTER", || state(&lab) == "MASTER");
    assert!(
        lab.log().contains("(VI_1) interface eth0 debounce timer(s) not less that 2 * advert_int - resetting"),
        "{}",
        lab.log()
    );
}
