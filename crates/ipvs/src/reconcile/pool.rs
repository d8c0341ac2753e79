//! What the table should hold, from the configuration and the real servers' health:
//! one [`Pool`] per `virtual_server`, with keepalived's rules for alpha, inhibit_on_failure,
//! dynamic weights, quorum with hysteresis, and the sorry server.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use vigil_config::model::{self as cfg, Config, GroupMember, RealServer, VirtualServer, VsKey};

use super::table::{delete_unwanted, diff_service, Table, TableService};
use super::Dests;
use crate::display::{TUNNEL_CSUM, TUNNEL_REMCSUM};
use crate::types::{Dest, DestKey, Family, Forwarding, Op, Protocol, Service, ServiceFlags, ServiceKey, TunnelType};

/// A real server: the index of its virtual_server in the configuration and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RsId {
    pub vs: usize,
    pub rs: usize,
}

/// A real server's state in its pool. What it is (address, forwarding, configured weight,
/// thresholds) is its configuration's, which the pool holds ([`Pool::vs`]). At 100,000 real
/// servers a copy of each one's destination here was 4 MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// What the checkers say; starts false under `alpha`.
    pub alive: bool,
    /// A weight set by a checker (MISC_CHECK misc_dynamic), replacing the configured one.
    pub dynamic_weight: Option<i32>,
    /// `inhibit_on_failure`: when down, keep it with weight 0 instead of removing it.
    pub inhibit: bool,
}

/// The sorry server of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sorry {
    pub dest: Dest,
    /// `sorry_server_inhibit`: kept with weight 0 while the quorum holds.
    pub inhibit: bool,
}

/// A quorum change, for logs and the quorum_up / quorum_down scripts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum QuorumEvent {
    /// keepalived: `Lost quorum 3-0=3 > 2 for VS [10.0.0.3]:tcp:80`.
    Lost { vs: usize, quorum: u32, hysteresis: u32, weight: i64 },
    /// keepalived: `Gained quorum 3+0=3 <= 3 for VS [10.0.0.3]:tcp:80`.
    Gained { vs: usize, quorum: u32, hysteresis: u32, weight: i64 },
}

/// One virtual server: the services it stands for (a group stands for several) and its
/// real servers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pool {
    /// Its configuration, which its members' destinations are read from.
    #[serde(skip)]
    pub vs: Arc<VirtualServer>,
    /// keepalived's name for it in logs: `[10.0.0.3]:tcp:80`, `FWM 1`, `group web`.
    pub name: String,
    pub services: Vec<Service>,
    pub members: Vec<Member>,
    pub sorry: Option<Sorry>,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: bool,
}

impl Pool {
    /// Each member with its real server's configuration.
    fn each(&self) -> impl Iterator<Item = (&Member, &RealServer)> {
        self.members.iter().zip(&self.vs.real_servers)
    }

    /// The weight member `i` contributes while alive ([`member_weight`]).
    pub fn weight(&self, i: usize) -> i32 {
        self.each().nth(i).map_or(0, |(m, rs)| member_weight(m, rs))
    }

    /// The sum of the weights of the live real servers.
    pub fn live_weight(&self) -> i64 {
        self.each().filter(|(m, _)| m.alive).map(|(m, rs)| i64::from(member_weight(m, rs).max(0))).sum()
    }

    /// Re-evaluates the quorum (keepalived's rule: lost when the live weight is 0 or below
    /// quorum - hysteresis, regained at quorum + hysteresis).
    fn update_quorum(&mut self, vs: usize) -> Option<QuorumEvent> {
        let weight = self.live_weight();
        let (quorum, hysteresis) = (self.quorum, self.hysteresis);
        let low = i64::from(quorum) - i64::from(hysteresis);
        let high = i64::from(quorum) + i64::from(hysteresis);
        if self.quorum_up && (weight == 0 || weight < low) {
            self.quorum_up = false;
            Some(QuorumEvent::Lost { vs, quorum, hysteresis, weight })
        } else if !self.quorum_up && (quorum == 0 || (weight > 0 && weight >= high)) {
            self.quorum_up = true;
            Some(QuorumEvent::Gained { vs, quorum, hysteresis, weight })
        } else {
            None
        }
    }

