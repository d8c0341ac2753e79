//! Golden cases: `tests/router/peers.jsonl`, one case a line: the instance's settings, then
//! adverts in order, each with our state and priority and the notes expected, then the
//! counters and checksum reading expected at the end.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::*;
use crate::receive::Accepted;
use crate::wire::{self, AdvertInterval, Auth};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    case: String,
    settings: GoldenSettings,
    steps: Vec<Step>,
    #[serde(default)]
    reconfigure: Option<GoldenSettings>,
    conflicts: u64,
    ours: String,
    #[serde(default)]
    heard: Vec<(IpAddr, u8)>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct GoldenSettings {
    primary: IpAddr,
    version: u8,
    #[serde(default)]
    ipv6: bool,
    advert_int_ms: u64,
    #[serde(default)]
    v3_checksum_as_v2: bool,
    #[serde(default)]
    old_unicast_checksum: Option<bool>,
}

impl GoldenSettings {
    fn settings(&self) -> Settings {
        Settings {
            primary: self.primary,
            version: if self.version == 3 { fsm::Version::V3 } else { fsm::Version::V2 },
            family: if self.ipv6 { Family::Ipv6 } else { Family::Ipv4 },
            advert_int: Duration::from_millis(self.advert_int_ms),
            v3_checksum_as_v2: self.v3_checksum_as_v2,
            old_unicast_checksum: self.old_unicast_checksum,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    src: IpAddr,
    priority: u8,
    adver_int: u16,
    #[serde(default = "yes")]
    addresses_match: bool,
    #[serde(default)]
    checksum: Option<String>,
    state: String,
    our_priority: u8,
    notes: Vec<String>,
}

fn yes() -> bool {
    true
}

fn checksum(name: &str) -> Checksum {
    match name {
        "pseudo-header" => Checksum::PseudoHeader,
        "v3_checksum_as_v2" => Checksum::AsV2,
        "old_unicast_checksum" => Checksum::OldUnicast,
        other => panic!("unknown checksum reading {other}"),
    }
}

fn state(name: &str) -> State {
    match name {
        "MASTER" => State::Master,
        "BACKUP" => State::Backup,
        "FAULT" => State::Fault,
        other => panic!("unknown state {other}"),
    }
}

/// A note as the golden file writes it.
fn show(n: &Note) -> String {
    match n {
        Note::AddressList { src, priority } => format!("address_list {src} {priority}"),
        Note::AdvertInterval { src, theirs, ours } => {
            format!("advert_int {src} {}ms ours {}ms", theirs.as_millis(), ours.as_millis())
        }
        Note::Checksum { src, theirs, ours } => format!("checksum {src} {} ours {}", theirs.name(), ours.name()),
        Note::OldUnicastAdopted => "old_unicast_adopted".into(),
        Note::LowerPriority { src, priority, ours } => format!("lower_priority {src} {priority} ours {ours}"),
    }
}

fn accepted(s: &Settings, step: &Step) -> Accepted {
    let reading = step.checksum.as_deref().map_or(Checksum::PseudoHeader, checksum);
    let v3 = s.version == fsm::Version::V3;
    Accepted {
        input: Input::Advert {
            src: step.src,
            priority: step.priority,
            adver_int: step.adver_int,
            addresses_match: step.addresses_match,
        },
        repr: VrrpRepr {
            version: if v3 { wire::Version::V3 } else { wire::Version::V2 },
            vrid: 51,
            priority: step.priority,
            advert_int: if v3 {
                AdvertInterval::from_centis(step.adver_int)
            } else {
                AdvertInterval::from_secs(u8::try_from(step.adver_int).expect("v2 intervals fit a byte"))
            },
            addresses: Vec::new(),
            auth: Auth::None,
            v3_checksum_as_v2: reading == Checksum::AsV2,
            old_unicast_checksum: reading == Checksum::OldUnicast,
        },
    }
}

#[test]
fn golden_peers_cases() {
    let cases = include_str!("../../../tests/router/peers.jsonl");
    let mut n = 0;
    for (line, json) in cases.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(json).unwrap_or_else(|e| panic!("peers.jsonl:{}: {e}", line + 1));
        let at = |k: usize| SystemTime::UNIX_EPOCH + Duration::from_secs(1_000 + u64::try_from(k).unwrap_or(0));
        let settings = case.settings.settings();
        let mut peers = Peers::new(settings.clone());
        for (k, step) in case.steps.iter().enumerate() {
            let notes: Vec<String> = peers
                .advert(at(k), step.src, &accepted(&settings, step), state(&step.state), step.our_priority)
                .iter()
                .map(show)
                .collect();
            assert_eq!(notes, step.notes, "peers.jsonl:{}: {}: step {}", line + 1, case.case, k + 1);
        }
        if let Some(r) = &case.reconfigure {
            peers.reconfigure(r.settings());
        }
        assert_eq!(peers.conflicts(), case.conflicts, "peers.jsonl:{}: {}: conflicts", line + 1, case.case);
        assert_eq!(peers.ours(), checksum(&case.ours), "peers.jsonl:{}: {}: our checksum", line + 1, case.case);
        if !case.heard.is_empty() {
            let heard: Vec<(IpAddr, u8)> = peers.heard().iter().map(|(ip, h)| (*ip, h.priority)).collect();
            assert_eq!(heard, case.heard, "peers.jsonl:{}: {}: heard", line + 1, case.case);
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} cases read");
}
