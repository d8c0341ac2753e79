//! `vigilctl realserver start|stop|status`: what the seeds' `lvs_real` / `lvs-dr-conf.sh`
//! scripts do on an LVS real server, done so that it can be run twice and undone.
//!
//! * LVS-DR (`--mode dr`, the default): the director hands the client's packet unchanged to
//!   the real server's MAC address, so the VIPs go on `lo` as host addresses, with
//!   `arp_ignore=1` / `arp_announce=2` on `all` and `lo` so that the real server never answers
//!   ARP for a VIP.
//! * LVS-TUN (`--mode tun`): the director wraps the client's packet in IPIP (IPv6 in IPv6 for
//!   an IPv6 VIP), and the kernel unwraps it on the fallback tunnel `tunl0` (`ip6tnl0`) that
//!   the `ipip` (`ip6_tunnel`) module creates in every network namespace. The VIPs go on that
//!   tunnel, which must be up; ARP is silenced on `all` and `tunl0` as for DR, and reverse-path
//!   filtering is turned off there (see [`TUN_SYSCTLS`]).
//!
//! What `start` changed (the sysctls' former values, the addresses it added, the tunnels it
//! brought up) is recorded per network namespace under /run/vigil, and `stop` puts back exactly
//! that. A module `start` had to load stays loaded.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use vigil_vrrp::io::{AddOutcome, Addresses, Link, RemoveOutcome, Vip};

/// How the director forwards packets to this real server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// LVS-DR (direct routing): the VIPs on lo.
    #[default]
    Dr,
    /// LVS-TUN (IP tunnelling): the VIPs on tunl0, IPv6 ones on ip6tnl0.
    Tun,
}

impl Mode {
    /// The interface a VIP goes on.
    fn interface(self, vip: IpAddr) -> &'static str {
        match (self, vip) {
            (Mode::Dr, _) => "lo",
            (Mode::Tun, IpAddr::V4(_)) => "tunl0",
            (Mode::Tun, IpAddr::V6(_)) => "ip6tnl0",
        }
    }

    /// The interfaces `vips` go on, each once.
    fn interfaces(self, vips: &[IpAddr]) -> Vec<&'static str> {
        let mut devs = Vec::new();
        for &vip in vips {
            let dev = self.interface(vip);
            if !devs.contains(&dev) {
                devs.push(dev);
            }
        }
        devs
    }

    /// The sysctls this mode needs for `vips`. TUN's are about tunl0, which an IPv6-only TUN
    /// real server does not use.
    fn sysctls(self, vips: &[IpAddr]) -> &'static [(&'static str, &'static str)] {
        match self {
            Mode::Dr => &DR_SYSCTLS,
            Mode::Tun if vips.iter().any(IpAddr::is_ipv4) => &TUN_SYSCTLS,
            Mode::Tun => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Dr => "DR",
            Mode::Tun => "TUN",
        }
    }
}

/// The sysctls a DR real server needs (under /proc/sys) and their values.
pub const DR_SYSCTLS: [(&str, &str); 4] = [
    ("net/ipv4/conf/all/arp_ignore", "1"),
    ("net/ipv4/conf/all/arp_announce", "2"),
    ("net/ipv4/conf/lo/arp_ignore", "1"),
    ("net/ipv4/conf/lo/arp_announce", "2"),
];

/// The sysctls a TUN real server with IPv4 VIPs needs: ARP as for DR, with tunl0 in lo's
/// place, and no reverse-path filtering. The unwrapped packet arrives on tunl0 from the
/// client's address, which the routes reach through another interface, so strict filtering
/// (rp_filter=1) drops it; the LVS-HOWTO's LVS-TUN chapter has rp_filter off on tunl0. The
/// kernel applies the higher of `all` and the interface's value, hence both.
pub const TUN_SYSCTLS: [(&str, &str); 6] = [
    ("net/ipv4/conf/all/arp_ignore", "1"),
    ("net/ipv4/conf/all/arp_announce", "2"),
    ("net/ipv4/conf/tunl0/arp_ignore", "1"),
    ("net/ipv4/conf/tunl0/arp_announce", "2"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/tunl0/rp_filter", "0"),
];

/// The module that creates tunnel `dev` in every network namespace when it loads; `None` for
/// an interface that is not one of the fallback tunnels TUN mode uses.
fn tunnel_module(dev: &str) -> Option<&'static str> {
    match dev {
        "tunl0" => Some("ipip"),
        "ip6tnl0" => Some("ip6_tunnel"),
        _ => None,
    }
}

