//! The announcement table in the kernel: `ip route add VIP/32 dev lo table T proto P [metric
//! M]`, the routes of protocol P in table T listed, and the VIPs put on their interface.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::Context as _;
use futures::TryStreamExt;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType};
use rtnetlink::{Handle, RouteMessageBuilder};
use tokio::task::JoinHandle;
use vigil_config::announce::Announce;
use vigil_vrrp::io::{AddOutcome, Addresses, Vip};

use super::policy::Route;

/// The table, the protocol that marks our routes, and the interface they point at.
pub struct Table {
    handle: Handle,
    connection: JoinHandle<()>,
    addresses: Addresses,
    pub table: u32,
    pub protocol: u8,
    /// The interface the routes go out of and the VIPs are added on.
    ifindex: u32,
    /// The interface the VIPs are added on; `None`: they are not added.
    interface: Option<String>,
    /// The VIPs are made local by a `local` route rather than an address.
    local_route: bool,
    /// The VIPs this run added, removed again at [`Table::close`].
    added: BTreeSet<IpAddr>,
}

impl Table {
    /// Opens rtnetlink for `announce`'s table; the routes point at its interface (`lo` when
    /// the VIPs are not added by vigild).
    pub async fn open(announce: &Announce) -> anyhow::Result<Table> {
        let (connection, handle, _) = rtnetlink::new_connection().context("opening rtnetlink")?;
        let connection = tokio::spawn(connection);
        let addresses = Addresses::new().context("opening rtnetlink")?;
        let name = announce.interface.as_deref().unwrap_or("lo");
        let link = addresses.link_by_name(name).await.with_context(|| format!("announce: interface {name}"))?;
        Ok(Table {
            handle,
            connection,
            addresses,
            table: announce.table,
            protocol: announce.protocol,
            ifindex: link.ifindex,
            interface: announce.interface.clone(),
            local_route: announce.local_route,
            added: BTreeSet::new(),
        })
    }

    /// Whether `announce` names this same table, protocol and interface.
    pub fn serves(&self, announce: &Announce) -> bool {
        self.table == announce.table
            && self.protocol == announce.protocol
            && self.interface == announce.interface
            && self.local_route == announce.local_route
    }

    /// Whether both put the VIPs on the same interface.
    pub fn same_interface(&self, other: &Table) -> bool {
        self.interface.is_some() && self.interface == other.interface
    }

    /// Takes over the VIPs `other` added (same interface): they stay where they are.
    pub fn take_vips_of(&mut self, other: &mut Table) {
        self.added.append(&mut other.added);
    }

    /// Our routes in the table: host routes of our protocol, both families.
    pub async fn list(&self) -> anyhow::Result<BTreeSet<Route>> {
        let mut out = BTreeSet::new();
        let queries = [
            RouteMessageBuilder::<Ipv4Addr>::new().table_id(self.table).build(),
            RouteMessageBuilder::<Ipv6Addr>::new().table_id(self.table).build(),
        ];
        for query in queries {
            let mut routes = self.handle.route().get(query).execute();
            while let Some(m) = routes.try_next().await.context("listing routes")? {
                if let Some(route) = self.ours(&m) {
                    out.insert(route);
                }
            }
        }
        Ok(out)
    }

