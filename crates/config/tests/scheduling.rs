//! keepalived's process scheduling keywords as the model holds them: each value kept, clamped
//! or dropped as keepalived's global_parser does, with the severity it gives.

use vigil_config::model::{Scheduling, DEFAULT_RLIMIT_RTTIME_US};
use vigil_config::{parse_str, Options, Severity};

/// The three processes' settings, and the worst severity of what the file gave.
fn read(lines: &str) -> ([Scheduling; 3], Option<Severity>) {
    let parsed = parse_str("k.conf", &format!("global_defs {{\n{lines}\n}}\n"), &Options::default(), None);
    let worst = parsed.diagnostics.iter().map(|d| d.severity).max();
    let g = parsed.config.global;
    ([g.vrrp_scheduling, g.checker_scheduling, g.bfd_scheduling], worst)
}

#[test]
fn values_are_kept_clamped_or_dropped_as_keepalived_does() {
    let ([vrrp, checker, bfd], worst) =
        read(" vrrp_priority -5\n checker_cpu_affinity 0 1\n bfd_rt_priority 50\n bfd_rlimit_rttime 1\n bfd_no_swap");
    assert_eq!(worst, None, "all valid");
    assert_eq!(vrrp, Scheduling { nice: -5, ..Scheduling::default() });
    assert_eq!(checker, Scheduling { cpu_affinity: vec![0, 1], ..Scheduling::default() });
    // a limit of 1 us becomes 2: keepalived halves it for the warning point
    assert_eq!(bfd, Scheduling { rt_priority: Some(50), rlimit_rttime_us: 2, no_swap: true, ..Scheduling::default() });

    // (lines, the BFD settings they leave, whether keepalived warns)
    let cases: &[(&str, Scheduling, bool)] = &[
        ("bfd_rt_priority 200", Scheduling { rt_priority: Some(99), ..Scheduling::default() }, true),
        ("bfd_rt_priority -5", Scheduling { rt_priority: Some(1), ..Scheduling::default() }, true),
        (
            "bfd_rt_priority 40\n bfd_rt_priority high",
            Scheduling { rt_priority: Some(40), ..Scheduling::default() },
            true,
        ),
        ("bfd_priority 20", Scheduling::default(), true),
        ("bfd_priority -3\n bfd_priority 4", Scheduling { nice: 4, ..Scheduling::default() }, false),
        ("bfd_rlimit_rttime x", Scheduling { rlimit_rttime_us: 0, ..Scheduling::default() }, true),
        ("bfd_rlimit_rtime 30000", Scheduling { rlimit_rttime_us: 30_000, ..Scheduling::default() }, false),
        ("bfd_cpu_affinity 1\n bfd_cpu_affinity 0 x", Scheduling::default(), true),
    ];
    for (line, want, warns) in cases {
        let ([_, _, bfd], worst) = read(line);
        assert_eq!(&bfd, want, "{line}");
        assert_eq!(worst.is_some_and(|s| s >= Severity::Warning), *warns, "{line}: {worst:?}");
    }
    assert_eq!(Scheduling::default().rlimit_rttime_us, DEFAULT_RLIMIT_RTTIME_US);
}

#[test]
fn the_vrrp_and_checker_real_time_keywords_are_checked_and_noted() {
    for (line, warns) in
        [("vrrp_rt_priority high", true), ("checker_rlimit_rttime -1", true), ("vrrp_rt_priority 10", false)]
    {
        let (_, worst) = read(line);
        let want = if warns { Severity::Warning } else { Severity::Note };
        assert_eq!(worst, Some(want), "{line}");
    }
}
