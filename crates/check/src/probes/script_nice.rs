//! The nice value scripts run at. A thread that runs at `vrrp_priority` or `checker_priority`
//! passes its nice value on to the scripts it starts; keepalived gives a child back the value
//! it started with before running a script, and so does Vigil, just after the start (Rust has
//! no safe place between fork and exec): to the script's whole process group when it leads
//! one, so that what it started meanwhile is given it too, else to the script alone.

use std::sync::OnceLock;

use rustix::process::{getpriority_process, setpriority_pgrp, setpriority_process, Pid};

/// The nice value the daemon started with.
static ORIGINAL: OnceLock<i32> = OnceLock::new();

/// Notes the nice value the daemon started with, before any thread's is changed.
pub fn remember(nice: i32) {
    let _ = ORIGINAL.set(nice);
}

/// Gives the script just started as `pid` the nice value the daemon started with, when the
/// calling thread (whose value it has) runs at another. `group`: it leads a process group.
pub fn reset(pid: Option<u32>, group: bool) {
    let Some(&nice) = ORIGINAL.get() else { return };
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).and_then(Pid::from_raw) else { return };
    if getpriority_process(None).is_ok_and(|now| now == nice) {
        return;
    }
    let done = if group { setpriority_pgrp(Some(pid), nice) } else { setpriority_process(Some(pid), nice) };
    if let Err(e) = done {
        tracing::info!("Unable to reset the priority of script process {} - {e}", pid.as_raw_nonzero());
    }
}