    /// The destinations every service of this pool should have now.
    pub fn dests(&self) -> Dests {
        let sorry_active = !self.quorum_up && self.sorry.is_some();
        let members = self.each().filter_map(|(m, rs)| {
            let weight = match (m.alive && !sorry_active, m.inhibit) {
                (true, _) => member_weight(m, rs),
                (false, true) => 0,
                (false, false) => return None,
            };
            Some(Dest { weight, ..member_dest(&self.vs, rs) })
        });
        let sorry = self.sorry.as_ref().and_then(|s| match (sorry_active, s.inhibit) {
            (true, _) => Some(s.dest.clone()),
            (false, true) => Some(Dest { weight: 0, ..s.dest.clone() }),
            (false, false) => None,
        });
        // The sorry server last: it replaces a member of its address.
        members.chain(sorry).collect()
    }

    /// Adds this pool's services to `table`.
    pub fn desired_into(&self, table: &mut Table) {
        let dests = self.dests();
        for s in &self.services {
            table.services.insert(s.key, TableService { service: s.clone(), dests: dests.clone() });
        }
    }
}

/// A service and the pool that gives it: see [`Pools::owners`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub key: ServiceKey,
    /// Its index in [`Pools::pools`].
    pub pool: usize,
    /// Its index in that pool's services.
    pub service: usize,
}

/// Every virtual server of a configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Pools {
    pub pools: Vec<Pool>,
}

impl Pools {
    /// The pools of `config`, with every real server up (down under `alpha`) and the
    /// quorum evaluated once; the events are the quorums already lost at start.
    pub fn from_config(config: &Config) -> (Pools, Vec<QuorumEvent>) {
        let mut pools = Pools { pools: config.virtual_servers.iter().map(|vs| pool(config, vs)).collect() };
        let events = (0..pools.pools.len()).filter_map(|i| pools.pools[i].update_quorum(i)).collect();
        (pools, events)
    }

    /// Records a checker verdict.  Returns the quorum change it causes, if any; the
    /// caller then re-diffs that pool's services.
    pub fn set_health(&mut self, id: RsId, alive: bool, dynamic_weight: Option<i32>) -> Option<QuorumEvent> {
        let pool = self.pools.get_mut(id.vs)?;
        let member = pool.members.get_mut(id.rs)?;
        member.alive = alive;
        if dynamic_weight.is_some() {
            member.dynamic_weight = dynamic_weight;
        }
        pool.update_quorum(id.vs)
    }

    /// Takes the health of real servers, and the quorum of pools, that are the same in
    /// `old` (matched by the first service of the pool and the destination's address),
    /// so that a reload does not restart what did not change.
    pub fn carry_over(&mut self, old: &Pools) {
        let by_key: BTreeMap<ServiceKey, &Pool> =
            old.pools.iter().filter_map(|p| p.services.first().map(|s| (s.key, p))).collect();
        for pool in &mut self.pools {
            let Some(prev) = pool.services.first().and_then(|s| by_key.get(&s.key)) else { continue };
            let prev_keys: Vec<DestKey> = prev.vs.real_servers.iter().map(|rs| dest_key(&prev.vs, rs)).collect();
            for (m, rs) in pool.members.iter_mut().zip(&pool.vs.real_servers) {
                let key = dest_key(&pool.vs, rs);
                let found = prev_keys.iter().zip(&prev.members).find(|(k, _)| **k == key);
                if let Some((_, pm)) = found {
                    m.alive = pm.alive;
                    m.dynamic_weight = pm.dynamic_weight;
                }
            }
            pool.quorum_up = prev.quorum_up;
        }
        for (i, pool) in self.pools.iter_mut().enumerate() {
            pool.update_quorum(i);
        }
    }

    /// The whole table this configuration wants now.
    pub fn desired(&self) -> Table {
        let mut table = Table::default();
        for p in &self.pools {
            p.desired_into(&mut table);
        }
        table
    }

    /// The services of [`Pools::desired`].
    pub fn keys(&self) -> BTreeSet<ServiceKey> {
        self.pools.iter().flat_map(|p| p.services.iter().map(|s| s.key)).collect()
    }

    /// The ops that turn `current` into [`Pools::desired`], as
    /// [`diff`](super::table::diff)`(current, &self.desired(), managed)` gives them, without
    /// that table: one service's destinations at a time, which at 100,000 real servers
    /// saves a copy of the table at each reload and check of the kernel's.
    pub fn diff_from(&self, current: &Table, managed: &BTreeSet<ServiceKey>) -> Vec<Op> {
        let owners = self.owners();
        let mut ops = self.diff_part(&owners, current);
        ops.extend(Pools::deletions(&owners, current, managed));
        ops
    }

