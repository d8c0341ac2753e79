//! Every VRRP instance of a host, as one sans-IO core: the [`Router`] owns each instance's
//! state machine, what its peers' adverts told ([`peers`]), the sync groups ([`sync_group`])
//! and whether a MASTER holds its VIPs, and decides what a reload does to an instance
//! ([`reload`]). The daemon hands it inputs with [`Router::handle`], carries out what
//! [`Router::poll_action`] returns (adverts, VIPs, gratuitous ARPs, notify scripts, logs) and
//! wakes it at [`Router::poll_timeout`]. It holds no socket, task or clock.

pub mod master_gone;
pub mod peers;
pub mod reload;
pub mod sync_group;

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::fsm::{self, Action, Input, State, TrackerReport};
use crate::plan::{Plan, VIPS_HELD};
use crate::receive::Accepted;

use self::peers::Peers;
use self::reload::Reconfigure;

/// How long an instance that could not add a VIP stays in FAULT before it tries again; each
/// failure in a row doubles it, up to [`HOLD_RETRY_MAX`].
pub const HOLD_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between two tries to hold the VIPs.
pub const HOLD_RETRY_MAX: Duration = Duration::from_secs(60);

/// An instance, as the daemon names it to the router: stable across reloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(pub u64);

/// What the router is told.
#[derive(Debug, Clone)]
pub enum RouterInput {
    /// A new instance, in Initialize until its [`Input::Startup`].
    Add {
        /// Its id.
        id: InstanceId,
        /// What it runs on.
        plan: Box<Plan>,
        /// What its peers' adverts are compared with.
        peers: peers::Settings,
    },
    /// An input for the instance's state machine: Startup, link and tracker changes, Shutdown.
    Fsm {
        /// The instance.
        id: InstanceId,
        /// The input.
        input: Input,
    },
    /// An advert for the instance passed the receive checks.
    Advert {
        /// The instance.
        id: InstanceId,
        /// Its sender.
        src: IpAddr,
        /// The advert.
        accepted: Accepted,
        /// When it came, for the status.
        at: SystemTime,
    },
    /// Whether a MASTER could add every VIP it should hold.
    VipsHeld {
        /// The instance.
        id: InstanceId,
        /// True when every VIP is on its interface.
        held: bool,
    },
    /// The BFD session to `neighbor` fell, its first missing packet due at `missing_since`
    /// (Vigil's `master_down_bfd`): a Backup whose Master that is takes over now, unless
    /// [`master_gone::decide`] vetoes it; vetoed because the Master advertised meanwhile, it
    /// waits for the Master's next advert only ([`Input::MasterSuspect`]).
    MasterGone {
        /// The instance.
        id: InstanceId,
        /// The BFD session's neighbour.
        neighbor: IpAddr,
        /// When its first missing BFD packet was due.
        missing_since: Instant,
    },
    /// Something else removed one of the instance's VIPs from its interface (an admin's
    /// `ip addr flush`, a network manager).
    VipRemoved {
        /// The instance.
        id: InstanceId,
        /// The address.
        ip: IpAddr,
    },
    /// The sync groups with two members or more that run, by name and members. A group
    /// whose name and members did not change keeps the state its members last agreed on.
    Groups(Vec<(String, Vec<InstanceId>)>),
    /// The instance is gone (after its Shutdown).
    Remove {
        /// The instance.
        id: InstanceId,
    },
}

/// What the daemon is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterAction {
    /// What the instance's state machine asks for.
    Fsm(Action),
    /// What an accepted advert told.
    Note(peers::Note),
    /// Every member of sync group `group` is now in `state`: the group's notify scripts and
    /// mails.
    Group {
        /// The group's name.
        group: String,
        /// The state they agree on.
        state: State,
    },
    /// Sync group `group` moves its members to `state` (keepalived logs
    /// `VRRP_Group(G1) Syncing instances to MASTER state`).
    Syncing {
        /// The group's name.
        group: String,
        /// Where its members go.
        state: State,
    },
    /// The instance could not hold its VIPs: it went to FAULT, and tries again in `retry_in`.
    CannotHold {
        /// When it tries again.
        retry_in: Duration,
    },
    /// The instance leaves FAULT to try again to hold its VIPs.
    RetryHold,
    /// A BFD session to `neighbor` fell: the instance took over at once, or why not.
    MasterGone {
        /// The BFD session's neighbour.
        neighbor: IpAddr,
        /// Taken over, or the veto.
        verdict: Result<(), master_gone::Veto>,
    },
    /// A MASTER's VIP was removed behind its back: add it again at once and announce it.
    RestoreVip {
        /// The address.
        ip: IpAddr,
        /// Gratuitous ARPs (or unsolicited NAs) to send for it.
        repeat: u32,
    },
}