/// What `start` changed and `stop` undoes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Sysctls `start` changed, with the value they had before.
    pub sysctls: Vec<(String, String)>,
    /// VIPs `start` added (not the ones that were there already), with their interface.
    pub vips: Vec<(String, IpAddr)>,
    /// Interfaces `start` brought up, which were down before.
    pub links: Vec<String>,
}

impl Record {
    /// The record's file: one `sysctl PATH VALUE`, `vip INTERFACE ADDRESS` or
    /// `link INTERFACE down` per line. `vip ADDRESS`, as records written before TUN mode have
    /// it, is a VIP on lo.
    pub fn parse(text: &str) -> Record {
        let mut r = Record::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words[..] {
                ["sysctl", path, value] => r.sysctls.push((path.into(), value.into())),
                ["vip", addr] => r.vips.extend(addr.parse::<IpAddr>().ok().map(|ip| ("lo".into(), ip))),
                ["vip", dev, addr] => r.vips.extend(addr.parse::<IpAddr>().ok().map(|ip| (dev.into(), ip))),
                ["link", dev, "down"] => r.links.push(dev.into()),
                _ => {}
            }
        }
        r
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (path, value) in &self.sysctls {
            let _ = writeln!(out, "sysctl {path} {value}");
        }
        for (dev, vip) in &self.vips {
            let _ = writeln!(out, "vip {dev} {vip}");
        }
        for dev in &self.links {
            let _ = writeln!(out, "link {dev} down");
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty() && self.vips.is_empty() && self.links.is_empty()
    }
}

/// `sysctl` spelling of a /proc/sys path: `net.ipv4.conf.all.arp_ignore`.
fn dotted(path: &str) -> String {
    path.replace('/', ".")
}

fn prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

/// The record of this network namespace (namespaces share /run).
fn record_path() -> anyhow::Result<PathBuf> {
    let id = vigil_vrrp::io::netns_id().context("reading /proc/self/ns/net")?;
    Ok(PathBuf::from(format!("/run/vigil/realserver-net{id}.state")))
}

fn load(path: &Path) -> anyhow::Result<Record> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Record::parse(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(path: &Path, r: &Record) -> anyhow::Result<()> {
    if r.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).context("removing the record"),
            _ => Ok(()),
        };
    }
    let dir = path.parent().unwrap_or(Path::new("/run"));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, r.render()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A sysctl's value; `None` when it does not exist (an interface's, while there is no such
/// interface).
fn read_sysctl(path: &str) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(Path::new("/proc/sys").join(path)) {
        Ok(value) => Ok(Some(value.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", dotted(path))),
    }
}

fn write_sysctl(path: &str, value: &str) -> anyhow::Result<()> {
    std::fs::write(Path::new("/proc/sys").join(path), value).with_context(|| format!("setting {}", dotted(path)))
}

/// Interface `dev`, or `None` when there is none by that name.
async fn find_link(a: &Addresses, dev: &str) -> anyhow::Result<Option<Link>> {
    match a.link_by_name(dev).await {
        Ok(link) => Ok(Some(link)),
        Err(vigil_vrrp::io::Error::NoSuchInterface { .. }) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("finding {dev}")),
    }
}

