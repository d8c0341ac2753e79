//! What a session is made from: keepalived's `bfd_instance` settings, in the RFC's units.

use serde::{Deserialize, Serialize};

/// keepalived's `min_rx` default: 10 ms.
pub const DEFAULT_MIN_RX: u32 = 10_000;

/// keepalived's `min_tx` default: 10 ms.
pub const DEFAULT_MIN_TX: u32 = 10_000;

/// keepalived's `idle_tx` default and minimum: 1 s, RFC 5880 6.8.3's floor for the Desired
/// Min TX Interval while the session is not Up.
pub const DEFAULT_IDLE_TX: u32 = 1_000_000;

/// keepalived's `multiplier` default.
pub const DEFAULT_DETECT_MULT: u8 = 5;

/// The TTL keepalived sends with over IPv4 and, with `max_hops` 0, requires (RFC 5881 5).
pub const DEFAULT_TTL_IPV4: u8 = 255;

/// The hop limit keepalived sends with over IPv6 by default (its BFD_CONTROL_HOPLIMIT), where
/// RFC 5881 5 says 255; `hoplimit 255` restores the RFC's value.
pub const DEFAULT_HOPLIMIT_IPV6: u8 = 64;

/// RFC 5880 6.8.3: "When bfd.SessionState is not Up, the system MUST set
/// bfd.DesiredMinTxInterval to a value of not less than one second".
pub const MIN_IDLE_TX: u32 = 1_000_000;

/// Why a configuration cannot make a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// RFC 5880 6.8.1: bfd.LocalDiscr "MUST be nonzero".
    #[error("the local discriminator must be nonzero")]
    ZeroDiscriminator,
    /// RFC 5880 6.8.1: bfd.DetectMult "MUST be nonzero"; keepalived's `multiplier` is 1 to 255.
    #[error("the detection multiplier must be nonzero")]
    ZeroDetectMult,
    /// A `min_tx` or `min_rx` of zero; keepalived accepts 1 ms and more.
    #[error("{name} must be at least 1 us")]
    ZeroInterval {
        /// `min_tx` or `min_rx`.
        name: &'static str,
    },
    /// An `idle_tx` below 1 s (RFC 5880 6.8.3; keepalived's minimum is 1000 ms).
    #[error("idle_tx of {0} us is below 1 s")]
    IdleTxTooShort(u32),
}

/// The timing a session advertises; [`Input::SetParams`](super::Input::SetParams) changes it
/// while the session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Params {
    /// `min_tx`: bfd.DesiredMinTxInterval while the session is Up, in microseconds.
    pub desired_min_tx: u32,
    /// `min_rx`: bfd.RequiredMinRxInterval, in microseconds.
    pub required_min_rx: u32,
    /// `idle_tx`: bfd.DesiredMinTxInterval while the session is not Up, in microseconds; at
    /// least 1 s.
    pub idle_tx: u32,
    /// `multiplier`: bfd.DetectMult.
    pub detect_mult: u8,
}

impl Default for Params {
    /// keepalived's defaults.
    fn default() -> Params {
        Params {
            desired_min_tx: DEFAULT_MIN_TX,
            required_min_rx: DEFAULT_MIN_RX,
            idle_tx: DEFAULT_IDLE_TX,
            detect_mult: DEFAULT_DETECT_MULT,
        }
    }
}

impl Params {
    /// Checks the values against RFC 5880 and keepalived's ranges.
    pub fn validate(&self) -> Result<(), Error> {
        if self.detect_mult == 0 {
            return Err(Error::ZeroDetectMult);
        }
        if self.desired_min_tx == 0 {
            return Err(Error::ZeroInterval { name: "min_tx" });
        }
        if self.required_min_rx == 0 {
            return Err(Error::ZeroInterval { name: "min_rx" });
        }
        if self.idle_tx < MIN_IDLE_TX {
            return Err(Error::IdleTxTooShort(self.idle_tx));
        }
        Ok(())
    }
}

/// How the transmission interval is jittered (RFC 5880 6.8.7).
///
/// The RFC reduces each interval by a random 0 to 25 %, or by 10 to 25 % when bfd.DetectMult
/// is one. keepalived 2.2.7 always reduces by 10 to 25 %: its test reads
/// `if (local_detect_mult)` where the RFC says "equal to 1".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Jitter {
    /// A random reduction per packet, from a generator seeded with this value.
    Seeded(u64),
    /// The same reduction every time, in percent, clamped into the RFC's window: tests use it
    /// to know every deadline exactly.
    Fixed(u8),
}

/// One `bfd_instance`, as far as the protocol goes (addresses and sockets are the daemon's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// bfd.LocalDiscr: nonzero and unique among the system's sessions. The caller chooses it
    /// (keepalived draws it at random) and demultiplexes received packets by it.
    pub local_discriminator: u32,
    /// The advertised timing.
    pub params: Params,
    /// `passive`: send nothing until the remote system is heard (RFC 5880 6.1), and, as
    /// keepalived does, stop sending while the session is Down.
    pub passive: bool,
    /// `ttl` / `hoplimit`: what the sockets send with, and the base of the receive check.
    pub ttl: u8,
    /// `max_hops`: a packet is discarded when its TTL plus this is below [`Config::ttl`];
    /// `None` is keepalived's `max_hops -1`, no check. keepalived's default is 0: the TTL must
    /// be exactly [`Config::ttl`] (RFC 5881 5).
    pub max_hops: Option<u8>,
    /// How transmissions are jittered.
    pub jitter: Jitter,
}

impl Config {
    /// keepalived's defaults for an IPv4 neighbour, with `local_discriminator` and a seeded
    /// jitter.
    pub fn new(local_discriminator: u32, jitter_seed: u64) -> Config {
        Config {
            local_discriminator,
            params: Params::default(),
            passive: false,
            ttl: DEFAULT_TTL_IPV4,
            max_hops: Some(0),
            jitter: Jitter::Seeded(jitter_seed),
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), Error> {
        if self.local_discriminator == 0 {
            return Err(Error::ZeroDiscriminator);
        }
        self.params.validate()
    }
}
