//! How a thread of vigild is scheduled, from the `PROCESS_priority`, `PROCESS_rt_priority`,
//! `PROCESS_rlimit_rttime`, `PROCESS_no_swap` and `PROCESS_cpu_affinity` keywords: what
//! keepalived does to its VRRP, checker or BFD process, done to the thread that does that work.
//! Each failure is logged and the thread runs on as it was, as in keepalived.
//!
//! A thread inherits its nice value and CPU set from the thread that started it, where
//! keepalived's processes each start from the parent's: a thread without its own setting gets
//! back the values vigild started with ([`remember`]).

use std::sync::OnceLock;

use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::resource::{setrlimit, Resource};
use nix::unistd::Pid;
use thread_priority::{
    set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy, ThreadPriority,
    ThreadPriorityValue, ThreadSchedulePolicy,
};
use vigil_config::model::Scheduling;

/// Whether the thread may be made real-time. Only BFD's may: VRRP's and the checkers' threads
/// start scripts, which would inherit SCHED_RR (keepalived's processes use
/// SCHED_RESET_ON_FORK, which Vigil cannot ask for yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realtime {
    Allowed,
    Refused,
}

/// The nice value and CPU set vigild started with.
struct Original {
    nice: i32,
    cpus: Option<CpuSet>,
}

static ORIGINAL: OnceLock<Original> = OnceLock::new();

/// Notes the nice value and CPU set vigild started with; call before any thread is changed.
pub fn remember() {
    ORIGINAL.get_or_init(|| Original {
        nice: rustix::process::getpriority_process(None).unwrap_or(0),
        cpus: nix::sched::sched_getaffinity(Pid::from_raw(0)).ok(),
    });
}

/// Schedules the calling thread, the one that does `process`'s work, as `sched` asks.
pub fn apply(process: &str, sched: &Scheduling, realtime: Realtime) {
    let original = ORIGINAL.get();
    let nice = match (sched.nice, original) {
        (0, Some(o)) => o.nice,
        (n, _) => i32::from(n),
    };
    if rustix::process::getpriority_process(None).is_ok_and(|now| now != nice) {
        if let Err(e) = rustix::process::setpriority_process(None, nice) {
            tracing::info!("Unable to set process priority to {nice} - {e}");
        }
    }
    match (sched.rt_priority, realtime) {
        (Some(priority), Realtime::Allowed) => real_time(process, priority, sched.rlimit_rttime_us),
        (Some(_), Realtime::Refused) => {
            tracing::warn!("{process}_rt_priority is not acted on: this thread starts scripts")
        }
        (None, _) => {}
    }
    if sched.no_swap {
        use rustix::mm::MlockAllFlags;
        if let Err(e) = rustix::mm::mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
            tracing::info!("Unable to lock process in memory - {e}");
        }
    }
    if !sched.cpu_affinity.is_empty() {
        let mut set = CpuSet::new();
        let pinned = sched.cpu_affinity.iter().try_for_each(|&cpu| set.set(cpu));
        if let Err(e) = pinned.and_then(|()| sched_setaffinity(Pid::from_raw(0), &set)) {
            tracing::warn!("unable to set cpu affinity to {process} process ({})", e.desc());
        }
    } else if let Some(cpus) = original.and_then(|o| o.cpus.as_ref()) {
        if let Err(e) = sched_setaffinity(Pid::from_raw(0), cpus) {
            tracing::debug!("cannot give the {process} thread back its CPU set: {e}");
        }
    }
}

/// SCHED_RR at `priority`, then RLIMIT_RTTIME: a warning (SIGXCPU) at half of `limit_us`, the
/// end at `limit_us` (0: no limit), as keepalived sets it.
fn real_time(process: &str, priority: u8, limit_us: u64) {
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::RoundRobin);
    let value = ThreadPriorityValue::try_from(priority).map(ThreadPriority::Crossplatform);
    let set = value
        .map_err(|e| e.to_string())
        .and_then(|v| set_thread_priority_and_policy(thread_native_id(), v, policy).map_err(|e| format!("{e:?}")));
    if let Err(e) = set {
        tracing::warn!("{process} thread: cannot raise priority ({e})");
        return;
    }
    tracing::info!("{process} thread: real-time priority {priority}");
    if limit_us > 0 {
        if let Err(e) = setrlimit(Resource::RLIMIT_RTTIME, limit_us / 2, limit_us) {
            tracing::warn!("{process} thread cannot set realtime rlimit ({})", e.desc());
        }
    }
}
