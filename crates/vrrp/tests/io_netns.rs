//! The I/O edges against a real kernel, each test inside network namespaces of its own.
//!
//! They need root (namespaces, raw and packet sockets, address changes) and iproute2; without
//! root each test says so and passes. Every namespace is named `vigil-io-<pid>-<n>` and is
//! deleted when its guard drops, also when the test fails. Sockets and netlink connections are
//! opened on a thread that has entered the namespace (a socket stays in the namespace it was
//! created in), then used from the test's runtime.

use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nix::sched::{setns, CloneFlags};
use socket2::{Domain, Protocol, Socket, Type};
use vigil_vrrp::io::{
    AddOutcome, AddressScope, Addresses, Error, FrameSender, Monitor, NetEvent, Received, RemoveOutcome, SocketConfig,
    Vip, VrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6,
};
use vigil_vrrp::wire::Family;

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);

static NEXT_NAMESPACE: AtomicUsize = AtomicUsize::new(0);

/// True when the test can run; otherwise says why it is skipped.
fn can_run(test: &str) -> bool {
    let root = nix::unistd::Uid::effective().is_root();
    if !root {
        eprintln!("skipping {test}: it creates network namespaces and raw sockets, which needs root");
    }
    root
}

/// A network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let n = NEXT_NAMESPACE.fetch_add(1, Ordering::SeqCst);
        let name = format!("vigil-io-{}-{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let netns = Netns { name };
        // Addresses are usable at once instead of after duplicate address detection.
        netns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]);
        netns.ip(&["link", "set", "lo", "up"]);
        netns
    }

    /// `ip -n NAME args...`, which must succeed; returns its output.
    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// `ip netns exec NAME args...`, which must succeed.
    fn exec(&self, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Waits until `dev` is operationally up: until then its queueing discipline drops what is
    /// sent (the kernel activates it a moment after `ip link set up`, later under load).
    fn wait_oper_up(&self, dev: &str) {
        for _ in 0..250 {
            if self.ip(&["-o", "link", "show", "dev", dev]).contains(" state UP ") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{dev} in {} did not come up", self.name);
    }

    /// Runs `f` on a thread inside the namespace, in the context of the test's runtime.
    fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let runtime = tokio::runtime::Handle::current();
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let netns = File::open(&path).expect("open the namespace");
                    setns(&netns, CloneFlags::CLONE_NEWNET).expect("enter the namespace");
                    let _runtime = runtime.enter();
                    f()
                })
                .join()
                .expect("the thread in the namespace panicked")
        })
    }

    /// Runs the future on a thread inside the namespace (the runtime must be multi-threaded so
    /// that its workers drive the I/O meanwhile).
    fn block_on<F: std::future::Future + Send>(&self, future: F) -> F::Output
    where
        F::Output: Send,
    {
        let runtime = tokio::runtime::Handle::current();
        self.enter(move || runtime.block_on(future))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let status = Command::new("ip").args(["netns", "del", &self.name]).status();
        if !matches!(status, Ok(status) if status.success()) {
            eprintln!("could not delete network namespace {}: {status:?}", self.name);
        }
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|err| panic!("{program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Two namespaces joined by a veth pair: `va` (10.0.0.1/24, fd00::1/64) in `a`, `vb`
/// (10.0.0.2/24, fd00::2/64) in `b`, both up.
struct Pair {
    a: Netns,
    b: Netns,
}

impl Pair {
    fn new() -> Pair {
        let pair = Pair { a: Netns::new(), b: Netns::new() };
        pair.a.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &pair.b.name]);
        for (netns, dev, v4, v6) in
            [(&pair.a, "va", "10.0.0.1/24", "fd00::1/64"), (&pair.b, "vb", "10.0.0.2/24", "fd00::2/64")]
        {
            netns.ip(&["addr", "add", v4, "dev", dev]);
            netns.ip(&["addr", "add", v6, "dev", dev, "nodad"]);
            netns.ip(&["link", "set", dev, "up"]);
        }
        pair.a.wait_oper_up("va");
        pair.b.wait_oper_up("vb");
        pair
    }
}

/// One namespace holding both ends of a veth pair, `va` (10.0.0.1/24) and `vb`, both up.
fn single() -> Netns {
    let netns = Netns::new();
    netns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    netns.ip(&["addr", "add", "10.0.0.1/24", "dev", "va"]);
    netns.ip(&["link", "set", "va", "up"]);
    netns.ip(&["link", "set", "vb", "up"]);
    netns.wait_oper_up("va");
    netns.wait_oper_up("vb");
    netns
}

