//! What keepalived 2.2.7 changes in a virtual server after reading it, and Vigil with it:
//! a quorum above the real servers' total weight, a hysteresis not below the quorum, real and
//! sorry servers of the other address family.

use vigil_config::model::VirtualServer;
use vigil_config::{exit_code, parse_str, Options};

fn read(text: &str) -> (Vec<VirtualServer>, Vec<&'static str>, i32) {
    let parsed = parse_str("t.conf", text, &Options::default(), None);
    let codes = parsed.diagnostics.iter().map(|d| d.code).filter(|c| *c != "vs-address-unowned").collect();
    (
        parsed.config.virtual_servers.into_iter().map(std::sync::Arc::unwrap_or_clone).collect(),
        codes,
        exit_code(&parsed.diagnostics, false),
    )
}

const HEAD: &str = "virtual_server 192.0.2.10 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n";

#[test]
fn quorum_and_hysteresis_are_lowered_as_keepalived_lowers_them() {
    let rs = " real_server 198.51.100.21 80 {\n weight 2\n }\n real_server 198.51.100.22 80 {\n weight 1\n }\n}\n";
    let (vs, codes, exit) = read(&format!("{HEAD} quorum 5\n hysteresis 4\n{rs}"));
    assert_eq!((vs[0].quorum, vs[0].hysteresis), (3, 2));
    assert_eq!((codes, exit), (vec!["quorum-above-weights", "hysteresis-above-quorum"], 5));

    let (vs, codes, _) = read(&format!("{HEAD} hysteresis 1\n{rs}"));
    assert_eq!((vs[0].quorum, vs[0].hysteresis), (1, 0), "the default quorum 1 leaves no room for a hysteresis");
    assert_eq!(codes, vec!["hysteresis-above-quorum"]);

    let (vs, codes, exit) = read(&format!("{HEAD} quorum 3\n hysteresis 2\n{rs}"));
    assert_eq!((vs[0].quorum, vs[0].hysteresis, codes.len(), exit), (3, 2, 0, 0), "within the weights: untouched");
}

#[test]
fn servers_of_the_other_family_are_skipped_unless_tunnelled() {
    let (vs, codes, exit) = read(&format!(
        "{HEAD} sorry_server 2001:db8::9 80\n real_server 198.51.100.21 80 {{\n }}\n real_server 2001:db8::21 80 {{\n }}\n real_server 2001:db8::22 80 {{\n  lvs_method TUN\n }}\n}}\n"
    ));
    let kept: Vec<String> = vs[0].real_servers.iter().map(|rs| rs.ip.to_string()).collect();
    assert_eq!(kept, ["198.51.100.21", "2001:db8::22"], "a tunnel may cross families");
    assert_eq!(vs[0].extra().sorry_server, None);
    assert_eq!((codes, exit), (vec!["family-mismatch", "family-mismatch"], 5));
}

#[test]
fn keywords_keepalived_does_not_know_in_misc_and_file_checks_are_warned_about_and_dropped() {
    let (vs, codes, exit) = read(&format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\ntrack_file tf {{\n file /dev/null\n}}\n{HEAD} \
         real_server 198.51.100.21 80 {{\n  MISC_CHECK {{\n   misc_path /bin/true\n   connect_timeout 3\n   retry 2\n  }}\n  \
         FILE_CHECK {{\n   track_file tf\n   delay_loop 0.2\n  }}\n }}\n}}\n"
    ));
    let checks = &vs[0].real_servers[0].checkers;
    assert_eq!(checks[0].common().connect_timeout, None, "dropped");
    assert_eq!(checks[0].common().retry, Some(2), "MISC_CHECK knows retry");
    assert_eq!(checks[1].common().delay_loop, None, "dropped");
    assert_eq!((codes, exit), (vec!["unknown-keyword", "unknown-keyword"], 5));
}

