//! `interface_up_down_delays` in the daemon: the configured interfaces looked up, their
//! delays capped as keepalived caps them, and each link change passed through
//! [`vigil_vrrp::debounce`] before the instances hear of it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use vigil_config::model::Config;
use vigil_vrrp::debounce::{cap, Debounce, Delays, Verdict};
use vigil_vrrp::io::Addresses;

/// Every configured interface's delays, by index, and their names for the log.
#[derive(Default)]
pub struct LinkDelays {
    debounce: Debounce,
    names: HashMap<u32, String>,
}

impl LinkDelays {
    /// The delays of `config` for the interfaces that exist now; `instances` gives each
    /// running instance's interface and advert interval, which cap the delays.
    pub async fn new(config: &Config, addresses: &Addresses, instances: &[(String, u32, Duration)]) -> LinkDelays {
        let mut out = LinkDelays::default();
        for d in &config.interface_delays {
            let link = match addresses.link_by_name(&d.interface).await {
                Ok(link) => link,
                Err(e) => {
                    tracing::warn!("interface_up_down_delays: {}: {e}; no delay for it", d.interface);
                    continue;
                }
            };
            let mut delays = Delays { down: d.down, up: d.up };
            for (name, _, advert_int) in instances.iter().filter(|(_, i, _)| *i == link.ifindex) {
                let limit = cap(*advert_int);
                if delays.down >= limit || delays.up >= limit {
                    tracing::info!(
                        "({name}) interface {} debounce timer(s) not less that 2 * advert_int - resetting",
                        d.interface
                    );
                    delays.down = delays.down.min(limit);
                    delays.up = delays.up.min(limit);
                }
            }
            out.debounce.set(link.ifindex, delays, link.up);
            out.names.insert(link.ifindex, d.interface.clone());
        }
        out
    }

    /// Whether the link change of `ifindex` to `up` is acted on now; a held or cancelled one
    /// is logged.
    pub fn pass(&mut self, now: Instant, ifindex: u32, up: bool) -> bool {
        let name = self.names.get(&ifindex).map_or("?", String::as_str);
        let word = if up { "up" } else { "down" };
        match self.debounce.change(now, ifindex, up) {
            Verdict::Now => true,
            Verdict::Held(due) => {
                let delay = due.saturating_duration_since(now);
                tracing::info!("{name}: link {word}, acted on in {:.3} s unless it changes back", delay.as_secs_f64());
                false
            }
            Verdict::Cancelled => {
                tracing::info!("Delay timer for {name} cancelled");
                false
            }
            Verdict::Unchanged => false,
        }
    }

    /// The held changes due now: (interface index, up).
    pub fn due(&mut self, now: Instant) -> Vec<(u32, bool)> {
        self.debounce.due(now)
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.debounce.next_due()
    }
}