fn open(netns: &Netns, config: SocketConfig) -> VrrpSocket {
    netns.enter(|| VrrpSocket::open(&config)).unwrap_or_else(|err| panic!("open {config:?}: {err}"))
}

async fn recv(socket: &VrrpSocket) -> (Received, Vec<u8>) {
    let mut buf = vec![0; 2048];
    let received = tokio::time::timeout(WAIT, socket.recv(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("nothing received on {} within {WAIT:?}", socket.interface()))
        .expect("recv");
    let payload = received.payload(&buf).to_vec();
    (received, payload)
}

async fn assert_quiet(socket: &VrrpSocket) {
    let mut buf = vec![0; 2048];
    if let Ok(received) = tokio::time::timeout(QUIET, socket.recv(&mut buf)).await {
        panic!("{} received {received:?}, expected nothing", socket.interface());
    }
}

/// The first IPv6 link-local address of `dev`, once it has one.
async fn link_local(addresses: &Addresses, dev: &str) -> Ipv6Addr {
    for _ in 0..100 {
        if let Some(ip) = addresses.link_by_name(dev).await.expect("link_by_name").link_local_ipv6 {
            return ip;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{dev} has no IPv6 link-local address");
}

/// Events until one matches, failing after a while with those seen.
async fn expect_event(monitor: &mut Monitor, wanted: impl Fn(&NetEvent) -> bool) -> NetEvent {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Some(event) = monitor.next().await {
            if wanted(&event) {
                return Some(event);
            }
            seen.push(event);
        }
        None
    })
    .await;
    match found {
        Ok(Some(event)) => event,
        _ => panic!("expected event not reported; saw {seen:?}"),
    }
}

const V4_A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const V4_B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const V6_A: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
const V6_B: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));

