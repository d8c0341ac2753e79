//! vigild: the Vigil daemon. It checks keepalived.conf (`-t`) and runs, in one process, the
//! VRRP subsystem (`-P` alone) and the health checkers with the IPVS table they drive (`-C`
//! alone).

mod announce;
mod bfd;
mod checkers;
mod cli;
mod control;
mod credentials;
mod daemon;
mod dump;
mod events;
mod host;
mod lifecycle;
mod logging;
mod lvs;
mod maintenance;
mod metrics;
mod notify;
mod pidfile;
mod scheduling;
mod status;
mod vrrp;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use vigil_config::{Options, Severity};

fn main() -> ExitCode {
    let cli = cli::Cli::parse_checked();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("vigild: {}", causes(&e));
            if let Some(hint) = missing_default(&e) {
                eprintln!("vigild: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, as `{:#}` prints them, leaving out a cause that the
/// text before it already ends with: vigil_config's read error shows its I/O error in its own
/// message and also gives it as its source, which would print it twice.
fn causes(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// What to do when the error is that the default configuration file does not exist: a
/// newcomer who ran `vigild -t` has not learnt -f yet.
fn missing_default(e: &anyhow::Error) -> Option<String> {
    let vigil_config::Error::Read { path, source } = e.chain().find_map(|c| c.downcast_ref::<vigil_config::Error>())?;
    (source.kind() == std::io::ErrorKind::NotFound && path == Path::new(cli::DEFAULT_CONFIG))
        .then(|| format!("{} is the default; give your configuration file with -f FILE", cli::DEFAULT_CONFIG))
}

fn run(cli: &cli::Cli) -> anyhow::Result<u8> {
    if cli.version {
        println!("Vigil v{} (keepalived-compatible)", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    if let Some(name) = &cli.signum {
        return Ok(match daemon::KaSignal::ALL.iter().find(|s| s.name() == name) {
            Some(s) => {
                println!("{}", s.number());
                0
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                1
            }
        });
    }
    if cli.config_test {
        return config_test(cli);
    }
    if cli.withdraw {
        return withdraw(cli);
    }
    daemon::run(cli)
}

/// `--withdraw`: the announcement routes removed, their count printed.
fn withdraw(cli: &cli::Cli) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let removed = runtime.block_on(announce::withdraw(&cli.announce_config))?;
    println!("vigild: {removed} announced route(s) withdrawn");
    Ok(0)
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
    let parsed = match vigil_config::parse_file(&cli.use_file, &opts, Some(&host::System)) {
        Ok(parsed) => parsed,
        Err(e) => {
            let e = anyhow::Error::new(e);
            if cli.json {
                // A pipeline reading stdout learns why there are no diagnostics, in their shape;
                // line 0 is the file as a whole, as in the diagnostics themselves.
                let line = json_diagnostic(
                    &cli.use_file,
                    (0, 0),
                    Severity::Error,
                    "config-unreadable",
                    &causes(&e),
                    missing_default(&e).as_deref(),
                );
                println!("{line}");
            }
            return Err(e.context("configuration test failed"));
        }
    };
    // Buffered: stderr is not, and a diagnostic would otherwise cost a dozen write calls.
    let mut out = std::io::BufWriter::new(std::io::stderr().lock());
    let mut json_out = std::io::BufWriter::new(std::io::stdout().lock());
    for d in &parsed.diagnostics {
        if cli.json {
            let line = json_diagnostic(
                &d.span.file.path(),
                (d.span.line, d.span.col),
                d.severity,
                d.code,
                &d.message,
                d.suggestion.as_deref(),
            );
            writeln!(json_out, "{line}")?;
        } else {
            writeln!(out, "{d}")?;
        }
    }
    // Vigil's own announcement file, when there is one: its errors count as errors.
    let announce_errors = match announce::read(&cli.announce_config) {
        Err(vigil_config::announce::Error::Invalid(found)) => found,
        Err(e) => vec![vigil_config::Diagnostic {
            severity: Severity::Error,
            code: "announce-unreadable",
            span: vigil_config::Span::new(vigil_config::span::FileId::intern(&cli.announce_config), 0, 0),
            message: e.to_string(),
            suggestion: None,
            security: false,
        }],
        Ok(_) => Vec::new(),
    };
    for d in &announce_errors {
        writeln!(out, "{d}")?;
    }
    let count = |s: Severity| parsed.diagnostics.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (count(Severity::Error), count(Severity::Warning), count(Severity::Note));
    if !cli.json && (errors + warnings + notes) > 0 {
        writeln!(out, "{}: {errors} error(s), {warnings} warning(s), {notes} note(s)", cli.use_file.display())?;
    }
    out.flush()?;
    json_out.flush()?;
    let mut code = vigil_config::exit_code(&parsed.diagnostics, cli.strict);
    if !announce_errors.is_empty() {
        code = code.max(vigil_config::exit_code(&announce_errors, cli.strict));
    }
    // The process ends here: freeing a large model item by item would only add to -t's time.
    std::mem::forget(parsed);
    Ok(u8::try_from(code).unwrap_or(1))
}

/// One line of `-t --json`: a diagnostic at (line, column) of `file`.
fn json_diagnostic(
    file: &Path,
    (line, column): (u32, u32),
    severity: Severity,
    code: &str,
    message: &str,
    suggestion: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "file": file.display().to_string(),
        "line": line,
        "column": column,
        "severity": severity,
        "code": code,
        "message": message,
        "suggestion": suggestion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_error(path: &str, kind: std::io::ErrorKind) -> anyhow::Error {
        let read = vigil_config::Error::Read { path: path.into(), source: std::io::Error::from(kind) };
        anyhow::Error::new(read).context("configuration test failed")
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let e = read_error("/x.conf", std::io::ErrorKind::NotFound);
        let io = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
        assert_eq!(causes(&e), format!("configuration test failed: cannot read configuration file /x.conf: {io}"));
    }

    #[test]
    fn causes_not_in_the_message_are_all_printed() {
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(causes(&e), "outer: middle: inner");
    }

    #[test]
    fn only_a_missing_default_file_suggests_f() {
        let hint = missing_default(&read_error(cli::DEFAULT_CONFIG, std::io::ErrorKind::NotFound));
        assert!(hint.is_some_and(|h| h.contains("-f FILE")));
        assert_eq!(missing_default(&read_error("/etc/other.conf", std::io::ErrorKind::NotFound)), None);
        assert_eq!(missing_default(&read_error(cli::DEFAULT_CONFIG, std::io::ErrorKind::PermissionDenied)), None);
        assert_eq!(missing_default(&anyhow::anyhow!("something else")), None);
    }
}
