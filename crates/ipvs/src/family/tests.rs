//! Captured bytes: `strace -xx -e trace=sendmsg,recvmsg` of ipvsadm 1.31 against Debian's
//! 6.1 kernel in the kernel lab (tests/kernel-lab), the generic-netlink header and payload of
//! each message (the 16-byte nlmsghdr dropped: it carries only lengths, ids and sequence).
//! Requests are what ipvsadm sent, replies what the kernel answered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DefaultNla, Emitable, ParseableParametrized};
use netlink_packet_generic::GenlMessage;

use super::*;
use crate::types::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn emit(msg: IpvsMessage) -> Vec<u8> {
    let m = GenlMessage::from_payload(msg);
    let mut buf = vec![0; m.buffer_len()];
    m.emit(&mut buf);
    buf
}

fn parse(bytes: &[u8]) -> IpvsMessage {
    GenlMessage::<IpvsMessage>::parse_with_param(bytes, 0x20).expect("parses").payload
}

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse::<Ipv4Addr>().expect("ipv4"))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().expect("ipv6"))
}

fn tcp(addr: IpAddr, port: u16) -> ServiceKey {
    ServiceKey::Addr { protocol: Protocol::Tcp, addr, port }
}

/// `ipvsadm -A -t 10.0.0.1:80 -s rr`. Layout from ip_vs.h: genl header (cmd 1 NEW_SERVICE,
/// version 1), SERVICE nested (0x8001): AF u16 2, PROTOCOL u16 6, ADDR 16 bytes (10.0.0.1 then
/// zeros), PORT be16 80, SCHED_NAME "rr\0", FLAGS {flags 0, mask ~0}, TIMEOUT 0, NETMASK ff*4.
const ADD_V4: &str = "01010000 54000180 0600010002000000 0600020006000000
    140003000a000001000000000000000000000000 0600040000500000 0700060072720000 0c00070000000000ffffffff
    0800080000000000 08000900ffffffff";

/// `ipvsadm -A -t [2001:db8::1]:443 -s wrr -p 60`: FLAGS {PERSISTENT, ~0}, TIMEOUT 60, NETMASK
/// 128 in host order.
const ADD_V6_PERSISTENT: &str = "01010000 54000180 060001000a000000 0600020006000000
    1400030020010db8000000000000000000000001 0600040001bb0000 0800060077727200 0c00070001000000ffffffff
    080008003c000000 0800090080000000";

/// `ipvsadm -A -f 1 -s rr`: AF and FWMARK instead of protocol, address and port.
const ADD_FWMARK: &str = "01010000 38000180 0600010002000000 0800050001000000 0700060072720000
    0c00070000000000ffffffff 0800080000000000 08000900ffffffff";

/// `ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3`: ipvsadm sends the whole service
/// (with an empty scheduler) and then DEST nested (0x8002): ADDR_FAMILY 2, ADDR, PORT be16 8080,
/// FWD_METHOD 0 (masq), WEIGHT 3, TUN_TYPE 0, TUN_PORT 0, TUN_FLAGS 0, U_THRESH 0, L_THRESH 0.
const ADD_DEST: &str = "05010000 54000180 0600010002000000 0600020006000000
    140003000a000001000000000000000000000000 0600040000500000 0500060000000000 0c00070000000000ffffffff
    0800080000000000 08000900ffffffff
    60000280 06000b0002000000 140001000a000101000000000000000000000000 060002001f900000 0800030000000000
    0800040003000000 05000d0000000000 06000e0000000000 06000f0000000000 0800050000000000 0800060000000000";

/// `ipvsadm -Ln`, the dests dump request for TCP 10.0.0.1:80: the service key only.
const GET_DEST_V4: &str = "08010000 30000180 0600010002000000 0600020006000000
    140003000a000001000000000000000000000000 0600040000500000";

/// The same for `[2001:db8::1]:443` and for fwmark 1.
const GET_DEST_V6: &str = "08010000 30000180 060001000a000000 0600020006000000
    1400030020010db8000000000000000000000001 0600040001bb0000";
