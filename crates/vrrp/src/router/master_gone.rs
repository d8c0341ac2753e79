//! Fast failover (Vigil's `master_down_bfd`): whether a Backup takes over at once when the
//! BFD session to the Master falls, instead of after Master_Down_Interval.
//!
//! BFD says only that nothing came from the neighbour for a Detection Time. A Backup acts on
//! it when all of these hold, and otherwise leaves the Master_Down_Timer to decide:
//!
//! * it is a Backup (a Master has no Master to lose, an instance in FAULT cannot take over);
//! * the session's neighbour is the router whose adverts it last heard: a session to another
//!   address says nothing about the Master;
//! * no advert came from that router after its first BFD packet went missing: adverts still
//!   arriving mean the Master lives and BFD's packets alone are lost (a filter on UDP 3784, a
//!   congested link), and taking over would make two MASTERs. An advert between its last BFD
//!   packet and the next one due says nothing: a Master that dies just after an advert sent
//!   it there.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::fsm::State;

/// Why a fallen BFD session did not make the Backup take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Veto {
    /// The instance is not a Backup.
    #[error("the instance is {0}, not BACKUP")]
    NotBackup(State),
    /// The session's neighbour is not the router last heard as Master.
    #[error("{neighbor} is not the MASTER (last heard: {master})")]
    NotTheMaster {
        /// The BFD session's neighbour.
        neighbor: IpAddr,
        /// The last Master heard, if any.
        master: MasterSeen,
    },
    /// An advert came from the Master after its first BFD packet went missing.
    #[error(
        "an advert from {neighbor} came {ago:?} ago, after its first missing BFD packet was due {missed_for:?} ago"
    )]
    AdvertsStillArriving {
        /// The Master.
        neighbor: IpAddr,
        /// How long ago its last advert came.
        ago: Duration,
        /// How long ago its first missing BFD packet was due.
        missed_for: Duration,
    },
}

/// The Master as last heard, for [`Veto::NotTheMaster`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterSeen(pub Option<IpAddr>);

impl std::fmt::Display for MasterSeen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("none"),
        }
    }
}

/// Whether a Backup in `state`, which last heard an advert from `master` at `last_advert`,
/// takes over at `now` because the BFD session to `neighbor` fell, the neighbour's first missing
/// packet due at `missing_since`.
pub fn decide(
    state: State,
    master: Option<IpAddr>,
    last_advert: Option<Instant>,
    neighbor: IpAddr,
    now: Instant,
    missing_since: Instant,
) -> Result<(), Veto> {
    if state != State::Backup {
        return Err(Veto::NotBackup(state));
    }
    if master != Some(neighbor) {
        return Err(Veto::NotTheMaster { neighbor, master: MasterSeen(master) });
    }
    if let Some(at) = last_advert.filter(|&at| at > missing_since) {
        let (ago, missed_for) = (now.saturating_duration_since(at), now.saturating_duration_since(missing_since));
        return Err(Veto::AdvertsStillArriving { neighbor, ago, missed_for });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn a_backup_takes_over_only_from_a_silent_master() {
        #[allow(clippy::disallowed_methods)] // an origin for the virtual clock
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let master = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let other = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3));
        let now = t0 + ms(1_000);
        // BFD silent for 30 ms at 10 ms intervals: the Master's first missing packet was due
        // 20 ms ago.
        let missed = now - ms(20);
        // The Master's last advert 600 ms ago: the Master died since.
        assert_eq!(decide(State::Backup, Some(master), Some(t0 + ms(400)), master, now, missed), Ok(()));
        // Never heard an advert time (a reload forgot it) but known as Master: take over.
        assert_eq!(decide(State::Backup, Some(master), None, master, now, missed), Ok(()));
        // An advert 25 ms ago, after the Master's last BFD packet but before the next one was
        // due: a Master that died just after sending it. Take over.
        assert_eq!(decide(State::Backup, Some(master), Some(t0 + ms(975)), master, now, missed), Ok(()));
        // An advert 10 ms ago, after a BFD packet went missing: the Master lives.
        assert_eq!(
            decide(State::Backup, Some(master), Some(t0 + ms(990)), master, now, missed),
            Err(Veto::AdvertsStillArriving { neighbor: master, ago: ms(10), missed_for: ms(20) })
        );
        // A session to a router that is not the Master.
        assert_eq!(
            decide(State::Backup, Some(master), Some(t0), other, now, missed),
            Err(Veto::NotTheMaster { neighbor: other, master: MasterSeen(Some(master)) })
        );
        assert_eq!(
            decide(State::Backup, None, None, master, now, missed),
            Err(Veto::NotTheMaster { neighbor: master, master: MasterSeen(None) })
        );
        for state in [State::Master, State::Fault, State::Initialize] {
            assert_eq!(decide(state, Some(master), None, master, now, missed), Err(Veto::NotBackup(state)));
        }
    }
}