/// Interface `dev` for `start`; a missing tunnel is created by loading its module.
async fn ensure_link(a: &Addresses, dev: &str, out: &mut String) -> anyhow::Result<Link> {
    if let Some(link) = find_link(a, dev).await? {
        return Ok(link);
    }
    let module = tunnel_module(dev).with_context(|| format!("interface {dev} not found"))?;
    let loaded = modprobe(module);
    if let Some(link) = find_link(a, dev).await? {
        let _ = writeln!(out, "loaded {module}, which created {dev} (stop leaves the module loaded)");
        return Ok(link);
    }
    let why = match loaded {
        Ok(()) => format!(
            "`modprobe {module}` did not create it in this network namespace \
             (is net.core.fb_tunnels_only_for_init_net set?)"
        ),
        Err(e) => e,
    };
    anyhow::bail!("{dev} does not exist and {why}; LVS-TUN needs the kernel's {module} module, which creates {dev}")
}

/// `modprobe MODULE`; on failure, what went wrong, worded to follow "and".
fn modprobe(module: &str) -> Result<(), String> {
    match Command::new("modprobe").arg(module).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            Err(format!("`modprobe {module}` failed ({}): {}", o.status, stderr.trim()))
        }
        Err(e) => Err(format!("`modprobe {module}` could not run: {e}")),
    }
}

/// `ip link set dev DEV up|down`: vigil_vrrp's netlink helpers look links up but do not change
/// them.
fn set_link(dev: &str, up: bool) -> anyhow::Result<()> {
    let state = if up { "up" } else { "down" };
    let o = Command::new("ip")
        .args(["link", "set", "dev", dev, state])
        .output()
        .with_context(|| format!("running `ip link set dev {dev} {state}`"))?;
    anyhow::ensure!(
        o.status.success(),
        "`ip link set dev {dev} {state}` failed: {}",
        String::from_utf8_lossy(&o.stderr).trim()
    );
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")
}

/// `start`: makes this host a `mode` real server for `vips`; prints what it changed.
pub fn start(vips: &[IpAddr], mode: Mode) -> anyhow::Result<String> {
    let path = record_path()?;
    let mut record = load(&path)?;
    let mut out = String::new();
    runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        // Every interface first: a tunnel that cannot be had leaves the host as it was.
        let mut links = Vec::new();
        for dev in mode.interfaces(vips) {
            links.push((dev, ensure_link(&a, dev, &mut out).await?));
        }
        for &(p, want) in mode.sysctls(vips) {
            let was = read_sysctl(p)?.with_context(|| format!("{} does not exist", dotted(p)))?;
            if was != want {
                if !record.sysctls.iter().any(|(q, _)| q == p) {
                    record.sysctls.push((p.to_string(), was.clone()));
                }
                write_sysctl(p, want)?;
                let _ = writeln!(out, "{} {was} -> {want}", dotted(p));
            }
        }
        // Recorded before the links and addresses: a failure there still leaves a record that
        // undoes this.
        save(&path, &record)?;
        // `up` is also "running", which a tunnel always is once administratively up.
        for (dev, _) in links.iter().filter(|(dev, link)| tunnel_module(dev).is_some() && !link.up) {
            if !record.links.iter().any(|l| l == dev) {
                record.links.push(dev.to_string());
            }
            save(&path, &record)?;
            set_link(dev, true)?;
            let _ = writeln!(out, "brought {dev} up");
        }
        for &vip in vips {
            let dev = mode.interface(vip);
            let ifindex = links
                .iter()
                .find(|(d, _)| *d == dev)
                .map(|(_, link)| link.ifindex)
                .expect("every VIP's interface is among the links found above");
            let added =
                a.add(ifindex, &Vip::new(vip, prefix(vip))).await.with_context(|| format!("adding {vip} to {dev}"))?;
            match added {
                AddOutcome::Added => {
                    if !record.vips.iter().any(|(d, v)| d == dev && *v == vip) {
                        record.vips.push((dev.to_string(), vip));
                    }
                    let _ = writeln!(out, "added {vip}/{} to {dev}", prefix(vip));
                }
                AddOutcome::AlreadyPresent => {}
            }
            save(&path, &record)?;
        }
        anyhow::Ok(())
    })?;
    if out.is_empty() {
        let _ = writeln!(out, "already a {} real server for these VIPs: nothing changed", mode.name());
    }
    Ok(out)
}

