//! Gratuitous ARPs and unsolicited neighbour advertisements on the wire, spaced on each
//! interface by `vrrp_garp_interval` / `vrrp_gna_interval`, or by the `garp_group` that names
//! the interface ([`vigil_vrrp::pacing`]). Without an interval a frame goes at once; with one,
//! it waits in the interface's queue, so the VRRP loop never sleeps for the pacing.
//!
//! As in keepalived 2.2.7, a VIP has at most one frame waiting: a repeat asked for while one
//! waits is not queued again (3 VIPs x 5 repeats on a paced interface make 4 frames, the first
//! at once), and the waiting ones of an instance that leaves MASTER are dropped.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use vigil_config::model::Config;
use vigil_vrrp::io::FrameSender;
use vigil_vrrp::pacing::Pacer;

/// The least time between two frames of each kind on an interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Intervals {
    arp: Duration,
    na: Duration,
}

/// Every interface's pacing, and the lanes of the ones that have sent.
#[derive(Default)]
pub struct Garp {
    default: Intervals,
    by_interface: HashMap<String, Intervals>,
    /// By interface name and kind (true: neighbour advertisements).
    lanes: HashMap<(String, bool), Lane>,
}

/// One interface's frames of one kind: when the next may go, and those waiting.
struct Lane {
    pacer: Pacer,
    tx: mpsc::UnboundedSender<(Arc<FrameSender>, Vec<u8>, IpAddr, Instant)>,
    waiting: Arc<Mutex<HashSet<IpAddr>>>,
}

fn lock(set: &Mutex<HashSet<IpAddr>>) -> std::sync::MutexGuard<'_, HashSet<IpAddr>> {
    // A set of addresses is whole whatever panicked while holding it.
    set.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Garp {
    pub fn new(config: &Config) -> Garp {
        let g = &config.global;
        let default = Intervals { arp: g.vrrp_garp_interval, na: g.vrrp_gna_interval };
        let mut by_interface = HashMap::new();
        for group in &config.garp_groups {
            for name in &group.interfaces {
                // keepalived: a group's interval it does not set is the global one.
                let arp = group.garp_interval.unwrap_or(default.arp);
                let na = group.gna_interval.unwrap_or(default.na);
                by_interface.insert(name.clone(), Intervals { arp, na });
            }
        }
        Garp { default, by_interface, lanes: HashMap::new() }
    }

    /// Takes the intervals of `config`; lanes whose interval changed start again (the frames
    /// already in them still go, at the old pace).
    pub fn reload(&mut self, config: &Config) {
        let new = Garp::new(config);
        let mut old = std::mem::replace(self, Garp { lanes: HashMap::new(), ..new });
        for ((name, na), lane) in std::mem::take(&mut old.lanes) {
            if old.intervals(&name) == self.intervals(&name) {
                self.lanes.insert((name, na), lane);
            }
        }
    }

    fn intervals(&self, name: &str) -> Intervals {
        self.by_interface.get(name).copied().unwrap_or(self.default)
    }

    /// Sends `frame` for `vip` through `sender`: at once when the interface is quiet, else in
    /// its turn; nothing when one for `vip` already waits.
    pub async fn send(&mut self, sender: &Arc<FrameSender>, frame: Vec<u8>, vip: IpAddr) -> anyhow::Result<()> {
        let name = sender.interface().to_string();
        let iv = self.intervals(&name);
        let interval = if vip.is_ipv6() { iv.na } else { iv.arp };
        if interval.is_zero() {
            return Ok(sender.send(&frame).await?);
        }
        let lane = self.lanes.entry((name, vip.is_ipv6())).or_insert_with(|| Lane::spawn(interval));
        if lane.waiting_for(vip) {
            return Ok(());
        }
        let now = tokio::time::Instant::now().into_std();
        let at = lane.pacer.slot(now);
        if at <= now {
            return Ok(sender.send(&frame).await?);
        }
        lock(&lane.waiting).insert(vip);
        lane.tx.send((sender.clone(), frame, vip, at)).map_err(|_| anyhow::anyhow!("the pacing queue is gone"))
    }

    /// Drops the waiting frames for `vips` (their instance left MASTER).
    pub fn cancel(&mut self, vips: &[IpAddr]) {
        for lane in self.lanes.values() {
            let mut waiting = lock(&lane.waiting);
            for vip in vips {
                waiting.remove(vip);
            }
        }
    }
}

impl Lane {
    /// A lane whose task sends each frame at its time, and never closer than `interval`
    /// after the previous one actually went.
    fn spawn(interval: Duration) -> Lane {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Arc<FrameSender>, Vec<u8>, IpAddr, Instant)>();
        let waiting = Arc::new(Mutex::new(HashSet::new()));
        let set = waiting.clone();
        tokio::spawn(async move {
            let mut last: Option<Instant> = None;
            while let Some((sender, frame, vip, at)) = rx.recv().await {
                let at = last.map_or(at, |l| at.max(l + interval));
                tokio::time::sleep_until(at.into()).await;
                if !lock(&set).remove(&vip) {
                    continue;
                }
                if let Err(e) = sender.send(&frame).await {
                    tracing::warn!("cannot send a gratuitous ARP or NA on {}: {e}", sender.interface());
                }
                last = Some(tokio::time::Instant::now().into_std());
            }
        });
        Lane { pacer: Pacer::new(interval), tx, waiting }
    }

    fn waiting_for(&self, vip: IpAddr) -> bool {
        lock(&self.waiting).contains(&vip)
    }
}
