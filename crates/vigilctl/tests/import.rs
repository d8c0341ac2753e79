//! `vigilctl import`: the ldirectord corpus (tests/fixtures/ldirectord/) and the seed files
//! convert to the checked-in keepalived.conf and findings, and Vigil's configuration check
//! (what `vigild -t` runs) finds at most notes in each output; an ipvsadm table built in a
//! fresh network namespace comes back the same through `ipvsadm-save -n` and the importer
//! (SKIP where the kernel has no IPVS).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vigil_config::model::{Forwarding, Protocol, VsKey};
use vigil_config::{Options, Severity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn vigilctl(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigilctl"));
    cmd.args(args).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running vigilctl");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).expect("writing vigilctl's stdin");
    }
    child.wait_with_output().expect("waiting for vigilctl")
}

/// Vigil's check of a configuration text: the diagnostics that would fail `vigild -t`.
fn check(dir: &Path, name: &str, text: &str) -> Vec<String> {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing the converted configuration");
    let parsed = vigil_config::parse_file(&path, &Options::default(), None).expect("reading it back");
    if vigil_config::exit_code(&parsed.diagnostics, false) == 0 {
        return Vec::new();
    }
    parsed.diagnostics.iter().filter(|d| d.severity >= Severity::Warning).map(|d| d.to_string()).collect()
}

/// Every ldirectord input with its golden files: the corpus, then the seeds.
fn inputs() -> Vec<(PathBuf, PathBuf)> {
    let corpus = fixtures().join("ldirectord");
    let mut out: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&corpus)
        .expect("listing the corpus")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cf"))
        .map(|p| (p.clone(), corpus.clone()))
        .collect();
    out.sort();
    for seed in ["seed-000-ldirectord.cf", "seed-000-ldirectord-persistent.cf"] {
        out.push((fixtures().join(seed), corpus.clone()));
    }
    out
}

