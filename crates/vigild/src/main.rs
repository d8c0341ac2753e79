//! vigild: the Vigil daemon. It checks keepalived.conf (`-t`) and runs, in one process, the
//! VRRP subsystem (`-P` alone) and the health checkers with the IPVS table they drive (`-C`
//! alone).

mod checkers;
mod cli;
mod control;
mod daemon;
mod dump;
mod events;
mod host;
mod logging;
mod lvs;
mod metrics;
mod notify;
mod pidfile;
mod status;
mod vrrp;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use vigil_config::{Options, Severity};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("vigild: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &cli::Cli) -> anyhow::Result<u8> {
    if cli.version {
        println!("Vigil v{} (keepalived-compatible)", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    if cli.config_test {
        return config_test(cli);
    }
    daemon::run(cli)
}

/// keepalived's default config id: the node name up to the first dot.
pub(crate) fn default_config_id() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    host.split('.').next().unwrap_or_default().to_string()
}

/// How to read the configuration, from the command line.
pub(crate) fn options(cli: &cli::Cli) -> Options {
    Options {
        config_id: cli.config_id.clone().unwrap_or_else(default_config_id),
        random_seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

fn config_test(cli: &cli::Cli) -> anyhow::Result<u8> {
    let opts = options(cli);
    let parsed = vigil_config::parse_file(&cli.use_file, &opts, Some(&host::System))
        .with_context(|| "configuration test failed".to_string())?;
    // Buffered: stderr is not, and a diagnostic would otherwise cost a dozen write calls.
    let mut out = std::io::BufWriter::new(std::io::stderr().lock());
    let mut json_out = std::io::BufWriter::new(std::io::stdout().lock());
    for d in &parsed.diagnostics {
        if cli.json {
            let line = serde_json::json!({
                "file": d.span.file.display().to_string(),
                "line": d.span.line,
                "column": d.span.col,
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "suggestion": d.suggestion,
            });
            writeln!(json_out, "{line}")?;
        } else {
            writeln!(out, "{d}")?;
        }
    }
    let count = |s: Severity| parsed.diagnostics.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (count(Severity::Error), count(Severity::Warning), count(Severity::Note));
    if !cli.json && (errors + warnings + notes) > 0 {
        writeln!(out, "{}: {errors} error(s), {warnings} warning(s), {notes} note(s)", cli.use_file.display())?;
    }
    out.flush()?;
    json_out.flush()?;
    let code = vigil_config::exit_code(&parsed.diagnostics, cli.strict);
    // The process ends here: freeing a large model item by item would only add to -t's time.
    std::mem::forget(parsed);
    Ok(u8::try_from(code).unwrap_or(1))
}
