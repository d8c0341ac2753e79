//! Applies rules in `ipvsadm -R` syntax through the IPVS client, or prints the table.
//!
//! ```text
//! ipvs-apply [--one-by-one | --sync] < RULES   apply (pipelined; one request per round trip;
//!                                               or only the difference to the current table)
//! ipvs-apply --save | --timeouts | --daemons    print like ipvsadm -Sn, -L --timeout, -L --daemon
//! ```
//! Rule lines: `-A/-E/-D` services, `-a/-e/-d` destinations (with `-g/-i/-m -w -x -y
//! --tun-type --tun-port --tun-[no|rem]csum`), `-C`, `-Z`, `--set TCP TCPFIN UDP`,
//! `--start-daemon ROLE --mcast-interface IF --syncid N [--sync-maxlen --mcast-group
//! --mcast-port --mcast-ttl]`, `--stop-daemon ROLE`. Failures are printed one a line on
//! stderr (exit 1); the traffic counters go to stderr as `ops= writes= sends= recvs= ms=`.
//! The kernel lab (tests/kernel-lab) drives it.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Instant;

use vigil_ipvs::client::Client;
use vigil_ipvs::display::{render_daemons, render_rules, render_timeouts, TUNNEL_CSUM, TUNNEL_REMCSUM};
use vigil_ipvs::reconcile::{diff, Table};
use vigil_ipvs::{
    Dest, DestKey, Family, Forwarding, Op, Protocol, Service, ServiceFlags, ServiceKey, SyncDaemon, SyncRole, Timeouts,
    TunnelType,
};

/// One rule line.
enum Line {
    Op(Op),
    Flush,
    Zero,
    Set(Timeouts),
    Start(SyncDaemon),
    Stop(SyncRole),
}

fn addr_port(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let bad = || format!("bad address '{s}'");
    if let Some(rest) = s.strip_prefix('[') {
        let (a, p) = rest.split_once(']').ok_or_else(bad)?;
        let port = p.strip_prefix(':').map(|p| p.parse().map_err(|_| bad())).transpose()?;
        return Ok((a.parse().map_err(|_| bad())?, port));
    }
    match s.split_once(':') {
        Some((a, p)) => Ok((a.parse().map_err(|_| bad())?, Some(p.parse().map_err(|_| bad())?))),
        None => Ok((s.parse().map_err(|_| bad())?, None)),
    }
}

fn role(s: &str) -> Result<SyncRole, String> {
    match s {
        "master" => Ok(SyncRole::Master),
        "backup" => Ok(SyncRole::Backup),
        _ => Err(format!("bad sync role '{s}'")),
    }
}

fn number<T: std::str::FromStr>(s: Option<&&str>, what: &str) -> Result<T, String> {
    s.and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad or missing {what}"))
}