/// Bytes that stand for an advertisement: the socket does not look inside.
const PAYLOAD_A: &[u8] = &[0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x00, 0x00, 10, 0, 0, 100];
const PAYLOAD_B: &[u8] = &[0x31, 0x33, 0x32, 0x01, 0x00, 0x64, 0x00, 0x00, 10, 0, 0, 100];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multicast_ipv4_exchange_reports_src_dst_ttl_and_skips_own_packets() {
    if !can_run("multicast_ipv4") {
        return;
    }
    let pair = Pair::new();
    let a = open(&pair.a, SocketConfig { src: Some(V4_A), ..SocketConfig::multicast("va", Family::Ipv4) });
    let b = open(&pair.b, SocketConfig::multicast("vb", Family::Ipv4));
    // A plain raw socket next to b shows the IP header the kernel wrote.
    let witness = pair.b.enter(|| {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).expect("raw socket");
        socket.bind_device(Some(b"vb")).expect("SO_BINDTODEVICE");
        socket.set_read_timeout(Some(WAIT)).expect("SO_RCVTIMEO");
        socket
    });

    a.send(PAYLOAD_A, None).await.expect("send from a");
    let (got, payload) = recv(&b).await;
    assert_eq!(payload, PAYLOAD_A);
    assert_eq!((got.src, got.dst, got.ttl, got.ifindex), (V4_A, IpAddr::V4(VRRP_GROUP_V4), 255, b.ifindex()));
    assert_quiet(&a).await;
    let header = tokio::task::spawn_blocking(move || {
        let mut buf = [0; 2048];
        let len = (&witness).read(&mut buf).expect("witness read");
        buf[..len].to_vec()
    })
    .await
    .expect("witness thread");
    assert_eq!((header[0], header[1], header[9]), (0x45, 0xc0, 112), "version/IHL, TOS CS6, protocol");
    assert_eq!(&header[20..], PAYLOAD_A);

    b.send(PAYLOAD_B, None).await.expect("send from b");
    let (got, payload) = recv(&a).await;
    assert_eq!(payload, PAYLOAD_B);
    assert_eq!((got.src, got.dst, got.ttl, got.ifindex), (V4_B, IpAddr::V4(VRRP_GROUP_V4), 255, a.ifindex()));
    assert_quiet(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multicast_ipv6_exchange_reports_src_dst_hop_limit_and_skips_own_packets() {
    if !can_run("multicast_ipv6") {
        return;
    }
    let pair = Pair::new();
    let addresses_a = pair.a.enter(Addresses::new).expect("netlink in a");
    let addresses_b = pair.b.enter(Addresses::new).expect("netlink in b");
    let ll_a = link_local(&addresses_a, "va").await;
    let ll_b = link_local(&addresses_b, "vb").await;
    let a = open(&pair.a, SocketConfig { src: Some(IpAddr::V6(ll_a)), ..SocketConfig::multicast("va", Family::Ipv6) });
    let b = open(&pair.b, SocketConfig::multicast("vb", Family::Ipv6));

    a.send(PAYLOAD_A, None).await.expect("send from a");
    let (got, payload) = recv(&b).await;
    assert_eq!(payload, PAYLOAD_A);
    assert_eq!(
        (got.src, got.dst, got.ttl, got.ifindex),
        (IpAddr::V6(ll_a), IpAddr::V6(VRRP_GROUP_V6), 255, b.ifindex())
    );
    assert_quiet(&a).await;

    b.send(PAYLOAD_B, None).await.expect("send from b");
    let (got, payload) = recv(&a).await;
    assert_eq!(payload, PAYLOAD_B);
    assert_eq!(
        (got.src, got.dst, got.ttl, got.ifindex),
        (IpAddr::V6(ll_b), IpAddr::V6(VRRP_GROUP_V6), 255, a.ifindex())
    );
    assert_quiet(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_group_reaches_only_its_members() {
    if !can_run("configured_group") {
        return;
    }
    let pair = Pair::new();
    let group = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 100));
    let custom = |dev: &str| SocketConfig {
        mode: vigil_vrrp::io::Mode::Multicast { group },
        ..SocketConfig::multicast(dev, Family::Ipv4)
    };
    let a = open(&pair.a, custom("va"));
    let member = open(&pair.b, custom("vb"));
    let standard = open(&pair.b, SocketConfig::multicast("vb", Family::Ipv4));

    a.send(PAYLOAD_A, None).await.expect("send");
    let (got, payload) = recv(&member).await;
    assert_eq!((got.src, got.dst, payload.as_slice()), (V4_A, group, PAYLOAD_A));
    assert_quiet(&standard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicast_ipv4_sends_to_peers_and_to_an_explicit_destination() {
    if !can_run("unicast_ipv4") {
        return;
    }
    let pair = Pair::new();
    let a = open(&pair.a, SocketConfig::unicast("va", Family::Ipv4, Some(V4_A), vec![V4_B]));
    let b = open(&pair.b, SocketConfig::unicast("vb", Family::Ipv4, Some(V4_B), vec![V4_A]));

    a.send(PAYLOAD_A, None).await.expect("send to peers");
    let (got, payload) = recv(&b).await;
    assert_eq!((got.src, got.dst, got.ttl, payload.as_slice()), (V4_A, V4_B, 255, PAYLOAD_A));
    assert_quiet(&a).await;

    b.send(PAYLOAD_B, Some(V4_A)).await.expect("send to a");
    let (got, payload) = recv(&a).await;
    assert_eq!((got.src, got.dst, got.ttl, payload.as_slice()), (V4_B, V4_A, 255, PAYLOAD_B));

    // keepalived's unicast_ttl.
    let low = open(&pair.a, SocketConfig { ttl: 64, ..SocketConfig::unicast("va", Family::Ipv4, None, vec![V4_B]) });
    low.send(PAYLOAD_A, None).await.expect("send with TTL 64");
    let (got, _) = recv(&b).await;
    assert_eq!((got.src, got.ttl), (V4_A, 64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicast_ipv6_exchange() {
    if !can_run("unicast_ipv6") {
        return;
    }
    let pair = Pair::new();
    let a = open(&pair.a, SocketConfig::unicast("va", Family::Ipv6, Some(V6_A), vec![V6_B]));
    let b = open(&pair.b, SocketConfig::unicast("vb", Family::Ipv6, Some(V6_B), vec![V6_A]));

    a.send(PAYLOAD_A, None).await.expect("send from a");
    let (got, payload) = recv(&b).await;
    assert_eq!((got.src, got.dst, got.ttl, payload.as_slice()), (V6_A, V6_B, 255, PAYLOAD_A));
    assert_quiet(&a).await;

    b.send(PAYLOAD_B, None).await.expect("send from b");
    let (got, payload) = recv(&a).await;
    assert_eq!((got.src, got.dst, got.ttl, payload.as_slice()), (V6_B, V6_A, 255, PAYLOAD_B));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_errors_say_what_is_wrong() {
    if !can_run("open_errors") {
        return;
    }
    let netns = single();
    let missing = netns.enter(|| VrrpSocket::open(&SocketConfig::multicast("nosuch0", Family::Ipv4)));
    assert!(matches!(missing, Err(Error::NoSuchInterface { ref name }) if name == "nosuch0"), "{missing:?}");

    let foreign = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let unbound =
        netns.enter(|| VrrpSocket::open(&SocketConfig::unicast("va", Family::Ipv4, Some(foreign), vec![V4_B])));
    assert!(matches!(unbound, Err(Error::AddressNotAvailable { addr, .. }) if addr == foreign), "{unbound:?}");

    let mixed = netns.enter(|| VrrpSocket::open(&SocketConfig::unicast("va", Family::Ipv4, None, vec![V6_B])));
    assert!(matches!(mixed, Err(Error::FamilyMismatch { addr, family: Family::Ipv4 }) if addr == V6_B), "{mixed:?}");

    let frames = netns.enter(|| FrameSender::open("nosuch0"));
    assert!(matches!(frames, Err(Error::NoSuchInterface { .. })), "{frames:?}");

    let addresses = netns.enter(Addresses::new).expect("netlink");
    let link = addresses.link_by_name("nosuch0").await;
    assert!(matches!(link, Err(Error::NoSuchInterface { .. })), "{link:?}");
    let link = addresses.link_by_index(999_999).await;
    assert!(matches!(link, Err(Error::NoSuchIfindex { ifindex: 999_999 })), "{link:?}");
}

/// A multicast source held by another interface than the socket's is refused, unless it is
/// borrowed, as a vmac borrows its parent's address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_on_another_interface_opens_only_when_borrowed() {
    if !can_run("borrowed_src") {
        return;
    }
    let netns = single();
    let elsewhere = SocketConfig { src: Some(V4_A), ..SocketConfig::multicast("vb", Family::Ipv4) };
    let refused = netns.enter(|| VrrpSocket::open(&elsewhere));
    assert!(matches!(refused, Err(Error::Socket { .. })), "{refused:?}");
    let borrowed = SocketConfig { borrowed_src: true, ..elsewhere };
    let opened = netns.enter(|| VrrpSocket::open(&borrowed));
    assert!(opened.is_ok(), "{opened:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vips_are_added_listed_and_removed_with_distinct_outcomes() {
    if !can_run("vips") {
        return;
    }
    let netns = single();
    netns.ip(&["addr", "add", "10.0.0.9/24", "dev", "va"]);
    let addresses = netns.enter(Addresses::new).expect("netlink");
    let link = addresses.link_by_name("va").await.expect("va");
    let ip_link = netns.ip(&["link", "show", "dev", "va"]);
    let mac = link.mac.expect("veth has a MAC").to_string();
    assert!(ip_link.contains(&format!("link/ether {mac} ")), "{mac} not in {ip_link}");
    assert_eq!((link.name.as_str(), link.up, link.primary_ipv4), ("va", true, Some(Ipv4Addr::new(10, 0, 0, 1))));
    let ifindex = link.ifindex;

    let vip = Vip {
        label: Some("va:vip".to_owned()),
        brd: Some(Ipv4Addr::new(10, 0, 0, 255)),
        ..Vip::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)), 24)
    };
    assert_eq!(addresses.add(ifindex, &vip).await.expect("add"), AddOutcome::Added);
    let shown = netns.ip(&["-4", "addr", "show", "dev", "va"]);
    assert!(shown.contains("inet 10.0.0.100/24 brd 10.0.0.255 scope global secondary va:vip"), "{shown}");
    assert!(addresses.list(ifindex).await.expect("list").contains(&(vip.ip, 24)));
    assert_eq!(addresses.add(ifindex, &vip).await.expect("add again"), AddOutcome::AlreadyPresent);
    assert_eq!(addresses.remove(ifindex, vip.ip, 24).await.expect("remove"), RemoveOutcome::Removed);
    assert!(!addresses.list(ifindex).await.expect("list").contains(&(vip.ip, 24)));
    assert!(!netns.ip(&["addr", "show", "dev", "va"]).contains("10.0.0.100"));
    assert_eq!(addresses.remove(ifindex, vip.ip, 24).await.expect("remove again"), RemoveOutcome::Absent);

    let scoped = Vip { scope: AddressScope::Link, ..Vip::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 101)), 32) };
    assert_eq!(addresses.add(ifindex, &scoped).await.expect("add scoped"), AddOutcome::Added);
    let shown = netns.ip(&["-4", "addr", "show", "dev", "va"]);
    assert!(shown.contains("inet 10.0.0.101/32 scope link va"), "{shown}");

    let v6 = Vip {
        nodad: true,
        noprefixroute: true,
        ..Vip::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100)), 64)
    };
    assert_eq!(addresses.add(ifindex, &v6).await.expect("add v6"), AddOutcome::Added);
    let shown = netns.ip(&["-6", "addr", "show", "dev", "va"]);
    assert!(shown.contains("inet6 fd00::100/64 scope global nodad noprefixroute"), "{shown}");
    assert!(!netns.ip(&["-6", "route", "show", "dev", "va"]).contains("fd00::/64"));
    assert_eq!(addresses.add(ifindex, &v6).await.expect("add v6 again"), AddOutcome::AlreadyPresent);
    assert_eq!(addresses.remove(ifindex, v6.ip, 64).await.expect("remove v6"), RemoveOutcome::Removed);
    assert_eq!(addresses.remove(ifindex, v6.ip, 64).await.expect("remove v6 again"), RemoveOutcome::Absent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reports_address_and_link_changes() {
    if !can_run("monitor") {
        return;
    }
    let netns = single();
    let mut monitor = netns.block_on(Monitor::open()).expect("monitor");
    let addresses = netns.enter(Addresses::new).expect("netlink");
    let va = addresses.link_by_name("va").await.expect("va").ifindex;
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 50));

    netns.ip(&["addr", "add", "10.0.0.50/24", "dev", "va"]);
    let added = NetEvent::AddrAdded { ifindex: va, ip, prefix: 24 };
    expect_event(&mut monitor, |event| *event == added).await;
    netns.ip(&["addr", "del", "10.0.0.50/24", "dev", "va"]);
    let removed = NetEvent::AddrRemoved { ifindex: va, ip, prefix: 24 };
    expect_event(&mut monitor, |event| *event == removed).await;

    netns.ip(&["link", "set", "va", "down"]);
    expect_event(&mut monitor, |event| *event == NetEvent::LinkDown { ifindex: va }).await;
    netns.ip(&["link", "set", "va", "up"]);
    expect_event(&mut monitor, |event| *event == NetEvent::LinkUp { ifindex: va }).await;

    netns.ip(&["link", "add", "vc", "type", "veth", "peer", "name", "vd"]);
    let added =
        expect_event(&mut monitor, |event| matches!(event, NetEvent::LinkAdded { name, .. } if name == "vc")).await;
    let NetEvent::LinkAdded { ifindex: vc, up, .. } = added else { unreachable!() };
    assert!(!up, "a new veth is down");
    netns.ip(&["link", "del", "vc"]);
    expect_event(&mut monitor, |event| matches!(event, NetEvent::LinkRemoved { ifindex, .. } if *ifindex == vc)).await;
}

