//! Running as a daemon: read the configuration, start the subsystems on one tokio runtime,
//! and serve until SIGTERM or SIGINT: reloads (SIGHUP, `vigilctl reload`), the status
//! document (`vigilctl status`, metrics), keepalived's dumps (SIGUSR1, SIGUSR2 and its JSON
//! signal) and its STATS_CLEAR signal, and systemd's notifications (READY, RELOADING, STATUS).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use vigil_config::{Config, Severity};

use crate::announce::Announcer;
use crate::checkers::Checkers;
use crate::cli::Cli;
use crate::control::{self, Command, Request};
use crate::dump::{self, json};
use crate::events::{Events, Fifos};
use crate::lifecycle::Which;
use crate::pidfile::PidFile;
use crate::status::{self, unix_time, Document, ReloadOutcome};
use crate::vrrp::Control;

/// How often the one-line summary for systemd is brought up to date.
const SUMMARY_EVERY: Duration = Duration::from_secs(1);

/// Runs until SIGTERM or SIGINT; returns the exit status.
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    // keepalived goes to the background unless -n (--dont-fork): one fork here, before any
    // thread exists, and the rest runs in the child (systemd's unit passes --dont-fork).
    if !cli.dont_fork {
        nix::unistd::daemon(false, cli.log_console).context("going to the background (use -n to stay)")?;
    }
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    crate::logging::init(cli.log_detail, crate::logging::target(cli.log_console, cli.log_facility, journal));
    let vigil_config::Parsed { config, diagnostics } =
        vigil_config::parse_file(&cli.use_file, &crate::options(cli), Some(&crate::host::System))
            .context("reading the configuration")?;
    log_diagnostics(&diagnostics);
    // Logged: not kept for the daemon's life (a note for each of 10,000 virtual servers is
    // megabytes).
    drop(diagnostics);
    let config = Arc::new(config);
    // Before any thread exists: every thread started later is in the namespace too.
    if let Some(name) = namespace(cli, &config) {
        enter_namespace(&name)?;
    }
    let _pid = cli.pid.as_deref().map(PidFile::create).transpose()?;
    let _vrrp_pid = cli.vrrp_pid.as_deref().map(PidFile::create).transpose()?;
    let _checkers_pid = cli.checkers_pid.as_deref().map(PidFile::create).transpose()?;
    // VRRP timers are precise to tens of microseconds; the kernel's default 50 us timer slack
    // would add to every advert interval and to the takeover time.
    if let Err(e) = nix::sys::prctl::set_timerslack(1) {
        tracing::debug!("cannot lower the timer slack: {e}");
    }
    crate::scheduling::remember();
    crate::scheduling::apply("vrrp", &config.global.vrrp_scheduling, crate::scheduling::Realtime::Refused);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    let status = runtime.block_on(async {
        crate::lifecycle::run(Which::Startup, &config.global).await;
        let mut daemon = Daemon::start(cli, config).await?;
        daemon.serve().await
    });
    // Every subsystem has stopped; what may remain is blocking work the stop cut short (a
    // reload reading a file that does not come), which must not hold the exit.
    runtime.shutdown_background();
    status
}

/// The network namespace to run in: `-s NAME`, else the configuration's `net_namespace`.
fn namespace(cli: &Cli, config: &Config) -> Option<String> {
    match (&cli.namespace, &config.global.net_namespace) {
        (Some(arg), Some(conf)) => {
            tracing::info!("Overriding config net_namespace '{conf}' with command line namespace '{arg}'");
            Some(arg.clone())
        }
        (arg, conf) => arg.clone().or_else(|| conf.clone()),
    }
}

/// Moves the process (its only thread) into the network namespace `/run/netns/NAME`, as
/// `ip netns exec NAME` would.
fn enter_namespace(name: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new("/run/netns").join(name);
    let entered = std::fs::File::open(&path)
        .map_err(anyhow::Error::from)
        .and_then(|f| Ok(nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET)?));
    match entered {
        Ok(()) => {
            tracing::info!("Running in network namespace {name}");
            Ok(())
        }
        Err(e) => Err(e.context(format!("Unable to set network namespace {name} - exiting ({})", path.display()))),
    }
}

