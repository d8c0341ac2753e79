//! What one instance learns from the adverts it accepts, beside the state machine's election:
//! who is heard and at which priority, how each VRRPv3 peer computes its checksum (and whether
//! to send keepalived's old unicast checksum because a peer does), adverts that say the two
//! ends are configured differently, and adverts heard while MASTER (two MASTERs: a split brain
//! healing, or a misconfiguration). Pure: the daemon logs the [`Note`]s in keepalived's words
//! and shows the rest in the status.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::fsm::{self, Input, State};
use crate::receive::Accepted;
use crate::wire::{Family, VrrpRepr};

/// How a VRRPv3 advert's checksum is computed (keepalived #2324).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Checksum {
    /// RFC 5798 5.2.8: with the pseudo-header of the real addresses.
    PseudoHeader,
    /// IPv4, the message alone (`v3_checksum_as_v2`).
    AsV2,
    /// Unicast, with the multicast group's pseudo-header (`old_unicast_checksum`, keepalived
    /// before 1.3.6).
    OldUnicast,
}

impl Checksum {
    /// How `repr` was summed, as the receive check found it.
    pub fn of(repr: &VrrpRepr) -> Checksum {
        if repr.v3_checksum_as_v2 {
            Checksum::AsV2
        } else if repr.old_unicast_checksum {
            Checksum::OldUnicast
        } else {
            Checksum::PseudoHeader
        }
    }

    /// The status document's name.
    pub fn name(self) -> &'static str {
        match self {
            Checksum::PseudoHeader => "pseudo-header",
            Checksum::AsV2 => "v3_checksum_as_v2",
            Checksum::OldUnicast => "old_unicast_checksum",
        }
    }

    /// How the log describes it.
    pub fn describe(self, family: Family) -> &'static str {
        match (self, family) {
            (Checksum::PseudoHeader, Family::Ipv4) => "with the IPv4 pseudo-header",
            (Checksum::PseudoHeader, Family::Ipv6) => "with the IPv6 pseudo-header",
            (Checksum::AsV2, _) => "without the IPv4 pseudo-header (v3_checksum_as_v2)",
            (Checksum::OldUnicast, _) => "with the multicast group's pseudo-header (old_unicast_checksum)",
        }
    }
}

/// The instance's settings that the notes depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Our own source address: our adverts looped back are not a peer's.
    pub primary: IpAddr,
    /// The instance's version: it gives the unit of the advert interval field.
    pub version: fsm::Version,
    /// IPv4 or IPv6.
    pub family: Family,
    /// Our advert interval.
    pub advert_int: Duration,
    /// `v3_checksum_as_v2` (IPv4 only).
    pub v3_checksum_as_v2: bool,
    /// `old_unicast_checksum`: `Some(true)` set, `Some(false)` `never`, `None` learned from a
    /// peer.
    pub old_unicast_checksum: Option<bool>,
}

/// Something worth telling about an accepted advert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Its address list differs from our VIPs (first time from this sender).
    AddressList { src: IpAddr, priority: u8 },
    /// Its advert interval differs from ours (first time from this sender).
    AdvertInterval { src: IpAddr, theirs: Duration, ours: Duration },
    /// The sender's checksum reading, when first seen or when it changed.
    Checksum { src: IpAddr, theirs: Checksum, ours: Checksum },
    /// A peer uses the old unicast checksum: from now on ours does too.
    OldUnicastAdopted,
    /// We are MASTER and a lower priority advertises: a new election is forced.
    LowerPriority { src: IpAddr, priority: u8, ours: u8 },
}

/// One heard router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// The priority it last advertised.
    pub priority: u8,
    /// When.
    pub at: SystemTime,
}

/// What an instance learned from its peers.
#[derive(Debug, Clone)]
pub struct Peers {
    settings: Settings,
    heard: BTreeMap<IpAddr, Heard>,
    checksums: BTreeMap<IpAddr, Checksum>,
    /// (sender, what) pairs already noted.
    noted: BTreeSet<(IpAddr, &'static str)>,
    old_unicast: bool,
    conflicts: u64,
}

impl Peers {
    /// Nothing heard yet.
    pub fn new(settings: Settings) -> Peers {
        let old_unicast = settings.old_unicast_checksum == Some(true);
        Peers {
            settings,
            heard: BTreeMap::new(),
            checksums: BTreeMap::new(),
            noted: BTreeSet::new(),
            old_unicast,
            conflicts: 0,
        }
    }

