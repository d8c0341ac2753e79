//! Fuzz target: the IPVS generic-netlink family (`vigil_ipvs::family`) must never panic,
//! whatever the kernel (or anything posing as it) answers: a message's attributes, the
//! services, destinations and sync daemons in them, and their statistics. What parses must
//! also emit, and after one emit and parse (which settles what the wire allows in more than
//! one way: short addresses, missing counters) parse back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{Emitable, ParseableParametrized};
use netlink_packet_generic::GenlMessage;
use vigil_ipvs::family::{daemon_from_attrs, dest_entry, service_entry, IpvsAttr, IpvsMessage};
use vigil_ipvs::Family;

/// The generic-netlink header's length: command, version, reserved.
const GENL_HEADER: usize = 4;

fn parse(bytes: &[u8]) -> Option<IpvsMessage> {
    GenlMessage::<IpvsMessage>::parse_with_param(bytes, 0x20).ok().map(|m| m.payload)
}

fn emit(msg: &IpvsMessage) -> Vec<u8> {
    let m = GenlMessage::from_payload(msg.clone());
    let mut buf = vec![0; m.buffer_len()];
    m.emit(&mut buf);
    buf
}

fuzz_target!(|data: &[u8]| {
    if data.len() < GENL_HEADER {
        return;
    }
    let Some(msg) = parse(data) else { return };
    for attr in &msg.attrs {
        let _ = match attr {
            IpvsAttr::Service(a) => service_entry(a).map(drop),
            IpvsAttr::Dest(a) => dest_entry(a, Family::Inet).and(dest_entry(a, Family::Inet6)).map(drop),
            IpvsAttr::Daemon(a) => daemon_from_attrs(a).map(drop),
            _ => Ok(()),
        };
    }
    let settled = parse(&emit(&msg)).expect("an emitted message parses");
    assert_eq!(parse(&emit(&settled)).as_ref(), Some(&settled));
});
