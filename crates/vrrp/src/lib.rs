//! VRRP as Vigil speaks it: version 2 (RFC 3768) and version 3 (RFC 5798), over IPv4 and IPv6.
//!
//! * [`wire`]: zero-copy packet views and plain representations (VRRP adverts, ARP, IPv6
//!   neighbour advertisements, checksums), parse and emit.
//! * [`fsm`]: the per-instance state machine, pure: inputs in (timers, adverts, link and
//!   tracker changes, shutdown), actions out (send an advert, add or remove VIPs, announce them,
//!   run notify scripts). Time is an argument; nothing here opens a socket or reads a clock.

pub mod fsm;
pub mod wire;
