//! What the IPVS owner needs of the kernel, as a trait: the netlink client in production,
//! a table in memory in tests.

use std::collections::BTreeSet;
use std::fmt::Display;

use vigil_ipvs::reconcile::{Table, TableService};
use vigil_ipvs::{Op, ServiceKey, Timeouts};

/// The kernel's IPVS table, read and written.
pub trait Kernel {
    type Error: Display;

    /// Hands `each` the services of `ours` that the kernel has, with their destinations, one
    /// at a time as they are read; the others' destinations are not read. A reading that fails
    /// part-way may have handed some services already.
    fn each(&mut self, ours: &BTreeSet<ServiceKey>, each: &mut dyn FnMut(TableService)) -> Result<(), Self::Error>;

    /// [`Kernel::each`] gathered into a table.
    fn table(&mut self, ours: &BTreeSet<ServiceKey>) -> Result<Table, Self::Error> {
        let mut table = Table::default();
        self.each(ours, &mut |s| {
            table.services.insert(s.service.key, s);
        })?;
        Ok(table)
    }
    /// Carries out `ops` in order; one result each.
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Self::Error>>;
    /// Empties the table.
    fn flush(&mut self) -> Result<(), Self::Error>;
    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), Self::Error>;
}

impl Kernel for vigil_ipvs::client::Client {
    type Error = vigil_ipvs::error::Error;

    fn each(&mut self, ours: &BTreeSet<ServiceKey>, each: &mut dyn FnMut(TableService)) -> Result<(), Self::Error> {
        // One service's listing at a time, each made a table entry at once: at 100,000
        // destinations the whole listing (counters and all) would be megabytes more at each
        // check of the table.
        self.each_of(
            |k| ours.contains(k),
            |s, dests| each(TableService { service: s.service, dests: dests.into_iter().map(|d| d.dest).collect() }),
        )
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Self::Error>> {
        vigil_ipvs::client::Client::apply(self, ops)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        vigil_ipvs::client::Client::flush(self)
    }

    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), Self::Error> {
        vigil_ipvs::client::Client::set_timeouts(self, timeouts)
    }
}

/// No IPVS in this kernel, while the health checks still drive the route announcements
/// (`crate::announce`): the table lives in memory, so the quorums, the status and the
/// announcements follow the checks as they would with IPVS, and nothing is programmed.
#[derive(Default)]
pub struct Detached {
    table: Table,
}

impl Kernel for Detached {
    type Error = std::convert::Infallible;

    fn each(&mut self, ours: &BTreeSet<ServiceKey>, each: &mut dyn FnMut(TableService)) -> Result<(), Self::Error> {
        self.table.copies_of(ours).for_each(each);
        Ok(())
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Self::Error>> {
        self.table.apply_all(ops);
        vec![Ok(()); ops.len()]
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.table = Table::default();
        Ok(())
    }

    fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), Self::Error> {
        Ok(())
    }
}
