//! Routes and policy rules over rtnetlink, for `virtual_routes`, `virtual_rules`,
//! `static_routes` and `static_rules`.
//!
//! Every route and rule goes in with protocol `keepalived` (`RTPROT_KEEPALIVED`), as keepalived's
//! do, so `ip route show proto keepalived` lists them whichever of the two daemons added them.
//! The protocol is part of a route's identity: a route someone else configured with the same
//! destination and gateway is another route to the kernel, which Vigil neither collides with
//! nor removes (a removal names the protocol). Routes are added as keepalived adds them, the
//! way `ip route prepend` does (`NLM_F_CREATE` without `NLM_F_EXCL`): ahead of a route of another
//! origin to the same destination rather than failing on it. Rules are added like `ip rule add`.
//!
//! An identical route or rule already there is [`AddOutcome::AlreadyPresent`] and one already
//! gone at removal is [`RemoveOutcome::Absent`]: outcomes, not errors, so that the daemon can
//! remember which entries it added itself and remove only those.

use std::net::IpAddr;

use futures::StreamExt;
use netlink_packet_core::{
    ErrorMessage, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteType};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;
use rtnetlink::Handle;
use tokio::task::JoinHandle;

pub use netlink_packet_route::route::RouteScope;

use super::{AddOutcome, Error, RemoveOutcome};
use crate::wire::Family;

/// The main routing table, where a route or rule without `table` goes.
pub const RT_TABLE_MAIN: u32 = 254;

/// The kind of a route, as `ip route add TYPE ...` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// A route to a gateway or an interface.
    #[default]
    Unicast,
    /// Discard silently.
    Blackhole,
    /// Discard with ICMP "host unreachable".
    Unreachable,
    /// Discard with ICMP "administratively prohibited".
    Prohibit,
    /// Continue the lookup with the next policy rule.
    Throw,
}

/// A route: `ip route add [TYPE] DEST/PREFIX [via GW] [src SRC] [metric M] [table T] [dev IF]
/// [scope S] [onlink] proto keepalived`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The destination network; its family is the route's.
    pub dest: IpAddr,
    /// The destination's prefix length; 0 is `default`.
    pub prefix: u8,
    /// The route's kind.
    pub kind: RouteKind,
    /// The gateway.
    pub via: Option<IpAddr>,
    /// The preferred source address.
    pub src: Option<IpAddr>,
    /// The metric (`RTA_PRIORITY`); the kernel's default (0 for IPv4, 1024 for IPv6) when none.
    pub metric: Option<u32>,
    /// The routing table.
    pub table: u32,
    /// The output interface's index; the kernel finds it from the gateway when none.
    pub oif: Option<u32>,
    /// The scope; [`RouteScope::Universe`] (`global`) unless configured, as keepalived does.
    pub scope: RouteScope,
    /// Take the gateway as on-link even if no prefix covers it (`RTNH_F_ONLINK`).
    pub onlink: bool,
}

impl Route {
    /// A unicast route to `dest/prefix` in the main table, global scope, nothing else set.
    pub fn new(dest: IpAddr, prefix: u8) -> Route {
        Route {
            dest,
            prefix,
            kind: RouteKind::Unicast,
            via: None,
            src: None,
            metric: None,
            table: RT_TABLE_MAIN,
            oif: None,
            scope: RouteScope::Universe,
            onlink: false,
        }
    }
}

/// A policy rule that looks a table up: `ip rule add [from SRC/P] [to DST/P] [priority N]
/// [fwmark M] [iif IF] [oif IF] table T protocol keepalived`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The family; it must be that of `from` and `to`.
    pub family: Family,
    /// The source network.
    pub from: Option<(IpAddr, u8)>,
    /// The destination network.
    pub to: Option<(IpAddr, u8)>,
    /// The preference; the kernel picks one below the first existing rule's when none.
    pub priority: Option<u32>,
    /// The firewall mark to match.
    pub fwmark: Option<u32>,
    /// The input interface's name.
    pub iif: Option<String>,
    /// The output interface's name.
    pub oif: Option<String>,
    /// The table to look up.
    pub table: u32,
}