const GET_DEST_FWMARK: &str = "08010000 14000180 0600010002000000 0800050001000000";

/// The kernel's reply to GET_INFO: cmd SET_INFO, VERSION 0x010201, CONN_TAB_SIZE 4096.
const INFO_REPLY: &str = "0e010000 0800010001020100 0800020000100000";

/// The services dump entry for `-A -t 10.0.0.1:80 -s rr` as the kernel sends it: nested
/// without NLA_F_NESTED, FLAGS with HASHED (2), then STATS (u32 counters, u64 bytes) and
/// STATS64, all zero.
const DUMP_SERVICE_V4: &str = "01010000 2c010100 0600010002000000 0600020006000000
    140003000a000001000000000000000000000000 0600040000500000 0700060072720000 0c00070002000000ffffffff
    0800080000000000 08000900ffffffff
    5c000a00 0800010000000000 0800020000000000 0800030000000000 0c0004000000000000000000
    0c0005000000000000000000 0800060000000000 0800070000000000 0800080000000000 0800090000000000
    08000a0000000000
    7c000c00 0c0001000000000000000000 0c0002000000000000000000 0c0003000000000000000000
    0c0004000000000000000000 0c0005000000000000000000 0c0006000000000000000000 0c0007000000000000000000
    0c0008000000000000000000 0c0009000000000000000000 0c000a000000000000000000";

/// The dests dump entry for `-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3`: ADDR, PORT,
/// FWD_METHOD, WEIGHT, TUN_*, thresholds, the three connection counts, ADDR_FAMILY, stats.
const DUMP_DEST: &str = "05010000 50010200 140001000a000101000000000000000000000000 060002001f900000
    0800030000000000 0800040003000000 05000d0000000000 06000e0000000000 06000f0000000000
    0800050000000000 0800060000000000 0800070000000000 0800080000000000 0800090000000000
    06000b0002000000
    5c000a00 0800010000000000 0800020000000000 0800030000000000 0c0004000000000000000000
    0c0005000000000000000000 0800060000000000 0800070000000000 0800080000000000 0800090000000000
    08000a0000000000
    7c000c00 0c0001000000000000000000 0c0002000000000000000000 0c0003000000000000000000
    0c0004000000000000000000 0c0005000000000000000000 0c0006000000000000000000 0c0007000000000000000000
    0c0008000000000000000000 0c0009000000000000000000 0c000a000000000000000000";

fn add_service(svc: &Service) -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::NewService, vec![IpvsAttr::Service(service_attrs(svc))])
}

#[test]
fn add_service_v4_is_ipvsadms_bytes() {
    let svc = Service::new(tcp(v4("10.0.0.1"), 80), "rr");
    assert_eq!(emit(add_service(&svc)), hex(ADD_V4));
    assert_eq!(parse(&hex(ADD_V4)), add_service(&svc));
}

#[test]
fn add_service_v6_persistent_is_ipvsadms_bytes() {
    let mut svc = Service::new(tcp(v6("2001:db8::1"), 443), "wrr");
    svc.flags = ServiceFlags(ServiceFlags::PERSISTENT);
    svc.timeout = 60;
    assert_eq!(emit(add_service(&svc)), hex(ADD_V6_PERSISTENT));
    let IpvsAttr::Service(attrs) = &parse(&hex(ADD_V6_PERSISTENT)).attrs[0] else { panic!("not a service") };
    assert_eq!(service_entry(attrs).expect("entry").service, svc);
}

#[test]
fn add_fwmark_service_is_ipvsadms_bytes() {
    let svc = Service::new(ServiceKey::Fwmark { family: Family::Inet, mark: 1 }, "rr");
    assert_eq!(emit(add_service(&svc)), hex(ADD_FWMARK));
}

