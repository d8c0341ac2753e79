//! `virtual_routes` / `virtual_rules` of an instance and `static_routes` / `static_rules`: from
//! the configuration to the kernel and back out.
//!
//! An instance's routes and rules go in right after its VIPs when it becomes MASTER, and come
//! out right before them when it leaves MASTER or stops, rules before routes, as keepalived
//! does. The static ones go in at start and come out at stop (keepalived removes them too).
//! Only what Vigil added is removed: an identical entry the kernel already had is logged and
//! left alone; one a previous run added (the `routes` record, see [`super::owned`]) counts as
//! Vigil's.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_config::model::{self, Config};
use vigil_config::span::Span;
use vigil_vrrp::io::{self, AddOutcome, Addresses, RemoveOutcome, RouteKind, RouteScope, Routes, RT_TABLE_MAIN};
use vigil_vrrp::wire::Family;

use super::owned::Owned;

/// The priority keepalived gives the first rule configured without one; each further such rule
/// gets one less.
const FIRST_DEFAULT_RULE_PRIORITY: u32 = 16384;

/// Whose routes and rules these are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A vrrp_instance's `virtual_routes` and `virtual_rules`.
    Instance(String),
    /// The global `static_routes` and `static_rules`.
    Static,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Route,
    Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Route(io::Route),
    Rule(io::Rule),
}

/// One route or rule, with its text in `ip route` / `ip rule` syntax (for logs) and its key in
/// the record.
#[derive(Debug)]
struct Entry {
    text: String,
    key: String,
    item: Item,
}

impl Entry {
    fn new(item: Item, text: String) -> Entry {
        let key = match item {
            Item::Route(_) => format!("route {text}"),
            Item::Rule(_) => format!("rule {text}"),
        };
        Entry { text, key, item }
    }

    fn kind(&self) -> Kind {
        match self.item {
            Item::Route(_) => Kind::Route,
            Item::Rule(_) => Kind::Rule,
        }
    }
}

/// The routes and rules of one owner, and which of them Vigil added.
#[derive(Debug)]
pub struct RouteSet {
    owner: Owner,
    /// Routes first, then rules, each in configuration order.
    entries: Vec<Entry>,
    /// Keys of the entries Vigil added and has not removed.
    added: HashSet<String>,
}

impl RouteSet {
    /// No routes and no rules.
    pub fn empty(owner: Owner) -> RouteSet {
        RouteSet { owner, entries: Vec::new(), added: HashSet::new() }
    }

    /// Resolves `routes` and `rules` against the host. A unicast route with neither `dev` nor
    /// `via` goes on `default_dev` (the instance's interface); with a `via`, the kernel finds
    /// the interface. A rule without `priority` takes the one `priorities` assigns it. An
    /// entry whose interface is missing is logged and left out; one the `record` holds from a
    /// previous run counts as added.
    pub async fn resolve(
        owner: Owner,
        routes: &[model::Route],
        rules: &[model::Rule],
        default_dev: Option<(&str, u32)>,
        priorities: &HashMap<Span, u32>,
        addresses: &Addresses,
        record: &Owned,
    ) -> RouteSet {
        let mut set = RouteSet { owner, entries: Vec::new(), added: HashSet::new() };
        for r in routes {
            let dev = match (&r.dev, default_dev) {
                (Some(name), _) => match addresses.link_by_name(name).await {
                    Ok(link) => Some((name.as_str(), link.ifindex)),
                    Err(e) => {
                        let (prefix, noun) = (prefix(&set.owner), noun(&set.owner, Kind::Route));
                        tracing::error!("{prefix}cannot use {noun} {}: {e}", describe(r));
                        continue;
                    }
                },
                (None, Some(dev)) if on_instance_interface(r) => Some(dev),
                (None, _) => None,
            };
            let route = route(r, dev.map(|(_, ifindex)| ifindex));
            let text = route_text(&route, dev.map(|(name, _)| name));
            set.entries.push(Entry::new(Item::Route(route), text));
        }
        for r in rules {
            let priority = r.priority.or_else(|| priorities.get(&r.span).copied());
            let rule = rule(r, priority);
            let text = rule_text(&rule);
            set.entries.push(Entry::new(Item::Rule(rule), text));
        }
        set.added = set.entries.iter().filter(|e| record.contains(&e.key)).map(|e| e.key.clone()).collect();
        set
    }

    /// Whether some entries are Vigil's (added, or left by a previous run).
    pub fn has_added(&self) -> bool {
        !self.added.is_empty()
    }

