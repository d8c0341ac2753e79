use std::convert::Infallible;

use super::*;
use crate::events::{Events, Filter};
use vigil_ipvs::reconcile::TableService;

/// A kernel that is a table in memory, recording every write and which services each read
/// asked for.
#[derive(Default)]
struct Memory {
    table: Table,
    writes: Vec<Op>,
    reads: Vec<BTreeSet<ServiceKey>>,
    flushed: bool,
}

impl Kernel for &mut Memory {
    type Error = Infallible;

    fn each(&mut self, ours: &BTreeSet<ServiceKey>, each: &mut dyn FnMut(TableService)) -> Result<(), Infallible> {
        self.reads.push(ours.clone());
        self.table.copies_of(ours).for_each(each);
        Ok(())
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Infallible>> {
        ops.iter()
            .map(|op| {
                self.table.apply(op);
                self.writes.push(op.clone());
                Ok(())
            })
            .collect()
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        self.table = Table::default();
        self.flushed = true;
        Ok(())
    }

    fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), Infallible> {
        Ok(())
    }
}

const CONF: &str = "
virtual_server 10.0.0.3 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 { }
    real_server 10.0.1.2 80 { }
}
virtual_server 10.0.0.4 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.1.1 80 { }
}
";

fn config(text: &str) -> Arc<Config> {
    let parsed = vigil_config::parse_str("keepalived.conf", text, &vigil_config::Options::default(), None);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    Arc::new(parsed.config)
}

fn start<'a>(kernel: &'a mut Memory, text: &str) -> Lvs<&'a mut Memory> {
    start_with(kernel, text, Events::default())
}

fn start_with<'a>(kernel: &'a mut Memory, text: &str, events: Events) -> Lvs<&'a mut Memory> {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let _guard = rt.enter();
    let notifier = Notifier::spawn("lvs".into(), None, events);
    Lvs::start(kernel, config(text), Vec::new(), State::default(), notifier).unwrap_or_else(|e| match e {})
}

#[test]
fn a_restart_over_its_own_table_writes_nothing() {
    let mut kernel = Memory::default();
    drop(start(&mut kernel, CONF));
    assert_eq!(kernel.writes.len(), 5, "two services and three destinations");
    kernel.writes.clear();
    drop(start(&mut kernel, CONF));
    assert!(kernel.writes.is_empty(), "{:?}", kernel.writes);
}

#[test]
fn foreign_services_survive_start_and_stop() {
    let mut kernel = Memory::default();
    let foreign = vigil_ipvs::Service::new(
        ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Udp, addr: [10, 9, 9, 9].into(), port: 53 },
        "rr",
    );
    kernel.table.apply(&Op::AddService(foreign.clone()));
    let mut lvs = start(&mut kernel, CONF);
    assert!(!lvs.handle(Input::Stop { release: true }));
    drop(lvs);
    let keys: Vec<_> = kernel.table.services.keys().copied().collect();
    assert_eq!(keys, [foreign.key], "only ours left");
}

#[test]
fn lvs_flush_empties_the_table_first() {
    let mut kernel = Memory::default();
    kernel.table.apply(&Op::AddService(vigil_ipvs::Service::new(
        ServiceKey::Fwmark { family: vigil_ipvs::Family::Inet, mark: 1 },
        "rr",
    )));
    drop(start(&mut kernel, &format!("global_defs {{\n lvs_flush\n}}\n{CONF}")));
    assert!(kernel.flushed);
    assert_eq!(kernel.table.services.len(), 2);
}

#[test]
fn health_changes_write_only_their_destination() {
    let mut kernel = Memory::default();
    let mut lvs = start(&mut kernel, CONF);
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    lvs.handle(Input::Stop { release: false });
    drop(lvs);
    let tail: Vec<_> = kernel.writes[5..].to_vec();
    let key = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
    assert_eq!(tail, [Op::DelDest(key, DestKey { addr: [10, 0, 1, 2].into(), port: 80 })]);
    assert_eq!(kernel.table.services.len(), 2, "--dont-release-ipvs keeps the table");
}

