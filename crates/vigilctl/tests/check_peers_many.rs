//! `vigilctl check-peers` on three directors: each file after the first is compared with the
//! first, and each difference names its side. With `--scale-out`, VRRP is left out, the
//! flow-mapping settings of the virtual servers are compared, and "advice:" lines do not
//! change the exit status.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary directory of this test's own, removed on drop, also when the test panics.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = tempfile::Builder::new().prefix(&format!("vigilctl-peers-{test}-")).tempdir();
        Scratch(dir.expect("temp dir"))
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).expect("write a configuration");
        path
    }
}

fn vigilctl(args: &[&str], files: &[&Path]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigilctl"))
        .arg("check-peers")
        .args(files)
        .args(args)
        .output()
        .expect("vigilctl runs");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A director of the ECMP set: its VRRP instance (priority `prio`, which scale-out ignores)
/// and one virtual server with `sched`.
fn director(prio: u8, sched: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority {prio}\n \
         virtual_ipaddress {{\n 192.0.2.10/32\n }}\n}}\n\
         virtual_server 192.0.2.10 443 {{\n protocol TCP\n {sched}\n lvs_method DR\n \
         real_server 198.51.100.1 443 {{\n inhibit_on_failure\n TCP_CHECK {{\n }}\n }}\n \
         real_server 198.51.100.2 443 {{\n inhibit_on_failure\n TCP_CHECK {{\n }}\n }}\n}}\n"
    )
}

#[test]
fn scale_out_names_the_director_that_maps_flows_otherwise() {
    let dir = Scratch::new("scale-out");
    let d1 = dir.write("d1.conf", &director(100, "lvs_sched mh\n mh-port"));
    let d2 = dir.write("d2.conf", &director(100, "lvs_sched mh\n mh-port"));
    let d3 = dir.write("d3.conf", &director(100, "lvs_sched mh"));
    let (code, out) = vigilctl(&["--scale-out", "--id", "lab"], &[&d1, &d2, &d3]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [format!("A = {}", d1.display()), format!("B = {}", d2.display()), format!("C = {}", d3.display())]
    );
    let flags = lines.iter().find(|l| l.ends_with("[sched-flags]")).expect("the flag difference is reported");
    assert!(flags.starts_with("[C] "), "{flags}");
    assert!(flags.contains(&format!("{}:10: virtual_server", d3.display())), "{flags}");
    assert!(flags.contains("[mh-port] on A, none on C"), "{flags}");
    // Equal priorities are no difference between active/active directors, nor is B's config.
    assert!(!out.contains("priority-tie") && !out.contains("[B] "), "{out}");
    let advice: Vec<&&str> = lines.iter().filter(|l| l.starts_with("advice: ")).collect();
    assert_eq!(advice.len(), 1, "{out}");
    assert!(advice[0].contains("net.ipv4.vs.sloppy_tcp=1") && advice[0].ends_with("[sloppy-tcp]"), "{out}");
    assert_eq!(lines.last(), Some(&"1 difference(s) that break flow consistency"), "{out}");
}

#[test]
fn advice_alone_exits_0() {
    let dir = Scratch::new("advice");
    let files: Vec<PathBuf> =
        (1..=3).map(|k| dir.write(&format!("d{k}.conf"), &director(100, "lvs_sched rr"))).collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, out) = vigilctl(&["--active-active", "--id", "lab"], &paths);
    assert_eq!(code, 0, "{out}");
    let advice = out.lines().find(|l| l.ends_with("[scheduler-not-mh]")).expect("rr is advised against");
    assert!(advice.starts_with(&format!("advice: {}:10: virtual_server", files[0].display())), "{advice}");
    assert!(out.ends_with("no difference that breaks flow consistency\n"), "{out}");
}

/// One file for three nodes, told apart by `@ID` lines; without --scale-out VRRP is compared,
/// and C's priority ties with A's.
#[test]
fn failover_with_one_id_per_file() {
    let dir = Scratch::new("ids");
    let conf = dir.write(
        "lb.conf",
        "vrrp_instance VI_1 {\n @lb1 state MASTER\n @^lb1 state BACKUP\n interface eth0\n virtual_router_id 51\n \
         @lb1 priority 150\n @lb2 priority 100\n @lb3 priority 150\n virtual_ipaddress {\n 192.0.2.10/24\n }\n}\n",
    );
    let (code, out) = vigilctl(&["--id", "lb1", "--id", "lb2", "--id", "lb3"], &[&conf, &conf, &conf]);
    assert_eq!(code, 1, "{out}");
    let issues: Vec<&str> = out.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(issues.len(), 1, "{out}");
    assert!(issues[0].starts_with("[C] ") && issues[0].ends_with("[priority-tie]"), "{out}");

    // --id-a and --id-b still work for two, and the last --id stands for the files after it.
    let (code, out) = vigilctl(&["--id-a", "lb1", "--id-b", "lb2"], &[&conf, &conf]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = vigilctl(&["--id", "lb1", "--id", "lb2"], &[&conf, &conf, &conf]);
    assert_eq!(code, 0, "{out}");
}