impl Rule {
    /// A rule of `family` matching everything and looking up the main table.
    pub fn new(family: Family) -> Rule {
        Rule { family, from: None, to: None, priority: None, fwmark: None, iif: None, oif: None, table: RT_TABLE_MAIN }
    }
}

/// A connection to the kernel's routing netlink, for routes and rules.
///
/// The connection runs as a task on the runtime that created it, aborted on drop.
#[derive(Debug)]
pub struct Routes {
    handle: Handle,
    connection: JoinHandle<()>,
}

impl Routes {
    /// Opens the netlink socket and spawns its connection task on the current tokio runtime.
    pub fn new() -> Result<Routes, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime { what: "Routes" })?;
        let (connection, handle, _) = rtnetlink::new_connection().map_err(Error::NetlinkOpen)?;
        Ok(Routes { handle, connection: runtime.spawn(connection) })
    }

    /// Adds `route` (`ip route prepend ... proto keepalived`).
    pub async fn add(&self, route: &Route) -> Result<AddOutcome, Error> {
        let done = self.execute(route_request(route, Op::Add), Errno::EEXIST).await;
        done.map(added).map_err(|refused| route_error("adding a route", route, refused))
    }

    /// Removes `route`, the one with protocol `keepalived` (`ip route del ... proto keepalived`).
    pub async fn remove(&self, route: &Route) -> Result<RemoveOutcome, Error> {
        let done = self.execute(route_request(route, Op::Remove), Errno::ESRCH).await;
        done.map(removed).map_err(|refused| route_error("removing a route", route, refused))
    }

    /// Adds `rule` (`ip rule add ... protocol keepalived`).
    pub async fn add_rule(&self, rule: &Rule) -> Result<AddOutcome, Error> {
        let done = self.execute(rule_request(rule, Op::Add), Errno::EEXIST).await;
        done.map(added).map_err(|refused| netlink_error("adding a rule", refused))
    }

    /// Removes `rule`, the one with protocol `keepalived` (`ip rule del ... protocol keepalived`).
    pub async fn remove_rule(&self, rule: &Rule) -> Result<RemoveOutcome, Error> {
        let done = self.execute(rule_request(rule, Op::Remove), Errno::ENOENT).await;
        done.map(removed).map_err(|refused| netlink_error("removing a rule", refused))
    }

    /// Sends one request and waits for the kernel's answer: `Ok(true)` when it acknowledged,
    /// `Ok(false)` when it answered `nothing_done` (the entry was already there, or already
    /// gone).
    async fn execute(
        &self,
        request: NetlinkMessage<RouteNetlinkMessage>,
        nothing_done: Errno,
    ) -> Result<bool, Refused> {
        let mut responses = self.handle.clone().request(request).map_err(Refused::Connection)?;
        while let Some(response) = responses.next().await {
            if let NetlinkPayload::Error(message) = response.payload {
                if message.code.is_some() {
                    let refused = Refused::Kernel(message);
                    return if errno(&refused) == Some(nothing_done) { Ok(false) } else { Err(refused) };
                }
            }
        }
        Ok(true)
    }
}

fn added(done: bool) -> AddOutcome {
    if done {
        AddOutcome::Added
    } else {
        AddOutcome::AlreadyPresent
    }
}

fn removed(done: bool) -> RemoveOutcome {
    if done {
        RemoveOutcome::Removed
    } else {
        RemoveOutcome::Absent
    }
}