/// A reload: the health the checkers carried over, and only the difference written.
fn reload(lvs: &mut Lvs<&mut Memory>, text: &str, health: Vec<(RsId, bool, Option<i32>)>) -> Applied {
    let (reply, mut applied) = oneshot::channel();
    assert!(lvs.handle(Input::Reload { config: config(text), health, reply }));
    applied.try_recv().expect("answered at once")
}

#[test]
fn a_reload_writes_only_what_changed() {
    let mut kernel = Memory::default();
    let mut lvs = start(&mut kernel, CONF);
    let vs3 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
    let vs4 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 4].into(), port: 80 };
    let rs2 = DestKey { addr: [10, 0, 1, 2].into(), port: 80 };
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    let down = |vs, rs| (RsId { vs, rs }, false, None);

    // The same file (or one whose lines only moved): nothing to write; the down server stays out.
    let same = reload(&mut lvs, &format!("# moved\n{CONF}"), vec![down(0, 1)]);
    assert_eq!(same.writes, 0);

    // One weight changed on a server that is up: one write.
    let weighted = CONF.replacen("real_server 10.0.1.1 80 { }", "real_server 10.0.1.1 80 { weight 5 }", 1);
    let one = reload(&mut lvs, &weighted, vec![down(0, 1)]);
    assert_eq!((one.writes, one.failed), (1, 0));

    // The second virtual server removed, the down server back up in the new file's health.
    let first_only = weighted.split("virtual_server 10.0.0.4").next().unwrap_or_default().to_string();
    let gone = reload(&mut lvs, &first_only, vec![]);
    assert_eq!(gone.writes, 2, "the service removed and the server that is up again added");
    assert!(!lvs.handle(Input::Stop { release: false }));
    drop(lvs);
    let n = kernel.writes.len();
    let last: Vec<_> = kernel.writes[n - 3..].to_vec();
    assert!(matches!(&last[0], Op::EditDest(k, d) if *k == vs3 && d.weight == 5), "{last:?}");
    assert!(last.contains(&Op::DelService(vs4)), "{last:?}");
    assert!(last.iter().any(|op| matches!(op, Op::AddDest(k, d) if *k == vs3 && d.key == rs2)), "{last:?}");
    assert_eq!(kernel.table.services.len(), 1);
}

/// keepalived #1018, #1757: someone flushes the table or edits a weight by hand; the next
/// audit puts our services back as they should be, and leaves the others alone.
#[test]
fn an_audit_undoes_changes_made_behind_our_back() {
    let mut kernel = Memory::default();
    let mut lvs = start(&mut kernel, CONF);
    lvs.handle(Input::Audit { reply: oneshot::channel().0 });
    assert_eq!(lvs.repairs, 0, "nothing changed");
    let vs3 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
    let vs4 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 4].into(), port: 80 };
    let rs1 = DestKey { addr: [10, 0, 1, 1].into(), port: 80 };
    let foreign = vigil_ipvs::Service::new(
        ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Udp, addr: [10, 9, 9, 9].into(), port: 53 },
        "rr",
    );
    // What `ipvsadm -e ... -w 9`, `ipvsadm -D -t 10.0.0.4:80` and `ipvsadm -A -u 10.9.9.9:53` do.
    let edited = {
        let table = &mut lvs.kernel.table;
        let mut d = table.services[&vs3].dests[&rs1].clone();
        d.weight = 9;
        table.apply(&Op::EditDest(vs3, d));
        table.apply(&Op::DelService(vs4));
        table.apply(&Op::AddService(foreign.clone()));
        table.clone()
    };
    assert_ne!(edited, Table::default());
    lvs.handle(Input::Audit { reply: oneshot::channel().0 });
    assert_eq!(lvs.repairs, 3, "the weight back, the service and its destination added again");
    assert_eq!(lvs.kernel.table.services[&vs3].dests[&rs1].weight, 1);
    assert!(lvs.kernel.table.services.contains_key(&vs4));
    assert!(lvs.kernel.table.services.contains_key(&foreign.key), "not ours: left alone");
    lvs.handle(Input::Audit { reply: oneshot::channel().0 });
    assert_eq!(lvs.repairs, 3, "nothing more to repair");
    let mut ours_in_kernel = lvs.kernel.table.clone();
    ours_in_kernel.services.remove(&foreign.key);
    assert_eq!(lvs.mirror, ours_in_kernel, "the mirror is the kernel's table of our services, read in place");
    let ours = BTreeSet::from([vs3, vs4]);
    assert!(lvs.kernel.reads.iter().all(|read| *read == ours), "only our services are read: {:?}", lvs.kernel.reads);
}