/// Logs the configuration's diagnostics; returns the errors, each `file:line: message`. An
/// interface that does not exist is an error for `-t` (as keepalived's) but not for the
/// daemon: the instance waits for it (dynamic interfaces).
fn log_diagnostics(diagnostics: &[vigil_config::Diagnostic]) -> Vec<String> {
    let mut errors = Vec::new();
    for d in diagnostics {
        match d.severity {
            Severity::Error if d.code == "unknown-interface" => tracing::warn!("{d}"),
            Severity::Error => {
                tracing::error!("{d}");
                errors.push(d.to_string());
            }
            Severity::Warning => tracing::warn!("{d}"),
            Severity::Note => tracing::debug!("{d}"),
        }
    }
    errors
}

/// Tells systemd, when it is listening; a failure is only worth a debug line.
fn tell_systemd(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!("sd_notify: {e}");
    }
}

/// Left by the package's prerm before an upgrade restarts vigild: the stop that follows keeps
/// the IPVS table (as -I does), and the new vigild adopts it, so an upgrade cuts no connection
/// the director itself carries. Read once and removed; a vigild that starts removes a stale one.
const KEEP_IPVS_ONCE: &str = "/run/vigil/keep-ipvs-once";

/// Whether this stop is to keep the IPVS table: `-I`, or the package's upgrade marker (taken).
fn keep_ipvs_at_stop(dont_release: bool) -> bool {
    let upgrade = std::fs::remove_file(KEEP_IPVS_ONCE).is_ok();
    if upgrade && !dont_release {
        tracing::info!("Leaving the IPVS table in place for the package upgrade ({KEEP_IPVS_ONCE})");
    }
    dont_release || upgrade
}

/// How long a stop waits for the notify scripts still queued (STOP's among them).
const NOTIFY_DRAIN: Duration = Duration::from_secs(10);

/// The running daemon.
struct Daemon<'a> {
    cli: &'a Cli,
    config: Arc<Config>,
    stop: watch::Sender<bool>,
    vrrp: Option<(mpsc::Sender<Control>, JoinHandle<anyhow::Result<()>>)>,
    checkers: Option<Checkers>,
    announcer: Option<Announcer>,
    bfd: Option<crate::bfd::Bfd>,
    requests: mpsc::Receiver<Request>,
    _control: Option<control::Server>,
    events: Events,
    fifos: Option<Fifos>,
    started: SystemTime,
    reloads_ok: u64,
    reloads_failed: u64,
    last_reload: Option<ReloadOutcome>,
    summary: String,
}

/// The signals keepalived 2.2.7 gives a meaning to, by their `keepalived --signum=NAME` names;
/// vigild answers the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KaSignal {
    Stop,
    Reload,
    Data,
    Stats,
    StatsClear,
    Json,
}

impl KaSignal {
    pub(crate) const ALL: [KaSignal; 6] =
        [KaSignal::Stop, KaSignal::Reload, KaSignal::Data, KaSignal::Stats, KaSignal::StatsClear, KaSignal::Json];

    /// The name `--signum` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KaSignal::Stop => "STOP",
            KaSignal::Reload => "RELOAD",
            KaSignal::Data => "DATA",
            KaSignal::Stats => "STATS",
            KaSignal::StatsClear => "STATS_CLEAR",
            KaSignal::Json => "JSON",
        }
    }

    /// The signal number, chosen as keepalived's signals.h does: the two without a classic
    /// signal are real-time ones counted from either end (36 and 63 with glibc, whose first
    /// two real-time signals are its own).
    pub(crate) fn number(self) -> i32 {
        use nix::libc;
        match self {
            KaSignal::Stop => libc::SIGTERM,
            KaSignal::Reload => libc::SIGHUP,
            KaSignal::Data => libc::SIGUSR1,
            KaSignal::Stats => libc::SIGUSR2,
            KaSignal::StatsClear => libc::SIGRTMAX() - 1,
            KaSignal::Json => libc::SIGRTMIN() + 2,
        }
    }

    fn listen(self) -> anyhow::Result<Signal> {
        signal(SignalKind::from_raw(self.number())).with_context(|| format!("{} signal handler", self.name()))
    }
}

/// The signals the daemon answers.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    usr1: Signal,
    usr2: Signal,
    stats_clear: Signal,
    json: Signal,
    /// Handlers for the real-time signals nobody gives a meaning to, kept and never read.
    _ignored: Vec<Signal>,
}

impl Signals {
    /// `work`'s result, or `None` when SIGTERM or SIGINT comes first: `work` is then dropped
    /// where it stands. A reload of 100,000 real servers takes seconds; the stop must not
    /// wait for it (systemd's stop timeout would kill vigild with its services still in the
    /// table).
    async fn unless_stopped<T>(&mut self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            _ = self.term.recv() => None,
            _ = self.int.recv() => None,
        }
    }
}