#[test]
fn ldirectord_corpus_matches_golden_files_and_checks_clean() {
    // Where the outputs are written to be checked; removed on drop, also when the test panics.
    let scratch =
        tempfile::Builder::new().prefix("vigil-import-ldirectord-").tempdir().expect("creating the scratch directory");
    let mut failures = Vec::new();
    // Cargo builds only this package's binaries for its tests; vigild is run too when it has
    // been built next to vigilctl (`cargo build -p vigild`).
    let vigild = Some(Path::new(env!("CARGO_BIN_EXE_vigilctl")).with_file_name("vigild")).filter(|p| p.is_file());
    if vigild.is_none() {
        println!("SKIP: vigild -t (vigild is not built next to vigilctl); the library check ran");
    }
    let inputs = inputs();
    assert!(inputs.len() >= 22, "the corpus has at least 20 files besides the seeds");
    for (input, golden_dir) in &inputs {
        let stem = input.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name");
        let out = vigilctl(&["import", "ldirectord", input.to_str().expect("a UTF-8 path")], None);
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
        let stderr = String::from_utf8(out.stderr).expect("UTF-8 messages");
        let read = |ext: &str| {
            std::fs::read_to_string(golden_dir.join(format!("{stem}.{ext}")))
                .unwrap_or_else(|e| panic!("{stem}.{ext}: {e}"))
        };
        if stdout != read("expected.conf") {
            failures.push(format!("{stem}: output differs from {stem}.expected.conf:\n{stdout}"));
        }
        if stderr != read("expected.stderr") {
            failures.push(format!("{stem}: findings differ from {stem}.expected.stderr:\n{stderr}"));
        }
        let lost = stderr.lines().any(|l| l.contains(": dropped: ") || l.contains(": guessed: "));
        if out.status.code() != Some(i32::from(lost)) {
            failures.push(format!("{stem}: exit {:?}, but something lost: {lost}", out.status.code()));
        }
        let bad = check(scratch.path(), &format!("{stem}.conf"), &stdout);
        if !bad.is_empty() {
            failures.push(format!("{stem}: the output does not check clean:\n{}", bad.join("\n")));
        }
        if let Some(vigild) = &vigild {
            let t = Command::new(vigild).arg("-t").arg("-f").arg(scratch.path().join(format!("{stem}.conf"))).output();
            let t = t.expect("running vigild -t");
            if !t.status.success() {
                failures.push(format!("{stem}: vigild -t exits {}:\n{}", t.status, String::from_utf8_lossy(&t.stderr)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_corpus_covers_every_directive() {
    let mut text = String::new();
    for (input, _) in inputs() {
        text.push_str(&std::fs::read_to_string(&input).expect("reading the corpus"));
    }
    let normal: String = text.replace(' ', "");
    let needed = [
        "virtual=",
        "virtual6=",
        "real=",
        "real6=",
        "->",
        " gate",
        " masq",
        " ipip",
        "scheduler=",
        "persistent=",
        "netmask=",
        "protocol=tcp",
        "protocol=udp",
        "protocol=fwm",
        "checktype=connect",
        "checktype=negotiate",
        "checktype=ping",
        "checktype=external",
        "checktype=on",
        "checktype=off",
        "checktype=5",
        "service=http",
        "service=https",
        "service=smtp",
        "service=pop",
        "service=imap",
        "service=dns",
        "service=ldap",
        "service=mysql",
        "request=",
        "receive=",
        "virtualhost=",
        "checkinterval=",
        "checktimeout=",
        "negotiatetimeout=",
        "checkcount=",
        "failurecount=",
        "quiescent=",
        "fallback=",
        "fallback6=",
        "fallbackcommand=",
        "emailalert=",
        "emailalertfrom=",
        "smtp=",
        "checkport=",
        "ops=",
        "httpmethod=",
        "autoreload=",
        "logfile=",
    ];
    let missing: Vec<&str> =
        needed.iter().copied().filter(|n| !normal.contains(&n.replace(' ', "")) && !text.contains(n)).collect();
    assert!(missing.is_empty(), "no corpus file uses {missing:?}");
}

#[test]
fn usage_and_read_errors_exit_2() {
    let out = vigilctl(&["import", "ldirectord", "/nonexistent/ldirectord.cf"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = vigilctl(&["import", "ipvsadm", "--check", "udp"], Some(""));
    assert_eq!(out.status.code(), Some(2), "a bad --check is a usage error");
    let out = vigilctl(&[], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn version_flag_prints_like_vigild() {
    for flag in ["-v", "--version", "-V"] {
        let out = vigilctl(&[flag], None);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let expected = format!("Vigil v{} (keepalived-compatible)\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{flag}");
    }
}

#[test]
fn ipvsadm_from_stdin_with_a_check() {
    let saved = "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 1\n";
    let out = vigilctl(&["import", "ipvsadm", "-", "--check", "http:/health"], Some(saved));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let parsed = vigil_config::parse_str("out.conf", &text, &Options::default(), None);
    assert_eq!(vigil_config::exit_code(&parsed.diagnostics, false), 0, "{:?}", parsed.diagnostics);
    let vs = &parsed.config.virtual_servers[0];
    assert_eq!(vs.forwarding, Forwarding::Nat);
    let rs = &vs.real_servers[0];
    assert_eq!((rs.ip, rs.port), ("10.0.0.1".parse::<IpAddr>().expect("an address"), 8080));
    match &rs.checkers[0].kind {
        vigil_config::model::CheckKind::Http(h) => assert_eq!(h.urls[0].path, "/health"),
        other => panic!("expected HTTP_GET, got {other:?}"),
    }
}

/// One real server as the table and the configuration both describe it.
#[derive(Debug, PartialEq)]
struct Dest {
    ip: IpAddr,
    port: u16,
    weight: i32,
    forwarding: Forwarding,
}

/// A table built with the real ipvsadm in a new network namespace, saved with `ipvsadm-save
/// -n`, imported, and read back by Vigil gives the services, schedulers, persistence and real
/// servers that were built.
#[test]
fn real_ipvsadm_table_round_trips() {
    let probe = Command::new("unshare").args(["-n", "ipvsadm", "-Ln"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        println!(
            "SKIP: ipvsadm cannot run in a new network namespace here (not root, no ipvsadm, or no IPVS in the kernel)"
        );
        return;
    }
    let script = "set -e
ipvsadm -A -t 192.0.2.10:80 -s wrr -p 120 -M 255.255.255.0
ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.2:80 -g -w 3
ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.3:80 -g -w 1
ipvsadm -A -u 192.0.2.10:53 -s rr -o
ipvsadm -a -u 192.0.2.10:53 -r 10.0.0.4:5353 -m -w 2
ipvsadm -A -f 7 -s sh -b sh-port
ipvsadm -a -f 7 -r 10.0.0.5:0 -i -w 1
ipvsadm -A -t [2001:db8::10]:443 -s lc
ipvsadm -a -t [2001:db8::10]:443 -r [2001:db8::11]:443 -m -w 4
ipvsadm-save -n
";
    let saved = Command::new("unshare").args(["-n", "sh", "-c", script]).output().expect("running ipvsadm");
    assert!(saved.status.success(), "building the table: {}", String::from_utf8_lossy(&saved.stderr));
    let saved = String::from_utf8(saved.stdout).expect("UTF-8 ipvsadm-save output");
    let out = vigilctl(&["import", "ipvsadm", "-"], Some(&saved));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let parsed = vigil_config::parse_str("imported.conf", &text, &Options::default(), None);
    assert_eq!(vigil_config::exit_code(&parsed.diagnostics, false), 0, "{:?}", parsed.diagnostics);
    let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
    let vss = &parsed.config.virtual_servers;
    let find = |key: VsKey| vss.iter().find(|v| v.key == key).unwrap_or_else(|| panic!("{key:?} missing in\n{text}"));
    let dests = |key: VsKey| -> Vec<Dest> {
        let vs = find(key);
        vs.real_servers
            .iter()
            .map(|r| Dest {
                ip: r.ip,
                port: r.port,
                weight: r.weight,
                forwarding: r.forwarding.unwrap_or(vs.forwarding),
            })
            .collect()
    };
    let web = VsKey::Addr { ip: ip("192.0.2.10"), port: 80 };
    assert_eq!(find(web.clone()).persistence_timeout, Some(120));
    assert_eq!(find(web.clone()).persistence_granularity, Some(ip("255.255.255.0")));
    assert_eq!(
        dests(web),
        vec![
            Dest { ip: ip("10.0.0.2"), port: 80, weight: 3, forwarding: Forwarding::Dr },
            Dest { ip: ip("10.0.0.3"), port: 80, weight: 1, forwarding: Forwarding::Dr },
        ]
    );
    let dns = VsKey::Addr { ip: ip("192.0.2.10"), port: 53 };
    assert_eq!((find(dns.clone()).protocol, find(dns.clone()).ops), (Protocol::Udp, true));
    assert_eq!(dests(dns), vec![Dest { ip: ip("10.0.0.4"), port: 5353, weight: 2, forwarding: Forwarding::Nat }]);
    let mark = VsKey::Fwmark { mark: 7 };
    assert!(find(mark.clone()).sched_flags.flag2, "sh-port");
    assert!(matches!(dests(mark)[0].forwarding, Forwarding::Tun(_)));
    let v6 = VsKey::Addr { ip: ip("2001:db8::10"), port: 443 };
    assert_eq!(dests(v6), vec![Dest { ip: ip("2001:db8::11"), port: 443, weight: 4, forwarding: Forwarding::Nat }]);
}