    /// Each service of the pools with the pool that gives it (the last to list it, as in
    /// [`Pools::desired`]) and its place there, in key order: [`Pools::diff_part`] takes parts
    /// of it, so that a table of 100,000 destinations is written without all its ops at once.
    pub fn owners(&self) -> Vec<Owner> {
        let mut owners: BTreeMap<ServiceKey, Owner> = BTreeMap::new();
        for (pool, p) in self.pools.iter().enumerate() {
            for (service, s) in p.services.iter().enumerate() {
                owners.insert(s.key, Owner { key: s.key, pool, service });
            }
        }
        owners.into_values().collect()
    }

    /// The ops that give the services of `part` (of [`Pools::owners`]) in `current` what
    /// their pools want: [`Pools::diff_from`]'s ops for those services.
    pub fn diff_part(&self, part: &[Owner], current: &Table) -> Vec<Op> {
        let mut ops = Vec::new();
        for o in part {
            let Some(pool) = self.pools.get(o.pool) else { continue };
            let Some(service) = pool.services.get(o.service) else { continue };
            let want = TableService { service: service.clone(), dests: pool.dests() };
            diff_service(&o.key, current.services.get(&o.key), Some(&want), &mut ops);
        }
        ops
    }

    /// The ops that delete the services of `current` that are `managed` but no pool's (of
    /// `owners`, [`Pools::owners`]): the rest of [`Pools::diff_from`]'s ops.
    pub fn deletions(owners: &[Owner], current: &Table, managed: &BTreeSet<ServiceKey>) -> Vec<Op> {
        let mut ops = Vec::new();
        delete_unwanted(current, managed, |key| owners.binary_search_by(|o| o.key.cmp(key)).is_ok(), &mut ops);
        ops
    }
}

fn protocol(p: cfg::Protocol) -> Protocol {
    match p {
        cfg::Protocol::Tcp => Protocol::Tcp,
        cfg::Protocol::Udp => Protocol::Udp,
        cfg::Protocol::Sctp => Protocol::Sctp,
    }
}

/// A destination at `key` forwarded by `f`, with its tunnel settings for TUN.
fn dest(key: DestKey, f: cfg::Forwarding, weight: i32) -> Dest {
    let method = match f {
        cfg::Forwarding::Nat => Forwarding::Masq,
        cfg::Forwarding::Dr => Forwarding::DirectRoute,
        cfg::Forwarding::Tun(_) => Forwarding::Tunnel,
    };
    let mut d = Dest::new(key, method, weight);
    if let cfg::Forwarding::Tun(t) = f {
        d.tunnel_type = match t.kind {
            cfg::TunnelKind::Ipip => TunnelType::IpIp,
            cfg::TunnelKind::Gue => TunnelType::Gue,
            cfg::TunnelKind::Gre => TunnelType::Gre,
        };
        d.tunnel_port = t.port;
        d.tunnel_flags = match t.checksum {
            cfg::TunnelChecksum::NoCsum => 0,
            cfg::TunnelChecksum::Csum => TUNNEL_CSUM,
            cfg::TunnelChecksum::RemCsum => TUNNEL_REMCSUM,
        };
    }
    d
}

/// The service keys a virtual server stands for.
fn service_keys(config: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    let proto = protocol(vs.protocol);
    let fwmark_family = match vs.ip_family {
        Some(6) => Family::Inet6,
        _ => Family::Inet,
    };
    match &vs.key {
        VsKey::Addr { ip, port } => vec![ServiceKey::Addr { protocol: proto, addr: *ip, port: *port }],
        VsKey::Fwmark { mark } => vec![ServiceKey::Fwmark { family: fwmark_family, mark: *mark }],
        VsKey::Group { name } => {
            let Some(group) = config.virtual_server_groups.iter().find(|g| &g.name == name) else {
                return Vec::new();
            };
            group
                .members
                .iter()
                .flat_map(|m| match m {
                    GroupMember::Range { port, .. } => m
                        .addresses()
                        .into_iter()
                        .map(|addr| ServiceKey::Addr { protocol: proto, addr, port: *port })
                        .collect::<Vec<_>>(),
                    GroupMember::Fwmark { mark, .. } => {
                        vec![ServiceKey::Fwmark { family: fwmark_family, mark: *mark }]
                    }
                })
                .collect()
        }
    }
}

