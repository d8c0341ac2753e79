//! Every `bfd_instance` of a daemon, pure: received datagrams are demultiplexed to their
//! session (RFC 5880 6.8.6), the sessions' packets come out as datagrams to send, their state
//! changes as events, and a reload is applied in place where it can be.
//!
//! ```
//! use std::net::IpAddr;
//! use std::time::{Duration, Instant};
//!
//! use vigil_bfd::sessions::{Output, Peer, Sessions};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest needs some instant to start from
//! let now = Instant::now();
//! let mut sessions = Sessions::new(7);
//! let neighbor: IpAddr = "192.0.2.2".parse()?;
//! sessions.set(now, vec![Peer::new("peer", neighbor)]);
//! sessions.handle_timeout(now);
//! let Some(Output::Transmit { to, .. }) = sessions.poll_output() else { panic!("a packet") };
//! assert_eq!(to, neighbor);
//! # Ok::<(), std::net::AddrParseError>(())
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::fsm::{self, Action, Input, Jitter, Params, Rejected, Session, Stats, Transition};
use crate::wire::{self, Packet, Repr, State};

/// One `bfd_instance` as the daemon configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The instance's name, unique among the peers.
    pub name: String,
    /// `neighbor_ip`: where packets go, and whose packets this session takes.
    pub neighbor: IpAddr,
    /// `source_ip`: the address packets leave from, and the only one this session takes
    /// packets on; `None` leaves it to the routing table and takes any.
    pub source: Option<IpAddr>,
    /// The advertised timing.
    pub params: Params,
    /// `passive`.
    pub passive: bool,
    /// `ttl` / `hoplimit`.
    pub ttl: u8,
    /// `max_hops`; `None` checks no TTL.
    pub max_hops: Option<u8>,
}

impl Peer {
    /// keepalived's defaults for `neighbor`.
    pub fn new(name: &str, neighbor: IpAddr) -> Peer {
        Peer {
            name: name.to_string(),
            neighbor,
            source: None,
            params: Params::default(),
            passive: false,
            ttl: if neighbor.is_ipv4() { fsm::DEFAULT_TTL_IPV4 } else { fsm::DEFAULT_HOPLIMIT_IPV6 },
            max_hops: Some(0),
        }
    }

    /// Whether a reload can keep the running session: the same addresses and socket
    /// settings (only the timing may change, by a Poll Sequence).
    fn same_session(&self, other: &Peer) -> bool {
        (self.neighbor, self.source, self.passive, self.ttl, self.max_hops)
            == (other.neighbor, other.source, other.passive, other.ttl, other.max_hops)
    }
}

/// Why a received datagram reached no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    /// Not a valid Control packet (RFC 5880 6.8.6's checks that need no session).
    #[error("malformed: {0}")]
    Malformed(#[from] wire::Error),
    /// Your Discriminator names no session of ours.
    #[error("no session has discriminator {0:#010x}")]
    UnknownDiscriminator(u32),
    /// Your Discriminator is zero and no session is configured for this neighbour and local
    /// address.
    #[error("no bfd_instance for neighbor {from}")]
    UnknownNeighbor {
        /// The datagram's source address.
        from: IpAddr,
    },
    /// The session discarded it.
    #[error("{0}")]
    Session(fsm::Discard),
}

/// Something for the daemon to do, from [`Sessions::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `packet` to UDP port 3784 of `to`, from `from` when set, with this TTL or hop
    /// limit.
    Transmit {
        /// The session.
        name: String,
        /// The neighbour.
        to: IpAddr,
        /// The configured source address.
        from: Option<IpAddr>,
        /// The TTL or hop limit.
        ttl: u8,
        /// The Control packet, emitted.
        packet: Vec<u8>,
    },
    /// A session changed state.
    Changed {
        /// The session.
        name: String,
        /// The change.
        transition: Transition,
        /// When the change is the Detection Time running out: how long ago the neighbour's
        /// first missing packet was due.
        missed_for: Option<Duration>,
    },
    /// A line keepalived's BFD process logs, already worded.
    Log {
        /// The session.
        name: String,
        /// The line.
        line: String,
        /// Whether keepalived logs it as a warning.
        warning: bool,
    },
}

