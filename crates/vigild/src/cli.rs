//! keepalived's command line, flag for flag.

use std::path::PathBuf;

use clap::Parser;

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
    /// /run/vigil/vigild-net<ID>.sock in a network namespace other than the host's).
    #[arg(long = "control-socket", value_name = "PATH")]
    pub control_socket: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics (off by default; without ADDR,
    /// 127.0.0.1:9650).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9650")]
    pub metrics: Option<std::net::SocketAddr>,

    /// The configuration id that selects `@ID` lines (default: the host name up to its first dot).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,

    /// Display the version and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
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
}
