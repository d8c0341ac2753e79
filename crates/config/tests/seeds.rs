//! The keepalived.conf files from the project's seed documents parse, and every real mistake in
//! them is reported at its line (tests/fixtures/README.md lists them).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use vigil_config::{exit_code, parse_file, peers, Diagnostic, Host, Options, Parsed, Severity};

/// A director with eth0 and eth1, no address of the seeds' networks, every script present.
struct Director;

impl Host for Director {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "lo" | "eth0" | "eth1")
    }
    fn local_addresses(&self) -> Vec<IpAddr> {
        vec!["127.0.0.1".parse().expect("literal")]
    }
    fn executable(&self, _: &Path) -> Option<bool> {
        Some(true)
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "root"
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn parse(name: &str) -> Parsed {
    let opts = Options { config_id: "lab".into(), random_seed: 1 };
    parse_file(&fixture(name), &opts, Some(&Director)).expect("fixture is readable")
}

fn at(parsed: &Parsed, line: u32, code: &str) -> Option<Diagnostic> {
    parsed.diagnostics.iter().find(|d| d.span.line == line && d.code == code).cloned()
}

fn lines_with(parsed: &Parsed, code: &str) -> Vec<u32> {
    parsed.diagnostics.iter().filter(|d| d.code == code).map(|d| d.span.line).collect()
}

#[test]
fn seed_004_mistakes_are_reported_at_their_lines() {
    for name in ["seed-004-master.conf", "seed-004-backup.conf"] {
        let p = parse(name);
        assert_eq!(p.config.instances.len(), 1, "{name}");
        assert_eq!(p.config.virtual_servers.len(), 1, "{name}");
        assert_eq!(p.config.virtual_servers[0].real_servers.len(), 4, "{name}");

        let typo = at(&p, 18, "unknown-keyword").expect("the misspelled keyword on line 18");
        assert!(typo.message.contains("lvs_sync_daemon_inteface"), "{typo}");
        assert_eq!(typo.suggestion.as_deref(), Some("lvs_sync_daemon_interface"));
        assert!(typo.to_string().starts_with(&format!("{}:18:", fixture(name).display())), "{typo}");

        assert_eq!(lines_with(&p, "removed-keyword"), [44, 53, 62, 71], "{name}: nb_get_retry");
        assert!(at(&p, 7, "sync-group-of-one").is_some(), "{name}: sync group of one");
        assert_eq!(exit_code(&p.diagnostics, false), 5, "{name}: keepalived -t exits 5 too");
    }
    let backup = parse("seed-004-backup.conf");
    let unowned = at(&backup, 34, "vs-address-unowned").expect("the BACKUP's virtual_server matches no VIP");
    assert_eq!(unowned.severity, Severity::Note);
    assert!(unowned.message.contains("125.38.28.64"), "{unowned}");
    assert!(at(&parse("seed-004-master.conf"), 34, "vs-address-unowned").is_none(), "the MASTER's is its VIP");
}

#[test]
fn seed_004_pair_check_names_the_backups_virtual_server() {
    let (a, b) = (parse("seed-004-master.conf"), parse("seed-004-backup.conf"));
    let issues = peers::compare(&a.config, &b.config);
    let only_b = issues
        .iter()
        .find(|i| i.code == "virtual-server-missing" && i.a.is_none())
        .expect("B's virtual server has no counterpart");
    assert!(only_b.message.contains("125.38.28.64"), "{only_b}");
    assert_eq!(only_b.b.as_ref().map(|s| s.line), Some(34));
    assert!(issues.iter().all(|i| i.code != "vrid" && i.code != "vip-set" && i.code != "advert-int"), "{issues:#?}");
}

#[test]
fn seed_002_removed_keywords_are_reported() {
    let cases: [(&str, &[u32], &[u32]); 4] = [
        ("seed-002-lb01-lvs.conf", &[24], &[32, 42]),
        ("seed-002-lb02-lvs.conf", &[23], &[31, 41]),
        ("seed-002-lb01-multi.conf", &[38, 66], &[46, 56, 74, 84]),
        ("seed-002-lb02-multi.conf", &[38, 66], &[46, 56, 74, 84]),
    ];
    for (name, nat_mask, nb_get_retry) in cases {
        let p = parse(name);
        let removed = |word: &str| -> Vec<u32> {
            p.diagnostics
                .iter()
                .filter(|d| d.code == "removed-keyword" && d.message.contains(word))
                .map(|d| d.span.line)
                .collect()
        };
        assert_eq!(removed("nat_mask"), nat_mask, "{name}");
        assert_eq!(removed("nb_get_retry"), nb_get_retry, "{name}");
        let rs = &p.config.virtual_servers[0].real_servers[0];
        assert_eq!(
            rs.common().retry.or(rs.checkers[0].common().retry),
            Some(3),
            "{name}: nb_get_retry still read as retry"
        );
        assert_eq!(exit_code(&p.diagnostics, false), 5, "{name}");
    }
}

#[test]
fn seed_002_clean_parts_are_clean() {
    for name in
        ["seed-002-lb01-global.conf", "seed-002-lb02-global.conf", "seed-002-lb01-vip.conf", "seed-002-lb02-vip.conf"]
    {
        let p = parse(name);
        let loud: Vec<String> =
            p.diagnostics.iter().filter(|d| d.severity >= Severity::Warning).map(ToString::to_string).collect();
        assert!(loud.is_empty(), "{name}: {loud:#?}");
    }
    let vip = parse("seed-002-lb01-vip.conf");
    assert_eq!(vip.config.instances[0].name, "VI_1");
    assert_eq!(vip.config.instances[0].virtual_ipaddress.len(), 1);
}

/// A checkers-only director owns none of its virtual servers' addresses: the first ten are
/// named each at its line, then one note says how many more there are, at the first of them.
#[test]
fn unowned_virtual_servers_are_named_ten_at_most_then_counted() {
    for (n, want_more) in [(10, None), (11, Some(1)), (250, Some(240))] {
        let text: String = (0..n)
            .map(|i| {
                format!("virtual_server 10.10.0.{} 80 {{\n protocol TCP\n real_server 10.0.1.1 80 {{\n }}\n}}\n", i + 1)
            })
            .collect();
        let p = vigil_config::parse_str("k.conf", &text, &Options::default(), Some(&Director));
        let notes = lines_with(&p, "vs-address-unowned");
        let named: Vec<u32> = (0..n.min(10)).map(|i| 1 + 5 * i).collect();
        match want_more {
            None => assert_eq!(notes, named, "{n}"),
            Some(more) => {
                assert_eq!(notes[..10], named[..], "{n}");
                assert_eq!(notes[10..], [51], "{n}: the count is at the eleventh");
                let last = p.diagnostics.iter().rfind(|d| d.code == "vs-address-unowned").expect("a count");
                assert!(last.message.starts_with(&format!("{more} more virtual_server addresses")), "{last}");
            }
        }
    }
}
