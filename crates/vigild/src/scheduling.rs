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
    let original = ORIGINAL.get_or_init(|| Original {
        nice: rustix::process::getpriority_process(None).unwrap_or(0),
        cpus: nix::sched::sched_getaffinity(Pid::from_raw(0)).ok(),
    });
    // Scripts get it back, as keepalived's children do.
    vigil_check::probes::script_nice::remember(original.nice);
}

/// Schedules the calling thread, the one that does `process`'s work, as `sched` asks: at
/// start, and again at each reload.
pub fn apply(process: &str, sched: &Scheduling, realtime: Realtime) {
    let original = ORIGINAL.get();
    let rt_priority = match (sched.rt_priority, realtime) {
        (Some(priority), Realtime::Allowed) => Some(priority),
        (Some(_), Realtime::Refused) => {
            tracing::warn!("{process}_rt_priority is not acted on: this thread starts scripts");
            None
        }
        (None, _) => None,
    };
    if rt_priority.is_none() {
        // First: leaving SCHED_RR resets the nice value, which is set next.
        leave_real_time(process);
    }
    // A real-time thread keeps the nice value vigild started with, as keepalived ignores
    // PROCESS_priority for a real-time process.
    let nice = match (rt_priority, sched.nice, original) {
        (Some(_), _, Some(o)) | (None, 0, Some(o)) => o.nice,
        (_, n, _) => i32::from(n),
    };
    if rustix::process::getpriority_process(None).is_ok_and(|now| now != nice) {
        if let Err(e) = rustix::process::setpriority_process(None, nice) {
            tracing::info!("Unable to set process priority to {nice} - {e}");
        }
    }
    if let Some(priority) = rt_priority {
        real_time(process, priority, sched.rlimit_rttime_us);
    }
    if sched.no_swap {
        use rustix::mm::MlockAllFlags;
        if let Err(e) = rustix::mm::mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
            tracing::info!("Unable to lock process in memory - {e}");
        }
    }
    // keepalived drops the whole set when it names a CPU that is not online.
    let online = nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN).ok().flatten();
    let offline =
        sched.cpu_affinity.iter().find(|&&id| online.is_some_and(|n| i64::try_from(id).unwrap_or(i64::MAX) >= n));
    if let Some(id) = offline {
        tracing::warn!("Invalid cpu_id:{id} specified for {process} process");
    }
    if !sched.cpu_affinity.is_empty() && offline.is_none() {
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

/// SCHED_RR at `priority`, then RLIMIT_RTTIME's soft limit at half of `limit_us` (0: none):
/// keepalived's warning point. keepalived's hard limit (`limit_us`) would end its BFD child,
/// which its parent restarts; here it would end all of vigild, so there is none, and SIGXCPU
/// is logged (every second while over).
fn real_time(process: &str, priority: u8, limit_us: u64) {
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::RoundRobin);
    let value = ThreadPriorityValue::try_from(priority).map(ThreadPriority::Crossplatform);
    let set = value.map_err(|e| e.to_string()).and_then(|v| {
        set_thread_priority_and_policy(thread_native_id(), v, policy).map_err(|e| match e {
            thread_priority::Error::OS(errno) => std::io::Error::from_raw_os_error(errno).to_string(),
            other => format!("{other:?}"),
        })
    });
    if let Err(e) = set {
        tracing::warn!("{process} thread: cannot raise priority ({e})");
        return;
    }
    tracing::info!("{process} thread: real-time priority {priority}");
    if limit_us > 0 {
        if let Err(e) = setrlimit(Resource::RLIMIT_RTTIME, limit_us / 2, nix::libc::RLIM_INFINITY) {
            tracing::warn!("{process} thread cannot set realtime rlimit ({})", e.desc());
        }
    }
}

/// Back to SCHED_OTHER if a reload took the real-time priority away.
fn leave_real_time(process: &str) {
    if !matches!(thread_priority::thread_schedule_policy(), Ok(ThreadSchedulePolicy::Realtime(_))) {
        return;
    }
    let normal = ThreadSchedulePolicy::Normal(thread_priority::NormalThreadSchedulePolicy::Other);
    match set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, normal) {
        Ok(()) => tracing::info!("{process} thread: real-time priority removed"),
        Err(e) => tracing::warn!("{process} thread: cannot reset realtime scheduling ({e:?})"),
    }
}