    /// Adds every route, then every rule.
    pub async fn install(&mut self, kernel: &Routes, record: &mut Owned) {
        for kind in [Kind::Route, Kind::Rule] {
            let entries: Vec<&Entry> = self.entries.iter().filter(|e| e.kind() == kind).collect();
            if entries.is_empty() {
                continue;
            }
            if let Owner::Instance(name) = &self.owner {
                tracing::info!("({name}) setting {}", heading(kind));
            }
            for e in entries {
                let added = match &e.item {
                    Item::Route(route) => kernel.add(route).await,
                    Item::Rule(rule) => kernel.add_rule(rule).await,
                };
                match added {
                    Ok(AddOutcome::Added) => {
                        tracing::debug!("{}added {} {}", prefix(&self.owner), noun(&self.owner, kind), e.text);
                        self.added.insert(e.key.clone());
                        record.record(&e.key, true);
                    }
                    // Added by a previous run, or not removed after an error: still Vigil's.
                    Ok(AddOutcome::AlreadyPresent) if self.added.contains(&e.key) => {}
                    Ok(AddOutcome::AlreadyPresent) => tracing::warn!(
                        "{}{} {} was already present; it will not be removed by Vigil",
                        prefix(&self.owner),
                        noun(&self.owner, kind),
                        e.text
                    ),
                    Err(err) => tracing::error!(
                        "{}cannot add {} {}: {err}",
                        prefix(&self.owner),
                        noun(&self.owner, kind),
                        e.text
                    ),
                }
            }
        }
    }

    /// Removes the rules, then the routes, that Vigil added.
    pub async fn remove(&mut self, kernel: &Routes, record: &mut Owned) {
        for kind in [Kind::Rule, Kind::Route] {
            let entries: Vec<&Entry> =
                self.entries.iter().rev().filter(|e| e.kind() == kind && self.added.contains(&e.key)).collect();
            if entries.is_empty() {
                continue;
            }
            if let Owner::Instance(name) = &self.owner {
                tracing::info!("({name}) removing {}", heading(kind));
            }
            for e in entries {
                let removed = match &e.item {
                    Item::Route(route) => kernel.remove(route).await,
                    Item::Rule(rule) => kernel.remove_rule(rule).await,
                };
                match removed {
                    Ok(outcome) => {
                        let done = if outcome == RemoveOutcome::Removed { "removed" } else { "found gone" };
                        tracing::debug!("{}{done} {} {}", prefix(&self.owner), noun(&self.owner, kind), e.text);
                        self.added.remove(&e.key);
                        record.record(&e.key, false);
                    }
                    // Still Vigil's: the next removal tries again.
                    Err(err) => tracing::error!(
                        "{}cannot remove {} {}: {err}",
                        prefix(&self.owner),
                        noun(&self.owner, kind),
                        e.text
                    ),
                }
            }
        }
    }
}

/// `(VI_1) ` for an instance's log lines, nothing for the static ones.
fn prefix(owner: &Owner) -> String {
    match owner {
        Owner::Instance(name) => format!("({name}) "),
        Owner::Static => String::new(),
    }
}

fn noun(owner: &Owner, kind: Kind) -> &'static str {
    match (owner, kind) {
        (Owner::Instance(_), Kind::Route) => "virtual route",
        (Owner::Instance(_), Kind::Rule) => "virtual rule",
        (Owner::Static, Kind::Route) => "static route",
        (Owner::Static, Kind::Rule) => "static rule",
    }
}

/// keepalived's words: `(VI_1) setting Virtual Routes`, `(VI_1) removing Virtual Rules`.
fn heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Route => "Virtual Routes",
        Kind::Rule => "Virtual Rules",
    }
}

/// The priorities of the rules configured without one, as keepalived assigns them: 16384 to
/// the first it reads, one less to each next, whether static or virtual. Read order is taken as
/// the order of files opened, then of lines.
pub fn default_rule_priorities(config: &Config) -> HashMap<Span, u32> {
    let mut spans: Vec<&Span> = config
        .static_rules
        .iter()
        .chain(config.instances.iter().flat_map(|i| &i.virtual_rules))
        .filter(|r| r.priority.is_none())
        .map(|r| &r.span)
        .collect();
    spans.sort_by_key(|s| (s.file, s.line, s.col));
    spans.into_iter().zip((0..=FIRST_DEFAULT_RULE_PRIORITY).rev()).map(|(s, p)| (s.clone(), p)).collect()
}

/// Logs each assigned priority, in keepalived's words.
pub fn log_default_rule_priorities(priorities: &HashMap<Span, u32>) {
    let mut assigned: Vec<(&Span, &u32)> = priorities.iter().collect();
    assigned.sort_by_key(|(_, p)| std::cmp::Reverse(**p));
    for (span, priority) in assigned {
        tracing::info!(
            "({}: Line {}) Rule has no preference specified - setting to {priority}. This is probably not what you want.",
            span.file.display(),
            span.line
        );
    }
}

