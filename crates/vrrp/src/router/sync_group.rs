//! A `vrrp_sync_group`'s members move together, as keepalived moves them: a member that drops
//! to BACKUP takes the group's MASTERs with it, one that goes to FAULT takes every member, and
//! a member that wants to move up (its Master_Down_Timer fired, or it left FAULT) moves the
//! group only when no member is faulty. The members' state machines ask with
//! [`Action::GroupWants`](crate::fsm::Action::GroupWants) and are moved with
//! [`Input::GroupForce`](crate::fsm::Input::GroupForce); this module decides which.

use crate::fsm::State;

/// One member, as the group sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Its state.
    pub state: State,
    /// A tracked item, its link or its VIPs keep it in FAULT.
    pub faulty: bool,
}

/// Member `moved` went to `to` on its own: the members to force, and where. Only a move down
/// (to BACKUP or FAULT) pulls the others; to BACKUP only the MASTERs follow.
pub fn follow(members: &[Member], moved: usize, to: State) -> Vec<(usize, State)> {
    if !matches!(to, State::Backup | State::Fault) {
        return Vec::new();
    }
    members
        .iter()
        .enumerate()
        .filter(|&(i, m)| i != moved && (m.state == State::Master || to == State::Fault) && m.state != to)
        .map(|(i, _)| (i, to))
        .collect()
}

/// A member wants the group to be `wanted`: every member not there already is moved, unless a
/// member is faulty (then nobody moves: the group waits in its state).
pub fn decide(members: &[Member], wanted: State) -> Vec<(usize, State)> {
    if !matches!(wanted, State::Master | State::Backup) || members.iter().any(|m| m.faulty) {
        return Vec::new();
    }
    members.iter().enumerate().filter(|(_, m)| m.state != wanted).map(|(i, _)| (i, wanted)).collect()
}

/// The group's own state for its notify scripts and mails: `Some` when every member is in the
/// same state and the group last agreed on another (or on none yet).
pub fn agreement(members: &[Member], last: Option<State>) -> Option<State> {
    let first = members.first()?.state;
    (members.iter().all(|m| m.state == first) && last != Some(first)).then_some(first)
}

#[cfg(test)]
mod tests;
