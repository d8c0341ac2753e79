//! What goes into a session and what comes out of it, and keepalived's log lines for it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::Params;
use crate::wire::{Diag, Repr, State};

/// An event for [`Session::handle`](super::Session::handle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// A Control packet for this session, parsed by [`Repr::parse`] (which applied the
    /// checks that need no session) and demultiplexed to it by Your Discriminator or, while
    /// that is zero, by its addresses (RFC 5880 6.8.6).
    Received {
        /// The packet.
        packet: Repr,
        /// The TTL or hop limit it arrived with; `None` when the socket did not say (then, as
        /// keepalived does, it is not checked).
        ttl: Option<u8>,
    },
    /// Fire every timer due by `now`: send the periodic packet, or declare the session down.
    Timeout,
    /// RFC 5880 6.8.16: disable the session administratively.
    AdminDown,
    /// RFC 5880 6.8.16: enable it again, in Down.
    AdminUp,
    /// New timing, as on a configuration reload: a Poll Sequence carries it to the remote
    /// system while the session is Up (RFC 5880 6.8.3).
    SetParams(Params),
}

/// Why a received packet was discarded by the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum Discard {
    /// RFC 5881 5 as keepalived extends it with `max_hops`: the TTL plus `max_hops` is below
    /// the configured TTL. keepalived's log: `Packet ttl(64) < 255 - discarding`.
    #[error("packet ttl({ttl}) < {min} - discarding")]
    Ttl {
        /// The TTL received.
        ttl: u8,
        /// The least TTL accepted.
        min: u8,
    },
    /// RFC 5880 6.8.6: Your Discriminator is neither zero nor ours.
    #[error("your discriminator {got:#010x} is not ours ({ours:#010x})")]
    WrongDiscriminator {
        /// Your Discriminator.
        got: u32,
        /// Our bfd.LocalDiscr.
        ours: u32,
    },
    /// RFC 5880 6.8.6: the A bit is set and the session uses no authentication (Vigil, like
    /// keepalived, supports none).
    #[error("auth bit is set, but no authentication is in use")]
    AuthNotInUse,
    /// RFC 5880 6.8.6: the session is AdminDown.
    #[error("session is in AdminDown state")]
    AdminDown,
}

/// A change of the session state, for the daemon to log and act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transition {
    /// The old state.
    pub from: State,
    /// The new state.
    pub to: State,
    /// bfd.LocalDiag after the change: why the session went down.
    pub diag: Diag,
    /// The remote system's state as last heard.
    pub remote_state: State,
    /// The remote system's last diagnostic.
    pub remote_diag: Diag,
}

impl Transition {
    /// Whether the session came Up or fell from Up: the two changes keepalived sends to the
    /// VRRP and checker processes. A fall is not reported when the remote system is AdminDown
    /// (RFC 5882 3.2: that is no connectivity failure), nor are Init and AdminDown.
    pub fn reported(&self) -> bool {
        match (self.from, self.to) {
            (_, State::Up) => true,
            (State::Up, State::Down) => self.remote_state != State::AdminDown,
            _ => false,
        }
    }

    /// Whether keepalived logs this change without `-D`: entering Up or AdminDown, and
    /// falling from Up to Down.
    pub fn logged_by_default(&self) -> bool {
        matches!((self.from, self.to), (_, State::Up) | (_, State::AdminDown) | (State::Up, State::Down))
    }

    /// Whether keepalived logs it as a warning (Down, AdminDown) rather than information.
    pub fn is_warning(&self) -> bool {
        matches!(self.to, State::Down | State::AdminDown)
    }

    /// keepalived's line for it, for the instance `name`: `(peer) Entering Up state`, or for
    /// Down `(peer) Entering Down state (Local diagnostic - Control Detection Time Expired,
    /// Remote diagnostic - No Diagnostic)`.
    pub fn log_line<'a>(&'a self, name: &'a str) -> impl fmt::Display + 'a {
        EnteringLine { name, transition: self }
    }
}

struct EnteringLine<'a> {
    name: &'a str,
    transition: &'a Transition,
}

impl fmt::Display for EnteringLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.transition;
        write!(f, "({}) Entering {} state", self.name, t.to)?;
        if t.to == State::Down {
            write!(f, " (Local diagnostic - {}, Remote diagnostic - {})", t.diag, t.remote_diag)?;
        }
        Ok(())
    }
}

/// Something for the I/O layer or the daemon to do, from
/// [`Session::poll_action`](super::Session::poll_action), in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Send this Control packet to the neighbour, UDP port 3784.
    Send(Repr),
    /// The session state changed.
    StateChanged(Transition),
    /// The Detection Time changed (RFC 5880 6.8.4); zero while the remote system is not
    /// heard. keepalived logs it: see [`Action::log_line`].
    DetectionTimeChanged {
        /// The old value, in microseconds.
        from_us: u64,
        /// The new value, in microseconds.
        to_us: u64,
    },
    /// The Detection Time passed without a packet (RFC 5880 6.8.4); a
    /// [`StateChanged`](Action::StateChanged) to Down follows when the session was Init or Up.
    Expired {
        /// Time since the last packet.
        silent_for: Duration,
        /// The Detection Time that ran out.
        detection_time: Duration,
        /// Time since the neighbour's first missing packet was due: `silent_for` less the
        /// interval it sends at (it sends again at most that long after a packet).
        missed_for: Duration,
    },
}

impl Action {
    /// keepalived's log line for the action of the instance `name`, if it has one:
    /// `(peer) Entering Up state`, `(peer) Expired after 30 ms (38 usec overdue)`,
    /// `       Detection time is 30000 us (was 3000000 us)` (indented past the name).
    pub fn log_line(&self, name: &str) -> Option<String> {
        match self {
            Action::Send(_) => None,
            Action::StateChanged(transition) => Some(transition.log_line(name).to_string()),
            Action::DetectionTimeChanged { from_us, to_us } => {
                Some(format!("{:width$} Detection time is {to_us} us (was {from_us} us)", "", width = name.len() + 2))
            }
            Action::Expired { silent_for, detection_time, .. } => {
                let overdue = silent_for.saturating_sub(*detection_time);
                Some(format!(
                    "({name}) Expired after {} ms ({} usec overdue)",
                    silent_for.as_millis(),
                    overdue.as_micros()
                ))
            }
        }
    }
}

/// Counters for the status and the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Packets handed in.
    pub received: u64,
    /// Packets discarded by the session (see [`Discard`]).
    pub discarded: u64,
    /// Packets asked to be sent, Finals included.
    pub sent: u64,
    /// Packets with the Final bit sent in answer to a Poll.
    pub finals_sent: u64,
    /// Poll Sequences started.
    pub polls_started: u64,
    /// Poll Sequences ended by a Final.
    pub polls_completed: u64,
    /// Times the session came Up.
    pub up: u64,
    /// Times the session fell from Up.
    pub down: u64,
    /// Detection Time expiries that took the session down.
    pub expired: u64,
    /// State changes.
    pub transitions: u64,
}
