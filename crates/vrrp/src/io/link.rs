//! Interfaces over rtnetlink for `use_vmac`: list them as [`crate::vmac::choose`] needs them,
//! create, update, bring up and remove a private-mode macvlan, stop the kernel from giving it
//! an IPv6 address of its own, and read and write the IPv4 settings of it and its parent.
//!
//! The requests are those of `ip link add link PARENT name NAME address MAC type macvlan mode
//! private`, `ip link set dev NAME addrgenmode none`, `ip link set dev NAME up` and `ip link del`;
//! the IPv4 settings go in `IFLA_AF_SPEC`, as keepalived writes them, because the interface may
//! be a bridge whose `/proc/sys` entries another tool owns. `disable_ipv6`, which the kernel
//! does not take over netlink, and `rp_filter` of `all` and `default`, which are no interfaces,
//! are read and written under `/proc/sys`.

use futures::TryStreamExt;
use netlink_packet_core::DefaultNla;
use netlink_packet_route::link::{
    AfSpecInet, AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags,
    LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::AddressFamily;

use super::addr::{all_links, netlink_error, Addresses};
use super::Error;
use crate::vmac::{ArpConf, DevConf, Existing, Macvlan};
use crate::wire::MacAddr;

/// `IFLA_INET_CONF` in linux/if_link.h: the IPv4 settings inside `IFLA_AF_SPEC`'s `AF_INET`.
const IFLA_INET_CONF: u16 = 1;

impl Addresses {
    /// Every interface, in the kernel's order, as choosing a vmac needs them.
    pub async fn interfaces(&self) -> Result<Vec<Existing>, Error> {
        Ok(all_links(&self.handle).await?.iter().map(existing).collect())
    }

    /// Creates the private-mode macvlan `name` on `parent` with MAC `mac`, down.
    pub async fn create_macvlan(&self, name: &str, parent: u32, mac: MacAddr) -> Result<(), Error> {
        let request = self.handle.link().add(create_macvlan_message(name, parent, mac));
        request.execute().await.map_err(|err| netlink_error("creating a macvlan interface", parent, err))
    }

    /// Makes the macvlan `ifindex` private-mode with MAC `mac`.
    pub async fn update_macvlan(&self, ifindex: u32, mac: MacAddr) -> Result<(), Error> {
        let request = self.handle.link().change(update_macvlan_message(ifindex, mac));
        request.execute().await.map_err(|err| netlink_error("updating a macvlan interface", ifindex, err))
    }

    /// Removes interface `ifindex`.
    pub async fn delete_link(&self, ifindex: u32) -> Result<(), Error> {
        let request = self.handle.link().del(ifindex);
        request.execute().await.map_err(|err| netlink_error("removing an interface", ifindex, err))
    }

    /// Removes the interface named `name` (`ip link del NAME`): one whose index was not learnt.
    pub async fn delete_link_by_name(&self, name: &str) -> Result<(), Error> {
        let mut request = self.handle.link().del(0);
        *request.message_mut() = named_message(name);
        request.execute().await.map_err(|err| netlink_error("removing an interface", 0, err))
    }

    /// Brings interface `ifindex` up.
    pub async fn set_link_up(&self, ifindex: u32) -> Result<(), Error> {
        let request = self.handle.link().change(up_message(ifindex));
        request.execute().await.map_err(|err| netlink_error("bringing an interface up", ifindex, err))
    }

    /// Stops the kernel from giving interface `ifindex` IPv6 addresses of its own (address
    /// generation mode `none`): a vmac must not send from a link-local address made from the
    /// virtual router MAC (RFC 5798 7.4). Done before the interface comes up, or it gets one.
    pub async fn disable_address_generation(&self, ifindex: u32) -> Result<(), Error> {
        let request = self.handle.link().change(addr_gen_mode_none_message(ifindex));
        request.execute().await.map_err(|err| netlink_error("setting the IPv6 address generation mode", ifindex, err))
    }

    /// Writes IPv4 settings of interface `ifindex`.
    pub async fn set_ipv4_conf(&self, ifindex: u32, settings: &[(DevConf, u32)]) -> Result<(), Error> {
        let request = self.handle.link().change(ipv4_conf_message(ifindex, settings));
        request.execute().await.map_err(|err| netlink_error("setting IPv4 interface settings", ifindex, err))
    }

    /// The `arp_ignore` and `arp_filter` of interface `ifindex`; `None` when the kernel does not
    /// report them (no IPv4 on it).
    pub async fn arp_conf(&self, ifindex: u32) -> Result<Option<ArpConf>, Error> {
        let message = self
            .handle
            .link()
            .get()
            .match_index(ifindex)
            .execute()
            .try_next()
            .await
            .map_err(|err| netlink_error("reading IPv4 interface settings", ifindex, err))?;
        Ok(message.as_ref().and_then(arp_conf))
    }
}

/// Turns IPv6 off or on on interface `name` (`net.ipv6.conf.NAME.disable_ipv6`).
pub fn set_ipv6_disabled(name: &str, disabled: bool) -> Result<(), Error> {
    write_sysctl(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), u32::from(disabled))
}

