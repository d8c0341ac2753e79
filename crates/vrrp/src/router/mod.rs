//! The decisions above one instance's election: what a reload does to each running instance
//! ([`reload`]), what an instance learns from its peers' adverts ([`peers`]) and how the
//! members of a sync group move together ([`sync_group`]). Pure: plans, adverts and states
//! in, decisions and notes out.

pub mod peers;
pub mod reload;
pub mod sync_group;