fn pool_name(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { ip, port } => {
            format!("{}", ServiceKey::Addr { protocol: protocol(vs.protocol), addr: *ip, port: *port })
        }
        VsKey::Fwmark { mark } => format!("FWM {mark}"),
        VsKey::Group { name } => format!("group {name}"),
    }
}

fn service_settings(vs: &VirtualServer, key: ServiceKey) -> Service {
    let mut s = Service::new(key, vs.scheduler.name());
    let mut flags = 0;
    if let Some(t) = vs.persistence_timeout {
        flags |= ServiceFlags::PERSISTENT;
        s.timeout = t;
    }
    if vs.ops {
        flags |= ServiceFlags::ONEPACKET;
    }
    for (on, bit) in [
        (vs.sched_flags.flag1, ServiceFlags::SCHED1),
        (vs.sched_flags.flag2, ServiceFlags::SCHED2),
        (vs.sched_flags.flag3, ServiceFlags::SCHED3),
    ] {
        if on {
            flags |= bit;
        }
    }
    s.flags = ServiceFlags(flags);
    // A mask of the other family than the service's is not the kernel's to see.
    match (s.key.family(), vs.persistence_granularity) {
        (Family::Inet, Some(IpAddr::V4(mask))) => s.netmask = u32::from(mask),
        (Family::Inet6, Some(IpAddr::V6(mask))) => s.netmask = u128::from(mask).leading_ones(),
        _ => {}
    }
    s.pe_name = vs.extra().persistence_engine.clone();
    s
}

/// The port a real server given without one serves: the virtual server's. The kernel gives a
/// DR or TUN destination the service's port whatever it was asked for (only NAT can change
/// the port); asking for the same keeps the diff empty.
fn dest_port(vs: &VirtualServer, port: u16, f: cfg::Forwarding) -> u16 {
    let vs_port = match &vs.key {
        VsKey::Addr { port, .. } => *port,
        _ => 0,
    };
    if port == 0 || (f != cfg::Forwarding::Nat && vs_port != 0) {
        vs_port
    } else {
        port
    }
}

/// Real server `rs`'s key in `vs`: its address and the port it serves ([`dest_port`]).
fn dest_key(vs: &VirtualServer, rs: &RealServer) -> DestKey {
    DestKey { addr: rs.ip, port: dest_port(vs, rs.port, rs.forwarding.unwrap_or(vs.forwarding)) }
}

/// The weight a member contributes while alive: a checker's (MISC_CHECK misc_dynamic) or an
/// override's, else its real server's configured one.
fn member_weight(m: &Member, rs: &RealServer) -> i32 {
    m.dynamic_weight.unwrap_or(rs.weight)
}

/// Real server `rs`'s destination in `vs`, at its configured weight.
fn member_dest(vs: &VirtualServer, rs: &RealServer) -> Dest {
    let mut dest = dest(dest_key(vs, rs), rs.forwarding.unwrap_or(vs.forwarding), rs.weight);
    dest.u_threshold = rs.extra().uthreshold.unwrap_or(0);
    dest.l_threshold = rs.extra().lthreshold.unwrap_or(0);
    dest
}

fn pool(config: &Config, vs: &Arc<VirtualServer>) -> Pool {
    let services: Vec<Service> = service_keys(config, vs).into_iter().map(|k| service_settings(vs, k)).collect();
    let members = vs
        .real_servers
        .iter()
        .map(|rs| Member {
            alive: !rs.alpha.unwrap_or(vs.alpha),
            dynamic_weight: None,
            inhibit: rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
        })
        .collect();
    let sorry = vs.extra().sorry_server.as_ref().map(|s| {
        let method = s.forwarding.unwrap_or(vs.forwarding);
        Sorry {
            dest: dest(DestKey { addr: s.ip, port: dest_port(vs, s.port, method) }, method, 1),
            inhibit: vs.sorry_server_inhibit,
        }
    });
    Pool {
        vs: vs.clone(),
        name: pool_name(vs),
        services,
        members,
        sorry,
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        quorum_up: true,
    }
}
