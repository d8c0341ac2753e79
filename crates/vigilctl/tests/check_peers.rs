//! `vigilctl check-peers` on the seed 004 MASTER/BACKUP pair names the BACKUP's virtual_server
//! that matches no VIP, and exits 1; a pair without such a difference exits 0.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn check_peers(a: &Path, b: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigilctl"))
        .arg("check-peers")
        .arg(a)
        .arg(b)
        .args(["--id-a", "lab"])
        .output()
        .expect("vigilctl runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn seed_004_pair_is_reported() {
    let (code, out) = check_peers(&fixture("seed-004-master.conf"), &fixture("seed-004-backup.conf"));
    assert_eq!(code, 1, "{out}");
    let line = out.lines().find(|l| l.contains("125.38.28.64")).expect("the BACKUP's virtual_server is named");
    assert!(line.contains("seed-004-backup.conf:34"), "{line}");
}

#[test]
fn matching_pair_is_clean() {
    // Removed on drop, also when an assertion below fails.
    let dir = tempfile::Builder::new().prefix("vigilctl-peers-").tempdir().expect("temp dir");
    let conf = |state: &str, prio: u8| {
        format!(
            "vrrp_instance VI_1 {{\n state {state}\n interface eth0\n virtual_router_id 51\n priority {prio}\n \
             advert_int 1\n virtual_ipaddress {{\n 192.0.2.10/24\n }}\n}}\n\
             virtual_server 192.0.2.10 80 {{\n protocol TCP\n lvs_sched rr\n lvs_method DR\n \
             real_server 198.51.100.1 80 {{\n TCP_CHECK {{\n }}\n }}\n}}\n"
        )
    };
    let (a, b) = (dir.path().join("a.conf"), dir.path().join("b.conf"));
    std::fs::write(&a, conf("MASTER", 150)).expect("write a");
    std::fs::write(&b, conf("BACKUP", 100)).expect("write b");
    let (code, out) = check_peers(&a, &b);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no difference that breaks failover"), "{out}");
}