#[test]
fn add_dest_is_ipvsadms_bytes() {
    let key = tcp(v4("10.0.0.1"), 80);
    let dest = Dest::new(DestKey { addr: v4("10.0.1.1"), port: 8080 }, Forwarding::Masq, 3);
    // ipvsadm repeats the whole service with an empty scheduler; we send the key only (the
    // kernel reads no more), so build its list by hand for the byte comparison.
    let mut svc = service_attrs(&Service::new(key, ""));
    svc.truncate(8);
    let ipvsadm = IpvsMessage::new(IpvsCmd::NewDest, vec![IpvsAttr::Service(svc), IpvsAttr::Dest(dest_attrs(&dest))]);
    assert_eq!(emit(ipvsadm.clone()), hex(ADD_DEST));
    assert_eq!(parse(&hex(ADD_DEST)), ipvsadm);
}

#[test]
fn dests_dump_requests_are_ipvsadms_bytes() {
    let get =
        |key: ServiceKey| emit(IpvsMessage::new(IpvsCmd::GetDest, vec![IpvsAttr::Service(service_key_attrs(&key))]));
    assert_eq!(get(tcp(v4("10.0.0.1"), 80)), hex(GET_DEST_V4));
    assert_eq!(get(tcp(v6("2001:db8::1"), 443)), hex(GET_DEST_V6));
    assert_eq!(get(ServiceKey::Fwmark { family: Family::Inet, mark: 1 }), hex(GET_DEST_FWMARK));
}

#[test]
fn info_reply_parses() {
    let msg = parse(&hex(INFO_REPLY));
    assert_eq!(msg, IpvsMessage::new(IpvsCmd::SetInfo, vec![IpvsAttr::Version(0x010201), IpvsAttr::ConnTabSize(4096)]));
    assert_eq!(emit(msg), hex(INFO_REPLY));
}

#[test]
fn kernel_service_entry_parses() {
    let msg = parse(&hex(DUMP_SERVICE_V4));
    assert_eq!(msg.cmd, IpvsCmd::NewService);
    let IpvsAttr::Service(attrs) = &msg.attrs[0] else { panic!("not a service") };
    let entry = service_entry(attrs).expect("entry");
    let mut want = Service::new(tcp(v4("10.0.0.1"), 80), "rr");
    want.flags = ServiceFlags(ServiceFlags::HASHED);
    assert_eq!(entry, ServiceEntry { service: want, stats: Stats::default() });
}

#[test]
fn kernel_dest_entry_parses() {
    let msg = parse(&hex(DUMP_DEST));
    let IpvsAttr::Dest(attrs) = &msg.attrs[0] else { panic!("not a dest") };
    let entry = dest_entry(attrs, Family::Inet).expect("entry");
    let want = Dest::new(DestKey { addr: v4("10.0.1.1"), port: 8080 }, Forwarding::Masq, 3);
    assert_eq!(
        entry,
        DestEntry { dest: want, active_conns: 0, inactive_conns: 0, persistent_conns: 0, stats: Stats::default() }
    );
}

fn stats(base: u64) -> Stats {
    Stats {
        conns: base,
        inpkts: base + 1,
        outpkts: base + 2,
        inbytes: base + (1 << 40),
        outbytes: base + (1 << 41),
        cps: base + 5,
        inpps: base + 6,
        outpps: base + 7,
        inbps: base + 8,
        outbps: base + 9,
    }
}

fn roundtrip(msg: IpvsMessage) {
    assert_eq!(parse(&emit(msg.clone())), msg);
}

#[test]
fn every_service_attribute_round_trips() {
    let wide = Stats { conns: 1 << 33, ..stats(3) };
    for key in [
        tcp(v4("192.0.2.7"), 0),
        ServiceKey::Addr { protocol: Protocol::Udp, addr: v6("2001:db8::53"), port: 53 },
        ServiceKey::Addr { protocol: Protocol::Sctp, addr: v4("198.51.100.1"), port: 3868 },
        ServiceKey::Fwmark { family: Family::Inet6, mark: u32::MAX },
    ] {
        let mut attrs = service_attrs(&Service::new(key, "mh"));
        attrs.extend([
            SvcAttr::PeName("sip".into()),
            SvcAttr::Stats(stats(1)),
            SvcAttr::Stats64(wide),
            SvcAttr::Other(DefaultNla::new(99, vec![1, 2, 3, 4])),
        ]);
        roundtrip(IpvsMessage::new(IpvsCmd::NewService, vec![IpvsAttr::Service(attrs)]));
    }
}