fn parse_line(line: &str) -> Result<Option<Line>, String> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let Some(cmd) = w.first() else { return Ok(None) };
    match *cmd {
        "-C" => return Ok(Some(Line::Flush)),
        "-Z" => return Ok(Some(Line::Zero)),
        "--set" => {
            return Ok(Some(Line::Set(Timeouts {
                tcp: number(w.get(1), "tcp timeout")?,
                tcp_fin: number(w.get(2), "tcpfin timeout")?,
                udp: number(w.get(3), "udp timeout")?,
            })))
        }
        "--stop-daemon" => return Ok(Some(Line::Stop(role(w.get(1).copied().unwrap_or_default())?))),
        "--start-daemon" => {
            let mut d = SyncDaemon::new(role(w.get(1).copied().unwrap_or_default())?, "", 0);
            let mut i = 2;
            while i < w.len() {
                let v = w.get(i + 1);
                match w[i] {
                    "--mcast-interface" => d.interface = v.map(|s| s.to_string()).unwrap_or_default(),
                    "--syncid" => d.syncid = number(v, "syncid")?,
                    "--sync-maxlen" => d.maxlen = number(v, "sync-maxlen")?,
                    "--mcast-group" => d.mcast_group = Some(number(v, "mcast-group")?),
                    "--mcast-port" => d.mcast_port = number(v, "mcast-port")?,
                    "--mcast-ttl" => d.mcast_ttl = number(v, "mcast-ttl")?,
                    other => return Err(format!("unknown option '{other}'")),
                }
                i += 2;
            }
            return Ok(Some(Line::Start(d)));
        }
        _ => {}
    }
    // A service or destination line.
    let mut key = None;
    let (mut v6, mut svc_port) = (false, 0);
    let mut sched = "wlc".to_owned();
    let (mut flags, mut timeout, mut netmask, mut pe) = (0, 0, None, None);
    let (mut rs, mut fwd, mut weight, mut u, mut l) = (None, Forwarding::DirectRoute, 1, 0, 0);
    let (mut tun, mut tun_port, mut tun_flags) = (TunnelType::IpIp, 0, 0);
    let mut i = 1;
    while i < w.len() {
        let v = w.get(i + 1);
        let mut took = true;
        match w[i] {
            o @ ("-t" | "-u" | "--sctp-service") => {
                let protocol = match o {
                    "-t" => Protocol::Tcp,
                    "-u" => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                let (addr, port) = addr_port(v.copied().unwrap_or_default())?;
                svc_port = port.unwrap_or(0);
                key = Some(ServiceKey::Addr { protocol, addr, port: svc_port });
            }
            "-f" => key = Some(ServiceKey::Fwmark { family: Family::Inet, mark: number(v, "fwmark")? }),
            "-6" => (v6, took) = (true, false),
            "-s" => sched = v.map(|s| s.to_string()).unwrap_or_default(),
            "-p" => {
                flags |= ServiceFlags::PERSISTENT;
                match v.and_then(|s| s.parse().ok()) {
                    Some(t) => timeout = t,
                    None => (timeout, took) = (300, false),
                }
            }
            "-M" => netmask = Some(v.copied().unwrap_or_default().to_owned()),
            "--pe" => pe = v.map(|s| s.to_string()),
            "-o" => (flags, took) = (flags | ServiceFlags::ONEPACKET, false),
            "-b" => {
                for f in v.copied().unwrap_or_default().split(',') {
                    flags |= match f {
                        "sh-fallback" | "mh-fallback" | "flag-1" => ServiceFlags::SCHED1,
                        "sh-port" | "mh-port" | "flag-2" => ServiceFlags::SCHED2,
                        "flag-3" => ServiceFlags::SCHED3,
                        other => return Err(format!("unknown scheduler flag '{other}'")),
                    };
                }
            }
            "-r" => rs = Some(addr_port(v.copied().unwrap_or_default())?),
            "-g" => (fwd, took) = (Forwarding::DirectRoute, false),
            "-i" => (fwd, took) = (Forwarding::Tunnel, false),
            "-m" => (fwd, took) = (Forwarding::Masq, false),
            "-w" => weight = number(v, "weight")?,
            "-x" => u = number(v, "upper threshold")?,
            "-y" => l = number(v, "lower threshold")?,
            "--tun-type" => {
                tun = match v.copied().unwrap_or_default() {
                    "ipip" => TunnelType::IpIp,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    other => return Err(format!("unknown tunnel type '{other}'")),
                }
            }
            "--tun-port" => tun_port = number(v, "tunnel port")?,
            "--tun-nocsum" => (tun_flags, took) = (0, false),
            "--tun-csum" => (tun_flags, took) = (TUNNEL_CSUM, false),
            "--tun-remcsum" => (tun_flags, took) = (TUNNEL_REMCSUM, false),
            other => return Err(format!("unknown option '{other}'")),
        }
        i += if took { 2 } else { 1 };
    }
    let mut key = key.ok_or("no service named")?;
    if let (true, ServiceKey::Fwmark { family, .. }) = (v6, &mut key) {
        *family = Family::Inet6;
    }
    let service = || {
        let mut s = Service::new(key, &sched);
        s.flags = ServiceFlags(flags);
        s.timeout = timeout;
        s.pe_name = pe.clone();
        if let Some(m) = &netmask {
            s.netmask = match m.parse::<std::net::Ipv4Addr>() {
                Ok(a) => u32::from(a),
                Err(_) => m.parse().map_err(|_| format!("bad netmask '{m}'"))?,
            };
        }
        Ok::<_, String>(s)
    };
    let dest = || {
        let (addr, port) = rs.ok_or("no real server named")?;
        let mut d = Dest::new(DestKey { addr, port: port.unwrap_or(svc_port) }, fwd, weight);
        (d.u_threshold, d.l_threshold) = (u, l);
        (d.tunnel_type, d.tunnel_port, d.tunnel_flags) = (tun, tun_port, tun_flags);
        Ok::<_, String>(d)
    };
    let op = match *cmd {
        "-A" => Op::AddService(service()?),
        "-E" => Op::EditService(service()?),
        "-D" => Op::DelService(key),
        "-a" => Op::AddDest(key, dest()?),
        "-e" => Op::EditDest(key, dest()?),
        "-d" => Op::DelDest(key, dest()?.key),
        other => return Err(format!("unknown command '{other}'")),
    };
    Ok(Some(Line::Op(op)))
}