/// `net.ipv4.conf.NAME.KEY`, NAME an interface, `all` or `default`.
pub fn ipv4_sysctl(name: &str, key: &str) -> Result<u32, Error> {
    let path = format!("/proc/sys/net/ipv4/conf/{name}/{key}");
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map_err(|_| Error::Sysctl {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a number: {}", text.trim())),
        }),
        Err(source) => Err(Error::Sysctl { path, source }),
    }
}

/// Writes `net.ipv4.conf.NAME.KEY`.
pub fn set_ipv4_sysctl(name: &str, key: &str, value: u32) -> Result<(), Error> {
    write_sysctl(format!("/proc/sys/net/ipv4/conf/{name}/{key}"), value)
}

/// The interfaces with IPv4 settings (`net.ipv4.conf.*` but `all` and `default`).
pub fn ipv4_interfaces() -> Result<Vec<String>, Error> {
    let path = "/proc/sys/net/ipv4/conf";
    let entries = std::fs::read_dir(path).map_err(|source| Error::Sysctl { path: path.to_string(), source })?;
    Ok(entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "all" && n != "default")
        .collect())
}

fn write_sysctl(path: String, value: u32) -> Result<(), Error> {
    std::fs::write(&path, value.to_string()).map_err(|source| Error::Sysctl { path, source })
}

/// An interface from the kernel's description of it.
fn existing(message: &LinkMessage) -> Existing {
    let mut e = Existing { ifindex: message.header.index, name: String::new(), mac: None, macvlan: None };
    let mut parent = None;
    let mut other_namespace = false;
    let mut kind = None;
    let mut private = false;
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => e.name.clone_from(name),
            LinkAttribute::Address(bytes) => e.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(MacAddr),
            LinkAttribute::Link(index) => parent = Some(*index),
            LinkAttribute::LinkNetNsId(_) => other_namespace = true,
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(k) => kind = Some(k.clone()),
                        LinkInfo::Data(InfoData::MacVlan(data)) => {
                            private = data.iter().any(|d| matches!(d, InfoMacVlan::Mode(MacVlanMode::Private)));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if kind == Some(InfoKind::MacVlan) {
        e.macvlan = Some(Macvlan { parent: parent.filter(|_| !other_namespace), private });
    }
    e
}

/// `arp_ignore` and `arp_filter` from an interface's description, when it has IPv4 settings.
fn arp_conf(message: &LinkMessage) -> Option<ArpConf> {
    message.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::AfSpecUnspec(specs) => specs.iter().find_map(|spec| match spec {
            AfSpecUnspec::Inet(inet) => inet.iter().find_map(|i| match i {
                AfSpecInet::DevConf(c) => Some(ArpConf {
                    arp_ignore: u32::try_from(c.arp_ignore).unwrap_or(0),
                    arp_filter: u32::try_from(c.arpfilter).unwrap_or(0),
                }),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    })
}

/// A request about interface `ifindex` with nothing in it yet.
fn link_message(ifindex: u32) -> LinkMessage {
    let mut message = LinkMessage::default();
    message.header.interface_family = AddressFamily::Unspec;
    message.header.index = ifindex;
    message
}

/// A request about the interface named `name`, whatever its index.
fn named_message(name: &str) -> LinkMessage {
    let mut message = link_message(0);
    message.attributes = vec![LinkAttribute::IfName(name.to_string())];
    message
}

/// `IFLA_LINKINFO`: a macvlan in private mode, in which it hears frames from its own MAC that
/// come from outside (another router's adverts from the same virtual router MAC).
fn private_macvlan_info() -> LinkAttribute {
    LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(MacVlanMode::Private)])),
    ])
}

/// `ip link add link PARENT name NAME address MAC type macvlan mode private`.
fn create_macvlan_message(name: &str, parent: u32, mac: MacAddr) -> LinkMessage {
    let mut message = link_message(0);
    message.attributes = vec![
        private_macvlan_info(),
        LinkAttribute::Link(parent),
        LinkAttribute::IfName(name.to_string()),
        LinkAttribute::Address(mac.octets().to_vec()),
    ];
    message
}

/// The existing macvlan `ifindex` made private-mode with MAC `mac`.
fn update_macvlan_message(ifindex: u32, mac: MacAddr) -> LinkMessage {
    let mut message = link_message(ifindex);
    message.attributes = vec![private_macvlan_info(), LinkAttribute::Address(mac.octets().to_vec())];
    message
}

/// `ip link set dev IF up`.
fn up_message(ifindex: u32) -> LinkMessage {
    let mut message = link_message(ifindex);
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    message
}

/// `ip link set dev IF addrgenmode none`.
fn addr_gen_mode_none_message(ifindex: u32) -> LinkMessage {
    let mut message = link_message(ifindex);
    message.attributes = vec![LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(vec![AfSpecInet6::AddrGenMode(
        In6AddrGenMode::None,
    )])])];
    message
}