#[test]
fn services_round_trip_through_attributes() {
    let mut v4svc = Service::new(ServiceKey::Addr { protocol: Protocol::Udp, addr: v4("10.0.0.2"), port: 53 }, "sh");
    v4svc.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::SCHED2);
    v4svc.timeout = 360;
    v4svc.netmask = 0xffff_ff00;
    let mut v6svc = Service::new(tcp(v6("2001:db8::1"), 5060), "rr");
    v6svc.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET);
    v6svc.netmask = 64;
    v6svc.pe_name = Some("sip".into());
    let fwm = Service::new(ServiceKey::Fwmark { family: Family::Inet6, mark: 7 }, "wlc");
    for svc in [v4svc, v6svc, fwm] {
        let attrs = service_attrs(&svc);
        assert_eq!(service_entry(&attrs).expect("entry").service, svc);
    }
    // 255.255.255.0 goes out in network order.
    let mut m = Service::new(tcp(v4("10.0.0.1"), 80), "rr");
    m.netmask = 0xffff_ff00;
    assert!(service_attrs(&m).contains(&SvcAttr::Netmask([255, 255, 255, 0])));
}

#[test]
fn every_dest_attribute_round_trips() {
    let key = tcp(v4("10.0.0.1"), 80);
    let cases = [
        (v4("10.0.1.1"), Forwarding::Masq, TunnelType::IpIp, 0, 0),
        (v4("10.0.1.2"), Forwarding::DirectRoute, TunnelType::IpIp, 0, 0),
        (v4("10.0.1.3"), Forwarding::Tunnel, TunnelType::IpIp, 0, 0),
        (v4("10.0.1.4"), Forwarding::Tunnel, TunnelType::Gue, 6080, 1),
        (v4("10.0.1.5"), Forwarding::Tunnel, TunnelType::Gre, 0, 3),
        (v6("2001:db8:1::99"), Forwarding::Tunnel, TunnelType::Gue, 6081, 4),
        (v4("10.0.1.6"), Forwarding::Local, TunnelType::IpIp, 0, 0),
        (v4("10.0.1.7"), Forwarding::Bypass, TunnelType::IpIp, 0, 0),
    ];
    for (addr, fwd, tun, port, flags) in cases {
        let mut dest = Dest::new(DestKey { addr, port: 8080 }, fwd, 65535);
        dest.u_threshold = 100;
        dest.l_threshold = 10;
        dest.tunnel_type = tun;
        dest.tunnel_port = port;
        dest.tunnel_flags = flags;
        let mut attrs = dest_attrs(&dest);
        attrs.extend([
            DestAttr::ActiveConns(5),
            DestAttr::InactConns(6),
            DestAttr::PersistConns(7),
            DestAttr::Stats(stats(10)),
            DestAttr::Stats64(stats(1 << 35)),
            DestAttr::Other(DefaultNla::new(99, vec![9; 3])),
        ]);
        let msg =
            IpvsMessage::new(IpvsCmd::NewDest, vec![IpvsAttr::Service(service_key_attrs(&key)), IpvsAttr::Dest(attrs)]);
        roundtrip(msg.clone());
        let IpvsAttr::Dest(parsed) = &msg.attrs[1] else { panic!("not a dest") };
        let entry = dest_entry(parsed, Family::Inet).expect("entry");
        assert_eq!(entry.dest, dest);
        assert_eq!((entry.active_conns, entry.inactive_conns, entry.persistent_conns), (5, 6, 7));
        assert_eq!(entry.stats, stats(1 << 35), "STATS64 wins over STATS");
    }
}