/// A service added to the file that the kernel already has (left by an earlier vigild, or
/// made by hand) is adopted on reload: only what differs is written, and only the new
/// service is read.
#[test]
fn a_reload_adopts_a_new_service_the_kernel_has() {
    let mut kernel = Memory::default();
    let first_only = CONF.split("virtual_server 10.0.0.4").next().unwrap_or_default().to_string();
    let vs4 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 4].into(), port: 80 };
    let rs1 = DestKey { addr: [10, 0, 1, 1].into(), port: 80 };
    let existing = vigil_ipvs::Service::new(vs4, "rr");
    kernel.table.apply(&Op::AddService(existing));
    kernel.table.apply(&Op::AddDest(vs4, Dest::new(rs1, vigil_ipvs::Forwarding::Masq, 7)));
    let mut lvs = start(&mut kernel, &first_only);
    lvs.kernel.reads.clear();
    let writes_before = lvs.kernel.writes.len();
    let applied = reload(&mut lvs, CONF, vec![]);
    assert_eq!(lvs.kernel.reads, [BTreeSet::from([vs4])]);
    assert_eq!(applied.writes, 1, "only the weight: {:?}", &lvs.kernel.writes[writes_before..]);
    assert!(
        matches!(&lvs.kernel.writes[writes_before], Op::EditDest(k, d) if *k == vs4 && d.key == rs1 && d.weight == 1)
    );
}

/// Real-server and quorum transitions reach the event bus in the order they happened, named
/// as keepalived's notify FIFO names them; an unchanged verdict is no event.
#[test]
fn transitions_are_published_in_order() {
    let mut kernel = Memory::default();
    let events = Events::default();
    let (_, mut rx) = events.subscribe(Filter::Lvs, true);
    let conf = CONF.replacen("protocol TCP", "protocol TCP\n    quorum 2", 1);
    let mut lvs = start_with(&mut kernel, &conf, events);
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: true, weight: None });
    drop(lvs);
    let lines: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|e| format!("{} {}", e.seq, e.fifo_line().unwrap_or_default().trim()))
        .collect();
    assert_eq!(
        lines,
        [
            "1 RS [10.0.1.2]:tcp:80 [10.0.0.3]:tcp:80 DOWN",
            "2 VS [10.0.0.3]:tcp:80 DOWN",
            "3 RS [10.0.1.2]:tcp:80 [10.0.0.3]:tcp:80 UP",
            "4 VS [10.0.0.3]:tcp:80 UP",
        ]
    );
}

/// Starts on `kernel` with the entries kept in `store`, as vigild does.
fn start_kept<'a>(kernel: &'a mut Memory, text: &str, store: &crate::maintenance::Store) -> Lvs<&'a mut Memory> {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let _guard = rt.enter();
    let notifier = Notifier::spawn("lvs".into(), None, Events::default());
    Lvs::start(kernel, config(text), Vec::new(), store.snapshot(), notifier).unwrap_or_else(|e| match e {})
}

