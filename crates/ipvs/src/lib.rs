//! IPVS for Vigil: the kernel's table as data (`types`), the generic-netlink family and a
//! client to read and write it, and a pure reconciler that turns the configuration and the
//! real servers' health into the smallest set of changes to that table.

pub mod client;
pub mod display;
pub mod error;
pub mod family;
pub mod reconcile;
pub mod types;

pub use types::*;