#[test]
fn tunnel_port_is_big_endian() {
    let mut dest = Dest::new(DestKey { addr: v4("10.0.1.4"), port: 80 }, Forwarding::Tunnel, 1);
    dest.tunnel_type = TunnelType::Gue;
    dest.tunnel_port = 6080;
    let bytes = emit(IpvsMessage::new(IpvsCmd::NewDest, vec![IpvsAttr::Dest(dest_attrs(&dest))]));
    // TUN_PORT (14): length 6, then 6080 = 0x17c0 big-endian.
    assert!(bytes.windows(6).any(|w| w == [6, 0, 14, 0, 0x17, 0xc0]));
}

#[test]
fn daemons_round_trip() {
    let master = SyncDaemon {
        role: SyncRole::Master,
        interface: "eth0".into(),
        syncid: 5,
        maxlen: 1472,
        mcast_group: Some(v4("224.0.0.81")),
        mcast_port: 8848,
        mcast_ttl: 1,
    };
    let backup = SyncDaemon {
        role: SyncRole::Backup,
        interface: "bond0.100".into(),
        syncid: 255,
        maxlen: 0,
        mcast_group: Some(v6("ff02::81")),
        mcast_port: 0,
        mcast_ttl: 0,
    };
    for d in [master, backup] {
        let msg = IpvsMessage::new(IpvsCmd::NewDaemon, vec![IpvsAttr::Daemon(daemon_attrs(&d))]);
        roundtrip(msg.clone());
        let IpvsAttr::Daemon(attrs) = &msg.attrs[0] else { panic!("not a daemon") };
        assert_eq!(daemon_from_attrs(attrs).expect("daemon"), d);
    }
    // MCAST_PORT goes out in host order (unlike the service and destination ports).
    let d = SyncDaemon {
        role: SyncRole::Master,
        interface: "lo".into(),
        syncid: 1,
        maxlen: 0,
        mcast_group: None,
        mcast_port: 8848,
        mcast_ttl: 0,
    };
    let bytes = emit(IpvsMessage::new(IpvsCmd::NewDaemon, vec![IpvsAttr::Daemon(daemon_attrs(&d))]));
    assert!(bytes.windows(6).any(|w| w == [6, 0, 7, 0, 0x90, 0x22]));
}

#[test]
fn config_and_commands_round_trip() {
    roundtrip(IpvsMessage::new(
        IpvsCmd::SetConfig,
        vec![IpvsAttr::TimeoutTcp(900), IpvsAttr::TimeoutTcpFin(120), IpvsAttr::TimeoutUdp(300)],
    ));
    for cmd in 1..=17u8 {
        let c = IpvsCmd::from(cmd);
        assert_eq!(u8::from(c), cmd);
        assert!(!matches!(c, IpvsCmd::Other(_)));
    }
    roundtrip(IpvsMessage::new(IpvsCmd::Other(42), vec![IpvsAttr::Other(DefaultNla::new(9, vec![1, 2]))]));
}

#[test]
fn short_or_bad_values_are_errors_not_panics() {
    // A service with a 3-byte address, a dest with a 1-byte port, a truncated attribute header.
    for bad in ["01010000 0c000100 07000300 0a0000 00", "05010000 0c000200 05000200 01000000", "01010000 0800"] {
        assert!(GenlMessage::<IpvsMessage>::parse_with_param(&hex(bad)[..], 0x20).is_err(), "{bad}");
    }
}

#[test]
fn statistics_are_read_by_their_headers() {
    // CONNS 5, the alignment padding (no value), INBYTES 2^32 as the last attribute.
    let good = stats::parse(&hex("08000100 05000000 04000b00 0c000400 00000000 01000000")).expect("parses");
    assert_eq!((good.conns, good.inbytes, good.outbytes), (5, 1 << 32, 0));
    // A value cut short, a header cut short, a header shorter than itself, a 3-byte counter.
    for bad in ["08000100 0500", "08000100 05000000 0c00", "02000100 05000000", "07000100 05000000"] {
        assert!(stats::parse(&hex(bad)).is_err(), "{bad}");
    }
}
