//! vigilctl: Vigil's command-line client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vigil_config::{Options, Severity};

mod daemon;
mod drain;
mod import;
mod maintenance;
mod realserver;

/// Vigil's command-line client.
#[derive(Debug, Parser)]
#[command(name = "vigilctl", disable_version_flag = true, subcommand_required = false, arg_required_else_help = true)]
struct Cli {
    /// Display the version and exit (as `vigild -v`).
    #[arg(short = 'v', short_alias = 'V', long = "version")]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the running vigild's state: every vrrp_instance, virtual and real server, and
    /// the IPVS services it manages.
    Status {
        /// The JSON document (docs/status.md) instead of tables.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Make vigild read its configuration again (as SIGHUP); exit 1 if the new file has
    /// errors (vigild then keeps running the previous configuration).
    Reload {
        /// The outcome as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Have vigild write its data dump (/tmp/keepalived.data, as SIGUSR1) and print it;
    /// with --stats, the statistics (/tmp/keepalived.stats, as SIGUSR2).
    Dump {
        #[arg(long)]
        stats: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Follow vigild's VRRP and real-server transitions, numbered in the order they happened:
    /// the recent ones first, then each as it comes, until interrupted.
    Events {
        /// One JSON object per line (seq, at, type, and the fields of the type).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Compare the configurations of directors that stand in for each other (a MASTER and its
    /// BACKUPs, or with --scale-out active/active directors) and report every difference that
    /// breaks failover or flow consistency (exit 1 if there is one; "advice:" lines do not
    /// count). The first file is A; each other file (B, C, ...) is compared with it.
    CheckPeers {
        /// The directors' keepalived.conf files, A first (a file may be given again with
        /// another config id).
        #[arg(required = true, num_args = 2.., value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Config id (`@ID` lines) of each file, in order; files past the last --id take the
        /// last one. Defaults to the host name.
        #[arg(long, value_name = "ID", conflicts_with_all = ["id_a", "id_b"])]
        id: Vec<String>,
        /// Config id of A, the first file; defaults to the host name.
        #[arg(long, value_name = "ID")]
        id_a: Option<String>,
        /// Config id of every other file; defaults to --id-a.
        #[arg(long, value_name = "ID")]
        id_b: Option<String>,
        /// Active/active directors behind ECMP (each announces the VIPs by BGP): compare only
        /// the virtual servers, whose every flow-mapping setting must match, and advise on
        /// what keeps a flow on its real server whichever director gets it.
        #[arg(long, visible_alias = "active-active")]
        scale_out: bool,
    },
    /// List the IPVS table as `ipvsadm -Ln` does, read over netlink (exit 1 if the kernel has
    /// no IPVS).
    Ipvs(IpvsArgs),
    /// Make this host an LVS-DR real server (the seeds' lvs_real script): VIPs on lo, ARP for
    /// them silenced (arp_ignore=1, arp_announce=2); `stop` undoes exactly what `start` did.
    #[command(subcommand)]
    Realserver(RealserverAction),
    /// Print a keepalived.conf equivalent to another tool's configuration. What cannot be
    /// carried over is listed on stderr as FILE:LINE; exit 0 when everything was, 1 when
    /// something was dropped or guessed, 2 when the input cannot be read.
    #[command(subcommand)]
    Import(ImportFrom),
    /// Take a real server, a virtual server or the whole director out of service, or put it
    /// back, without editing keepalived.conf. Kept across reloads and restarts; its checks
    /// go on and are shown, but do not move it.
    #[command(subcommand)]
    Maintenance(MaintenanceAction),
    /// Set a real server's weight at run time (`VS RS N`), or drop that override (`VS RS
    /// --clear`). Kept across reloads and restarts.
    Weight(WeightArgs),
    /// Withdraw a VIP's route announcement (every VIP without one): the routers send no new
    /// flows here, the open ones go on being served. Prints the connections IPVS still
    /// holds for it. Kept across reloads and restarts until `vigilctl undrain`.
    Drain(DrainArgs),
    /// Announce a drained VIP again (end every drain without one).
    Undrain(DrainArgs),
}

#[derive(Debug, clap::Args)]
struct DrainArgs {
    /// The VIP, as the announcement file lists it.
    vip: Option<std::net::IpAddr>,
    /// vigild's answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    socket: SocketArg,
}

#[derive(Debug, Subcommand)]
enum MaintenanceAction {
    /// Start maintenance: weight 0 (new connections go elsewhere, the open ones finish), or
    /// out of the table with --remove. It counts as down for the quorum.
    On {
        #[command(flatten)]
        target: TargetArgs,
        /// Remove it from the IPVS table instead of setting its weight to 0.
        #[arg(long)]
        remove: bool,
        /// Why, shown in the status and the events.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// End it by itself: after a duration (90s, 15m, 2h, 1d), at a time
        /// (2026-12-24T18:00:00Z) or at @UNIX seconds.
        #[arg(long, value_name = "DURATION|TIME")]
        expires: Option<String>,
        /// vigild's answer as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// End maintenance.
    Off {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// List the maintenance entries and weight overrides.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        socket: SocketArg,
    },
}

#[derive(Debug, clap::Args)]
struct TargetArgs {
    /// The virtual server as `vigilctl ipvs` or `vigilctl status` shows it: 10.0.0.1:80,
    /// "TCP 10.0.0.1:80", [10.0.0.1]:tcp:80, "FWM 1" or [group].
    vs: Option<String>,
    /// One of its real servers (10.0.0.7:80); the whole virtual server without it.
    rs: Option<String>,
    /// The whole director: every real server of every virtual server.
    #[arg(long)]
    director: bool,
}

#[derive(Debug, clap::Args)]
struct WeightArgs {
    /// The virtual server, as for `vigilctl maintenance`.
    vs: String,
    /// The real server (10.0.0.7:80).
    rs: String,
    /// The weight (0 to 65535).
    #[arg(required_unless_present = "clear", conflicts_with = "clear")]
    weight: Option<i32>,
    /// Drop the override: back to the configured (or dynamic checker's) weight.
    #[arg(long)]
    clear: bool,
    /// Drop it by itself, as for `vigilctl maintenance on --expires`.
    #[arg(long, value_name = "DURATION|TIME", conflicts_with = "clear")]
    expires: Option<String>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    socket: SocketArg,
}

#[derive(Debug, Subcommand)]
enum ImportFrom {
    /// An ldirectord.cf (heartbeat's Linux Director Daemon).
    Ldirectord {
        /// The ldirectord.cf to convert (`-` for standard input).
        file: PathBuf,
    },
    /// The output of `ipvsadm-save` / `ipvsadm -Sn`: virtual_server blocks for the table.
    Ipvsadm {
        /// The saved table (standard input when absent or `-`).
        file: Option<PathBuf>,
        /// Add a checker to every real server: `tcp` (TCP_CHECK) or `http:PATH` (HTTP_GET).
        #[arg(long, value_name = "tcp|http:PATH")]
        check: Option<import::ipvsadm::Check>,
    },
}

#[derive(Debug, clap::Args)]
struct SocketArg {
    /// vigild's control socket (default: the one of this network namespace's vigild).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

impl SocketArg {
    fn path(&self) -> PathBuf {
        self.socket.clone().unwrap_or_else(vigil_vrrp::io::control_socket)
    }
}

#[derive(Debug, Subcommand)]
enum RealserverAction {
    /// Add the VIPs to lo and set the ARP sysctls; running it again changes nothing.
    Start(VipArgs),
    /// Take back what `start` changed (only the given VIPs with --vip).
    Stop(VipArgs),
    /// Say whether this host is ready (exit 1 if not).
    Status(VipArgs),
}

#[derive(Debug, clap::Args)]
struct VipArgs {
    /// Virtual IP addresses, comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    vip: Vec<std::net::IpAddr>,
    /// How the director forwards to this host. `stop` needs none: its record says where each
    /// VIP went.
    #[arg(long, value_enum, default_value_t)]
    mode: realserver::Mode,
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
    if cli.version {
        println!("Vigil v{} (keepalived-compatible)", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        eprintln!("vigilctl: a command is needed (see vigilctl --help)");
        return ExitCode::from(2);
    };
    match run(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigilctl: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import(from) => import(from),
        Command::CheckPeers { files, id, id_a, id_b, scale_out } => {
            use vigil_config::peers::{self, Mode};
            // --id-a and --id-b are --id for the first file and for all the others.
            let ids =
                if id.is_empty() { [id_a.unwrap_or_else(gethostname)].into_iter().chain(id_b).collect() } else { id };
            if ids.len() > files.len() {
                anyhow::bail!("{} config ids (--id) for {} files", ids.len(), files.len());
            }
            let mut configs = Vec::with_capacity(files.len());
            for (k, file) in files.iter().enumerate() {
                let id = ids.get(k).or(ids.last()).map_or("", String::as_str);
                configs.push(load(file, id)?);
            }
            let mode = if scale_out { Mode::ScaleOut } else { Mode::Failover };
            let report = peers::check(&configs, mode);
            for (k, file) in files.iter().enumerate() {
                println!("{} = {}", peers::side_name(k), file.display());
            }
            for i in &report.issues {
                // With more than one other side, each line says which one it is about.
                if files.len() > 2 {
                    print!("[{}] ", peers::side_name(i.side));
                }
                println!("{i}");
            }
            for a in &report.advice {
                println!("advice: {a}");
            }
            let breaks = if scale_out { "flow consistency" } else { "failover" };
            if report.issues.is_empty() {
                println!("no difference that breaks {breaks}");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{} difference(s) that break {breaks}", report.issues.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Ipvs(args) => ipvs(&args),
        Command::Maintenance(action) => run_maintenance(action),
        Command::Weight(args) => {
            let expires = expiry(args.expires.as_deref())?;
            let weight = if args.clear { None } else { args.weight };
            let answer = daemon::ask(&args.socket.path(), &maintenance::weight(&args.vs, &args.rs, weight, expires))?;
            let what = match weight {
                Some(w) => format!("weight {w} on RS {} of VS {}", args.rs, args.vs),
                None => format!("weight override cleared on RS {} of VS {}", args.rs, args.vs),
            };
            print_answer(&what, &answer, args.json)
        }
        Command::Status { json, socket } => {
            let answer = daemon::ask(&socket.path(), "status")?;
            if json {
                print!("{answer}");
            } else {
                let doc: serde_json::Value = serde_json::from_str(&answer).context("reading vigild's status")?;
                let mut text = daemon::render(&doc);
                // The entries that name no configured server show only here; a vigild
                // without maintenance support answers an error, and the status stands alone.
                let list = daemon::ask(&socket.path(), "maintenance").ok();
                if let Some(state) = list.and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok()) {
                    let entries = maintenance::render_list(&state);
                    if !entries.is_empty() {
                        text.push('\n');
                        text.push_str(&entries);
                    }
                }
                print!("{text}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Reload { json, socket } => {
            let answer = daemon::ask(&socket.path(), "reload")?;
            let outcome: serde_json::Value = serde_json::from_str(&answer).context("reading vigild's answer")?;
            let (text, ok) = daemon::render_reload(&outcome);
            print!("{}", if json { answer } else { text });
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Events { json, socket } => {
            daemon::follow_events(&socket.path(), json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dump { stats, socket } => {
            print!("{}", daemon::ask(&socket.path(), if stats { "stats" } else { "dump" })?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Drain(args) => {
            let answer = daemon::ask(&args.socket.path(), &drain::drain(args.vip))?;
            print_drained(&answer, args.json)?;
            // The flows still open; without IPVS (or without the rights to read it) there
            // is nothing to count.
            if !args.json {
                match vigil_ipvs::client::Client::connect().and_then(|mut c| c.table()) {
                    Ok(table) => print!("{}", drain::remaining(args.vip, &table)),
                    Err(e) => println!("remaining connections: unknown ({e})"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Undrain(args) => {
            let answer = daemon::ask(&args.socket.path(), &drain::undrain(args.vip))?;
            print_drained(&answer, args.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Realserver(action) => match action {
            RealserverAction::Start(a) => {
                anyhow::ensure!(!a.vip.is_empty(), "realserver start needs --vip ADDRESS[,ADDRESS...]");
                print!("{}", realserver::start(&a.vip, a.mode)?);
                Ok(ExitCode::SUCCESS)
            }
            RealserverAction::Stop(a) => {
                print!("{}", realserver::stop(&a.vip)?);
                Ok(ExitCode::SUCCESS)
            }
            RealserverAction::Status(a) => {
                let (text, ready) = realserver::status(&a.vip, a.mode)?;
                print!("{text}");
                Ok(if ready { ExitCode::SUCCESS } else { ExitCode::FAILURE })
            }
        },
    }
}

/// `vigilctl import`: the configuration on stdout, the findings on stderr.
fn run_maintenance(action: MaintenanceAction) -> anyhow::Result<ExitCode> {
    match action {
        MaintenanceAction::On { target, remove, reason, expires, json, socket } => {
            let t = maintenance::Target::new(target.director, target.vs, target.rs)?;
            let expires = expiry(expires.as_deref())?;
            let answer = daemon::ask(&socket.path(), &maintenance::on(&t, remove, reason.as_deref(), expires))?;
            let mode = if remove { "removed" } else { "quiescent" };
            print_answer(&format!("maintenance on ({mode}) for {}", words(&t)), &answer, json)
        }
        MaintenanceAction::Off { target, json, socket } => {
            let t = maintenance::Target::new(target.director, target.vs, target.rs)?;
            let answer = daemon::ask(&socket.path(), &maintenance::off(&t))?;
            print_answer(&format!("maintenance off for {}", words(&t)), &answer, json)
        }
        MaintenanceAction::List { json, socket } => {
            let answer = daemon::ask(&socket.path(), "maintenance")?;
            if json {
                print!("{answer}");
            } else {
                let state: serde_json::Value = serde_json::from_str(&answer).context("reading vigild's answer")?;
                let text = maintenance::render_list(&state);
                print!("{}", if text.is_empty() { "no maintenance entries and no weight overrides\n" } else { &text });
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn words(t: &maintenance::Target) -> String {
    match t {
        maintenance::Target::Director => "the director".into(),
        maintenance::Target::VirtualServer(vs) => format!("VS {vs}"),
        maintenance::Target::RealServer(vs, rs) => format!("RS {rs} of VS {vs}"),
    }
}

fn expiry(text: Option<&str>) -> anyhow::Result<Option<f64>> {
    text.map(|t| maintenance::parse_expiry(t, maintenance::now())).transpose().map_err(anyhow::Error::msg)
}

fn print_drained(answer: &str, json: bool) -> anyhow::Result<()> {
    if json {
        print!("{answer}");
    } else {
        let value: serde_json::Value = serde_json::from_str(answer).context("reading vigild's answer")?;
        print!("{}", drain::render_drained(&value));
    }
    Ok(())
}

fn print_answer(what: &str, answer: &str, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        print!("{answer}");
    } else {
        let value: serde_json::Value = serde_json::from_str(answer).context("reading vigild's answer")?;
        print!("{}", maintenance::render_answer(what, &value));
    }
    Ok(ExitCode::SUCCESS)
}

fn import(from: ImportFrom) -> anyhow::Result<ExitCode> {
    let (path, conversion) = match from {
        ImportFrom::Ldirectord { file } => {
            let (name, text) = read_input(Some(&file))?;
            let c = import::ldirectord::convert(&name, &text);
            (name, c)
        }
        ImportFrom::Ipvsadm { file, check } => {
            let (name, text) = read_input(file.as_deref())?;
            let c = import::ipvsadm::convert(&name, &text, check.as_ref());
            (name, c)
        }
    };
    print!("{}", conversion.text());
    for issue in &conversion.issues {
        eprintln!("{}", issue.render(&path));
    }
    Ok(ExitCode::from(conversion.exit_code()))
}

/// A file's name (for messages and comments) and text; standard input for `-` or none.
fn read_input(file: Option<&Path>) -> anyhow::Result<(String, String)> {
    match file {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => {
            let text = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let name =
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string());
            Ok((name, String::from_utf8_lossy(&text).into_owned()))
        }
    }
}

fn read_stdin() -> anyhow::Result<(String, String)> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    Ok(("<stdin>".to_string(), String::from_utf8_lossy(&bytes).into_owned()))
}

/// `vigilctl ipvs`: the kernel's refusals and a missing IPVS print their message and exit 1.
fn ipvs(args: &IpvsArgs) -> anyhow::Result<ExitCode> {
    use vigil_ipvs::error::Error;
    let text = if args.connections {
        match std::fs::read_to_string("/proc/net/ip_vs_conn") {
            Ok(t) => Ok(ipvs_connections(args, &t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotAvailable),
            Err(e) => return Err(e).context("reading /proc/net/ip_vs_conn"),
        }
    } else {
        ipvs_listing(args)
    };
    match text {
        Ok(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("vigilctl: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Pretty JSON of plain data (no map with non-string keys, so it cannot fail).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("plain data serializes") + "\n"
}

fn ipvs_connections(args: &IpvsArgs, proc_text: &str) -> String {
    let conns = vigil_ipvs::display::parse_connections(proc_text);
    if args.json {
        json(&conns)
    } else {
        vigil_ipvs::display::render_connections(&conns)
    }
}

fn ipvs_listing(args: &IpvsArgs) -> Result<String, vigil_ipvs::error::Error> {
    use vigil_ipvs::display::{self, Format};
    let mut client = vigil_ipvs::client::Client::connect()?;
    if args.timeout {
        let t = client.timeouts()?;
        return Ok(if args.json { json(&t) } else { display::render_timeouts(&t) });
    }
    if args.daemon {
        let d = client.daemons()?;
        return Ok(if args.json { json(&d) } else { display::render_daemons(&d) });
    }
    let info = client.info()?;
    let table = client.table()?;
    if args.json {
        let services: Vec<_> = table
            .iter()
            .map(|(s, d)| serde_json::json!({ "service": s.service, "stats": s.stats, "dests": d }))
            .collect();
        return Ok(json(&serde_json::json!({
            "version": info.to_string(),
            "conn_tab_size": info.conn_tab_size,
            "services": services,
        })));
    }
    let format = match args {
        IpvsArgs { stats: true, .. } => Format::Stats,
        IpvsArgs { rate: true, .. } => Format::Rate,
        IpvsArgs { thresholds: true, .. } => Format::Thresholds,
        IpvsArgs { persistent_conn: true, .. } => Format::PersistentConn,
        _ => Format::Plain,
    };
    Ok(display::render(&info, &table, format))
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