/// `vigilctl maintenance` and `vigilctl weight` through the store: the IPVS owner is told, a
/// reload of an edited file (the server moved in it) keeps the entries on the same server,
/// a restart over the table it left writes nothing, and clearing the entries gives the
/// configured weights back. Health changes of a server in maintenance write nothing.
#[test]
fn maintenance_and_overrides_survive_a_reload_and_a_restart() {
    use crate::maintenance::{Change, Mode, Store, Target};
    let dir = tempfile::Builder::new().prefix("vigil-lvs-maintenance-").tempdir().expect("a directory");
    let path = dir.path().join(crate::maintenance::FILE_NAME);
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000);
    let store = Store::open(path.clone(), now);
    let vs3 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
    let vs4 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 4].into(), port: 80 };
    let rs1 = DestKey { addr: [10, 0, 1, 1].into(), port: 80 };
    let rs2 = DestKey { addr: [10, 0, 1, 2].into(), port: 80 };
    let weight =
        |t: &Table, k: &ServiceKey, d: &DestKey| t.services.get(k).and_then(|s| s.dests.get(d)).map(|d| d.weight);

    let mut kernel = Memory::default();
    let mut lvs = start_kept(&mut kernel, CONF, &store);
    let vs: crate::maintenance::VsName = "10.0.0.3:80".parse().expect("a name");
    let on = Change::On {
        target: Target::RealServer { vs, rs: "10.0.1.2:80".parse().expect("an address") },
        mode: Mode::Quiescent,
        reason: Some("disk swap".into()),
        expires: None,
    };
    store.change(on, now).expect("applies");
    let w = Change::Weight {
        vs: "[10.0.0.4]:tcp:80".parse().expect("a name"),
        rs: "10.0.1.1:80".parse().expect("an address"),
        weight: Some(5),
        expires: None,
    };
    store.change(w, now).expect("applies");
    let before = lvs.kernel.writes.len();
    lvs.handle(Input::Runtime(store.snapshot()));
    assert_eq!(lvs.kernel.writes.len() - before, 2, "{:?}", &lvs.kernel.writes[before..]);
    assert_eq!(weight(&lvs.kernel.table, &vs3, &rs2), Some(0), "quiescent: weight 0, still there");
    assert_eq!(weight(&lvs.kernel.table, &vs4, &rs1), Some(5));

    // Its checks go on and are told, but they move nothing.
    let before = lvs.kernel.writes.len();
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: false, weight: None });
    lvs.handle(Input::Health { rs: RsId { vs: 0, rs: 1 }, up: true, weight: None });
    assert_eq!(lvs.kernel.writes.len(), before);

    // A reload where a server was added before it: it is the third now, and still quiescent.
    let edited =
        CONF.replacen("real_server 10.0.1.1 80 { }", "real_server 10.0.1.0 80 { }\n    real_server 10.0.1.1 80 { }", 1);
    let applied = reload(&mut lvs, &edited, vec![]);
    assert_eq!(applied.writes, 1, "only the new server: {:?}", &lvs.kernel.writes[before..]);
    assert_eq!(weight(&lvs.kernel.table, &vs3, &rs2), Some(0));
    assert_eq!(weight(&lvs.kernel.table, &vs4, &rs1), Some(5));
    assert!(!lvs.handle(Input::Stop { release: false }));
    drop(lvs);

    // A restart: the entries come back from the file, and the table left is already right.
    let store = Store::open(path, now);
    let before = kernel.writes.len();
    let mut lvs = start_kept(&mut kernel, &edited, &store);
    assert_eq!(lvs.kernel.writes.len(), before, "{:?}", &lvs.kernel.writes[before..]);

    // Remove mode takes it out; off gives back the configured weights.
    let vs: crate::maintenance::VsName = "10.0.0.3:80".parse().expect("a name");
    let target = Target::RealServer { vs, rs: "10.0.1.2:80".parse().expect("an address") };
    let remove = Change::On { target: target.clone(), mode: Mode::Remove, reason: None, expires: None };
    store.change(remove, now).expect("applies");
    lvs.handle(Input::Runtime(store.snapshot()));
    assert_eq!(weight(&lvs.kernel.table, &vs3, &rs2), None, "removed");
    store.change(Change::Off { target }, now).expect("applies");
    let clear = Change::Weight {
        vs: "10.0.0.4:80".parse().expect("a name"),
        rs: "10.0.1.1:80".parse().expect("an address"),
        weight: None,
        expires: None,
    };
    store.change(clear, now).expect("applies");
    lvs.handle(Input::Runtime(store.snapshot()));
    assert_eq!(weight(&lvs.kernel.table, &vs3, &rs2), Some(1));
    assert_eq!(weight(&lvs.kernel.table, &vs4, &rs1), Some(1));
    drop(lvs);
    dir.close().expect("cleaned up");
}

