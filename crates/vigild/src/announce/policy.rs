//! When a VIP is announced: the pure decision, from the virtual servers' quorums, the drains
//! and whether vigild is stopping, and the route writes that bring the table to it.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

use vigil_check::plan::endpoint_name;
use vigil_config::announce::{vs_addresses, Announce};
use vigil_config::model::{Config, VirtualServer, VsKey};

use crate::maintenance::State;

/// Why a VIP is or is not announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Every virtual server on it has its quorum.
    Healthy,
    /// A `vip` line names it and no virtual server answers on it: announced while vigild runs.
    Unchecked,
    /// `vigilctl drain`.
    Drained,
    /// These virtual servers lost their quorum.
    Quorum(Vec<String>),
    /// The health checkers do not run (`-P`, or they could not start): nothing says the
    /// virtual servers are healthy.
    NoChecks,
    /// vigild is stopping.
    Stopping,
}

impl Reason {
    pub fn announced(&self) -> bool {
        matches!(self, Reason::Healthy | Reason::Unchecked)
    }

    /// The word of the ANNOUNCE event and the status.
    pub fn word(&self) -> &'static str {
        match self {
            Reason::Healthy => "healthy",
            Reason::Unchecked => "unchecked",
            Reason::Drained => "drained",
            Reason::Quorum(_) => "quorum",
            Reason::NoChecks => "no-checks",
            Reason::Stopping => "stopping",
        }
    }
}

/// One VIP's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub vip: IpAddr,
    pub metric: u32,
    pub reason: Reason,
}

/// What the decision is made from.
pub struct Inputs<'a> {
    pub announce: &'a Announce,
    pub config: &'a Config,
    /// Each virtual server's quorum (by its place in `config`); `None` without the checkers.
    pub quorum: Option<&'a [bool]>,
    pub runtime: &'a State,
    pub stopping: bool,
}

/// Each announced address's verdict, in the order [`Announce::addresses`] gives them.
pub fn verdicts(i: &Inputs<'_>) -> Vec<Verdict> {
    // Which virtual servers answer on each address, looked up once per VIP: a file with
    // 10,000 virtual servers announces as many VIPs.
    let mut on: HashMap<IpAddr, Vec<usize>> = HashMap::new();
    for (k, vs) in i.config.virtual_servers.iter().enumerate() {
        for a in vs_addresses(i.config, &vs.key) {
            // A group may list an address twice (other ports): the server counts once.
            let servers = on.entry(a).or_default();
            if servers.last() != Some(&k) {
                servers.push(k);
            }
        }
    }
    i.announce
        .addresses(i.config)
        .into_iter()
        .map(|(vip, metric)| Verdict { vip, metric, reason: reason(i, vip, on.get(&vip).map_or(&[], Vec::as_slice)) })
        .collect()
}

/// Why `vip`, on which the virtual servers `on_vip` (indices) answer, is announced or not.
fn reason(i: &Inputs<'_>, vip: IpAddr, on_vip: &[usize]) -> Reason {
    if i.stopping {
        return Reason::Stopping;
    }
    if i.runtime.is_drained(vip) {
        return Reason::Drained;
    }
    if on_vip.is_empty() {
        return Reason::Unchecked;
    }
    let Some(quorum) = i.quorum else { return Reason::NoChecks };
    let lost: Vec<String> = on_vip
        .iter()
        .filter(|&&k| !quorum.get(k).copied().unwrap_or(false))
        .map(|&k| vs_name(&i.config.virtual_servers[k]))
        .collect();
    if lost.is_empty() {
        Reason::Healthy
    } else {
        Reason::Quorum(lost)
    }
}

/// A virtual server as keepalived logs it: `[10.0.0.1]:tcp:80`, `FWM 1`, `[group]`.
fn vs_name(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { ip, port } => endpoint_name(SocketAddr::new(*ip, *port), vs.protocol),
        VsKey::Fwmark { mark } => format!("FWM {mark}"),
        VsKey::Group { name } => format!("[{name}]"),
    }
}

/// A host route in the announcement table: the VIP and its metric.
pub type Route = (IpAddr, u32);

/// The routes the verdicts call for.
pub fn desired(verdicts: &[Verdict]) -> BTreeSet<Route> {
    verdicts.iter().filter(|v| v.reason.announced()).map(|v| (v.vip, v.metric)).collect()
}

/// One write to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteOp {
    Add(Route),
    Remove(Route),
}

