//! BFD_CHECK: which checks a new report of the BFD sessions changes.
//!
//! keepalived's BFD process tells the checkers when a session comes Up and when it falls from
//! Up; each BFD_CHECK of that session then takes the new state at once, unless it has run and
//! already has it (check_bfd.c). Vigil's BFD task publishes every session's state as last
//! reported ([`Sessions`]); a session it does not list has not come Up (or is gone) and is
//! down. The runner hands each report to [`BfdChecks::changes`] and the result to the verdict
//! core.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::plan::{CheckId, Plan, ProbeKind};

/// Each BFD session's state as the BFD task last reported it: `true` while Up.
pub type Sessions = Arc<BTreeMap<String, bool>>;

/// The BFD_CHECKs of a plan and the state each was last given.
#[derive(Clone, Debug, Default)]
pub struct BfdChecks {
    /// A check, its session, and the state it was last given (`None`: none yet).
    checks: Vec<(CheckId, String, Option<bool>)>,
}

impl BfdChecks {
    pub fn new(plan: &Plan) -> BfdChecks {
        let checks = plan
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match &c.kind {
                ProbeKind::Bfd(name) => Some((CheckId(i), name.clone(), None)),
                _ => None,
            })
            .collect();
        BfdChecks { checks }
    }

    /// Whether the plan has no BFD_CHECK.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// The checks whose session is not in the state they were last given (every check, the
    /// first time), with the state to give them: Up or not.
    pub fn changes(&mut self, sessions: &BTreeMap<String, bool>) -> Vec<(CheckId, bool)> {
        let mut out = Vec::new();
        for (id, name, last) in &mut self.checks {
            let up = sessions.get(name.as_str()).copied().unwrap_or(false);
            if *last != Some(up) {
                *last = Some(up);
                out.push((*id, up));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        let parsed = vigil_config::parse_str("bfd.conf", text, &vigil_config::Options::default(), None);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        crate::plan(&parsed.config)
    }

    const TWO_SESSIONS: &str =
        "bfd_instance a {\n neighbor_ip 192.0.2.7\n}\nbfd_instance b {\n neighbor_ip 192.0.2.8\n}\n\
        virtual_server 192.0.2.1 80 {\n real_server 192.0.2.7 80 {\n TCP_CHECK { }\n BFD_CHECK {\n name a\n }\n }\n\
        real_server 192.0.2.8 80 {\n BFD_CHECK {\n name b\n }\n }\n}\n";

    fn sessions(states: &[(&str, bool)]) -> BTreeMap<String, bool> {
        states.iter().map(|(n, up)| (n.to_string(), *up)).collect()
    }

    #[test]
    fn every_check_first_then_only_those_whose_session_changed() {
        let p = plan(TWO_SESSIONS);
        let mut bfd = BfdChecks::new(&p);
        assert!(!bfd.is_empty());
        let (a, b) = (CheckId(1), CheckId(2));
        // Before any report every session is down, and every check is told so once.
        assert_eq!(bfd.changes(&sessions(&[])), [(a, false), (b, false)]);
        assert_eq!(bfd.changes(&sessions(&[])), []);
        assert_eq!(bfd.changes(&sessions(&[("a", true)])), [(a, true)]);
        assert_eq!(bfd.changes(&sessions(&[("a", true), ("b", false)])), []);
        assert_eq!(bfd.changes(&sessions(&[("a", true), ("b", true)])), [(b, true)]);
        assert_eq!(bfd.changes(&sessions(&[("a", false), ("b", true)])), [(a, false)]);
        // A session the task no longer lists (removed by a reload) is down.
        assert_eq!(bfd.changes(&sessions(&[("a", false)])), [(b, false)]);
    }

    #[test]
    fn a_plan_without_bfd_checks() {
        let p = plan("virtual_server 192.0.2.1 80 {\n real_server 192.0.2.7 80 {\n TCP_CHECK { }\n }\n}\n");
        let mut bfd = BfdChecks::new(&p);
        assert!(bfd.is_empty());
        assert_eq!(bfd.changes(&sessions(&[("a", true)])), []);
    }
}
