//! The VRRP state machine of one `vrrp_instance`, pure (sans-IO).
//!
//! RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3) section 6, as keepalived runs them. An [`Instance`]
//! takes [`Input`]s and timer expiries with the current time and queues [`Action`]s; it never
//! opens a socket or reads a clock, so tests inject time exactly.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::time::{Duration, Instant};
//!
//! use vigil_vrrp::fsm::{Action, Config, Input, Instance, State, Version};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest needs some instant to start from
//! let start = Instant::now();
//! let mut config = Config::new(51, Version::V2, 100, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
//! config.vips = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
//! let mut vrrp = Instance::new(config)?;
//! vrrp.handle(start, Input::Startup);
//! assert_eq!(vrrp.state(), State::Backup);
//! // No Master heard: Master_Down_Interval = 3 * 1 s + (256 - 100) / 256 s.
//! let deadline = vrrp.poll_timeout().expect("the Master_Down_Timer runs");
//! assert_eq!(deadline - start, Duration::from_micros(3_609_375));
//! vrrp.handle_timeout(deadline);
//! assert_eq!(vrrp.state(), State::Master);
//! while let Some(action) = vrrp.poll_action() {
//!     if let Action::SendAdvert { priority } = action {
//!         assert_eq!(priority, 100);
//!     }
//! }
//! # Ok::<(), vigil_vrrp::fsm::Error>(())
//! ```
//!
//! # Where keepalived and the RFCs differ, and what this machine does
//!
//! * `state MASTER` does not make a non-owner Master at startup; it only disables `nopreempt`
//!   and `preempt_delay` ([`InitialState`]). The owner (priority 255) is Master at once unless
//!   told `state BACKUP`.
//! * A Master that hears a lower priority (or an equal one from a lower address) answers with
//!   an advert at once, resets its Adver_Timer and re-announces the VIPs
//!   (`garp_lower_prio_repeat`); the RFCs discard the advert. `lower_prio_no_advert` restores
//!   the RFC behaviour for the advert.
//! * `preempt_delay`: a Backup keeps accepting a lower-priority Master until the delay,
//!   counted from that Master's first advert, has passed; then it preempts as the RFC says.
//! * FAULT (interface or unweighted tracked item down) is not in the RFCs: a Master entering it
//!   resigns with a priority 0 advert when the link is up; leaving it restarts the protocol
//!   like the Startup event.
//! * Skew_Time is computed to the microsecond, as keepalived does, rather than truncated to
//!   the centisecond.
//! * Tracking weights change the effective priority (clamped to 1..=254, never for the owner);
//!   it takes effect in the next advert, without an extra one.
//! * Sync groups: members go down (Master to Backup, anything to Fault) on their own, and only
//!   ask ([`Action::GroupWants`]) to go up; the coordinator answers with
//!   [`Input::GroupForce`].
#![warn(missing_docs)]

mod config;
mod event;
mod instance;
mod timers;

pub use self::config::{
    Config, Error, InitialState, Version, DEFAULT_ADVERT_INT, DEFAULT_GARP_DELAY, DEFAULT_GARP_REFRESH_REPEAT,
    DEFAULT_GARP_REPEAT, OWNER_PRIORITY,
};
pub use self::event::{Action, Input, NotifyState, Reason, State, Stats, TrackerReport};
pub use self::instance::Instance;
pub use self::timers::Timer;

#[cfg(test)]
mod tests;