/// The writes from `current` to `want`: the additions first, so that a VIP whose metric
/// changes is never without a route.
pub fn plan(current: &BTreeSet<Route>, want: &BTreeSet<Route>) -> Vec<RouteOp> {
    want.difference(current)
        .map(|r| RouteOp::Add(*r))
        .chain(current.difference(want).map(|r| RouteOp::Remove(*r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::Change;

    const CONF: &str = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n\
                        virtual_server 10.0.0.1 443 {\n protocol TCP\n real_server 10.0.1.1 443 {\n }\n}\n\
                        virtual_server 10.0.0.2 80 {\n real_server 10.0.1.2 80 {\n }\n}\n";

    fn config() -> Config {
        vigil_config::parse_str("k.conf", CONF, &vigil_config::Options::default(), None).config
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn drained(vip: Option<IpAddr>) -> State {
        let mut s = State::default();
        s.apply(Change::Drain { vip }, 1.0).expect("drain");
        s
    }

    /// (quorum by virtual server, drains, stopping) -> each VIP's reason word.
    #[test]
    fn the_decision_table() {
        let (config, announce) = (config(), Announce::default());
        let listed =
            Announce::parse(std::path::Path::new("a.conf"), "announce {\n vip 10.0.0.1\n vip 10.0.0.9 metric 5\n}\n")
                .expect("valid");
        /// The settings, the quorums, the drains, stopping, and each VIP's (last byte, reason).
        type Case<'a> = (&'a Announce, Option<&'a [bool]>, State, bool, Vec<(u8, &'a str)>);
        let cases: Vec<Case> = vec![
            (&announce, Some(&[true, true, true]), State::default(), false, vec![(1, "healthy"), (2, "healthy")]),
            // one of the two services on .1 lost its quorum: .1 goes, .2 stays
            (&announce, Some(&[true, false, true]), State::default(), false, vec![(1, "quorum"), (2, "healthy")]),
            (&announce, None, State::default(), false, vec![(1, "no-checks"), (2, "no-checks")]),
            (&announce, Some(&[true, true, true]), drained(Some(ip(2))), false, vec![(1, "healthy"), (2, "drained")]),
            (&announce, Some(&[true, true, true]), drained(None), false, vec![(1, "drained"), (2, "drained")]),
            // a drain and a lost quorum: the drain is what the operator asked
            (&announce, Some(&[false, true, true]), drained(None), false, vec![(1, "drained"), (2, "drained")]),
            (&announce, Some(&[true, true, true]), State::default(), true, vec![(1, "stopping"), (2, "stopping")]),
            // a vip line with no virtual server on it is announced while vigild runs
            (&listed, Some(&[true, false, true]), State::default(), false, vec![(1, "quorum"), (9, "unchecked")]),
            // a quorum vector shorter than the configuration (a reload under way): not healthy
            (&announce, Some(&[true]), State::default(), false, vec![(1, "quorum"), (2, "quorum")]),
        ];
        for (k, (announce, quorum, runtime, stopping, want)) in cases.into_iter().enumerate() {
            let got = verdicts(&Inputs { announce, config: &config, quorum, runtime: &runtime, stopping });
            let got: Vec<(IpAddr, &str)> = got.iter().map(|v| (v.vip, v.reason.word())).collect();
            let want: Vec<(IpAddr, &str)> = want.into_iter().map(|(b, w)| (ip(b), w)).collect();
            assert_eq!(got, want, "case {k}");
        }
    }

    #[test]
    fn lost_quorums_are_named() {
        let config = config();
        let i = Inputs {
            announce: &Announce::default(),
            config: &config,
            quorum: Some(&[false, false, true]),
            runtime: &State::default(),
            stopping: false,
        };
        let first = verdicts(&i).remove(0);
        assert_eq!(first.reason, Reason::Quorum(vec!["[10.0.0.1]:tcp:80".into(), "[10.0.0.1]:tcp:443".into()]));
    }

    #[test]
    fn a_group_listing_an_address_twice_names_its_server_once() {
        let text = "virtual_server_group G {\n 10.0.0.1 80\n 10.0.0.1 443\n}\n\
                    virtual_server group G {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n";
        let config = vigil_config::parse_str("k.conf", text, &vigil_config::Options::default(), None).config;
        let i = Inputs {
            announce: &Announce::default(),
            config: &config,
            quorum: Some(&[false]),
            runtime: &State::default(),
            stopping: false,
        };
        assert_eq!(verdicts(&i), vec![Verdict { vip: ip(1), metric: 0, reason: Reason::Quorum(vec!["[G]".into()]) }]);
    }

    #[test]
    fn additions_come_before_removals() {
        let current: BTreeSet<Route> = [(ip(1), 0), (ip(2), 0)].into();
        let want: BTreeSet<Route> = [(ip(1), 10), (ip(3), 0)].into();
        assert_eq!(
            plan(&current, &want),
            vec![
                RouteOp::Add((ip(1), 10)),
                RouteOp::Add((ip(3), 0)),
                RouteOp::Remove((ip(1), 0)),
                RouteOp::Remove((ip(2), 0))
            ]
        );
        assert_eq!(plan(&want, &want), Vec::new());
    }
}
