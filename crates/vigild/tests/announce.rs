//! Route announcements (root only, in a network namespace of its own; skipped otherwise). The
//! kernel here has no IPVS, so the checks run for the announcements alone, as they do on a
//! director that answers for the VIP itself. A real server is a listening socket made in the
//! namespace; closing it fails the TCP_CHECK.
//!
//! Shown: a route left by an earlier run for a VIP no longer configured is removed at start;
//! the VIP's route is in table 100 with protocol 200 while its virtual server has its quorum,
//! and goes when the real server fails; a route deleted by hand comes back; a drain withdraws
//! it and outlives a restart until undrained; a reload that moves the table moves the route;
//! SIGTERM withdraws it and takes the VIP off lo; after `kill -9` it stays, and `vigild
//! --withdraw` removes it.

mod support;

use std::net::TcpListener;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use support::lab::{ask, wait_until, Lab};

const CONF: &str = "virtual_server 192.0.2.200 80 {\n delay_loop 1\n lb_algo mh\n lb_kind DR\n protocol TCP\n \
                    real_server 192.0.2.1 8080 {\n  TCP_CHECK {\n   connect_timeout 1\n   retry 0\n  }\n }\n}\n";

/// A TCP server on 192.0.2.1:8080 inside the namespace, accepting until dropped.
struct RealServer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RealServer {
    fn start(ns: &str) -> RealServer {
        let netns = std::fs::File::open(format!("/run/netns/{ns}")).expect("the namespace");
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            // This thread alone moves into the namespace; the socket stays there.
            nix::sched::setns(netns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let listener = TcpListener::bind("192.0.2.1:8080").expect("bind");
            listener.set_nonblocking(true).expect("nonblocking");
            let _ = ready_tx.send(());
            while !stopping.load(Ordering::Relaxed) {
                if listener.accept().is_err() {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        ready.recv().expect("the server listens");
        RealServer { stop, thread: Some(thread) }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn routes(lab: &Lab, table: &str) -> String {
    let out = Command::new("ip").args(["-n", &lab.ns, "route", "show", "table", table]).output().expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn announced(lab: &Lab, table: &str) -> bool {
    routes(lab, table).contains("192.0.2.200 dev lo proto 200 scope link")
}

fn vip_on_lo(lab: &Lab) -> bool {
    let out = Command::new("ip").args(["-n", &lab.ns, "-o", "addr", "show", "dev", "lo"]).output().expect("ip");
    String::from_utf8_lossy(&out.stdout).contains(" 192.0.2.200/32 ")
}

fn reason(lab: &Lab) -> String {
    lab.status()["announce"][0]["reason"].as_str().unwrap_or_default().to_string()
}

fn write_announce(lab: &Lab, table: u32) -> String {
    let path = lab.dir.join("announce.conf");
    std::fs::write(&path, format!("# test\nannounce {{\n table {table}\n protocol 200\n}}\n")).expect("announce.conf");
    path.display().to_string()
}

#[test]
fn vip_routes_follow_health_drains_reloads_and_stops() {
    let Some(mut lab) = Lab::new("announce") else { return };
    assert!(lab.ip(&["link", "set", "lo", "up"]));
    let announce = write_announce(&lab, 100);
    let args = ["--announce-config", announce.as_str()];
    // Left by an earlier run: a VIP that is no longer configured.
    assert!(lab.ip(&["route", "add", "192.0.2.250/32", "dev", "lo", "table", "100", "proto", "200"]));
    let server = RealServer::start(&lab.ns);
    lab.start_with(CONF, &args);
    wait_until("the route", || announced(&lab, "100"));
    wait_until("the stale route gone", || !routes(&lab, "100").contains("192.0.2.250"));
    assert!(vip_on_lo(&lab), "the VIP is on lo");
    assert_eq!(reason(&lab), "healthy");

    drop(server);
    wait_until("the withdrawal", || !announced(&lab, "100"));
    assert_eq!(lab.status()["announce"][0]["lost_quorum"][0], "[192.0.2.200]:tcp:80");
    assert!(lab.log().contains("Withdrawing VIP 192.0.2.200: no quorum for [192.0.2.200]:tcp:80"), "{}", lab.log());
    assert!(vip_on_lo(&lab), "a withdrawn VIP stays on lo");
    let server = RealServer::start(&lab.ns);
    wait_until("the route back", || announced(&lab, "100"));

    assert!(lab.ip(&["route", "del", "192.0.2.200/32", "dev", "lo", "table", "100", "proto", "200"]));
    wait_until("the route put back", || announced(&lab, "100"));
    assert!(lab.log().contains("announce: table 100 was changed behind our back; repairing"), "{}", lab.log());

    let answer = ask(&lab.socket(), r#"maintenance {"op":"drain","vip":"192.0.2.200"}"#);
    assert!(answer.contains("\"drained\""), "{answer}");
    wait_until("the drain", || !announced(&lab, "100"));
    assert_eq!(reason(&lab), "drained");
    lab.stop();
    lab.start_with(CONF, &args);
    wait_until("the status", || reason(&lab) == "drained");
    assert!(!announced(&lab, "100"), "the drain outlives a restart");
    ask(&lab.socket(), r#"maintenance {"op":"undrain","vip":null}"#);
    wait_until("the undrain", || announced(&lab, "100"));

    write_announce(&lab, 101);
    let reload = ask(&lab.socket(), "reload");
    assert!(reload.contains("\"ok\": true") || reload.contains("\"ok\":true"), "{reload}");
    wait_until("the route in table 101", || announced(&lab, "101"));
    wait_until("no route in table 100", || !announced(&lab, "100"));
    assert!(vip_on_lo(&lab), "the VIP stays on lo when the table moves");

    lab.stop();
    assert!(!announced(&lab, "101"), "SIGTERM withdraws");
    assert!(!vip_on_lo(&lab), "and takes the VIP off lo");

    lab.start_with(CONF, &args);
    wait_until("the route", || announced(&lab, "101"));
    lab.stop_with(Signal::SIGKILL);
    assert!(announced(&lab, "101"), "a killed vigild leaves its route");
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns, env!("CARGO_BIN_EXE_vigild"), "--withdraw", "--announce-config", &announce])
        .output()
        .expect("vigild --withdraw");
    assert!(out.status.success(), "{out:?}");
    assert!(!announced(&lab, "101"), "--withdraw removes it");
    drop(server);
}

/// `local_route`: the VIP is made local by a `local` route rather than an address (for FRR
/// 8.4, whose zebra would prefer the address's connected route), and it goes at stop.
#[test]
fn local_route_makes_the_vip_local_without_an_address() {
    let Some(mut lab) = Lab::new("annlocal") else { return };
    assert!(lab.ip(&["link", "set", "lo", "up"]));
    let path = lab.dir.join("announce.conf");
    std::fs::write(&path, "announce {\n local_route\n}\n").expect("announce.conf");
    let path = path.display().to_string();
    let server = RealServer::start(&lab.ns);
    lab.start_with(CONF, &["--announce-config", &path]);
    wait_until("the route", || announced(&lab, "100"));
    let local = |lab: &Lab| routes(lab, "local").contains("local 192.0.2.200 dev lo proto 200 scope host");
    assert!(local(&lab), "{}", routes(&lab, "local"));
    assert!(!vip_on_lo(&lab), "no address");
    lab.stop();
    assert!(!local(&lab) && !announced(&lab, "100"), "both gone at stop");
    drop(server);
}
