//! The unit files under systemd/ pass `systemd-analyze verify` without a warning about them
//! (skipped when systemd-analyze is not installed).
//!
//! verify wants every Exec binary to exist, so each unit is checked as a copy whose
//! vigilctl (/usr/bin, where the package installs it) is the vigilctl just built, and whose /usr/sbin/vigild is the vigild
//! built next to it. Cargo builds only this package's binaries for its tests: when vigild
//! has not been built (`cargo test -p vigilctl` alone), /bin/true stands in for it, since
//! verify only checks that the command is an executable file. Templates are checked under an
//! instance name, as verify needs one.

use std::path::Path;
use std::process::Command;

fn unit_source(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../systemd").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The binaries to put in place of the installed ones.
fn binaries() -> (String, String) {
    let vigilctl = env!("CARGO_BIN_EXE_vigilctl");
    let vigild = Path::new(vigilctl).with_file_name("vigild");
    let vigild = if vigild.is_file() {
        vigild.display().to_string()
    } else {
        eprintln!("vigild is not built next to vigilctl: /bin/true stands in for it");
        "/bin/true".to_string()
    };
    (vigilctl.to_string(), vigild)
}

/// Copies unit `name` into `dir` as `as_name`, with the built binaries; runs verify on it and
/// returns its output when it failed or said anything about the unit.
fn verify(dir: &Path, (vigilctl, vigild): &(String, String), name: &str, as_name: &str) -> Result<(), String> {
    let source = unit_source(name);
    let text = source.replace(VIGILCTL, vigilctl).replace("/usr/sbin/vigild", vigild);
    assert!(
        !text.contains("/usr/sbin/vigil") && !text.contains("/usr/bin/vigil"),
        "{name}: a vigil binary at a path this test does not know"
    );
    let path = dir.join(as_name);
    std::fs::write(&path, text).expect("writing the unit copy");
    // --man=no: Documentation= names keepalived's man pages, which need not be installed.
    let out =
        Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().expect("systemd-analyze runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // Lines about other units (the system's own) are not this test's business.
    let stem = name.split(['@', '.']).next().unwrap_or(name);
    let about_ours: Vec<&str> = said.lines().filter(|l| l.contains(stem)).collect();
    if out.status.success() && about_ours.is_empty() {
        Ok(())
    } else {
        Err(format!("{as_name}: systemd-analyze verify ({}):\n{said}", out.status))
    }
}

/// Where the units run vigilctl from (the package puts the client in /usr/bin).
const VIGILCTL: &str = "/usr/bin/vigilctl";

fn have_systemd_analyze() -> bool {
    Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn the_units_verify_cleanly() {
    if !have_systemd_analyze() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    // The unit copies' directory, removed on drop, also when the test panics.
    let scratch = tempfile::Builder::new().prefix("vigil-units-").tempdir().expect("creating the scratch directory");
    let binaries = binaries();
    let checks = [
        ("vigild.service", "vigild.service"),
        ("vigil-realserver@.service", "vigil-realserver@10.0.0.100.service"),
        // Several VIPs: a unit name spells the comma \x2c, as systemd-escape writes it. (An
        // IPv6 VIP's colons are fine in a unit name, but verify reads a colon in its argument
        // as a separator.)
        ("vigil-realserver-tun@.service", "vigil-realserver-tun@10.0.0.100\\x2c10.0.0.101.service"),
    ];
    let failures: Vec<String> =
        checks.iter().filter_map(|(name, as_name)| verify(scratch.path(), &binaries, name, as_name).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_realserver_units_run_vigilctl_for_their_instance() {
    let dr = unit_source("vigil-realserver@.service");
    assert!(dr.contains(&format!("ExecStart={VIGILCTL} realserver start --vip %I\n")), "{dr}");
    assert!(dr.contains(&format!("ExecStop={VIGILCTL} realserver stop --vip %I\n")), "{dr}");
    let tun = unit_source("vigil-realserver-tun@.service");
    assert!(tun.contains(&format!("ExecStart={VIGILCTL} realserver start --mode tun --vip %I\n")), "{tun}");
    assert!(tun.contains(&format!("ExecStop={VIGILCTL} realserver stop --mode tun --vip %I\n")), "{tun}");
}
