//! VRRP as Vigil speaks it: version 2 (RFC 3768) and version 3 (RFC 5798), over IPv4 and IPv6.
//!
//! * [`wire`]: zero-copy packet views and plain representations (VRRP adverts, ARP, IPv6
//!   neighbour advertisements, checksums), parse and emit.
//! * [`fsm`]: the per-instance state machine, pure: inputs in (timers, adverts, link and
//!   tracker changes, shutdown), actions out (send an advert, add or remove VIPs, announce them,
//!   run notify scripts). Time is an argument; nothing here opens a socket or reads a clock.
//! * [`receive`]: receive validation, from a delivered message to a state machine input or a
//!   counted reason to drop it.
//! * [`io`]: the edges: raw IP protocol 112 sockets, gratuitous ARP and unsolicited neighbour
//!   advertisements on AF_PACKET, VIPs and link events over rtnetlink. Thin adapters that turn
//!   bytes and kernel events into typed inputs and decide nothing.
//! * [`plan`]: one instance resolved against the host, compared by value.
//! * [`router`]: decisions over a running instance's life, such as what a reload does to it.
//! * [`pacing`]: gratuitous ARPs and unsolicited NAs spaced on each interface.
//! * [`debounce`]: `interface_up_down_delays`, link changes held before the instances hear of
//!   them.
//! * [`vmac`]: keepalived's `use_vmac`: which macvlan interface an instance uses and how it is
//!   set up.

pub mod debounce;
pub mod fsm;
pub mod io;
pub mod pacing;
pub mod plan;
pub mod receive;
pub mod router;
pub mod vmac;
pub mod wire;