/// One session's state as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The instance's name.
    pub name: String,
    /// The neighbour.
    pub neighbor: IpAddr,
    /// The local state.
    pub state: State,
    /// The remote system's state as last heard.
    pub remote_state: State,
    /// bfd.LocalDiscr.
    pub local_discriminator: u32,
    /// bfd.RemoteDiscr (zero while not heard).
    pub remote_discriminator: u32,
    /// The interval packets are sent at now, in microseconds.
    pub tx_interval_us: u64,
    /// The Detection Time, in microseconds, when the remote system is heard.
    pub detection_time_us: Option<u64>,
    /// Counters.
    pub stats: Stats,
}

struct Entry {
    peer: Peer,
    session: Session,
}

/// Every session, keyed by name, with the discriminators they were given.
pub struct Sessions {
    entries: BTreeMap<String, Entry>,
    /// The generator of discriminators and jitter seeds; nothing drawn here needs to be secret.
    rng: fastrand::Rng,
    outputs: VecDeque<Output>,
}

impl Sessions {
    /// No sessions yet; `seed` draws the discriminators and the jitter (keepalived draws
    /// both at random: seed it from the clock in the daemon, fix it in tests).
    pub fn new(seed: u64) -> Sessions {
        Sessions { entries: BTreeMap::new(), rng: fastrand::Rng::with_seed(seed), outputs: VecDeque::new() }
    }

    /// A nonzero discriminator no session has.
    fn discriminator(&mut self) -> u32 {
        loop {
            let d = self.rng.u32(1..);
            if !self.entries.values().any(|e| e.session.local_discriminator() == d) {
                return d;
            }
        }
    }

    /// Makes the sessions those of `peers`: a new name starts a session in Down; a name gone
    /// stops its session (no event: the caller forgets what tracked it); a peer whose
    /// addresses or socket settings changed starts afresh; one whose timing alone changed
    /// keeps its session and state and carries the new timing by a Poll Sequence. Peers whose
    /// timing is invalid are left out and returned with the reason.
    pub fn set(&mut self, now: Instant, peers: Vec<Peer>) -> Vec<(String, fsm::Error)> {
        let mut refused = Vec::new();
        self.entries.retain(|name, _| peers.iter().any(|p| &p.name == name));
        for peer in peers {
            if let Some(entry) = self.entries.get_mut(&peer.name) {
                if entry.peer.same_session(&peer) {
                    if entry.peer.params != peer.params {
                        if let Err(Rejected::Params(e)) = entry.session.handle(now, Input::SetParams(peer.params)) {
                            refused.push((peer.name.clone(), e));
                            continue;
                        }
                    }
                    entry.peer = peer;
                    continue;
                }
                self.entries.remove(&peer.name);
            }
            let config = fsm::Config {
                local_discriminator: self.discriminator(),
                params: peer.params,
                passive: peer.passive,
                ttl: peer.ttl,
                max_hops: peer.max_hops,
                jitter: Jitter::Seeded(self.rng.u64(..)),
            };
            match Session::new(config, now) {
                Ok(session) => {
                    self.entries.insert(peer.name.clone(), Entry { peer, session });
                }
                Err(e) => refused.push((peer.name, e)),
            }
        }
        self.drain();
        refused
    }