/// keepalived ignores every signal it gives no meaning to; the default action of a real-time
/// one is to end the process, so tooling written for keepalived (or a signal of a later
/// keepalived, or SIGRTMAX, the thread dump of builds with --enable-dump-threads) would kill
/// vigild with it. Each gets a handler whose events are dropped; tokio keeps a handler
/// installed for the life of the process, and it resets to the default in the scripts vigild
/// runs, as keepalived's do.
fn ignore_realtime() -> Vec<Signal> {
    use nix::libc;
    let ours: Vec<i32> = KaSignal::ALL.iter().map(|s| s.number()).collect();
    (libc::SIGRTMIN()..=libc::SIGRTMAX())
        .filter(|n| !ours.contains(n))
        .filter_map(|n| match signal(SignalKind::from_raw(n)) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!("signal {n} keeps its default action: {e}");
                None
            }
        })
        .collect()
}

/// keepalived's dump files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dump {
    /// keepalived.data (SIGUSR1).
    Data,
    /// keepalived.stats (SIGUSR2), then the counters zeroed when `clear` (STATS_CLEAR).
    Stats { clear: bool },
    /// keepalived.json (the JSON signal).
    Json,
}

impl<'a> Daemon<'a> {
    async fn start(cli: &'a Cli, config: Arc<Config>) -> anyhow::Result<Daemon<'a>> {
        tracing::info!("Starting Vigil v{}", env!("CARGO_PKG_VERSION"));
        // An upgrade marker is for the stop of the vigild it was left for, not for this one.
        let _ = std::fs::remove_file(KEEP_IPVS_ONCE);
        let (stop, stop_rx) = watch::channel(false);
        let events = Events::default();
        let fifos = Some(Fifos::start(&config.global, &events));
        let bfd = crate::bfd::Bfd::start(&config, stop_rx.clone());
        let vrrp = (!cli.check).then(|| {
            let (tx, rx) = mpsc::channel(16);
            (tx, tokio::spawn(crate::vrrp::run(config.clone(), stop_rx, rx, events.clone(), bfd.up(), bfd.falls())))
        });
        // With route announcements, the checks run even without IPVS in the kernel: their
        // verdicts still decide what is announced.
        let announcing = !cli.vrrp && cli.announce_config.exists();
        let checkers = if !cli.vrrp && !config.virtual_servers.is_empty() {
            Checkers::start(config.clone(), events.clone(), bfd.up(), announcing).await
        } else {
            None
        };
        let announcer = if announcing {
            Announcer::start(&cli.announce_config, config.clone(), events.clone(), checkers.is_some()).await
        } else {
            None
        };
        let (requests_tx, requests) = mpsc::channel(64);
        let socket = cli.control_socket.clone().unwrap_or_else(vigil_vrrp::io::control_socket);
        let control = match control::serve(&socket, requests_tx.clone(), events.clone()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("control socket: {e:#}; vigilctl status and reload will not reach this daemon");
                None
            }
        };
        if let Some(addr) = cli.metrics {
            if let Err(e) = crate::metrics::serve(addr, requests_tx).await {
                tracing::error!("{e:#}");
            }
        }
        Ok(Daemon {
            cli,
            config,
            stop,
            vrrp,
            checkers,
            announcer,
            bfd: Some(bfd),
            requests,
            _control: control,
            events,
            fifos,
            started: SystemTime::now(),
            reloads_ok: 0,
            reloads_failed: 0,
            last_reload: None,
            summary: String::new(),
        })
    }

