//! What one `vrrp_instance` needs from the configuration, with keepalived's defaults.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The priority of the address owner (RFC 5798 5.2.4): it starts as Master at once and its
/// priority is never changed by tracking.
pub const OWNER_PRIORITY: u8 = 255;

/// keepalived's `advert_int` default.
pub const DEFAULT_ADVERT_INT: Duration = Duration::from_secs(1);
/// keepalived's `vrrp_garp_master_delay` default.
pub const DEFAULT_GARP_DELAY: Duration = Duration::from_secs(5);
/// keepalived's `vrrp_garp_master_repeat` default.
pub const DEFAULT_GARP_REPEAT: u32 = 5;
/// keepalived's `vrrp_garp_master_refresh_repeat` default.
pub const DEFAULT_GARP_REFRESH_REPEAT: u32 = 1;

/// The VRRP version an instance speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// VRRPv2, RFC 3768: IPv4 only, advert interval in whole seconds.
    V2,
    /// VRRPv3, RFC 5798: IPv4 or IPv6, advert interval in centiseconds.
    V3,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V2 => "VRRPv2",
            Version::V3 => "VRRPv3",
        })
    }
}

/// keepalived's `state MASTER|BACKUP`.
///
/// It does not make a router Master by itself: only the address owner (priority 255) with
/// `state MASTER` (or no `state` at all) becomes Master at startup; everyone else starts as
/// Backup and waits Master_Down_Interval. What `state MASTER` does for a non-owner is disable
/// `nopreempt` and `preempt_delay`, as keepalived does ("nopreempt will not work with initial
/// state MASTER - clearing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InitialState {
    /// `state MASTER`.
    Master,
    /// `state BACKUP`.
    Backup,
}

/// Why a [`Config`] cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The VRID is 0; VRRP uses 1..=255.
    #[error("virtual_router_id {vrid} out of range 1..=255")]
    Vrid {
        /// The configured VRID.
        vrid: u8,
    },
    /// The priority is 0, which only a Master leaving the role may send.
    #[error("priority {priority} out of range 1..=255")]
    Priority {
        /// The configured priority.
        priority: u8,
    },
    /// The advert interval cannot be carried by the version's packet.
    #[error("advert_int {interval:?} is not valid for {version}: {expected}")]
    AdvertInterval {
        /// The instance's version.
        version: Version,
        /// The configured interval.
        interval: Duration,
        /// What the version accepts.
        expected: &'static str,
    },
}