/// One instance's protocol state.
#[derive(Debug)]
struct Entry {
    plan: Plan,
    fsm: fsm::Instance,
    peers: Peers,
    /// The sync group it runs in, by index into [`Router::groups`].
    group: Option<usize>,
    /// When it tries again to hold its VIPs, after a failure.
    retry_at: Option<Instant>,
    /// How long the next failure keeps it in FAULT.
    backoff: Duration,
    /// The sender and time of the last advert with a non-zero priority.
    last_advert: Option<(IpAddr, Instant)>,
}

/// A sync group that runs.
#[derive(Debug)]
struct Group {
    name: String,
    members: Vec<InstanceId>,
    /// The state its members last all agreed on.
    agreed: Option<State>,
}

/// Every instance of the host.
#[derive(Debug, Default)]
pub struct Router {
    instances: BTreeMap<InstanceId, Entry>,
    groups: Vec<Group>,
    actions: VecDeque<(InstanceId, RouterAction)>,
}

impl Router {
    /// No instance yet.
    pub fn new() -> Router {
        Router::default()
    }

    /// Takes one input at `now`; what follows is queued for [`poll_action`](Self::poll_action).
    /// An input for an instance the router does not know is ignored.
    pub fn handle(&mut self, now: Instant, input: RouterInput) -> Result<(), fsm::Error> {
        match input {
            RouterInput::Add { id, plan, peers } => {
                let fsm = fsm::Instance::new(plan.fsm.clone())?;
                let entry = Entry {
                    plan: *plan,
                    fsm,
                    peers: Peers::new(peers),
                    group: None,
                    retry_at: None,
                    backoff: HOLD_RETRY_FIRST,
                    last_advert: None,
                };
                self.instances.insert(id, entry);
            }
            RouterInput::Fsm { id, input } => self.feed(now, id, input),
            RouterInput::Advert { id, src, accepted, at } => {
                let Some(e) = self.instances.get_mut(&id) else { return Ok(()) };
                let (state, ours) = (e.fsm.state(), e.fsm.effective_priority());
                for note in e.peers.advert(at, src, &accepted, state, ours) {
                    self.actions.push_back((id, RouterAction::Note(note)));
                }
                if matches!(accepted.input, Input::Advert { priority, .. } if priority > 0) {
                    e.last_advert = Some((src, now));
                }
                self.feed(now, id, accepted.input);
            }
            RouterInput::VipsHeld { id, held } => self.vips_held(now, id, held),
            RouterInput::MasterGone { id, neighbor, missing_since } => {
                let Some(e) = self.instances.get(&id) else { return Ok(()) };
                let last = e.last_advert.filter(|(ip, _)| *ip == neighbor).map(|(_, at)| at);
                let verdict =
                    master_gone::decide(e.fsm.state(), e.peers.last_master(), last, neighbor, now, missing_since);
                self.actions.push_back((id, RouterAction::MasterGone { neighbor, verdict }));
                match verdict {
                    Ok(()) => self.feed(now, id, Input::MasterGone),
                    // The Master advertised after its BFD packets stopped: alive then, perhaps
                    // not now. Wait for its next advert only.
                    Err(master_gone::Veto::AdvertsStillArriving { .. }) => self.feed(now, id, Input::MasterSuspect),
                    Err(_) => {}
                }
            }
            RouterInput::VipRemoved { id, ip } => {
                let Some(e) = self.instances.get(&id) else { return Ok(()) };
                // Only a MASTER holds its VIPs; anyone else has none to restore.
                if e.fsm.state() == State::Master {
                    let repeat = e.plan.fsm.garp_master_repeat;
                    self.actions.push_back((id, RouterAction::RestoreVip { ip, repeat }));
                }
            }
            RouterInput::Groups(groups) => self.set_groups(now, groups),
            RouterInput::Remove { id } => {
                self.instances.remove(&id);
                for g in &mut self.groups {
                    g.members.retain(|m| *m != id);
                }
            }
        }
        Ok(())
    }