    /// `m` as one of our routes, or `None`.
    fn ours(&self, m: &RouteMessage) -> Option<Route> {
        let table = m
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Table(t) => Some(*t),
                _ => None,
            })
            .unwrap_or(u32::from(m.header.table));
        if table != self.table || m.header.protocol != RouteProtocol::from(self.protocol) {
            return None;
        }
        let mut dest = None;
        let mut metric = 0;
        for a in &m.attributes {
            match a {
                RouteAttribute::Destination(RouteAddress::Inet(v4)) if m.header.destination_prefix_length == 32 => {
                    dest = Some(IpAddr::V4(*v4))
                }
                RouteAttribute::Destination(RouteAddress::Inet6(v6)) if m.header.destination_prefix_length == 128 => {
                    dest = Some(IpAddr::V6(*v6))
                }
                RouteAttribute::Priority(p) => metric = *p,
                _ => {}
            }
        }
        dest.map(|d| (d, metric))
    }

    fn message(&self, (vip, metric): Route) -> RouteMessage {
        let mut m = host_route(vip);
        let (table, big) = match u8::try_from(self.table) {
            Ok(t) => (t, None),
            Err(_) => (0, Some(self.table)),
        };
        m.header.table = table;
        m.header.protocol = RouteProtocol::from(self.protocol);
        m.header.scope = RouteScope::Link;
        m.attributes.extend(big.map(RouteAttribute::Table));
        m.attributes.push(RouteAttribute::Oif(self.ifindex));
        if metric != 0 {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        m
    }

    /// `local VIP dev IF table local proto P scope host`: what makes the kernel deliver the
    /// VIP's packets locally without an address.
    fn local_message(&self, vip: IpAddr) -> RouteMessage {
        let mut m = host_route(vip);
        m.header.table = RT_TABLE_LOCAL;
        m.header.protocol = RouteProtocol::from(self.protocol);
        m.header.scope = RouteScope::Host;
        m.header.kind = RouteType::Local;
        m.attributes.push(RouteAttribute::Oif(self.ifindex));
        m
    }

    /// Adds the route (an identical one already there is fine).
    pub async fn add(&self, route: Route) -> anyhow::Result<()> {
        match self.handle.route().add(self.message(route)).replace().execute().await {
            Ok(()) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("adding the route to {}", route.0)),
        }
    }

    /// Removes the route (one already gone is fine).
    pub async fn remove(&self, route: Route) -> anyhow::Result<()> {
        let mut m = self.message(route);
        m.header.scope = RouteScope::NoWhere;
        match self.handle.route().del(m).execute().await {
            Ok(()) => Ok(()),
            Err(rtnetlink::Error::NetlinkError(e)) if e.code.is_some_and(|c| -c.get() == ESRCH) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("removing the route to {}", route.0)),
        }
    }

    /// Puts `vips` on the interface (when vigild adds them): a director answers for a VIP
    /// whether or not it is announced, so that a drained director finishes its flows.
    pub async fn add_vips(&mut self, vips: impl IntoIterator<Item = IpAddr>) {
        if self.interface.is_none() {
            return;
        }
        for vip in vips {
            if self.added.contains(&vip) {
                continue;
            }
            let prefix = host_prefix(vip);
            let added = if self.local_route {
                let request = self.handle.route().add(self.local_message(vip)).execute().await;
                match request {
                    Ok(()) => Ok(true),
                    Err(rtnetlink::Error::NetlinkError(e)) if e.code.is_some_and(|c| -c.get() == EEXIST) => Ok(false),
                    Err(e) => Err(anyhow::Error::from(e)),
                }
            } else {
                match self.addresses.add(self.ifindex, &Vip::new(vip, prefix)).await {
                    Ok(outcome) => Ok(outcome == AddOutcome::Added),
                    Err(e) => Err(anyhow::Error::from(e)),
                }
            };
            match added {
                Ok(true) => {
                    self.added.insert(vip);
                }
                Ok(false) => {}
                Err(e) => tracing::error!("announce: cannot make {vip} local: {e:#}"),
            }
        }
    }

    /// Takes the VIPs this run added off the interface, but those in `keep`.
    pub async fn remove_vips(&mut self, keep: &BTreeSet<IpAddr>) {
        let gone: Vec<IpAddr> = self.added.iter().filter(|v| !keep.contains(v)).copied().collect();
        for vip in gone {
            let prefix = host_prefix(vip);
            let removed = if self.local_route {
                let mut m = self.local_message(vip);
                m.header.scope = RouteScope::NoWhere;
                self.handle.route().del(m).execute().await.map_err(anyhow::Error::from)
            } else {
                self.addresses.remove(self.ifindex, vip, prefix).await.map(drop).map_err(anyhow::Error::from)
            };
            if let Err(e) = removed {
                tracing::error!("announce: cannot remove {vip}: {e:#}");
            }
            self.added.remove(&vip);
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// The prefix length of a host route or address: /32 or /128.
fn host_prefix(vip: IpAddr) -> u8 {
    if vip.is_ipv4() {
        32
    } else {
        128
    }
}

/// A route message to `vip` alone, nothing else set.
fn host_route(vip: IpAddr) -> RouteMessage {
    match vip {
        IpAddr::V4(a) => RouteMessageBuilder::<Ipv4Addr>::new().destination_prefix(a, 32).build(),
        IpAddr::V6(a) => RouteMessageBuilder::<Ipv6Addr>::new().destination_prefix(a, 128).build(),
    }
}

/// The kernel's answer to the removal of a route that is not there.
const ESRCH: i32 = nix::errno::Errno::ESRCH as i32;
/// The kernel's answer to the addition of a route that is there.
const EEXIST: i32 = nix::errno::Errno::EEXIST as i32;
/// The kernel's local table (`ip route show table local`).
const RT_TABLE_LOCAL: u8 = 255;