/// The configuration of one VRRP instance, as the state machine needs it.
///
/// The configuration layer resolves keepalived's inheritance (global `vrrp_garp_*` defaults,
/// `garp_lower_prio_*` defaulting to `garp_master_*`, tracking weights zeroed in sync groups)
/// before filling this in; [`Config::new`] gives keepalived's defaults. In JSON, durations are
/// whole milliseconds in fields named `*_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `virtual_router_id`, 1..=255.
    pub vrid: u8,
    /// `version`.
    pub version: Version,
    /// `priority`, 1..=255; 255 means address owner.
    pub priority: u8,
    /// `advert_int`: whole seconds 1..=255 for v2, whole centiseconds 1..=4095 for v3.
    #[serde(rename = "advert_int_ms", with = "millis", default = "default_advert_int")]
    pub advert_int: Duration,
    /// `state`; `None` when not configured, which keepalived reads as MASTER for the address
    /// owner and BACKUP otherwise.
    #[serde(default)]
    pub initial_state: Option<InitialState>,
    /// `nopreempt`: a Backup accepts a lower-priority Master instead of taking over.
    #[serde(default)]
    pub nopreempt: bool,
    /// `preempt_delay`: how long a Backup keeps accepting a lower-priority Master, counted
    /// from the first advert it sees from one, before it preempts.
    #[serde(rename = "preempt_delay_ms", with = "millis", default)]
    pub preempt_delay: Duration,
    /// `accept` / `no_accept` (RFC 5798 Accept_Mode): whether a non-owner Master accepts
    /// packets addressed to the VIPs. keepalived defaults to accept unless `vrrp_strict`.
    #[serde(default = "yes")]
    pub accept: bool,
    /// The primary address adverts are sent from, compared with the sender's address when
    /// priorities are equal.
    pub primary_address: IpAddr,
    /// `virtual_ipaddress`: the VIPs the Master holds.
    #[serde(default)]
    pub vips: Vec<IpAddr>,
    /// `garp_master_delay`: when the second burst of gratuitous ARPs / unsolicited NAs is sent
    /// after becoming Master; zero sends no second burst.
    #[serde(rename = "garp_master_delay_ms", with = "millis", default = "default_garp_delay")]
    pub garp_master_delay: Duration,
    /// `garp_master_repeat`: messages per VIP in each burst after becoming Master.
    #[serde(default = "default_garp_repeat")]
    pub garp_master_repeat: u32,
    /// `garp_master_refresh`: period of refresh bursts while Master; zero disables them.
    #[serde(rename = "garp_master_refresh_ms", with = "millis", default)]
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat`: messages per VIP in each refresh burst.
    #[serde(default = "default_garp_refresh_repeat")]
    pub garp_master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: when the second burst is sent after a Master heard a
    /// lower-priority advert; zero sends no second burst.
    #[serde(rename = "garp_lower_prio_delay_ms", with = "millis", default = "default_garp_delay")]
    pub garp_lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: messages per VIP when a Master hears a lower-priority advert;
    /// zero sends none.
    #[serde(default = "default_garp_repeat")]
    pub garp_lower_prio_repeat: u32,
    /// `lower_prio_no_advert`: a Master that hears a lower-priority advert does not answer it
    /// with an advert of its own (RFC behaviour; keepalived answers by default).
    #[serde(default)]
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a Master that hears a higher-priority advert sends one last
    /// advert of its own before becoming Backup.
    #[serde(default)]
    pub higher_prio_send_advert: bool,
    /// The instance belongs to a `vrrp_sync_group`: moves up (Backup to Master, leaving Fault)
    /// are only requested with [`Action::GroupWants`](super::Action::GroupWants) and made when
    /// the group coordinator sends [`Input::GroupForce`](super::Input::GroupForce).
    #[serde(default)]
    pub sync_group: bool,
}

impl Config {
    /// A configuration with keepalived's defaults for everything but the identity of the
    /// instance.
    pub fn new(vrid: u8, version: Version, priority: u8, primary_address: IpAddr) -> Config {
        Config {
            vrid,
            version,
            priority,
            advert_int: DEFAULT_ADVERT_INT,
            initial_state: None,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            accept: true,
            primary_address,
            vips: Vec::new(),
            garp_master_delay: DEFAULT_GARP_DELAY,
            garp_master_repeat: DEFAULT_GARP_REPEAT,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: DEFAULT_GARP_REFRESH_REPEAT,
            garp_lower_prio_delay: DEFAULT_GARP_DELAY,
            garp_lower_prio_repeat: DEFAULT_GARP_REPEAT,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            sync_group: false,
        }
    }

    /// Checks what the state machine relies on: VRID and priority in range, an advert interval
    /// the version's packet can carry.
    pub fn validate(&self) -> Result<(), Error> {
        if self.vrid == 0 {
            return Err(Error::Vrid { vrid: self.vrid });
        }
        if self.priority == 0 {
            return Err(Error::Priority { priority: self.priority });
        }
        let (unit, max, expected) = match self.version {
            Version::V2 => (Duration::from_secs(1), 255, "whole seconds 1..=255"),
            Version::V3 => (Duration::from_millis(10), 4095, "whole centiseconds 1..=4095"),
        };
        let units = self.advert_int.as_nanos() / unit.as_nanos();
        if self.advert_int.as_nanos() % unit.as_nanos() != 0 || !(1..=max).contains(&units) {
            return Err(Error::AdvertInterval { version: self.version, interval: self.advert_int, expected });
        }
        Ok(())
    }

    /// Whether this router owns the VIPs (priority 255).
    pub fn is_owner(&self) -> bool {
        self.priority == OWNER_PRIORITY
    }

    /// Whether the instance becomes Master at once at startup: the address owner, unless told
    /// `state BACKUP` (keepalived then waits Master_Down_Interval like everyone else).
    pub fn starts_as_master(&self) -> bool {
        self.is_owner() && self.initial_state != Some(InitialState::Backup)
    }

    /// Whether a Backup preempts a lower-priority Master; `state MASTER` overrides `nopreempt`.
    pub fn preempts(&self) -> bool {
        !self.nopreempt || self.initial_state == Some(InitialState::Master)
    }

    /// The preemption delay in force; `state MASTER` clears it.
    pub fn effective_preempt_delay(&self) -> Duration {
        if self.initial_state == Some(InitialState::Master) {
            Duration::ZERO
        } else {
            self.preempt_delay
        }
    }

    /// Whether the Master accepts packets addressed to the VIPs: always for the owner
    /// (RFC 5798 6.4.3), otherwise as configured.
    pub fn accepts(&self) -> bool {
        self.accept || self.is_owner()
    }

    /// Converts an advert's interval field, in the version's unit, to a duration.
    pub(super) fn interval_from_wire(&self, field: u16) -> Duration {
        match self.version {
            Version::V2 => Duration::from_secs(u64::from(field)),
            Version::V3 => Duration::from_millis(10 * u64::from(field)),
        }
    }
}

fn default_advert_int() -> Duration {
    DEFAULT_ADVERT_INT
}

fn default_garp_delay() -> Duration {
    DEFAULT_GARP_DELAY
}

fn default_garp_repeat() -> u32 {
    DEFAULT_GARP_REPEAT
}

fn default_garp_refresh_repeat() -> u32 {
    DEFAULT_GARP_REFRESH_REPEAT
}

fn yes() -> bool {
    true
}

/// Durations as whole milliseconds, so golden files stay readable.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