    /// New settings from a reload; what was heard stays. An old unicast checksum learned
    /// from a peer stays unless the file now says `never`, or it was only there because the
    /// old file set it.
    pub fn reconfigure(&mut self, settings: Settings) {
        self.old_unicast = match settings.old_unicast_checksum {
            Some(set) => set,
            None => self.old_unicast && self.settings.old_unicast_checksum != Some(true),
        };
        self.settings = settings;
    }

    /// Takes an advert accepted at `at` while we are in `state` with `priority`; returns what
    /// is worth telling.
    pub fn advert(
        &mut self,
        at: SystemTime,
        src: IpAddr,
        accepted: &Accepted,
        state: State,
        priority: u8,
    ) -> Vec<Note> {
        let mut notes = Vec::new();
        let Input::Advert { priority: theirs, adver_int, addresses_match, .. } = accepted.input else {
            return notes;
        };
        if src == self.settings.primary {
            return notes;
        }
        if !addresses_match && self.noted.insert((src, "address_list")) {
            notes.push(Note::AddressList { src, priority: theirs });
        }
        let interval = match self.settings.version {
            fsm::Version::V2 => Duration::from_secs(u64::from(adver_int)),
            fsm::Version::V3 => Duration::from_millis(u64::from(adver_int) * 10),
        };
        if interval != self.settings.advert_int && self.noted.insert((src, "advert_int")) {
            notes.push(Note::AdvertInterval { src, theirs: interval, ours: self.settings.advert_int });
        }
        if self.settings.version == fsm::Version::V3 {
            let reading = Checksum::of(&accepted.repr);
            if self.checksums.insert(src, reading) != Some(reading) {
                // keepalived: a unicast peer using the old checksum makes us send it too.
                if reading == Checksum::OldUnicast && !self.old_unicast && self.settings.old_unicast_checksum.is_none()
                {
                    self.old_unicast = true;
                    notes.push(Note::OldUnicastAdopted);
                }
                notes.push(Note::Checksum { src, theirs: reading, ours: self.ours() });
            }
        }
        self.heard.insert(src, Heard { priority: theirs, at });
        if state == State::Master && theirs > 0 {
            self.conflicts += 1;
            if theirs < priority {
                notes.push(Note::LowerPriority { src, priority: theirs, ours: priority });
            }
        }
        notes
    }

    /// The checksum we send.
    pub fn ours(&self) -> Checksum {
        if self.settings.v3_checksum_as_v2 && self.settings.family == Family::Ipv4 {
            Checksum::AsV2
        } else if self.old_unicast {
            Checksum::OldUnicast
        } else {
            Checksum::PseudoHeader
        }
    }

    /// Whether our unicast VRRPv3 adverts carry keepalived's old checksum.
    pub fn old_unicast_checksum(&self) -> bool {
        self.old_unicast
    }

    /// Every router heard.
    pub fn heard(&self) -> &BTreeMap<IpAddr, Heard> {
        &self.heard
    }

    /// The checksum reading of `src`, if heard in VRRPv3.
    pub fn checksum_of(&self, src: IpAddr) -> Option<Checksum> {
        self.checksums.get(&src).copied()
    }

    /// The router that last advertised a non-zero priority: the MASTER as far as we know.
    pub fn last_master(&self) -> Option<IpAddr> {
        self.heard.iter().filter(|(_, h)| h.priority > 0).max_by_key(|(_, h)| h.at).map(|(ip, _)| *ip)
    }

    /// Adverts of another router heard while we were MASTER: two MASTERs.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    /// Clears the counters (`STATS_CLEAR`).
    pub fn clear_stats(&mut self) {
        self.conflicts = 0;
    }
}

#[cfg(test)]
mod tests;
