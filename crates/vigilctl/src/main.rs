//! vigilctl: Vigil's command-line client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vigil_config::{Options, Severity};

/// Vigil's command-line client.
#[derive(Debug, Parser)]
#[command(name = "vigilctl", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare the configurations of a MASTER/BACKUP pair and report every difference that
    /// breaks failover (exit 1 if there is one).
    CheckPeers {
        /// The first director's keepalived.conf.
        a: PathBuf,
        /// The second director's keepalived.conf (may be the same file with another --id-b).
        b: PathBuf,
        /// Config id (`@ID` lines) for A; defaults to the host name.
        #[arg(long)]
        id_a: Option<String>,
        /// Config id (`@ID` lines) for B; defaults to --id-a.
        #[arg(long)]
        id_b: Option<String>,
    },
    /// List the IPVS table as `ipvsadm -Ln` does, read over netlink (exit 1 if the kernel has
    /// no IPVS).
    Ipvs(IpvsArgs),
}

#[derive(Debug, clap::Args)]
struct IpvsArgs {
    /// Counters (`ipvsadm -Ln --stats`).
    #[arg(long, group = "view")]
    stats: bool,
    /// Rates (`ipvsadm -Ln --rate`).
    #[arg(long, group = "view")]
    rate: bool,
    /// Connection thresholds (`ipvsadm -Ln --thresholds`).
    #[arg(long, group = "view")]
    thresholds: bool,
    /// Persistent connections (`ipvsadm -Ln --persistent-conn`).
    #[arg(long, group = "view")]
    persistent_conn: bool,
    /// Connections (`ipvsadm -Lcn`, from /proc/net/ip_vs_conn).
    #[arg(short = 'c', long = "connection", group = "view")]
    connections: bool,
    /// Connection timeouts (`ipvsadm -L --timeout`).
    #[arg(long, group = "view")]
    timeout: bool,
    /// Sync daemons (`ipvsadm -L --daemon`).
    #[arg(long, group = "view")]
    daemon: bool,
    /// JSON instead of ipvsadm's layout.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigilctl: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckPeers { a, b, id_a, id_b } => {
            let host = gethostname();
            let id_a = id_a.unwrap_or(host);
            let id_b = id_b.unwrap_or_else(|| id_a.clone());
            let ca = load(&a, &id_a)?;
            let cb = load(&b, &id_b)?;
            let issues = vigil_config::peers::compare(&ca, &cb);
            println!("A = {}\nB = {}", a.display(), b.display());
            for i in &issues {
                println!("{i}");
            }
            if issues.is_empty() {
                println!("no difference that breaks failover");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{} difference(s) that break failover", issues.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Ipvs(args) => ipvs(&args),
    }
}

fn ipvs(args: &IpvsArgs) -> anyhow::Result<ExitCode> {
    use vigil_ipvs::display::{self, Format};
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("vigilctl: {e}");
        Ok(ExitCode::FAILURE)
    };
    if args.connections {
        let text = match std::fs::read_to_string("/proc/net/ip_vs_conn") {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return fail(&vigil_ipvs::error::Error::NotAvailable),
            Err(e) => return Err(e).context("reading /proc/net/ip_vs_conn"),
        };
        let conns = display::parse_connections(&text);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&conns)?);
        } else {
            print!("{}", display::render_connections(&conns));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut client = match vigil_ipvs::client::Client::connect() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let out = if args.timeout {
        let t = match client.timeouts() {
            Ok(t) => t,
            Err(e) => return fail(&e),
        };
        if args.json {
            serde_json::to_string_pretty(&t)? + "\n"
        } else {
            display::render_timeouts(&t)
        }
    } else if args.daemon {
        let d = match client.daemons() {
            Ok(d) => d,
            Err(e) => return fail(&e),
        };
        if args.json {
            serde_json::to_string_pretty(&d)? + "\n"
        } else {
            display::render_daemons(&d)
        }
    } else {
        let (info, table) = match client.info().and_then(|i| Ok((i, client.table()?))) {
            Ok(x) => x,
            Err(e) => return fail(&e),
        };
        if args.json {
            let services: Vec<_> = table
                .iter()
                .map(|(s, d)| serde_json::json!({ "service": s.service, "stats": s.stats, "dests": d }))
                .collect();
            let v = serde_json::json!({
                "version": info.to_string(),
                "conn_tab_size": info.conn_tab_size,
                "services": services,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        } else {
            let format = match args {
                IpvsArgs { stats: true, .. } => Format::Stats,
                IpvsArgs { rate: true, .. } => Format::Rate,
                IpvsArgs { thresholds: true, .. } => Format::Thresholds,
                IpvsArgs { persistent_conn: true, .. } => Format::PersistentConn,
                _ => Format::Plain,
            };
            display::render(&info, &table, format)
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn gethostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().split('.').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Parses one side; its errors are printed but do not stop the comparison.
fn load(path: &Path, id: &str) -> anyhow::Result<vigil_config::Config> {
    let opts = Options { config_id: id.to_string(), random_seed: 1 };
    let parsed = vigil_config::parse_file(path, &opts, None).with_context(|| format!("reading {}", path.display()))?;
    for d in parsed.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        eprintln!("{d}");
    }
    Ok(parsed.config)
}
