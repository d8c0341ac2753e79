//! Running as a daemon: read the configuration, start the subsystems on one tokio runtime,
//! stop them gracefully on SIGTERM or SIGINT.

use std::sync::Arc;

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use vigil_config::Severity;

use crate::cli::Cli;
use crate::pidfile::PidFile;

/// Runs until SIGTERM or SIGINT; returns the exit status.
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    crate::logging::init(cli.log_detail);
    let parsed = vigil_config::parse_file(&cli.use_file, &crate::options(cli), Some(&crate::host::System))
        .context("reading the configuration")?;
    for d in &parsed.diagnostics {
        match d.severity {
            Severity::Error => tracing::error!("{d}"),
            Severity::Warning => tracing::warn!("{d}"),
            Severity::Note => tracing::debug!("{d}"),
        }
    }
    let config = Arc::new(parsed.config);
    let _pid = cli.pid.as_deref().map(PidFile::create).transpose()?;
    let _vrrp_pid = cli.vrrp_pid.as_deref().map(PidFile::create).transpose()?;
    // VRRP timers are precise to tens of microseconds; the kernel's default 50 us timer slack
    // would add to every advert interval and to the takeover time.
    if let Err(e) = nix::sys::prctl::set_timerslack(1) {
        tracing::debug!("cannot lower the timer slack: {e}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
        tracing::info!("Starting Vigil v{}", env!("CARGO_PKG_VERSION"));
        let vrrp = (!cli.check).then(|| tokio::spawn(crate::vrrp::run(config.clone(), stop_rx.clone())));
        let _checkers_pid = cli.checkers_pid.as_deref().map(PidFile::create).transpose()?;
        let checkers = if !cli.vrrp && !config.virtual_servers.is_empty() {
            crate::checkers::Checkers::start(config.clone())
        } else {
            None
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("Stopping"),
            _ = int.recv() => tracing::info!("Stopping"),
        }
        let _ = stop_tx.send(true);
        if let Some(c) = checkers {
            c.stop(!cli.dont_release_ipvs).await;
        }
        if let Some(v) = vrrp {
            match v.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("VRRP: {e:#}"),
                Err(e) => tracing::error!("VRRP task failed: {e}"),
            }
        }
        tracing::info!("Stopped Vigil v{}", env!("CARGO_PKG_VERSION"));
        Ok(0)
    })
}
