//! `vigilctl ipvs` on a kernel without IPVS (the build machines' own) says so and exits 1;
//! with IPVS loaded it lists. The listing itself is compared with ipvsadm in the kernel lab.

use std::process::Command;

#[test]
fn without_ipvs_the_error_is_clear() {
    let has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
    for args in [&["ipvs"][..], &["ipvs", "--stats"], &["ipvs", "-c"], &["ipvs", "--json"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_vigilctl")).args(args).output().expect("vigilctl runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if has_ipvs {
            assert!(out.status.success(), "{args:?}: {stderr}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert_eq!(stderr, "vigilctl: IPVS is not available in this kernel (load the ip_vs module)\n", "{args:?}");
        }
    }
}
