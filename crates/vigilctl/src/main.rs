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
    }
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