enum Mode {
    Pipelined,
    OneByOne,
    Sync,
}

fn run() -> Result<bool, String> {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let mut client = Client::connect().map_err(|e| e.to_string())?;
    let mode = match arg.as_str() {
        "--save" | "--timeouts" | "--daemons" => {
            let text = match arg.as_str() {
                "--save" => {
                    let table = client.table().map_err(|e| e.to_string())?;
                    render_rules(&table)
                }
                "--timeouts" => render_timeouts(&client.timeouts().map_err(|e| e.to_string())?),
                _ => render_daemons(&client.daemons().map_err(|e| e.to_string())?),
            };
            print!("{text}");
            return Ok(true);
        }
        "" => Mode::Pipelined,
        "--one-by-one" => Mode::OneByOne,
        "--sync" => Mode::Sync,
        other => return Err(format!("unknown argument '{other}'")),
    };
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if let Some(l) = parse_line(line).map_err(|e| format!("line {}: {e}", n + 1))? {
            lines.push(l);
        }
    }
    let start = Instant::now();
    let mut ok = true;
    let mut report = |r: Result<(), vigil_ipvs::error::Error>| {
        if let Err(e) = r {
            eprintln!("{e}");
            ok = false;
        }
    };
    let mut ops = Vec::new();
    let mut n_ops = 0;
    for line in lines {
        match line {
            Line::Op(op) => ops.push(op),
            other => {
                n_ops += ops.len();
                for r in apply(&mut client, &mode, std::mem::take(&mut ops))? {
                    report(r);
                }
                report(match other {
                    Line::Flush => client.flush(),
                    Line::Zero => client.zero(None),
                    Line::Set(t) => client.set_timeouts(&t),
                    Line::Start(d) => client.start_daemon(&d),
                    Line::Stop(r) => client.stop_daemon(r),
                    Line::Op(_) => Ok(()),
                });
            }
        }
    }
    n_ops += ops.len();
    for r in apply(&mut client, &mode, ops)? {
        report(r);
    }
    let io = client.io_counters();
    eprintln!(
        "ops={n_ops} writes={} sends={} recvs={} ms={}",
        io.writes,
        io.sends,
        io.recvs,
        start.elapsed().as_millis()
    );
    Ok(ok)
}

fn apply(client: &mut Client, mode: &Mode, ops: Vec<Op>) -> Result<Vec<Result<(), vigil_ipvs::error::Error>>, String> {
    Ok(match mode {
        Mode::Pipelined => client.apply(&ops),
        Mode::OneByOne => ops.iter().flat_map(|op| client.apply(std::slice::from_ref(op))).collect(),
        Mode::Sync => {
            let listing = client.table().map_err(|e| e.to_string())?;
            let current = Table::from_listing(
                listing.into_iter().map(|(s, d)| (s.service, d.into_iter().map(|d| d.dest).collect())),
            );
            let mut desired = Table::default();
            for op in &ops {
                desired.apply(op);
            }
            let managed: BTreeSet<ServiceKey> = current.services.keys().copied().collect();
            client.apply(&diff(&current, &desired, &managed))
        }
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ipvs-apply: {e}");
            ExitCode::from(2)
        }
    }
}