#[test]
fn values_keepalived_refuses_are_warned_about_and_those_it_takes_are_noted() {
    let url = |line: &str| {
        format!("{HEAD} real_server 198.51.100.21 80 {{\n  HTTP_GET {{\n   url {{\n    path /\n    {line}\n   }}\n  }}\n }}\n}}\n")
    };
    let (vs, codes, exit) = read(&url("status_code 200,301"));
    let statuses = match &vs[0].real_servers[0].checkers[0].kind {
        vigil_config::model::CheckKind::Http(h) => h.urls[0].status_code.clone(),
        other => panic!("not HTTP_GET: {other:?}"),
    };
    assert_eq!(statuses, [(200, 200), (301, 301)], "read all the same");
    assert_eq!((codes, exit), (vec!["status-code-commas"], 5));
    assert_eq!(read(&url("regex")).2, 0);

    let udp = "virtual_server 192.0.2.10 53 {\n lvs_sched rr\n lvs_method NAT\n protocol UDP\n real_server 198.51.100.21 53 {\n  UDP_CHECK {\n   min_reply_length 300\n  }\n }\n}\n";
    assert_eq!(read(udp).1, vec!["reply-length"]);

    let (vs, codes, exit) =
        read(&format!("{HEAD} alpha 1\n omega off\n real_server 198.51.100.21/32 80 {{\n }}\n}}\n"));
    assert_eq!((vs[0].alpha, vs[0].omega), (true, false), "any word sets it; off still turns it off");
    assert_eq!(vs[0].real_servers[0].ip.to_string(), "198.51.100.21");
    assert_eq!((codes, exit), (vec!["flag-word", "flag-word", "address-prefix"], 0));
}

#[test]
fn smtp_check_hosts_become_checkers_as_in_keepalived() {
    use std::net::IpAddr;
    use std::time::Duration;
    let ip = |s: &str| Some(s.parse::<IpAddr>().expect("test address"));
    let smtp = |body: &str| format!("{HEAD} real_server 192.0.2.20 25 {{\n  SMTP_CHECK {{\n{body}  }}\n }}\n}}\n");

    // No connection of its own: the first host takes the checker's place, the second is a copy.
    let (vs, codes, exit) = read(&smtp(
        "   helo_name lb\n   host {\n    connect_ip 192.0.2.31\n    connect_port 2525\n    retry 7\n   }\n   host {\n    connect_ip 192.0.2.32\n   }\n",
    ));
    let checkers = &vs[0].real_servers[0].checkers;
    let targets: Vec<_> = checkers.iter().map(|k| (k.common().connect_ip, k.common().connect_port)).collect();
    assert_eq!(targets, [(ip("192.0.2.31"), Some(2525)), (ip("192.0.2.32"), None)]);
    // A timing keyword inside a host sets the SMTP checker itself, so every copy has it.
    assert!(checkers.iter().all(|k| k.common().retry == Some(7)), "{checkers:?}");
    assert_eq!((codes, exit), (vec!["smtp-host"], 0), "keepalived only logs that host blocks are deprecated");

    // With a connection of its own the checker stays, and each host adds one.
    let (vs, _, _) = read(&smtp("   connect_timeout 4\n   host {\n    connect_ip 192.0.2.31\n   }\n"));
    let checkers = &vs[0].real_servers[0].checkers;
    let kept: Vec<_> = checkers.iter().map(|k| (k.common().connect_ip, k.common().connect_timeout)).collect();
    assert_eq!(kept, [(None, Some(Duration::from_secs(4))), (ip("192.0.2.31"), None)]);

    // Elsewhere `host` is not a keyword.
    let (_, codes, exit) = read(&format!(
        "{HEAD} real_server 192.0.2.20 80 {{\n  TCP_CHECK {{\n   host {{\n    connect_port 80\n   }}\n  }}\n }}\n}}\n"
    ));
    assert_eq!((codes.first().copied(), exit), (Some("unknown-keyword"), 5));
}

#[test]
fn scheduler_flags_apply_only_to_their_scheduler() {
    let rs = " real_server 192.0.2.20 80 {\n }\n}\n";
    let sh = "virtual_server 192.0.2.10 80 {\n lvs_sched sh\n lvs_method NAT\n protocol TCP\n";
    let (vs, codes, exit) = read(&format!("{sh} sh-port\n sh-fallback\n hashed\n mh-port\n{rs}"));
    assert_eq!((vs[0].sched_flags.flag1, vs[0].sched_flags.flag2, codes.len(), exit), (true, true, 0, 0));
    // keepalived 2.2.7: "hashed only applies to sh scheduler - ignoring" (exit 5), for rr or
    // when the flag comes before lvs_sched.
    let (vs, codes, exit) = read(&format!("{HEAD} hashed\n sh-port\n{rs}"));
    assert_eq!((vs[0].sched_flags.flag2, codes, exit), (false, vec!["sched-flag", "sched-flag"], 5));
}

