//! What goes into an instance and what comes out of it.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The state of an instance (RFC 5798 6.4, plus keepalived's FAULT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Not started, or shut down.
    Initialize,
    /// Watching the Master, ready to take over.
    Backup,
    /// Forwarding for the VIPs and advertising.
    Master,
    /// keepalived's FAULT: the interface or an unweighted tracked item is down; the instance
    /// neither advertises nor takes over.
    Fault,
}

impl fmt::Display for State {
    /// keepalived's spelling, as in `(VI_1) Entering MASTER STATE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// An event for [`Instance::handle`](super::Instance::handle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Input {
    /// RFC 5798 6.4.1 Startup event: leave Initialize.
    Startup,
    /// An advertisement for this instance's VRID, already checked by the I/O layer (version,
    /// type, checksum, TTL/hop limit 255, authentication).
    Advert {
        /// The sender's address (the IP source), compared with ours on equal priority.
        src: IpAddr,
        /// The advertised priority; 0 means the Master is leaving.
        priority: u8,
        /// The advert interval field, in the version's unit: seconds for v2, centiseconds for
        /// v3 (Max Adver Int).
        adver_int: u16,
        /// Whether the advert's address count and list match our VIPs (RFC 3768 7.1,
        /// RFC 5798 7.1).
        addresses_match: bool,
    },
    /// The instance's interface went down.
    LinkDown,
    /// The instance's interface came back up.
    LinkUp,
    /// A tracked item (interface, script, file, process, BFD) changed.
    ///
    /// `weight` 0 is an unweighted item: while it is down the instance is in FAULT. A positive
    /// weight is added to the priority while the item is up, a negative one while it is down.
    /// The sender maps keepalived's variants onto this: `reverse` flips `up` and negates
    /// `weight`; a `track_file` with weight 0 is unweighted, up while its value is 0; one with
    /// weight w and value v is `up: v * w >= 0, weight: v * w`, or unweighted and down when
    /// `v * w` is below -253.
    TrackerChange {
        /// The item, as numbered by the daemon.
        id: u32,
        /// Whether the item is up.
        up: bool,
        /// Its weight.
        weight: i32,
    },
    /// Every tracked item at once, as a reload left them: the items given replace all the
    /// instance tracked before (a reload added, removed or reweighted some), and the state
    /// follows from the new set in one step.
    TrackersReplaced {
        /// The items, each as [`Input::TrackerChange`] would report it.
        items: Vec<TrackerReport>,
    },
    /// The Master is known to be gone before the Master_Down_Timer says so: a BFD session to
    /// it fell (Vigil's `master_down_bfd`). A Backup acts as if the timer fired now; in any
    /// other state nothing happens. Whether the session's neighbour is the Master, and whether
    /// its adverts still arrive, is the router's to check before.
    MasterGone,
    /// The BFD session to the Master fell, but the Master advertised after its first BFD
    /// packet went missing (Vigil's `master_down_bfd`): it may live, or have died just after
    /// that advert.
    /// A Backup waits for its next advert only: the Master_Down_Timer, which runs three
    /// Master advert intervals plus Skew_Time from the last advert, is brought forward to one
    /// interval plus Skew_Time from it. The next advert sets it back as usual.
    MasterSuspect,
    /// RFC 5798 6.4.2/6.4.3 Shutdown event: back to Initialize, resigning if Master.
    Shutdown,
    /// A reload took the instance out of the configuration (or changed what it is: its VRID,
    /// interface or family): the Shutdown event, told to the notify scripts as keepalived
    /// tells it ([`NotifyState::Removed`]); nothing without `notify_deleted` when already in
    /// FAULT.
    Removed {
        /// The instance has `notify_deleted`.
        notify_deleted: bool,
    },
    /// The sync group coordinator moves this member to `state` (Backup, Master or Fault).
    GroupForce {
        /// The state to move to.
        state: State,
    },
}