impl Drop for Routes {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Why a request failed: the kernel's answer, or no answer because the connection is gone.
enum Refused {
    Kernel(ErrorMessage),
    Connection(rtnetlink::Error),
}

impl From<Refused> for rtnetlink::Error {
    fn from(refused: Refused) -> rtnetlink::Error {
        match refused {
            Refused::Kernel(message) => rtnetlink::Error::NetlinkError(message),
            Refused::Connection(err) => err,
        }
    }
}

fn errno(refused: &Refused) -> Option<Errno> {
    match refused {
        Refused::Kernel(message) => message.code.map(|code| Errno::from_raw(-code.get())),
        Refused::Connection(_) => None,
    }
}

fn route_error(op: &'static str, route: &Route, refused: Refused) -> Error {
    match (errno(&refused), route.oif) {
        (Some(Errno::ENODEV), Some(ifindex)) => Error::NoSuchIfindex { ifindex },
        _ => netlink_error(op, refused),
    }
}

fn netlink_error(op: &'static str, refused: Refused) -> Error {
    match errno(&refused) {
        Some(denied @ (Errno::EPERM | Errno::EACCES)) => Error::PermissionDenied {
            what: op,
            interface: "-".to_owned(),
            capability: "CAP_NET_ADMIN",
            source: denied.into(),
        },
        _ => Error::Netlink { op, source: refused.into() },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
}

fn family(addr: &IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The request for `ip route prepend` (add) or `ip route del` (remove) of `route`, with the
/// attributes in the order iproute2 sends them for `DEST via GW src SRC metric M table T dev IF`.
fn route_request(route: &Route, op: Op) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut message = RouteMessage::default();
    let header = &mut message.header;
    header.address_family = family(&route.dest);
    header.destination_prefix_length = route.prefix;
    header.protocol = RouteProtocol::KeepAlived;
    header.kind = match route.kind {
        RouteKind::Unicast => RouteType::Unicast,
        RouteKind::Blackhole => RouteType::BlackHole,
        RouteKind::Unreachable => RouteType::Unreachable,
        RouteKind::Prohibit => RouteType::Prohibit,
        RouteKind::Throw => RouteType::Throw,
    };
    // A removal matches any scope, as `ip route del` asks.
    header.scope = if op == Op::Add { route.scope } else { RouteScope::NoWhere };
    if route.onlink {
        header.flags = RouteFlags::Onlink;
    }
    let (table, big_table) = table_parts(route.table);
    header.table = table;
    let attributes = &mut message.attributes;
    // A default route has no RTA_DST, as iproute2 sends `default`.
    if route.prefix > 0 {
        attributes.push(RouteAttribute::Destination(route_address(route.dest)));
    }
    if let Some(via) = route.via {
        attributes.push(RouteAttribute::Gateway(route_address(via)));
    }
    if let Some(src) = route.src {
        attributes.push(RouteAttribute::PrefSource(route_address(src)));
    }
    if let Some(metric) = route.metric {
        attributes.push(RouteAttribute::Priority(metric));
    }
    if let Some(table) = big_table {
        attributes.push(RouteAttribute::Table(table));
    }
    if let Some(oif) = route.oif {
        attributes.push(RouteAttribute::Oif(oif));
    }
    let (payload, flags) = match op {
        Op::Add => (RouteNetlinkMessage::NewRoute(message), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE),
        Op::Remove => (RouteNetlinkMessage::DelRoute(message), NLM_F_REQUEST | NLM_F_ACK),
    };
    let mut request = NetlinkMessage::from(payload);
    request.header.flags = flags;
    request
}

/// A table as the header's byte, and as the `RTA_TABLE` / `FRA_TABLE` attribute past 255,
/// which the byte cannot hold (the byte is then 0, unspecified), as iproute2 sends it.
fn table_parts(table: u32) -> (u8, Option<u32>) {
    match u8::try_from(table) {
        Ok(byte) => (byte, None),
        Err(_) => (0, Some(table)),
    }
}

fn route_address(addr: IpAddr) -> RouteAddress {
    match addr {
        IpAddr::V4(ip) => RouteAddress::Inet(ip),
        IpAddr::V6(ip) => RouteAddress::Inet6(ip),
    }
}

/// The request for `ip rule add` or `ip rule del` of `rule`, with the attributes in the order
/// iproute2 sends them for `from SRC to DST priority N fwmark M iif IF oif IF table T protocol
/// keepalived`. A removal names no action, as `ip rule del` does (the kernel then matches any).
fn rule_request(rule: &Rule, op: Op) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut message = RuleMessage::default();
    let header = &mut message.header;
    header.family = match rule.family {
        Family::Ipv4 => AddressFamily::Inet,
        Family::Ipv6 => AddressFamily::Inet6,
    };
    if op == Op::Add {
        header.action = RuleAction::ToTable;
    }
    let (table, big_table) = table_parts(rule.table);
    header.table = table;
    if let Some((from, prefix)) = rule.from {
        header.src_len = prefix;
        message.attributes.push(RuleAttribute::Source(from));
    }
    if let Some((to, prefix)) = rule.to {
        header.dst_len = prefix;
        message.attributes.push(RuleAttribute::Destination(to));
    }
    let attributes = &mut message.attributes;
    if let Some(priority) = rule.priority {
        attributes.push(RuleAttribute::Priority(priority));
    }
    if let Some(mark) = rule.fwmark {
        attributes.push(RuleAttribute::FwMark(mark));
    }
    if let Some(iif) = &rule.iif {
        attributes.push(RuleAttribute::Iifname(iif.clone()));
    }
    if let Some(oif) = &rule.oif {
        attributes.push(RuleAttribute::Oifname(oif.clone()));
    }
    if let Some(table) = big_table {
        attributes.push(RuleAttribute::Table(table));
    }
    attributes.push(RuleAttribute::Protocol(RouteProtocol::KeepAlived));
    let (payload, flags) = match op {
        Op::Add => (RouteNetlinkMessage::NewRule(message), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
        Op::Remove => (RouteNetlinkMessage::DelRule(message), NLM_F_REQUEST | NLM_F_ACK),
    };
    let mut request = NetlinkMessage::from(payload);
    request.header.flags = flags;
    request
}

#[cfg(test)]
mod tests {
    //! Requests against the bytes iproute2 6.1 sends for the same command, captured with
    //! `strace -e trace=sendmsg -e write=3 ip -n NS COMMAND` (the command is above each test;
    //! eth0 had index 3). Only the sequence number is taken from the capture.

    use super::*;

    const SEQ: u32 = 0x6b02_a134;

    fn bytes(mut request: NetlinkMessage<RouteNetlinkMessage>, seq: u32) -> Vec<u8> {
        request.header.sequence_number = seq;
        request.finalize();
        let mut buf = vec![0; request.buffer_len()];
        request.serialize(&mut buf);
        buf
    }

    fn hex(text: &str) -> Vec<u8> {
        text.split_whitespace().map(|b| u8::from_str_radix(b, 16).expect("a hex byte")).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// `ip route prepend 198.51.100.0/24 via 192.0.2.50 proto keepalived`
    #[test]
    fn unicast_route_via_a_gateway() {
        let route = Route { via: Some(ip("192.0.2.50")), ..Route::new(ip("198.51.100.0"), 24) };
        let want = hex("2c 00 00 00 18 00 05 04 34 a1 02 6b 00 00 00 00 02 18 00 00 fe 12 00 01 00 00 00 00
                        08 00 01 00 c6 33 64 00 08 00 05 00 c0 00 02 32");
        assert_eq!(bytes(route_request(&route, Op::Add), SEQ), want);
    }

    /// `ip route del unicast 198.51.100.0/24 via 192.0.2.50 proto keepalived scope nowhere`
    #[test]
    fn removal_matches_any_scope_and_names_the_protocol() {
        let route = Route { via: Some(ip("192.0.2.50")), ..Route::new(ip("198.51.100.0"), 24) };
        let want = hex("2c 00 00 00 19 00 05 00 34 a1 02 6b 00 00 00 00 02 18 00 00 fe 12 ff 01 00 00 00 00
                        08 00 01 00 c6 33 64 00 08 00 05 00 c0 00 02 32");
        assert_eq!(bytes(route_request(&route, Op::Remove), SEQ), want);
    }

    /// `ip route prepend blackhole 203.0.113.0/24 proto keepalived`
    #[test]
    fn blackhole_route() {
        let route = Route { kind: RouteKind::Blackhole, ..Route::new(ip("203.0.113.0"), 24) };
        let want = hex("24 00 00 00 18 00 05 04 34 a1 02 6b 00 00 00 00 02 18 00 00 fe 12 00 06 00 00 00 00
                        08 00 01 00 cb 00 71 00");
        assert_eq!(bytes(route_request(&route, Op::Add), SEQ), want);
    }

    /// `ip route prepend default via 192.0.2.50 table 100 proto keepalived`
    #[test]
    fn default_route_has_no_destination_attribute() {
        let route = Route { via: Some(ip("192.0.2.50")), table: 100, ..Route::new(ip("0.0.0.0"), 0) };
        let want = hex("24 00 00 00 18 00 05 04 45 a1 02 6b 00 00 00 00 02 00 00 00 64 12 00 01 00 00 00 00
                        08 00 05 00 c0 00 02 32");
        assert_eq!(bytes(route_request(&route, Op::Add), 0x6b02_a145), want);
    }

    /// `ip route prepend 192.0.2.128/25 src 192.0.2.1 metric 7 table 1000 dev eth0 scope global
    /// proto keepalived`
    #[test]
    fn table_past_255_source_metric_and_device() {
        let route = Route {
            src: Some(ip("192.0.2.1")),
            metric: Some(7),
            table: 1000,
            oif: Some(3),
            ..Route::new(ip("192.0.2.128"), 25)
        };
        let want = hex("44 00 00 00 18 00 05 04 34 a1 02 6b 00 00 00 00 02 19 00 00 00 12 00 01 00 00 00 00
                        08 00 01 00 c0 00 02 80 08 00 07 00 c0 00 02 01 08 00 06 00 07 00 00 00
                        08 00 0f 00 e8 03 00 00 08 00 04 00 03 00 00 00");
        assert_eq!(bytes(route_request(&route, Op::Add), SEQ), want);
    }

    /// `ip route prepend 2001:db8:1::/48 via 2001:db8::50 table 100 dev eth0 onlink proto keepalived`
    #[test]
    fn ipv6_route_on_link() {
        let route = Route {
            via: Some(ip("2001:db8::50")),
            table: 100,
            oif: Some(3),
            onlink: true,
            ..Route::new(ip("2001:db8:1::"), 48)
        };
        let want = hex("4c 00 00 00 18 00 05 04 34 a1 02 6b 00 00 00 00 0a 30 00 00 64 12 00 01 04 00 00 00
                        14 00 01 00 20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00
                        14 00 05 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 50 08 00 04 00 03 00 00 00");
        assert_eq!(bytes(route_request(&route, Op::Add), SEQ), want);
    }

    fn source_rule() -> Rule {
        Rule { from: Some((ip("192.0.2.100"), 32)), priority: Some(100), table: 100, ..Rule::new(Family::Ipv4) }
    }

    /// `ip rule add from 192.0.2.100/32 priority 100 table 100 protocol keepalived`
    #[test]
    fn rule_from_a_source() {
        let want = hex("34 00 00 00 20 00 05 06 34 a1 02 6b 00 00 00 00 02 00 20 00 64 00 00 01 00 00 00 00
                        08 00 02 00 c0 00 02 64 08 00 06 00 64 00 00 00 05 00 15 00 12 00 00 00");
        assert_eq!(bytes(rule_request(&source_rule(), Op::Add), SEQ), want);
    }

    /// `ip rule del from 192.0.2.100/32 priority 100 table 100 protocol keepalived`
    #[test]
    fn rule_removal_names_no_action() {
        let want = hex("34 00 00 00 21 00 05 00 34 a1 02 6b 00 00 00 00 02 00 20 00 64 00 00 00 00 00 00 00
                        08 00 02 00 c0 00 02 64 08 00 06 00 64 00 00 00 05 00 15 00 12 00 00 00");
        assert_eq!(bytes(rule_request(&source_rule(), Op::Remove), SEQ), want);
    }

    /// `ip -6 rule add to 2001:db8:1::/48 priority 7 fwmark 0x10 iif eth0 oif eth0 table 1000
    /// protocol keepalived`
    #[test]
    fn ipv6_rule_with_every_selector() {
        let rule = Rule {
            to: Some((ip("2001:db8:1::"), 48)),
            priority: Some(7),
            fwmark: Some(0x10),
            iif: Some("eth0".into()),
            oif: Some("eth0".into()),
            table: 1000,
            ..Rule::new(Family::Ipv6)
        };
        let want = hex("68 00 00 00 20 00 05 06 45 a1 02 6b 00 00 00 00 0a 30 00 00 00 00 00 01 00 00 00 00
                        14 00 01 00 20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00 08 00 06 00 07 00 00 00
                        08 00 0a 00 10 00 00 00 09 00 03 00 65 74 68 30 00 00 00 00
                        09 00 11 00 65 74 68 30 00 00 00 00 08 00 0f 00 e8 03 00 00 05 00 15 00 12 00 00 00");
        assert_eq!(bytes(rule_request(&rule, Op::Add), 0x6b02_a145), want);
    }
}
