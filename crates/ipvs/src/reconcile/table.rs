//! A whole IPVS table (or the part of it one virtual server owns) as sorted maps, and the
//! diff from one table to another as the smallest list of [`Op`]s.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Dests;
use crate::types::{Dest, Forwarding, Op, Service, ServiceKey};

/// A service with its destinations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableService {
    pub service: Service,
    pub dests: Dests,
}

impl TableService {
    pub fn new(service: Service) -> TableService {
        TableService { service, dests: Dests::new() }
    }
}

/// Services by key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub services: BTreeMap<ServiceKey, TableService>,
}

impl Table {
    /// Builds a table from a kernel listing: each service with its destinations.
    pub fn from_listing(listing: impl IntoIterator<Item = (Service, Vec<Dest>)>) -> Table {
        let services = listing
            .into_iter()
            .map(|(service, dests)| {
                let dests = dests.into_iter().collect();
                (service.key, TableService { service, dests })
            })
            .collect();
        Table { services }
    }

    /// Applies ops as the kernel would, for tests and for keeping a mirror of what was
    /// written without reading it back.  Ops the kernel would refuse are ignored.
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::AddService(s) | Op::EditService(s) => {
                let entry = self.services.entry(s.key).or_insert_with(|| TableService::new(s.clone()));
                entry.service = s.clone();
            }
            Op::DelService(key) => {
                self.services.remove(key);
            }
            Op::AddDest(key, d) | Op::EditDest(key, d) => {
                if let Some(s) = self.services.get_mut(key) {
                    s.dests.insert(d.clone());
                }
            }
            Op::DelDest(key, dk) => {
                if let Some(s) = self.services.get_mut(key) {
                    s.dests.remove(dk);
                }
            }
        }
    }

    /// A copy of each service of `keys` that the table has, in key order: what a table kept in
    /// memory in place of the kernel's hands out when it is read.
    pub fn copies_of<'a>(&'a self, keys: &'a BTreeSet<ServiceKey>) -> impl Iterator<Item = TableService> + 'a {
        self.services.iter().filter(|(k, _)| keys.contains(k)).map(|(_, s)| s.clone())
    }

    /// [`Table::apply`] of each op in turn, with each run of destinations removed from one
    /// service (as a diff writes them) taken out in one pass ([`Dests::remove_all`]).
    pub fn apply_all<'a>(&mut self, ops: impl IntoIterator<Item = &'a Op>) {
        let mut ops = ops.into_iter().peekable();
        let mut run: Vec<crate::types::DestKey> = Vec::new();
        while let Some(op) = ops.next() {
            let Op::DelDest(key, first) = op else {
                self.apply(op);
                continue;
            };
            run.clear();
            run.push(*first);
            while let Some(Op::DelDest(_, dk)) = ops.next_if(|next| matches!(next, Op::DelDest(k, _) if k == key)) {
                run.push(*dk);
            }
            if let Some(s) = self.services.get_mut(key) {
                s.dests.remove_all(&mut run);
            }
        }
    }
}

/// Whether two service settings are equal as the kernel compares them (it sets `HASHED`
/// itself, so a listed service carries it and a desired one does not).
fn same_settings(a: &Service, b: &Service) -> bool {
    a.scheduler == b.scheduler
        && a.flags.settable() == b.flags.settable()
        && a.timeout == b.timeout
        && a.netmask == b.netmask
        && a.pe_name == b.pe_name
}

/// Whether a listed destination `have` already is what `want` asks for.  The kernel
/// lists a destination on one of the director's own addresses as `Local` whatever
/// method it was given, so that one is taken as matching any method.
fn same_dest(have: &Dest, want: &Dest) -> bool {
    let forwarding = have.forwarding == want.forwarding || have.forwarding == Forwarding::Local;
    let tunnel = want.forwarding != Forwarding::Tunnel
        || (have.tunnel_type, have.tunnel_port, have.tunnel_flags)
            == (want.tunnel_type, want.tunnel_port, want.tunnel_flags);
    forwarding
        && tunnel
        && have.weight == want.weight
        && have.u_threshold == want.u_threshold
        && have.l_threshold == want.l_threshold
}

/// The ops that turn `current` into `desired` for one service (either side may be
/// absent), appended to `ops` in the order that keeps traffic flowing: a new or edited
/// destination is in place before an old one leaves.
pub fn diff_service(
    key: &ServiceKey,
    current: Option<&TableService>,
    desired: Option<&TableService>,
    ops: &mut Vec<Op>,
) {
    match (current, desired) {
        (None, None) => {}
        (Some(_), None) => ops.push(Op::DelService(*key)),
        (None, Some(want)) => {
            ops.push(Op::AddService(want.service.clone()));
            ops.extend(want.dests.values().map(|d| Op::AddDest(*key, d.clone())));
        }
        (Some(have), Some(want)) => {
            if !same_settings(&have.service, &want.service) {
                ops.push(Op::EditService(want.service.clone()));
            }
            for d in &want.dests {
                match have.dests.get(&d.key) {
                    None => ops.push(Op::AddDest(*key, d.clone())),
                    Some(h) if !same_dest(h, d) => ops.push(Op::EditDest(*key, d.clone())),
                    Some(_) => {}
                }
            }
            for dk in have.dests.keys().filter(|dk| !want.dests.contains_key(dk)) {
                ops.push(Op::DelDest(*key, *dk));
            }
        }
    }
}

/// The ops that turn `current` into `desired`.  A service in `current` but not in
/// `desired` is deleted only when it is in `managed` (services this configuration
/// owned before): vigild never touches what it did not configure.
pub fn diff(current: &Table, desired: &Table, managed: &BTreeSet<ServiceKey>) -> Vec<Op> {
    let mut ops = Vec::new();
    for (key, want) in &desired.services {
        diff_service(key, current.services.get(key), Some(want), &mut ops);
    }
    delete_unwanted(current, managed, |key| desired.services.contains_key(key), &mut ops);
    ops
}

/// Deletes the services of `current` in `managed` that are not `wanted`.
pub(super) fn delete_unwanted(
    current: &Table,
    managed: &BTreeSet<ServiceKey>,
    wanted: impl Fn(&ServiceKey) -> bool,
    ops: &mut Vec<Op>,
) {
    for (key, have) in &current.services {
        if !wanted(key) && managed.contains(key) {
            diff_service(key, Some(have), None, ops);
        }
    }
}