    async fn serve(&mut self) -> anyhow::Result<u8> {
        let mut signals = Signals {
            term: signal(SignalKind::terminate()).context("SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("SIGINT handler")?,
            hup: signal(SignalKind::hangup()).context("SIGHUP handler")?,
            usr1: signal(SignalKind::user_defined1()).context("SIGUSR1 handler")?,
            usr2: signal(SignalKind::user_defined2()).context("SIGUSR2 handler")?,
            stats_clear: KaSignal::StatsClear.listen()?,
            json: KaSignal::Json.listen()?,
            _ignored: ignore_realtime(),
        };
        let pid = std::process::id();
        let summary = self.summary().await;
        tell_systemd(&[NotifyState::Ready, NotifyState::Status(&summary)]);
        self.summary = summary;
        let mut tick = tokio::time::interval(SUMMARY_EVERY);
        // WatchdogSec= in the unit: WATCHDOG=1 every SUMMARY_EVERY while the work is done, so
        // that a hung vigild is killed and restarted (Restart=on-failure).
        let watchdog = sd_notify::watchdog_enabled(false, &mut 0);
        // Work that waits on a subsystem (a reload, a status, a dump, the summary) gives way to
        // SIGTERM and SIGINT: dropped where it stands, it is the stop below that brings things
        // down. What a subsystem already took on (a VRRP reload, the IPVS owner's writes) it
        // finishes first.
        loop {
            let done = tokio::select! {
                _ = signals.term.recv() => break,
                _ = signals.int.recv() => break,
                _ = signals.hup.recv() => signals.unless_stopped(self.reload()).await.is_some(),
                _ = signals.usr1.recv() => {
                    tracing::info!("Printing VRRP data for process({pid}) on signal");
                    signals.unless_stopped(self.write_dump(Dump::Data)).await.is_some()
                }
                _ = signals.usr2.recv() => {
                    tracing::info!("Printing VRRP stats for process({pid}) on signal");
                    signals.unless_stopped(self.write_dump(Dump::Stats { clear: false })).await.is_some()
                }
                _ = signals.stats_clear.recv() => {
                    tracing::info!("Printing and clearing VRRP stats for process({pid}) on signal");
                    signals.unless_stopped(self.write_dump(Dump::Stats { clear: true })).await.is_some()
                }
                _ = signals.json.recv() => {
                    tracing::info!("Printing VRRP as json for process({pid}) on signal");
                    signals.unless_stopped(self.write_dump(Dump::Json)).await.is_some()
                }
                Some(r) = self.requests.recv() => match signals.unless_stopped(self.answer(r.command)).await {
                    Some(answer) => {
                        let _ = r.reply.send(answer);
                        true
                    }
                    None => false,
                },
                _ = tick.tick() => {
                    let beat = async {
                        self.update_summary().await;
                        if watchdog && self.alive().await {
                            tell_systemd(&[NotifyState::Watchdog]);
                        }
                    };
                    signals.unless_stopped(beat).await.is_some()
                }
            };
            if !done {
                tracing::info!("Stopping before the work under way was finished");
                break;
            }
        }
        tracing::info!("Stopping");
        tell_systemd(&[NotifyState::Stopping]);
        // The routers stop sending new flows first, while every service still answers.
        if let Some(a) = self.announcer.take() {
            a.stop().await;
        }
        let _ = self.stop.send(true);
        if let Some(c) = self.checkers.take() {
            c.stop(!keep_ipvs_at_stop(self.cli.dont_release_ipvs)).await;
        }
        if let Some((_, task)) = self.vrrp.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("VRRP: {e:#}"),
                Err(e) => tracing::error!("VRRP task failed: {e}"),
            }
        }
        if let Some(b) = self.bfd.take() {
            b.join().await;
        }
        if !crate::notify::drained(NOTIFY_DRAIN).await {
            tracing::warn!("Notify scripts still queued after {NOTIFY_DRAIN:?}; not waiting for them");
        }
        if let Some(f) = self.fifos.take() {
            f.finish(&self.events);
        }
        crate::lifecycle::run(Which::Shutdown, &self.config.global).await;
        tracing::info!("Stopped Vigil v{}", env!("CARGO_PKG_VERSION"));
        Ok(0)
    }

    async fn answer(&mut self, command: Command) -> String {
        match command {
            Command::Status => json(&self.document().await),
            Command::Reload => json(&self.reload().await),
            Command::Dump => self.write_dump(Dump::Data).await,
            Command::Stats => self.write_dump(Dump::Stats { clear: false }).await,
            Command::Metrics => crate::metrics::render(&self.document().await),
        }
    }

    /// Writes one of keepalived's dump files; returns its text.
    async fn write_dump(&mut self, which: Dump) -> String {
        let doc = self.document().await;
        let (name, text) = match which {
            Dump::Data => (dump::DATA_FILE, dump::data(&doc)),
            Dump::Stats { clear } => {
                // Zeroed right after they were read: what the VRRP task counts in between
                // is in neither dump, as few as the adverts of a millisecond.
                if clear {
                    self.clear_stats().await;
                }
                (dump::STATS_FILE, dump::stats(&doc))
            }
            // keepalived writes no JSON file without a VRRP instance.
            Dump::Json if doc.vrrp.is_empty() => return String::new(),
            Dump::Json => (json::FILE_NAME, json::render(&json::entries(&self.config, &doc.vrrp))),
        };
        let path = dump::path(name);
        match dump::write(&path, &text) {
            Ok(()) => tracing::info!("Wrote {}", path.display()),
            Err(e) => tracing::error!("cannot write {}: {e}", path.display()),
        }
        text
    }

    /// Zeroes the VRRP counters the stats dump shows. The VRRP task reads its control
    /// messages in order, so any later dump sees them cleared.
    async fn clear_stats(&self) {
        if let Some((tx, _)) = &self.vrrp {
            let _ = tx.send(Control::ClearStats).await;
        }
    }

    /// Reads the configuration file again and, when it has no error, runs it: see the VRRP
    /// and checkers modules for what stays and what changes. With errors the running
    /// configuration stays untouched and every error is logged and reported.
    async fn reload(&mut self) -> ReloadOutcome {
        let began = std::time::Instant::now();
        // systemd wants the monotonic time with RELOADING (Type=notify-reload checks it).
        let mut reloading = vec![NotifyState::Reloading];
        reloading.extend(NotifyState::monotonic_usec_now().ok());
        tell_systemd(&reloading);
        tracing::info!("Reloading");
        let (path, opts, running) = (self.cli.use_file.clone(), crate::options(self.cli), self.config.clone());
        let parsed = tokio::task::spawn_blocking(move || {
            // The virtual servers read again unchanged are the running ones as soon as they are
            // read; the ones only moved within themselves are taken after.
            let mut parsed = vigil_config::reparse_file(&path, &opts, Some(&crate::host::System), &running)?;
            // A configuration with errors is not run: nothing to share.
            if !parsed.has_errors() {
                let kept = vigil_config::reuse::keep_unchanged(&mut parsed.config, &running);
                tracing::debug!("{kept} more virtual servers unchanged: the running configuration's are kept");
            }
            Ok::<_, vigil_config::Error>(parsed)
        })
        .await;
        let mut outcome = ReloadOutcome { at: unix_time(SystemTime::now()), ..ReloadOutcome::default() };
        let config = match parsed {
            Ok(Ok(parsed)) => {
                outcome.errors = log_diagnostics(&parsed.diagnostics);
                outcome.errors.is_empty().then(|| Arc::new(parsed.config))
            }
            Ok(Err(e)) => {
                tracing::error!("{e:#}");
                outcome.errors.push(format!("{e:#}"));
                None
            }
            Err(e) => {
                outcome.errors.push(format!("reading the configuration failed: {e}"));
                None
            }
        };
        match config {
            Some(config) => {
                outcome.ok = true;
                if self.cli.namespace.is_none() && config.global.net_namespace != self.config.global.net_namespace {
                    tracing::warn!("Cannot change network namespace at a reload - please restart vigild");
                }
                if !self.fifos.as_ref().is_some_and(|f| f.same(&config.global)) {
                    if let Some(f) = self.fifos.take() {
                        f.finish(&self.events);
                    }
                    self.fifos = Some(Fifos::start(&config.global, &self.events));
                }
                if let Some(b) = &self.bfd {
                    b.reload(config.clone()).await;
                }
                // This thread is VRRP's (keepalived reapplies each process's settings too).
                crate::scheduling::apply("vrrp", &config.global.vrrp_scheduling, crate::scheduling::Realtime::Refused);
                outcome.vrrp = self.reload_vrrp(&config).await;
                if !self.cli.vrrp {
                    match &mut self.checkers {
                        Some(c) => match c.reload(config.clone()).await {
                            Ok(applied) => outcome.ipvs = applied,
                            Err(e) => outcome.errors.push(e),
                        },
                        None if !config.virtual_servers.is_empty() => {
                            self.checkers = Checkers::start(
                                config.clone(),
                                self.events.clone(),
                                self.bfd
                                    .as_ref()
                                    .map_or_else(|| tokio::sync::watch::channel(Default::default()).1, |b| b.up()),
                                self.cli.announce_config.exists(),
                            )
                            .await
                        }
                        None => {}
                    }
                    match &self.announcer {
                        Some(a) => a.reload(config.clone()).await,
                        None if self.cli.announce_config.exists() => {
                            self.announcer = Announcer::start(
                                &self.cli.announce_config,
                                config.clone(),
                                self.events.clone(),
                                self.checkers.is_some(),
                            )
                            .await
                        }
                        None => {}
                    }
                }
                self.config = config;
                outcome.ms = began.elapsed().as_secs_f64() * 1000.0;
                if outcome.errors.is_empty() {
                    self.reloads_ok += 1;
                    tracing::info!("Reload finished in {:.1} ms", outcome.ms);
                } else {
                    // A part kept the previous configuration: the reload counts as failed.
                    outcome.ok = false;
                    self.reloads_failed += 1;
                    tracing::error!("Reload finished in {:.1} ms, in part: {}", outcome.ms, outcome.errors.join("; "));
                }
            }
            None => {
                self.reloads_failed += 1;
                outcome.ms = began.elapsed().as_secs_f64() * 1000.0;
                tracing::error!(
                    "Reload failed: {} error(s) in {}; still running the previous configuration",
                    outcome.errors.len(),
                    self.cli.use_file.display()
                );
            }
        }
        self.last_reload = Some(outcome.clone());
        let summary = self.summary().await;
        tell_systemd(&[NotifyState::Ready, NotifyState::Status(&summary)]);
        self.summary = summary;
        outcome
    }

    async fn reload_vrrp(&mut self, config: &Arc<Config>) -> Option<crate::status::Reloaded> {
        let (tx, _) = self.vrrp.as_ref()?;
        let (reply, done) = oneshot::channel();
        tx.send(Control::Reload { config: config.clone(), reply }).await.ok()?;
        done.await.ok()
    }

    /// Whether the parts that do the work answer: the VRRP task takes a request through the
    /// same loop that runs the state machines, and this loop got here. A hung VRRP task keeps
    /// this one waiting too, and the watchdog then fires.
    async fn alive(&self) -> bool {
        let Some((tx, task)) = &self.vrrp else { return true };
        if task.is_finished() {
            return false;
        }
        let (reply, rx) = oneshot::channel();
        tx.send(Control::Status { reply }).await.is_ok() && rx.await.is_ok()
    }

    async fn vrrp_status(&self) -> Vec<status::InstanceStatus> {
        let Some((tx, _)) = &self.vrrp else { return Vec::new() };
        let (reply, rx) = oneshot::channel();
        match tx.send(Control::Status { reply }).await {
            Ok(()) => rx.await.unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// The one-line summary for systemd: `2 MASTER, 1 BACKUP; 18/20 real servers up`.
    async fn summary(&self) -> String {
        let servers = self.checkers.as_ref().map(|c| c.status().1.servers()).unwrap_or_default();
        let up = servers.iter().filter(|s| s.up).count();
        let failed = self.last_reload.as_ref().filter(|r| !r.ok);
        status::summary(&self.vrrp_status().await, up, servers.len(), failed)
    }

    /// The status document, from every subsystem.
    async fn document(&self) -> Document {
        let vrrp = self.vrrp_status().await;
        let (virtual_servers, table) = match &self.checkers {
            Some(c) => {
                let (plan, board) = c.status();
                (status::virtual_servers(&plan, &board), c.table().await)
            }
            None => (Vec::new(), None),
        };
        let (bfd, bfd_dropped) = match &self.bfd {
            Some(b) => b.status().await,
            None => Default::default(),
        };
        Document {
            daemon: status::Daemon {
                version: env!("CARGO_PKG_VERSION").into(),
                pid: std::process::id(),
                started: unix_time(self.started),
                config_file: self.cli.use_file.display().to_string(),
                reloads_ok: self.reloads_ok,
                reloads_failed: self.reloads_failed,
                last_reload: self.last_reload.clone(),
                ipvs_repairs: table.as_ref().map_or(0, |(_, n)| *n),
                bfd_dropped,
            },
            vrrp,
            bfd,
            virtual_servers,
            ipvs: table.map(|(t, _)| status::ipvs(&t)),
            announce: self.announcer.as_ref().map(|a| a.verdicts().iter().map(status::AnnounceStatus::from).collect()),
        }
    }

    /// Sends systemd the one-line summary when it changed.
    async fn update_summary(&mut self) {
        let summary = self.summary().await;
        if summary != self.summary {
            tell_systemd(&[NotifyState::Status(&summary)]);
            self.summary = summary;
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .unwrap_or_else(|e| format!("error: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_signal_numbers() {
        // keepalived 2.2.7 on glibc Linux: `keepalived --signum=NAME` for each name.
        let numbers: Vec<(&str, i32)> = KaSignal::ALL.iter().map(|s| (s.name(), s.number())).collect();
        assert_eq!(
            numbers,
            [("STOP", 15), ("RELOAD", 1), ("DATA", 10), ("STATS", 12), ("STATS_CLEAR", 63), ("JSON", 36)]
        );
    }
}