    /// What a reload from the running plan to `plan` does to instance `id` (see
    /// [`reload::decide`]); an in-place change is applied to the state machine and the peers
    /// at once, and the decision tells the daemon which VIPs to touch. `trackers` are the new
    /// plan's tracked items as they stand now, taken when its lists changed. `None` for an
    /// unknown instance.
    pub fn reconfigure(
        &mut self,
        now: Instant,
        id: InstanceId,
        mut plan: Plan,
        peers: peers::Settings,
        mut trackers: Vec<TrackerReport>,
    ) -> Option<Result<Reconfigure, fsm::Error>> {
        let e = self.instances.get_mut(&id)?;
        // A state machine is made a group member when its group runs; the plan read from the
        // file has not been through that.
        plan.fsm.sync_group = e.plan.fsm.sync_group;
        let decision = reload::decide(&e.plan, &plan);
        if let Reconfigure::InPlace(change) = &decision {
            // Settings the state machine would refuse change nothing, tracked items included.
            if let Some(Err(err)) = change.fsm.as_ref().map(fsm::Config::validate) {
                return Some(Err(err));
            }
            // The tracked items first, so that a MASTER's advert after new settings carries the
            // priority of both, not one in between.
            if change.trackers_changed {
                // Whether it holds its VIPs is the router's own item, kept as it is.
                if e.retry_at.is_some() {
                    trackers.push(TrackerReport { id: VIPS_HELD, up: false, weight: 0 });
                }
                e.fsm.handle(now, Input::TrackersReplaced { items: trackers });
            }
            if let Some(config) = &change.fsm {
                if let Err(err) = e.fsm.reconfigure(now, config.clone()) {
                    return Some(Err(err));
                }
            }
        }
        if !matches!(decision, Reconfigure::Restart(_)) {
            e.plan = plan;
            e.peers.reconfigure(peers);
        }
        self.settle(now, vec![id]);
        Some(Ok(decision))
    }