/// `stop`: takes back what `start` did, in whichever mode: the given VIPs (all it added when
/// none are given), and the sysctls and the tunnels it brought up once no VIP it added is left.
pub fn stop(vips: &[IpAddr]) -> anyhow::Result<String> {
    let path = record_path()?;
    let mut record = load(&path)?;
    let mut out = String::new();
    let remove: Vec<(String, IpAddr)> =
        record.vips.iter().filter(|(_, v)| vips.is_empty() || vips.contains(v)).cloned().collect();
    let not_ours: Vec<IpAddr> = vips.iter().copied().filter(|v| !record.vips.iter().any(|(_, r)| r == v)).collect();
    runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        for (dev, vip) in remove {
            // An interface that is gone took the VIP with it.
            let outcome = match find_link(&a, &dev).await? {
                Some(link) => a
                    .remove(link.ifindex, vip, prefix(vip))
                    .await
                    .with_context(|| format!("removing {vip} from {dev}"))?,
                None => RemoveOutcome::Absent,
            };
            if outcome == RemoveOutcome::Removed {
                let _ = writeln!(out, "removed {vip}/{} from {dev}", prefix(vip));
            }
            record.vips.retain(|(d, v)| *d != dev || *v != vip);
            save(&path, &record)?;
        }
        for v in not_ours {
            let _ = writeln!(out, "{v} was not added by vigilctl: left as it is");
        }
        if !record.vips.is_empty() {
            return anyhow::Ok(());
        }
        for (p, value) in std::mem::take(&mut record.sysctls) {
            if read_sysctl(&p)?.is_none() {
                let _ = writeln!(out, "{} went with its interface: nothing to put back", dotted(&p));
                continue;
            }
            write_sysctl(&p, &value)?;
            let _ = writeln!(out, "{} back to {value}", dotted(&p));
        }
        for dev in std::mem::take(&mut record.links) {
            if find_link(&a, &dev).await?.is_some() {
                set_link(&dev, false)?;
                let _ = writeln!(out, "took {dev} down again");
            }
        }
        anyhow::Ok(())
    })?;
    save(&path, &record)?;
    if out.is_empty() {
        out.push_str("nothing to undo\n");
    }
    Ok(out)
}

