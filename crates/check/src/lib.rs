//! Health checkers that decide which real servers IPVS uses: keepalived's TCP_CHECK,
//! HTTP_GET/SSL_GET, MISC_CHECK, SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK and
//! BFD_CHECK.
//!
//! The crate is split the way the rest of Vigil is:
//! - [`plan`] (pure) turns a [`vigil_config::Config`] into a list of [`plan::CheckSpec`] with
//!   every setting resolved (checker, then real server, then virtual server, then keepalived's
//!   defaults);
//! - [`bfd`] (pure) says which BFD_CHECKs a new report of the BFD sessions changes;
//! - [`verdict`] (pure) is the per-checker state machine (retries, alpha, warmup, dynamic
//!   weights) and the per-real-server aggregation; it takes time and randomness as arguments;
//! - [`response`] and [`wire`] (pure) parse what servers answer (HTTP responses, DNS replies,
//!   SMTP replies, ICMP echo replies);
//! - [`probes`] are thin async functions that talk to servers, each under a hard deadline;
//! - [`runner`] is the I/O edge: one task schedules every check, runs probes concurrently,
//!   feeds results to the verdict core, sends [`HealthChange`]s and keeps a [`Status`] board;
//! - [`alert`] sends keepalived's SMTP alert mails.
//!
//! The daemon calls [`plan::plan`], reads the initial states from
//! [`verdict::initial_health`], then spawns [`runner::run`].

pub mod alert;
pub mod bfd;
pub mod messages;
pub mod plan;
pub mod probes;
pub mod response;
pub mod runner;
mod schedule;
pub mod status;
pub mod verdict;
pub mod wire;

pub use plan::{plan, same_servers, CheckId, Matches, Name, OldChecks, Plan, RsId};
pub use runner::{run, run_resumed, STARTS_PER_TURN};
pub use status::{Before, ServerState, Status};
pub use verdict::{carry_over, initial_health, resumed_health, Carried, HealthChange, Reason, ServerHealth};

/// Why a checker of the configuration is not run as written (see [`Plan::problems`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The checker connects somewhere but neither `connect_port` nor the real server gives a port.
    #[error("{kind} of real server {rs_name} has no port to connect to (set connect_port); checker ignored")]
    NoPort { rs: RsId, kind: &'static str, rs_name: String },
    /// HTTP_GET/SSL_GET without any `url` block.
    #[error("{kind} of real server {rs_name} has no url; checker ignored")]
    NoUrl { rs: RsId, kind: &'static str, rs_name: String },
    /// A `regex` that the regex engine does not accept.
    #[error("url {path} of real server {rs_name}: regex '{regex}' does not compile ({reason}); checker ignored")]
    BadRegex { rs: RsId, rs_name: String, path: String, regex: String, reason: String },
    /// An `http_protocol` other than 1.0, 1.0C and 1.1.
    #[error("{kind} of real server {rs_name}: http_protocol '{value}' is not 1.0, 1.0C or 1.1; using 1.0")]
    BadHttpProtocol { rs: RsId, kind: &'static str, rs_name: String, value: String },
    /// MISC_CHECK without `misc_path`.
    #[error("MISC_CHECK of real server {rs_name} has no misc_path; checker ignored")]
    NoScript { rs: RsId, rs_name: String },
    /// BFD_CHECK without a name, or naming no `bfd_instance` that reports to the checkers.
    #[error(
        "BFD_CHECK of real server {rs_name}: bfd_instance '{name}' is not configured for the checker; checker ignored"
    )]
    UnknownBfd { rs: RsId, rs_name: String, name: String },
    /// FILE_CHECK naming a `track_file` that is not defined, or that has no `file`.
    #[error("FILE_CHECK of real server {rs_name}: track_file '{name}' is not defined or has no file; checker ignored")]
    UnknownTrackFile { rs: RsId, rs_name: String, name: String },
    /// A file of the `SSL` block that cannot be used (`what`: certificate, key or CA); the
    /// wording is keepalived's, which then stops its checkers.
    #[error("SSL error : Cant load {what} file... ({path}: {reason})")]
    SslFile { what: &'static str, path: String, reason: String },
}
