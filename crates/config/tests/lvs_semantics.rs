//! What keepalived 2.2.7 changes in a virtual server after reading it, and Vigil with it:
//! a quorum above the real servers' total weight, a hysteresis not below the quorum, real and
//! sorry servers of the other address family.

use vigil_config::model::VirtualServer;
use vigil_config::{exit_code, parse_str, Options};

fn read(text: &str) -> (Vec<VirtualServer>, Vec<&'static str>, i32) {
    let parsed = parse_str("t.conf", text, &Options::default(), None);
    let codes = parsed.diagnostics.iter().map(|d| d.code).filter(|c| *c != "vs-address-unowned").collect();
    (parsed.config.virtual_servers, codes, exit_code(&parsed.diagnostics, false))
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
    assert_eq!(vs[0].sorry_server, None);
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
    assert_eq!(checks[0].common.connect_timeout, None, "dropped");
    assert_eq!(checks[0].common.retry, Some(2), "MISC_CHECK knows retry");
    assert_eq!(checks[1].common.delay_loop, None, "dropped");
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