    /// The next thing to do, and for which instance.
    pub fn poll_action(&mut self) -> Option<(InstanceId, RouterAction)> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.instances.values().flat_map(|e| [e.fsm.poll_timeout(), e.retry_at]).flatten().min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<InstanceId> = self
            .instances
            .iter()
            .filter(|(_, e)| e.fsm.poll_timeout().is_some_and(|t| t <= now) || e.retry_at.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(e) = self.instances.get_mut(&id) else { continue };
            if e.retry_at.is_some_and(|t| t <= now) {
                e.retry_at = None;
                self.actions.push_back((id, RouterAction::RetryHold));
                e.fsm.handle(now, Input::TrackerChange { id: VIPS_HELD, up: true, weight: 0 });
            }
            if e.fsm.poll_timeout().is_some_and(|t| t <= now) {
                e.fsm.handle_timeout(now);
            }
            self.settle(now, vec![id]);
        }
    }

    /// Instance `id`'s state machine.
    pub fn fsm(&self, id: InstanceId) -> Option<&fsm::Instance> {
        self.instances.get(&id).map(|e| &e.fsm)
    }

    /// What instance `id`'s peers told.
    pub fn peers(&self, id: InstanceId) -> Option<&Peers> {
        self.instances.get(&id).map(|e| &e.peers)
    }

    /// Instance `id`'s running plan.
    pub fn plan(&self, id: InstanceId) -> Option<&Plan> {
        self.instances.get(&id).map(|e| &e.plan)
    }

    /// Zeroes every instance's counters (keepalived's STATS_CLEAR).
    pub fn clear_stats(&mut self) {
        for e in self.instances.values_mut() {
            e.fsm.clear_stats();
            e.peers.clear_stats();
        }
    }

    fn feed(&mut self, now: Instant, id: InstanceId, input: Input) {
        let Some(e) = self.instances.get_mut(&id) else { return };
        e.fsm.handle(now, input);
        self.settle(now, vec![id]);
    }

    fn vips_held(&mut self, now: Instant, id: InstanceId, held: bool) {
        let Some(e) = self.instances.get_mut(&id) else { return };
        if held {
            e.backoff = HOLD_RETRY_FIRST;
            return;
        }
        // A MASTER that cannot add its VIPs must not keep the mastership, its adverts keeping
        // a healthy BACKUP away from addresses nobody holds: FAULT, and no gratuitous ARP for
        // what it was about to announce.
        self.actions.retain(|(i, a)| !(*i == id && matches!(a, RouterAction::Fsm(Action::SendGarp { .. }))));
        let retry_in = e.backoff;
        e.retry_at = Some(now + retry_in);
        e.backoff = (e.backoff * 2).min(HOLD_RETRY_MAX);
        self.actions.push_back((id, RouterAction::CannotHold { retry_in }));
        e.fsm.handle(now, Input::TrackerChange { id: VIPS_HELD, up: false, weight: 0 });
        self.settle(now, vec![id]);
    }

    fn set_groups(&mut self, now: Instant, groups: Vec<(String, Vec<InstanceId>)>) {
        let old = std::mem::take(&mut self.groups);
        for e in self.instances.values_mut() {
            e.group = None;
        }
        for (name, members) in groups {
            let members: Vec<InstanceId> = members.into_iter().filter(|m| self.instances.contains_key(m)).collect();
            if members.len() < 2 {
                continue;
            }
            let index = self.groups.len();
            for m in &members {
                let Some(e) = self.instances.get_mut(m) else { continue };
                e.group = Some(index);
                if !e.plan.fsm.sync_group {
                    // Made a member once: a kept member keeps its state. One that already
                    // runs on its own (its group's other member started later) resigns and
                    // starts again as a member.
                    e.plan.fsm.sync_group = true;
                    let running = e.fsm.state() != State::Initialize;
                    if running {
                        e.fsm.handle(now, Input::Shutdown);
                        queue(&mut self.actions, *m, &mut e.fsm);
                    }
                    if let Ok(f) = fsm::Instance::new(e.plan.fsm.clone()) {
                        e.fsm = f;
                        if running {
                            e.fsm.handle(now, Input::Startup);
                            queue(&mut self.actions, *m, &mut e.fsm);
                        }
                    }
                }
            }
            let agreed = old.iter().find(|g| g.name == name && g.members == members).and_then(|g| g.agreed);
            self.groups.push(Group { name, members, agreed });
        }
    }

    /// Moves the state machines' actions to the queue, with the sync groups' consequences:
    /// members forced to follow or to move together, and a group's agreement.
    fn settle(&mut self, now: Instant, mut work: Vec<InstanceId>) {
        while let Some(id) = work.pop() {
            while let Some((action, group)) =
                self.instances.get_mut(&id).and_then(|e| e.fsm.poll_action().map(|a| (a, e.group)))
            {
                let forced = match (&action, group) {
                    (Action::StateChanged { to, .. }, Some(g)) => self.follow(now, g, id, *to),
                    (Action::GroupWants { state }, Some(g)) => self.decide(now, g, *state),
                    _ => Vec::new(),
                };
                self.actions.push_back((id, RouterAction::Fsm(action)));
                work.extend(forced);
            }
        }
        for g in 0..self.groups.len() {
            let members = self.members(g);
            let group = &mut self.groups[g];
            if let Some(state) = sync_group::agreement(&members, group.agreed) {
                group.agreed = Some(state);
                let first = group.members[0];
                self.actions.push_back((first, RouterAction::Group { group: group.name.clone(), state }));
            }
        }
    }

    fn members(&self, g: usize) -> Vec<sync_group::Member> {
        self.groups[g]
            .members
            .iter()
            .filter_map(|m| self.instances.get(m))
            .map(|e| sync_group::Member { state: e.fsm.state(), faulty: e.fsm.is_faulty() })
            .collect()
    }

    fn follow(&mut self, now: Instant, g: usize, id: InstanceId, to: State) -> Vec<InstanceId> {
        let Some(moved) = self.groups[g].members.iter().position(|m| *m == id) else { return Vec::new() };
        let moves = sync_group::follow(&self.members(g), moved, to);
        if !moves.is_empty() {
            self.actions.push_back((id, RouterAction::Syncing { group: self.groups[g].name.clone(), state: to }));
        }
        self.force(now, g, &moves)
    }

    fn decide(&mut self, now: Instant, g: usize, wanted: State) -> Vec<InstanceId> {
        let moves = sync_group::decide(&self.members(g), wanted);
        if wanted == State::Master && !moves.is_empty() {
            let first = self.groups[g].members[0];
            self.actions
                .push_back((first, RouterAction::Syncing { group: self.groups[g].name.clone(), state: wanted }));
        }
        self.force(now, g, &moves)
    }

    /// Moves group `g`'s members as decided; returns the instances moved.
    fn force(&mut self, now: Instant, g: usize, moves: &[(usize, State)]) -> Vec<InstanceId> {
        let mut moved = Vec::new();
        for &(i, state) in moves {
            let id = self.groups[g].members[i];
            let Some(e) = self.instances.get_mut(&id) else { continue };
            e.fsm.handle(now, Input::GroupForce { state });
            moved.push(id);
        }
        moved
    }
}

/// Moves state machine `fsm`'s actions, as they are, to the queue of instance `id`.
fn queue(actions: &mut VecDeque<(InstanceId, RouterAction)>, id: InstanceId, fsm: &mut fsm::Instance) {
    while let Some(action) = fsm.poll_action() {
        actions.push_back((id, RouterAction::Fsm(action)));
    }
}

#[cfg(test)]
mod tests;
