//! keepalived's command line, flag for flag.

use std::path::PathBuf;

use clap::{CommandFactory as _, Parser};

/// The default configuration file, shared with keepalived so users keep their habits.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

/// Vigil: a keepalived-compatible high-availability daemon.
#[derive(Debug, Parser)]
#[command(name = "vigild", disable_version_flag = true)]
pub struct Cli {
    /// Use the specified configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub use_file: PathBuf,

    /// Check the configuration for obvious errors, print every diagnostic and exit
    /// (0: clean; 5: errors or warnings; 6: a script-security or include check failed).
    #[arg(short = 't', long = "config-test")]
    pub config_test: bool,

    /// With -t: print the diagnostics as JSON lines (file, line, column, severity, code, message, suggestion).
    #[arg(long)]
    pub json: bool,

    /// With -t: notes count as warnings for the exit status.
    #[arg(long)]
    pub strict: bool,

    /// Only run the VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp: bool,

    /// Only run the checkers (health checks and IPVS).
    #[arg(short = 'C', long = "check")]
    pub check: bool,

    /// Don't remove the IPVS services at stop (a restart then keeps every connection).
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,

    /// Stay in the foreground (without it vigild goes to the background, as keepalived).
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,

    /// Log to the console (standard error) instead of syslog.
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,

    /// Detailed log messages.
    #[arg(short = 'D', long = "log-detail")]
    pub log_detail: bool,

    /// Syslog facility number, 0-7 (local0 to local7).
    #[arg(short = 'S', long = "log-facility", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=7))]
    pub log_facility: Option<u8>,

    /// Use the specified pidfile for the parent process.
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,

    /// Use the specified pidfile for the VRRP subsystem.
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid: Option<PathBuf>,

    /// Use the specified pidfile for the checkers subsystem.
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid: Option<PathBuf>,

    /// The control socket vigilctl talks to (default: /run/vigil/vigild.sock, or
    /// /run/vigil/vigild-NAME.sock in the network namespace /run/netns/NAME).
    #[arg(long = "control-socket", value_name = "PATH")]
    pub control_socket: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics (off by default; without ADDR,
    /// 127.0.0.1:9650).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9650")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Run in the network namespace NAME (/run/netns/NAME), overriding the configuration's
    /// `net_namespace`, as keepalived's -s does.
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,

    /// Vigil's route announcements for active/active directors (docs/scale-out.md): a file
    /// keepalived never reads. Without it, nothing is announced.
    #[arg(long = "announce-config", value_name = "FILE", default_value = crate::announce::DEFAULT_PATH)]
    pub announce_config: PathBuf,

    /// Remove every route the announcement file's table holds under its protocol, then exit
    /// (for systemd's ExecStopPost: a vigild that died must not keep attracting flows).
    #[arg(long)]
    pub withdraw: bool,

    /// The configuration id that selects `@ID` lines (default: the host name up to its first dot).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,

    /// Display the version and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,

    /// Print the number of the signal that asks for SIGFUNC (STOP, RELOAD, DATA, STATS,
    /// STATS_CLEAR, JSON) and exit, as keepalived --signum does: `kill -s $(vigild
    /// --signum=JSON) PID`.
    #[arg(long, value_name = "SIGFUNC")]
    pub signum: Option<String>,
}

impl Cli {
    /// Parses the command line as [`Parser::parse`] does, and also refuses flags that mean
    /// nothing without `-t`, saying why (clap's `requires` would only name the missing flag);
    /// either refusal prints the error and exits 2.
    pub fn parse_checked() -> Cli {
        let cli = Cli::parse();
        if let Err(e) = cli.check() {
            e.exit()
        }
        cli
    }

    /// `--json` and `--strict` only change what `-t` prints and how it exits: without `-t`
    /// they would be ignored while vigild goes to the background, and a pipeline waiting
    /// for JSON would get nothing.
    fn check(&self) -> Result<(), clap::Error> {
        if self.config_test {
            return Ok(());
        }
        let (flag, what) = match (self.json, self.strict) {
            (true, _) => ("--json", "it prints the configuration test's diagnostics as JSON lines"),
            (_, true) => ("--strict", "it makes notes count for the configuration test's exit status"),
            _ => return Ok(()),
        };
        Err(Cli::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            format!("{flag} goes with -t (--config-test): {what}; the daemon has no use for it"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_flags_parse() {
        let cli = Cli::try_parse_from([
            "vigild",
            "-f",
            "/tmp/k.conf",
            "-P",
            "-n",
            "-l",
            "-D",
            "-S",
            "3",
            "-p",
            "/run/a.pid",
            "-r",
            "/run/v.pid",
            "-c",
            "/run/c.pid",
            "-i",
            "main",
        ])
        .expect("keepalived's flags");
        assert_eq!(cli.use_file, PathBuf::from("/tmp/k.conf"));
        assert!(cli.vrrp && cli.dont_fork && cli.log_console && cli.log_detail);
        assert_eq!(cli.log_facility, Some(3));
        assert_eq!(cli.config_id.as_deref(), Some("main"));
        let long = Cli::try_parse_from(["vigild", "--use-file=/x", "--config-test", "--check", "--dont-fork"])
            .expect("long flags");
        assert!(long.config_test && long.check);
    }

    #[test]
    fn default_config_path() {
        let cli = Cli::try_parse_from(["vigild", "-t"]).expect("-t alone");
        assert_eq!(cli.use_file, PathBuf::from(DEFAULT_CONFIG));
    }

    #[test]
    fn json_and_strict_need_config_test() {
        for flag in ["--json", "--strict"] {
            let cli = Cli::try_parse_from(["vigild", flag, "-n"]).expect("clap alone accepts it");
            let err = cli.check().expect_err("refused without -t");
            assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(&format!("{flag} goes with -t (--config-test)")), "{err}");
            let with_t = Cli::try_parse_from(["vigild", "-t", flag]).expect("-t with it");
            assert!(with_t.check().is_ok());
        }
        let plain = Cli::try_parse_from(["vigild", "-n"]).expect("the daemon's flags");
        assert!(plain.check().is_ok());
    }
}