/// A virtual server in maintenance counts as down for its quorum: the quorum is lost (VS
/// DOWN on the bus), the sorry server comes in, and it all goes back when it ends.
#[test]
fn maintenance_of_a_virtual_server_loses_its_quorum_and_brings_the_sorry_server() {
    use crate::maintenance::{Change, Mode, State, Target};
    let conf = CONF.replacen("protocol TCP", "protocol TCP\n    quorum 1\n    sorry_server 10.0.9.9 80", 1);
    let mut kernel = Memory::default();
    let events = Events::default();
    let (_, mut rx) = events.subscribe(Filter::Lvs, true);
    let mut lvs = start_with(&mut kernel, &conf, events);
    let vs3 = ServiceKey::Addr { protocol: vigil_ipvs::Protocol::Tcp, addr: [10, 0, 0, 3].into(), port: 80 };
    let mut state = State::default();
    let target = Target::VirtualServer { vs: "10.0.0.3:80".parse().expect("a name") };
    state
        .apply(Change::On { target: target.clone(), mode: Mode::Quiescent, reason: None, expires: None }, 1.0)
        .expect("applies");
    lvs.handle(Input::Runtime(state.clone()));
    let dests = |lvs: &Lvs<&mut Memory>| -> Vec<(u8, i32)> {
        lvs.kernel.table.services[&vs3]
            .dests
            .values()
            .map(|d| match d.key.addr {
                std::net::IpAddr::V4(a) => (a.octets()[3], d.weight),
                std::net::IpAddr::V6(_) => (0, d.weight),
            })
            .collect()
    };
    assert_eq!(dests(&lvs), [(1, 0), (2, 0), (9, 1)], "both quiescent, the sorry server in");
    state.apply(Change::Off { target }, 2.0).expect("applies");
    lvs.handle(Input::Runtime(state));
    assert_eq!(dests(&lvs), [(1, 1), (2, 1)]);
    drop(lvs);
    let lines: Vec<String> =
        std::iter::from_fn(|| rx.try_recv().ok()).filter_map(|e| e.fifo_line()).map(|l| l.trim().to_string()).collect();
    assert_eq!(lines, ["VS [10.0.0.3]:tcp:80 DOWN", "VS [10.0.0.3]:tcp:80 UP"]);
}

#[test]
fn a_start_writes_a_large_table_in_parts_with_the_ops_of_one_diff() {
    // Three parts and a bit; the kernel already has some of them, one with a wrong weight
    // and a destination too many.
    let services = START_PART * 3 + 7;
    let mut text = String::new();
    for i in 0..services {
        let (a, b) = (i / 250, i % 250 + 1);
        text += &format!(
            "virtual_server 10.10.{a}.{b} 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 10.20.{a}.{b} 80 {{ weight 2 }}\n real_server 10.21.{a}.{b} 80 {{ }}\n}}\n"
        );
    }
    let config = config(&text);
    let (pools, _) = Pools::from_config(&config);
    let desired = pools.desired();
    let mut kernel = Memory::default();
    for (k, s) in desired.services.iter().step_by(5) {
        kernel.table.services.insert(*k, s.clone());
    }
    let edited = desired.services.keys().nth(300).copied().expect("a service");
    let have = kernel.table.services.get_mut(&edited).expect("taken above");
    let mut first = have.dests.values().next().cloned().expect("a destination");
    first.weight = 9;
    have.dests.insert(first.clone());
    first.key.port = 81;
    have.dests.insert(first);
    let before = kernel.table.clone();
    let managed = pools.keys();
    let want = pools.diff_from(&before, &managed);
    drop(start(&mut kernel, &text));
    assert_eq!(kernel.writes, want, "the same ops, in the same order");
    assert_eq!(kernel.table, desired);
}