#[test]
fn a_file_check_on_an_unknown_track_file_is_reported() {
    let text = |name: &str| {
        format!("track_file tf_rs {{\n file /tmp/tf\n}}\n{HEAD} real_server 192.0.2.20 80 {{\n  FILE_CHECK {{\n   track_file {name}\n  }}\n }}\n}}\n")
    };
    let (vs, codes, exit) = read(&text("tf_rs"));
    assert_eq!((vs[0].real_servers[0].checkers.len(), codes.len(), exit), (1, 0, 0));
    // Names are case-sensitive, as in keepalived.
    let (_, codes, exit) = read(&text("TF_RS"));
    assert_eq!((codes, exit), (vec!["unknown-reference"], 5));
}

#[test]
fn a_link_local_checker_needs_an_interface() {
    let text = |body: &str| {
        format!("{HEAD} real_server 192.0.2.20 80 {{\n  TCP_CHECK {{\n   connect_ip fe80::1\n{body}  }}\n }}\n}}\n")
    };
    let (vs, codes, exit) = read(&text("   bind_if eth0\n"));
    assert_eq!((vs[0].real_servers[0].checkers.len(), codes.len(), exit), (1, 0, 0));
    let (vs, codes, exit) = read(&text(""));
    assert_eq!((vs[0].real_servers[0].checkers.len(), codes, exit), (0, vec!["link-local-needs-bind-if"], 5));
}

#[test]
fn a_fwmark_real_server_port_is_cleared_and_its_checkers_keep_it() {
    // keepalived 2.2.7: "fwmark virtual server FWM 3, real server [10.0.1.2]:none:443 has port
    // specified - clearing" (exit 5); the checkers made before still connect to 443.
    let text = |check: &str| {
        format!("virtual_server fwmark 3 {{\n lvs_sched rr\n lvs_method DR\n real_server 10.0.1.2 443 {{\n  TCP_CHECK {{\n{check}  }}\n }}\n}}\n")
    };
    let (vs, codes, exit) = read(&text(""));
    let rs = &vs[0].real_servers[0];
    assert_eq!((rs.port, rs.checkers[0].common().connect_port), (0, Some(443)));
    assert_eq!((codes, exit), (vec!["fwmark-rs-port"], 5));
    let (vs, _, _) = read(&text("   connect_port 8443\n"));
    assert_eq!(vs[0].real_servers[0].checkers[0].common().connect_port, Some(8443), "a port of its own stays");
}

#[test]
fn a_checker_keeps_its_own_options_only_when_it_sets_one() {
    let (vs, codes, _) = read(&format!(
        "{HEAD} real_server 198.51.100.21 80 {{\n  TCP_CHECK {{\n  }}\n  TCP_CHECK {{\n   connect_timeout 4\n  }}\n }}\n}}\n"
    ));
    assert!(codes.is_empty(), "{codes:?}");
    let [none, set] = &vs[0].real_servers[0].checkers[..] else { panic!("two checkers") };
    assert!(none.own.is_none(), "nothing set, nothing kept");
    assert_eq!(none.common(), &Default::default());
    assert_eq!(set.common().connect_timeout, Some(std::time::Duration::from_secs(4)));
}

/// A virtual server's `delay_loop` is its own field, and the boxes of options and rare
/// settings are there only when something in them is set: a virtual server written as most
/// are (delay_loop, scheduler, method, protocol, real servers) has neither.
#[test]
fn the_usual_virtual_server_keeps_no_box_of_options() {
    let rs = " real_server 198.51.100.21 80 {\n TCP_CHECK {\n }\n }\n}\n";
    let (vs, codes, _) = read(&format!("{HEAD} delay_loop 6\n{rs}"));
    assert_eq!(codes, Vec::<&str>::new());
    assert_eq!(vs[0].delay_loop, std::time::Duration::from_secs(6));
    assert_eq!((vs[0].check.is_none(), vs[0].extra.is_none()), (true, true));
    assert_eq!(vs[0].common().delay_loop, None, "not kept twice");

    let (vs, _, _) = read(&format!("{HEAD} delay_loop 6\n connect_timeout 2\n quorum_up /bin/true\n{rs}"));
    assert_eq!(vs[0].delay_loop, std::time::Duration::from_secs(6));
    assert_eq!(vs[0].common().connect_timeout, Some(std::time::Duration::from_secs(2)));
    assert_eq!(vs[0].common().delay_loop, None);
    assert!(vs[0].extra().quorum_up.is_some());
    assert_eq!(vs[0].extra().sorry_server, None);
}