/// A gratuitous ARP for 10.0.0.100 from the VRRP virtual MAC of VRID 51, by hand.
fn garp_frame() -> Vec<u8> {
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 51];
    let vip = [10, 0, 0, 100];
    let mut frame = Vec::new();
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&vmac);
    frame.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
    frame.extend_from_slice(&vmac);
    frame.extend_from_slice(&vip);
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&vip);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_sender_puts_whole_frames_on_the_wire() {
    if !can_run("frame_sender") {
        return;
    }
    let pair = Pair::new();
    let sender = pair.a.enter(|| FrameSender::open("va")).expect("frame sender");
    let mut receiver = pair.b.enter(|| {
        let vb = pnet_datalink::interfaces().into_iter().find(|interface| interface.name == "vb").expect("vb");
        let config = pnet_datalink::Config {
            read_timeout: Some(Duration::from_millis(100)),
            promiscuous: false,
            ..pnet_datalink::Config::default()
        };
        match pnet_datalink::channel(&vb, config) {
            Ok(pnet_datalink::Channel::Ethernet(_, receiver)) => receiver,
            Ok(_) => panic!("vb is not Ethernet"),
            Err(err) => panic!("AF_PACKET on vb: {err}"),
        }
    });
    let frame = garp_frame();
    sender.send(&frame).await.expect("send frame");

    let expected = frame.clone();
    let seen = tokio::task::spawn_blocking(move || {
        // Up to 5 s of 100 ms reads; other traffic (IPv6 neighbour discovery, MLD) is skipped.
        (0..50).any(|_| receiver.next().is_ok_and(|got| got == expected.as_slice()))
    })
    .await
    .expect("receiver thread");
    assert!(seen, "the frame did not arrive on vb");
}