/// Whether `r` goes on the instance's interface: a unicast route with neither `dev` nor `via`
/// (with a `via`, the kernel finds the interface; the other kinds have none).
fn on_instance_interface(r: &model::Route) -> bool {
    r.dev.is_none() && r.via.is_none() && r.kind == model::RouteKind::Unicast
}

/// The route `r` describes, on interface `oif`. A `default` route is IPv4 unless its gateway or
/// source is IPv6, as keepalived decides.
fn route(r: &model::Route, oif: Option<u32>) -> io::Route {
    let (dest, prefix) = r.dest.unwrap_or_else(|| {
        let any = match r.via.or(r.src).map(|a| Family::of(&a)) {
            Some(Family::Ipv6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        (any, 0)
    });
    io::Route {
        dest,
        prefix,
        kind: match r.kind {
            model::RouteKind::Unicast => RouteKind::Unicast,
            model::RouteKind::Blackhole => RouteKind::Blackhole,
            model::RouteKind::Unreachable => RouteKind::Unreachable,
            model::RouteKind::Prohibit => RouteKind::Prohibit,
            model::RouteKind::Throw => RouteKind::Throw,
        },
        via: r.via,
        src: r.src,
        metric: r.metric,
        table: r.table.unwrap_or(RT_TABLE_MAIN),
        oif,
        scope: r.scope.map_or(RouteScope::Universe, |s| RouteScope::from(s.number())),
        onlink: r.onlink,
    }
}

/// The rule `r` describes, with `priority`. Without `from` or `to` it is IPv4, as keepalived
/// decides; without `table` it looks up the main table, as `ip rule add` does.
fn rule(r: &model::Rule, priority: Option<u32>) -> io::Rule {
    let family = r.from.or(r.to).map_or(Family::Ipv4, |(a, _)| Family::of(&a));
    io::Rule {
        family,
        from: r.from,
        to: r.to,
        priority,
        fwmark: r.fwmark,
        iif: r.iif.clone(),
        oif: r.oif.clone(),
        table: r.table.unwrap_or(RT_TABLE_MAIN),
    }
}

/// A configured route as its line reads, for errors about it before it is resolved.
fn describe(r: &model::Route) -> String {
    match r.dest {
        Some((dest, prefix)) => format!("{dest}/{prefix}"),
        None => "default".to_string(),
    }
}

/// `route` in `ip route` syntax.
fn route_text(route: &io::Route, dev: Option<&str>) -> String {
    let mut t = String::new();
    match route.kind {
        RouteKind::Unicast => {}
        RouteKind::Blackhole => t.push_str("blackhole "),
        RouteKind::Unreachable => t.push_str("unreachable "),
        RouteKind::Prohibit => t.push_str("prohibit "),
        RouteKind::Throw => t.push_str("throw "),
    }
    if route.prefix == 0 {
        t.push_str("default");
    } else {
        let _ = write!(t, "{}/{}", route.dest, route.prefix);
    }
    if let Some(via) = route.via {
        let _ = write!(t, " via {via}");
    }
    if let Some(src) = route.src {
        let _ = write!(t, " src {src}");
    }
    if let Some(dev) = dev {
        let _ = write!(t, " dev {dev}");
    }
    if route.scope != RouteScope::Universe {
        let _ = write!(t, " scope {}", scope_word(route.scope));
    }
    if route.table != RT_TABLE_MAIN {
        let _ = write!(t, " table {}", route.table);
    }
    if let Some(metric) = route.metric {
        let _ = write!(t, " metric {metric}");
    }
    if route.onlink {
        t.push_str(" onlink");
    }
    t
}

fn scope_word(scope: RouteScope) -> String {
    match scope {
        RouteScope::Site => "site".to_string(),
        RouteScope::Link => "link".to_string(),
        RouteScope::Host => "host".to_string(),
        RouteScope::NoWhere => "nowhere".to_string(),
        other => u8::from(other).to_string(),
    }
}

/// `rule` in `ip rule` syntax.
fn rule_text(rule: &io::Rule) -> String {
    let mut t = match rule.from {
        Some((from, prefix)) => format!("from {from}/{prefix}"),
        None => "from all".to_string(),
    };
    if let Some((to, prefix)) = rule.to {
        let _ = write!(t, " to {to}/{prefix}");
    }
    if let Some(priority) = rule.priority {
        let _ = write!(t, " priority {priority}");
    }
    if let Some(mark) = rule.fwmark {
        let _ = write!(t, " fwmark {mark:#x}");
    }
    if let Some(iif) = &rule.iif {
        let _ = write!(t, " iif {iif}");
    }
    if let Some(oif) = &rule.oif {
        let _ = write!(t, " oif {oif}");
    }
    let _ = write!(t, " table {}", rule.table);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
        parsed.config
    }

    const CONF: &str = "\
static_rules {
    from 192.0.2.10/32 table 10
    from 192.0.2.11/32 table 11 priority 500
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.50
        blackhole 203.0.113.0/24
        0.0.0.0/0 via 192.0.2.50 table 100
        default via 2001:db8::1
        src 192.0.2.100 192.0.2.128/25 dev eth1 scope link metric 5 table 1000 onlink
        198.18.0.0/15
    }
    virtual_rules {
        from 192.0.2.100/32 table 100
        to 2001:db8:5::/48 fwmark 16 iif eth0 oif eth1 priority 7
    }
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.101/24
    }
    virtual_rules {
        from 192.0.2.101/32 table 101
    }
}
";

    #[test]
    fn rules_without_priority_are_numbered_down_from_16384_in_file_order() {
        let c = config(CONF);
        let p = default_rule_priorities(&c);
        assert_eq!(p.len(), 3);
        assert_eq!(p.get(&c.static_rules[0].span), Some(&16384));
        assert_eq!(p.get(&c.instances[0].virtual_rules[0].span), Some(&16383));
        assert_eq!(p.get(&c.instances[1].virtual_rules[0].span), Some(&16382));
        assert_eq!(p.get(&c.static_rules[1].span), None);
    }

    #[test]
    fn routes_in_ip_route_syntax() {
        let c = config(CONF);
        let texts: Vec<String> = c.instances[0]
            .virtual_routes
            .iter()
            .map(|r| {
                let dev = r.dev.as_deref().or(on_instance_interface(r).then_some("eth0"));
                route_text(&route(r, None), dev)
            })
            .collect();
        assert_eq!(
            texts,
            [
                "198.51.100.0/24 via 192.0.2.50",
                "blackhole 203.0.113.0/24",
                "default via 192.0.2.50 table 100",
                "default via 2001:db8::1",
                "192.0.2.128/25 src 192.0.2.100 dev eth1 scope link table 1000 metric 5 onlink",
                "198.18.0.0/15 dev eth0",
            ]
        );
    }

    #[test]
    fn model_routes_become_kernel_routes() {
        let c = config(CONF);
        let r = &c.instances[0].virtual_routes;
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(
            route(&r[0], None),
            io::Route { via: Some(ip("192.0.2.50")), ..io::Route::new(ip("198.51.100.0"), 24) }
        );
        assert_eq!(route(&r[1], None).kind, RouteKind::Blackhole);
        let default4 = route(&r[2], None);
        assert_eq!((default4.dest, default4.prefix, default4.table), (ip("0.0.0.0"), 0, 100));
        // A default route takes its family from the gateway.
        assert_eq!((route(&r[3], None).dest, route(&r[3], None).prefix), (ip("::"), 0));
        let full = route(&r[4], Some(7));
        assert_eq!(
            full,
            io::Route {
                src: Some(ip("192.0.2.100")),
                metric: Some(5),
                table: 1000,
                oif: Some(7),
                scope: RouteScope::Link,
                onlink: true,
                ..io::Route::new(ip("192.0.2.128"), 25)
            }
        );
    }

    #[test]
    fn only_unicast_routes_without_dev_or_via_go_on_the_instance_interface() {
        let c = config(CONF);
        let on: Vec<bool> = c.instances[0].virtual_routes.iter().map(on_instance_interface).collect();
        assert_eq!(on, [false, false, false, false, false, true]);
    }

    #[test]
    fn rules_take_their_family_from_the_addresses_and_the_main_table_by_default() {
        let c = config(CONF);
        let p = default_rule_priorities(&c);
        let rules: Vec<io::Rule> = c.instances[0]
            .virtual_rules
            .iter()
            .map(|r| rule(r, r.priority.or_else(|| p.get(&r.span).copied())))
            .collect();
        assert_eq!(rules[0].family, Family::Ipv4);
        assert_eq!(rule_text(&rules[0]), "from 192.0.2.100/32 priority 16383 table 100");
        assert_eq!(rules[1].family, Family::Ipv6);
        assert_eq!(
            rule_text(&rules[1]),
            "from all to 2001:db8:5::/48 priority 7 fwmark 0x10 iif eth0 oif eth1 table 254"
        );
        let bare = config("static_rules {\n    fwmark 3\n}\n");
        assert_eq!(rule(&bare.static_rules[0], None), io::Rule { fwmark: Some(3), ..io::Rule::new(Family::Ipv4) });
    }
}
