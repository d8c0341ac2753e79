//! BFD as Vigil speaks it: Bidirectional Forwarding Detection (RFC 5880) in asynchronous mode,
//! single hop over UDP (RFC 5881), with keepalived's `bfd_instance` semantics.
//!
//! * [`wire`]: the BFD Control packet as a zero-copy view and a plain representation, parse
//!   and emit, with the reception checks of RFC 5880 6.8.6 that need no session.
//! * [`fsm`]: one session's state machine, pure: received packets, timer expiries and
//!   administrative commands in; packets to send and state changes out. Time is an argument;
//!   nothing here opens a socket or reads a clock.
//!
//! Not here yet: the UDP sockets, the daemon wiring, `track_bfd` and `BFD_CHECK` (see
//! `docs/bfd.md`).

pub mod fsm;
pub mod sessions;
pub mod wire;