/// One tracked item's state, as [`Input::TrackersReplaced`] carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerReport {
    /// The item, as numbered by the daemon.
    pub id: u32,
    /// Whether the item is up.
    pub up: bool,
    /// Its weight.
    pub weight: i32,
}

/// Why an instance changed state, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// The Startup event.
    Startup,
    /// The Master_Down_Timer expired: no advert from a Master (or ours preempts it).
    MasterDown,
    /// The BFD session to the Master fell ([`Input::MasterGone`]).
    MasterGone,
    /// A higher-priority advert, or an equal one from a higher address, reached the Master.
    HigherPriority,
    /// The interface went down.
    LinkDown,
    /// The interface came back up, ending FAULT.
    LinkUp,
    /// An unweighted tracked item went down.
    TrackerDown,
    /// A tracked item came back up, ending FAULT.
    TrackerUp,
    /// The Shutdown event.
    Shutdown,
    /// The sync group coordinator moved the instance.
    GroupForced,
}

/// What notify scripts and the notify FIFO are told (keepalived's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotifyState {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
    /// Removed by a reload: `DELETED` and the `notify_deleted` script with `notify_deleted`,
    /// else keepalived's older `FAULT`, told to the generic `notify` script only (keepalived
    /// looks the instance's own script up as DELETED's, and there is none).
    Removed {
        /// The instance has `notify_deleted`.
        deleted: bool,
    },
    /// FIFO only: the Master heard a lower-priority advert (another router took over during a
    /// communication break and may hold external state to restore).
    MasterRxLowerPri,
}

/// Something for the I/O layer or the daemon to do, from
/// [`Instance::poll_action`](super::Instance::poll_action), in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Action {
    /// Send an advertisement with this priority (0 when resigning).
    SendAdvert {
        /// The priority to advertise: the effective priority, or 0.
        priority: u8,
    },
    /// Configure the VIPs.
    AddVips {
        /// The addresses.
        vips: Vec<IpAddr>,
        /// Whether to accept packets addressed to them (false: keepalived's `no_accept`
        /// filter).
        accept: bool,
    },
    /// Remove the VIPs.
    RemoveVips {
        /// The addresses.
        vips: Vec<IpAddr>,
    },
    /// Send gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) for the VIPs.
    SendGarp {
        /// The addresses to announce.
        vips: Vec<IpAddr>,
        /// How many messages per address.
        repeat: u32,
    },
    /// Run notify scripts / write the notify FIFO.
    Notify {
        /// The state to report.
        state: NotifyState,
        /// The effective priority at the time.
        priority: u8,
    },
    /// The state changed; the daemon logs `(VI_1) Entering MASTER STATE`.
    StateChanged {
        /// The old state.
        from: State,
        /// The new state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// The effective priority changed; the daemon logs
    /// `(VI_1) Changing effective priority from 100 to 120`.
    PriorityChanged {
        /// The old priority.
        from: u8,
        /// The new priority.
        to: u8,
    },
    /// Sync group members only: the state this instance would move to on its own changed (see
    /// [`Instance::wanted_state`](super::Instance::wanted_state)).
    GroupWants {
        /// The wanted state.
        state: State,
    },
}

/// Counters, named after keepalived's `vrrp_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Adverts handed in while started.
    pub adverts_received: u64,
    /// Adverts asked for, priority 0 included.
    pub adverts_sent: u64,
    /// Times the instance became Master.
    pub became_master: u64,
    /// Times the instance stopped being Master.
    pub released_master: u64,
    /// Adverts with priority 0 received.
    pub priority_zero_received: u64,
    /// Adverts with priority 0 sent.
    pub priority_zero_sent: u64,
    /// Adverts dropped for their interval (v2: not ours; v3: zero).
    pub advert_interval_errors: u64,
    /// Adverts dropped because their addresses do not match ours and the sender is not the
    /// owner.
    pub address_list_errors: u64,
    /// State changes.
    pub transitions: u64,
}