/// `status`: whether this host is ready to be a `mode` real server (for `vips`, or for the
/// VIPs `start` recorded in that mode); the text, and whether it is ready.
pub fn status(vips: &[IpAddr], mode: Mode) -> anyhow::Result<(String, bool)> {
    let record = load(&record_path()?)?;
    let wanted: Vec<IpAddr> = if vips.is_empty() {
        record.vips.iter().filter(|(dev, v)| dev == mode.interface(*v)).map(|(_, v)| *v).collect()
    } else {
        vips.to_vec()
    };
    let mut out = String::new();
    let mut ready = true;
    for &(p, want) in mode.sysctls(&wanted) {
        let have = read_sysctl(p)?;
        let ok = have.as_deref() == Some(want);
        ready &= ok;
        let verdict = if ok { "ok".to_string() } else { format!("NOT SET (needs {want})") };
        let _ = writeln!(out, "{:<34} {:<3} {verdict}", dotted(p), have.as_deref().unwrap_or("-"));
    }
    let found: Vec<(&str, Option<Link>, Vec<IpAddr>)> = runtime()?.block_on(async {
        let a = Addresses::new().context("opening rtnetlink")?;
        let mut found = Vec::new();
        for dev in mode.interfaces(&wanted) {
            let link = find_link(&a, dev).await?;
            let addrs = match &link {
                Some(l) => a.list(l.ifindex).await.with_context(|| format!("listing {dev}'s addresses"))?,
                None => Vec::new(),
            };
            found.push((dev, link, addrs.into_iter().map(|(ip, _)| ip).collect()));
        }
        anyhow::Ok(found)
    })?;
    for (dev, link, _) in &found {
        let Some(module) = tunnel_module(dev) else { continue };
        let state = match link {
            Some(l) if l.up => "up".to_string(),
            Some(_) => "DOWN".to_string(),
            None => format!("MISSING (needs the {module} module)"),
        };
        ready &= link.as_ref().is_some_and(|l| l.up);
        let _ = writeln!(out, "interface {dev:<24} {state}");
    }
    if wanted.is_empty() {
        ready = false;
        out.push_str("no VIP given or recorded: pass --vip\n");
        if !record.vips.is_empty() {
            out.push_str("the VIPs recorded are for the other --mode\n");
        }
    }
    for &v in &wanted {
        let dev = mode.interface(v);
        let ok = found.iter().any(|(d, _, addrs)| *d == dev && addrs.contains(&v));
        ready &= ok;
        let _ = writeln!(out, "VIP {v:<30} {}on {dev}", if ok { "" } else { "NOT " });
    }
    if ready {
        let _ = writeln!(out, "ready to be an LVS-{} real server", mode.name());
    } else {
        out.push_str("not ready\n");
    }
    Ok((out, ready))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_ignores_garbage() {
        let r = Record {
            sysctls: vec![("net/ipv4/conf/all/arp_ignore".into(), "0".into())],
            vips: vec![
                ("lo".into(), "10.0.0.100".parse().expect("ip")),
                ("tunl0".into(), "10.0.0.101".parse().expect("ip")),
                ("ip6tnl0".into(), "2001:db8::100".parse().expect("ip")),
            ],
            links: vec!["tunl0".into()],
        };
        assert_eq!(Record::parse(&r.render()), r);
        assert_eq!(
            Record::parse("vip nonsense\nvip lo nonsense\nsysctl only-a-path\nlink tunl0 up\nfoo bar baz\n"),
            Record::default()
        );
        assert!(Record::default().is_empty());
    }

    #[test]
    fn a_record_from_before_tun_mode_has_its_vips_on_lo() {
        let old = "sysctl net/ipv4/conf/all/arp_ignore 0\nvip 10.0.0.100\nvip 2001:db8::100\n";
        let r = Record::parse(old);
        assert_eq!(r.sysctls, [("net/ipv4/conf/all/arp_ignore".to_string(), "0".to_string())]);
        assert_eq!(
            r.vips,
            [
                ("lo".to_string(), "10.0.0.100".parse().expect("ip")),
                ("lo".to_string(), "2001:db8::100".parse().expect("ip"))
            ]
        );
    }

    #[test]
    fn each_mode_puts_vips_on_its_interfaces() {
        let v4: IpAddr = "10.0.0.1".parse().expect("ip");
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(Mode::Dr.interfaces(&[v4, v6]), ["lo"]);
        assert_eq!(Mode::Tun.interfaces(&[v4, v6, v4]), ["tunl0", "ip6tnl0"]);
        assert_eq!(Mode::Dr.sysctls(&[v6]), DR_SYSCTLS);
        assert_eq!(Mode::Tun.sysctls(&[v6, v4]), TUN_SYSCTLS);
        assert!(Mode::Tun.sysctls(&[v6]).is_empty(), "an IPv6-only TUN real server needs no tunl0");
        assert_eq!(tunnel_module("tunl0"), Some("ipip"));
        assert_eq!(tunnel_module("lo"), None);
    }

    #[test]
    fn names_and_prefixes() {
        assert_eq!(dotted("net/ipv4/conf/lo/arp_announce"), "net.ipv4.conf.lo.arp_announce");
        assert_eq!(prefix("10.0.0.1".parse().expect("ip")), 32);
        assert_eq!(prefix("2001:db8::1".parse().expect("ip")), 128);
    }
}