    /// A datagram received at `now` from `from` on local address `to` (when the socket says),
    /// with its TTL or hop limit (when the socket says): demultiplexed by Your Discriminator,
    /// or while that is zero by the addresses (RFC 5880 6.8.6), and handed to its session.
    /// Returns the session's name.
    pub fn receive(
        &mut self,
        now: Instant,
        from: IpAddr,
        to: Option<IpAddr>,
        ttl: Option<u8>,
        datagram: &[u8],
    ) -> Result<String, Dropped> {
        let packet = Repr::parse(&Packet::new_checked(datagram)?)?;
        let name = if packet.your_discriminator != 0 {
            self.entries
                .iter()
                .find(|(_, e)| e.session.local_discriminator() == packet.your_discriminator)
                .map(|(n, _)| n.clone())
                .ok_or(Dropped::UnknownDiscriminator(packet.your_discriminator))?
        } else {
            self.entries
                .iter()
                .find(|(_, e)| {
                    e.peer.neighbor == from && (e.peer.source.is_none() || to.is_none() || e.peer.source == to)
                })
                .map(|(n, _)| n.clone())
                .ok_or(Dropped::UnknownNeighbor { from })?
        };
        let entry = self.entries.get_mut(&name).ok_or(Dropped::UnknownNeighbor { from })?;
        let result = entry.session.handle(now, Input::Received { packet, ttl });
        self.drain();
        match result {
            Ok(()) => Ok(name),
            Err(Rejected::Packet(d)) => Err(Dropped::Session(d)),
            // Only SetParams is refused for its parameters.
            Err(Rejected::Params(_)) => Ok(name),
        }
    }

    /// Fires every timer due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for entry in self.entries.values_mut() {
            if entry.session.poll_timeout().is_some_and(|t| t <= now) {
                // Timeouts are never refused.
                let _ = entry.session.handle(now, Input::Timeout);
            }
        }
        self.drain();
    }

    /// The earliest timer of any session.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries.values().filter_map(|e| e.session.poll_timeout()).min()
    }

    /// The next output, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The configuration of the session `name`.
    pub fn peer(&self, name: &str) -> Option<&Peer> {
        self.entries.get(name).map(|e| &e.peer)
    }

    /// The state of the session `name`.
    pub fn state(&self, name: &str) -> Option<State> {
        self.entries.get(name).map(|e| e.session.state())
    }

    /// Every session, by name.
    pub fn views(&self) -> Vec<View> {
        self.entries
            .iter()
            .map(|(name, e)| View {
                name: name.clone(),
                neighbor: e.peer.neighbor,
                state: e.session.state(),
                remote_state: e.session.remote_state(),
                local_discriminator: e.session.local_discriminator(),
                remote_discriminator: e.session.remote_discriminator(),
                tx_interval_us: u64::try_from(e.session.tx_interval().as_micros()).unwrap_or(u64::MAX),
                detection_time_us: e.session.detection_time().map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
                stats: e.session.stats(),
            })
            .collect()
    }

    /// Moves every session's actions to the output queue, as datagrams, events and lines.
    /// keepalived logs an expiry only when it takes an Up session down, and a state change
    /// only into Up or AdminDown, or from Up to Down.
    fn drain(&mut self) {
        for (name, entry) in &mut self.entries {
            let mut expired = None;
            let mut missed = None;
            while let Some(action) = entry.session.poll_action() {
                let line = action.log_line(name);
                match action {
                    Action::Send(repr) => {
                        // The session builds only packets the wire format can carry.
                        if let Ok(packet) = repr.to_bytes() {
                            self.outputs.push_back(Output::Transmit {
                                name: name.clone(),
                                to: entry.peer.neighbor,
                                from: entry.peer.source,
                                ttl: entry.peer.ttl,
                                packet,
                            });
                        }
                    }
                    Action::Expired { missed_for, .. } => {
                        expired = line;
                        missed = Some(missed_for);
                    }
                    Action::DetectionTimeChanged { .. } => {
                        if let Some(line) = line {
                            self.outputs.push_back(Output::Log { name: name.clone(), line, warning: false });
                        }
                    }
                    Action::StateChanged(transition) => {
                        if let Some(line) = expired.take().filter(|_| transition.from == State::Up) {
                            self.outputs.push_back(Output::Log { name: name.clone(), line, warning: true });
                        }
                        if let Some(line) = line.filter(|_| transition.logged_by_default()) {
                            let warning = transition.is_warning();
                            self.outputs.push_back(Output::Log { name: name.clone(), line, warning });
                        }
                        let missed_for = missed.take();
                        self.outputs.push_back(Output::Changed { name: name.clone(), transition, missed_for });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
