//! Ordered notifications (keepalived #996, #584, #1835): when an instance changes state
//! faster than its notify script runs, keepalived may run the scripts concurrently and they
//! finish out of order, so the last one to finish is not the current state. Here the tracked
//! interface flaps four times in 200 ms while every `notify` call takes 200 ms. The test
//! asserts that the notify scripts ran one at a time in the order of the transitions, that
//! `notify_fifo` (created for its `notify_fifo_script`, keepalived's line format) and the
//! control socket's event stream carry the same transitions in the same order with
//! consecutive sequence numbers, ending with STOP at SIGTERM. Root only, skipped otherwise.

mod support;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::Value;
use support::lab::{wait_until, Lab};

#[test]
fn transitions_reach_scripts_fifo_and_stream_in_order() {
    let Some(mut lab) = Lab::new("events") else { return };
    assert!(lab.ip(&["link", "add", "trk0", "type", "veth", "peer", "name", "trk1"]));
    assert!(lab.ip(&["link", "set", "trk0", "up"]) && lab.ip(&["link", "set", "trk1", "up"]));
    let dir = lab.dir.clone();
    let notify = dir.join("notify.sh");
    let calls = dir.join("calls");
    std::fs::write(
        &notify,
        format!("#!/bin/sh\necho \"begin $3\" >>{0}\nsleep 0.2\necho \"end $3\" >>{0}\n", calls.display()),
    )
    .expect("the notify script");
    let reader = dir.join("reader.sh");
    let copied = dir.join("fifo.out");
    std::fs::write(&reader, format!("#!/bin/sh\nexec cat \"$1\" >>{}\n", copied.display())).expect("the reader");
    for s in [&notify, &reader] {
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o755)).expect("executable");
    }
    let fifo = dir.join("notify.fifo");
    let pid = lab.start(&format!(
        "global_defs {{\n notify_fifo {}\n notify_fifo_script {}\n}}\n\
         vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n \
         version 3\n advert_int 0.1\n track_interface {{\n  trk0\n }}\n notify {}\n \
         virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n",
        fifo.display(),
        reader.display(),
        notify.display()
    ));
    wait_until("MASTER", || lab.status()["vrrp"][0]["state"] == "MASTER");

    let mut stream = UnixStream::connect(lab.socket()).expect("the control socket");
    std::io::Write::write_all(&mut stream, b"events\n").expect("the command");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a timeout");
    for up in ["down", "up", "down", "up"] {
        assert!(lab.ip(&["link", "set", "trk1", up]));
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_until("MASTER again", || {
        let doc = lab.status();
        doc["vrrp"][0]["state"] == "MASTER" && doc["vrrp"][0]["transitions"].as_u64().unwrap_or(0) >= 6
    });
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = lab.daemon.take().expect("running").wait().expect("it ends");
    assert!(status.success(), "{status:?}\n{}", lab.log());

    let streamed: Vec<Value> = std::io::BufReader::new(stream)
        .lines()
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).expect("an event is JSON"))
        .collect();
    let seqs: Vec<u64> = streamed.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(!seqs.is_empty());
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "consecutive from 1: {streamed:#?}");
    let states: Vec<&str> = streamed.iter().filter_map(|e| e["state"].as_str()).collect();
    let faults = states.iter().filter(|s| **s == "FAULT").count();
    assert!(faults >= 1, "the flaps are seen: {states:?}");

    // The FIFO has every event, STOP last, in keepalived's words and the stream's order.
    wait_until("the FIFO's STOP line", || std::fs::read_to_string(&copied).unwrap_or_default().contains(" STOP "));
    let lines = std::fs::read_to_string(&copied).expect("the FIFO's copy");
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.last(), Some(&"INSTANCE \"VI_1\" STOP 150"), "{lines:#?}");
    let expected: Vec<String> =
        streamed.iter().map(|e| format!("INSTANCE \"VI_1\" {} {}", s(&e["state"]), e["priority"])).collect();
    assert_eq!(lines[..expected.len()], expected[..], "the FIFO and the stream agree");

    // The notify script ran once per transition, never two at a time, in the same order.
    wait_until("the last notify call", || {
        let c = std::fs::read_to_string(&calls).unwrap_or_default();
        c.lines().count() == 2 * lines.len()
    });
    let calls = std::fs::read_to_string(&calls).expect("the calls");
    let expected: String =
        lines.iter().filter_map(|l| l.split(' ').nth(2)).map(|state| format!("begin {state}\nend {state}\n")).collect();
    assert_eq!(calls, expected);
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}
