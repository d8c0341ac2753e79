//! Reconcile, don't replay: the configuration and the real servers' health give a desired
//! table ([`Pools::desired`]); [`diff`] against what the kernel holds gives the smallest
//! list of writes.  The same code serves start-up (adopting what is already there, so a
//! restart cuts no connection), health changes and reloads.  Pure: no sockets, no clock.

mod dests;
mod pool;
mod table;

pub use dests::Dests;
pub use pool::{Member, Owner, Pool, Pools, QuorumEvent, RsId, Sorry};
pub use table::{diff, diff_service, Table, TableService};

#[cfg(test)]
mod tests;