/// IPv4 settings of interface `ifindex`: `IFLA_AF_SPEC` / `AF_INET` / `IFLA_INET_CONF`, one
/// attribute per setting (numbered as `IPV4_DEVCONF_*`) with its value, zeros included.
fn ipv4_conf_message(ifindex: u32, settings: &[(DevConf, u32)]) -> LinkMessage {
    let mut conf = Vec::with_capacity(settings.len() * 8);
    for (setting, value) in settings {
        // struct nlattr { u16 nla_len; u16 nla_type; } then the u32, all in host order.
        conf.extend_from_slice(&8u16.to_ne_bytes());
        conf.extend_from_slice(&setting.number().to_ne_bytes());
        conf.extend_from_slice(&value.to_ne_bytes());
    }
    let mut message = link_message(ifindex);
    message.attributes = vec![LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet(vec![AfSpecInet::Other(
        DefaultNla::new(IFLA_INET_CONF, conf),
    )])])];
    message
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::{Emitable, NlaBuffer, NlasIterator, Parseable};

    use super::*;
    use crate::vmac::VMAC_IPV4;

    fn bytes(message: &LinkMessage) -> Vec<u8> {
        let mut buf = vec![0u8; message.buffer_len()];
        message.emit(&mut buf);
        buf
    }

    fn parsed(message: &LinkMessage) -> LinkMessage {
        LinkMessage::parse(bytes(message).as_slice()).expect("our own request parses")
    }

    #[test]
    fn the_macvlan_request_names_parent_name_mac_and_private_mode() {
        let mac = MacAddr::vrrp_ipv4(51);
        let message = parsed(&create_macvlan_message("vrrp.51", 2, mac));
        assert_eq!(message.header.index, 0);
        let e = existing(&message);
        assert_eq!(e.name, "vrrp.51");
        assert_eq!(e.mac, Some(mac));
        assert_eq!(e.macvlan, Some(Macvlan { parent: Some(2), private: true }));
    }

    #[test]
    fn the_update_request_keeps_the_interface_and_sets_mac_and_mode() {
        let mac = MacAddr::vrrp_ipv6(7);
        let message = parsed(&update_macvlan_message(9, mac));
        assert_eq!(message.header.index, 9);
        let e = existing(&message);
        assert_eq!((e.mac, e.macvlan), (Some(mac), Some(Macvlan { parent: None, private: true })));
        assert!(e.name.is_empty(), "the name is left as it is");
    }

    #[test]
    fn up_sets_and_masks_only_iff_up() {
        let b = bytes(&up_message(4));
        // ifinfomsg: family, pad, type (2), index (4), flags (4), change (4); no attribute.
        assert_eq!(b.len(), 16);
        assert_eq!(i32::from_ne_bytes([b[4], b[5], b[6], b[7]]), 4);
        assert_eq!(u32::from_ne_bytes([b[8], b[9], b[10], b[11]]), 1, "IFF_UP");
        assert_eq!(u32::from_ne_bytes([b[12], b[13], b[14], b[15]]), 1, "only IFF_UP changes");
    }

    #[test]
    fn the_named_request_has_no_index_and_the_name() {
        let message = parsed(&named_message("vrrp.51"));
        assert_eq!(message.header.index, 0);
        assert_eq!(message.attributes, [LinkAttribute::IfName("vrrp.51".into())]);
    }

    #[test]
    fn addr_gen_mode_none_is_inet6_attribute_8_value_1() {
        let b = bytes(&addr_gen_mode_none_message(4));
        // ifinfomsg (16 bytes), then IFLA_AF_SPEC (26) { AF_INET6 (10) { IFLA_INET6_ADDR_GEN_MODE (8): 1 } }.
        let attrs = &b[16..];
        assert_eq!(u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff, 26);
        assert_eq!(u16::from_ne_bytes([attrs[6], attrs[7]]) & 0x3fff, 10);
        assert_eq!(u16::from_ne_bytes([attrs[10], attrs[11]]) & 0x3fff, 8);
        assert_eq!(attrs[12], 1);
    }

    #[test]
    fn ipv4_settings_go_nested_with_zero_values_kept() {
        let b = bytes(&ipv4_conf_message(5, &VMAC_IPV4));
        let attrs = &b[16..];
        let af_spec = NlaBuffer::new_checked(attrs).expect("IFLA_AF_SPEC");
        assert_eq!(af_spec.kind(), 26);
        let inet = NlaBuffer::new_checked(af_spec.value()).expect("AF_INET");
        assert_eq!(inet.kind(), 2);
        let conf = NlaBuffer::new_checked(inet.value()).expect("IFLA_INET_CONF");
        assert_eq!(conf.kind(), IFLA_INET_CONF);
        let settings: Vec<(u16, u32)> = NlasIterator::new(conf.value())
            .map(|nla| {
                let nla = nla.expect("a setting");
                let v = nla.value();
                (nla.kind(), u32::from_ne_bytes([v[0], v[1], v[2], v[3]]))
            })
            .collect();
        assert_eq!(settings, [(19, 1), (23, 1), (8, 0), (20, 1)]);
    }
}
