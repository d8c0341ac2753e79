//! The BFD session state machine of one `bfd_instance`, pure (sans-IO).
//!
//! RFC 5880 section 6 in asynchronous mode, as keepalived runs it. A [`Session`] takes
//! [`Input`]s with the current time and queues [`Action`]s; it never opens a socket or reads a
//! clock, so tests inject time exactly.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use vigil_bfd::fsm::{Action, Config, Input, Jitter, Session};
//! use vigil_bfd::wire::State;
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest needs some instant to start from
//! let start = Instant::now();
//! let mut config = Config::new(0x0101_0101, 7);
//! config.jitter = Jitter::Fixed(0);
//! let mut session = Session::new(config, start)?;
//! // Not passive: the first packet is due at once, Down, with the idle interval of 1 s.
//! assert_eq!(session.poll_timeout(), Some(start));
//! session.handle(start, Input::Timeout).expect("timeouts are never refused");
//! let Some(Action::Send(packet)) = session.poll_action() else { panic!("a packet") };
//! assert_eq!((packet.state, packet.desired_min_tx, packet.your_discriminator), (State::Down, 1_000_000, 0));
//! assert_eq!(session.poll_timeout(), Some(start + Duration::from_secs(1)));
//! # Ok::<(), vigil_bfd::fsm::Error>(())
//! ```
//!
//! # Where keepalived and RFC 5880 differ, and what this machine does
//!
//! * `idle_tx`: while not Up the session advertises and sends at `idle_tx` (at least 1 s, RFC
//!   5880 6.8.3); coming Up it switches to `min_tx` with a Poll Sequence. Both agree.
//! * `passive`: no packet until the remote system is heard (RFC 5880 6.1), and, as keepalived,
//!   none while Down.
//! * keepalived draws a new local discriminator whenever a session leaves Up; here the caller
//!   owns the discriminator and it stays (RFC 5880 6.3 allows either).
//! * Jitter: keepalived always reduces the interval by 10 to 25 %; this machine follows the
//!   RFC, 0 to 25 %, and 10 to 25 % only with a Detect Mult of 1 ([`Jitter`]).
//! * A Poll received during our own Poll Sequence: keepalived answers with a Final and drops
//!   its Poll; this machine answers with a Final at once and keeps polling in the periodic
//!   packets until the remote system answers, so a lost Final cannot leave the remote system
//!   with the old timing while we use the new.
//! * Detection in Init: keepalived arms the timer on entering Init and does not re-arm it on
//!   packets until Up; this machine re-arms it on every packet in Init and Up (RFC 5880
//!   6.8.4).
//! * AdminDown: keepalived stops sending at once; this machine sends AdminDown at once and
//!   goes on for a Detection Time of the remote system (RFC 5880 6.8.16).
//! * Packets with a Diag above 8 and packets longer than their Length field: keepalived drops
//!   them, RFC 5880 does not, nor does this crate.
//! * Authentication: neither keepalived nor Vigil supports it; a packet with the A bit set is
//!   discarded (RFC 5880 6.8.6, no authentication in use).
//! * Demand mode and the Echo function are not implemented (neither are they in keepalived);
//!   a remote system's Demand mode is honoured (RFC 5880 6.8.7).
#![warn(missing_docs)]

mod config;
mod event;
mod session;

pub use self::config::{
    Config, Error, Jitter, Params, DEFAULT_DETECT_MULT, DEFAULT_HOPLIMIT_IPV6, DEFAULT_IDLE_TX, DEFAULT_MIN_RX,
    DEFAULT_MIN_TX, DEFAULT_TTL_IPV4, MIN_IDLE_TX,
};
pub use self::event::{Action, Discard, Input, Stats, Transition};
pub use self::session::{Rejected, Session, Timer};

#[cfg(test)]
mod tests;
