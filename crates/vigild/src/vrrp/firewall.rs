//! The drop rules of a MASTER that does not own its VIPs and has no Accept_Mode (`vrrp_strict`,
//! `no_accept`): traffic to its VIPs is dropped (RFC 5798 6.4.3), with nftables, as keepalived
//! 2.2.7 does it: tables `ip keepalived` and `ip6 keepalived` (or the name `nftables` gives),
//! chains `in` and `out` at priority -1 that drop what is addressed to or sent from the set
//! `vips`, whose elements are the VIPs of the instances that are MASTER now. IPv6 neighbour
//! discovery to and from the VIPs still passes, as keepalived lets it. The tables are made at
//! the first VIP and deleted at stop, and a table of that name left by a previous run is
//! deleted at start.
//!
//! The rules go in through the `nft` program (Debian's nftables), fed a script on stdin.

use std::collections::BTreeSet;
use std::net::IpAddr;

use tokio::io::AsyncWriteExt;

/// keepalived's default table name.
pub const DEFAULT_TABLE: &str = "keepalived";

/// The drop rules of the VIPs now held without Accept_Mode.
pub struct Firewall {
    table: String,
    /// The families whose table exists.
    made: BTreeSet<Family>,
    /// The VIPs in the sets.
    vips: BTreeSet<IpAddr>,
    /// `nft` is missing or refused: said once.
    warned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    fn word(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }
}

/// `nft -f` text that makes the table of `family`: the set, and the chains that drop.
fn table_script(table: &str, family: Family) -> String {
    let f = family.word();
    let (addr, kind) = match family {
        Family::V4 => ("ip", "ipv4_addr"),
        Family::V6 => ("ip6", "ipv6_addr"),
    };
    // Neighbour discovery for the VIPs goes on (solicitations, advertisements).
    let nd_in = match family {
        Family::V4 => String::new(),
        Family::V6 => "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n".to_string(),
    };
    format!(
        "table {f} {table} {{\n  set vips {{\n    type {kind}\n  }}\n  \
         chain in {{\n    type filter hook input priority -1; policy accept;\n{nd_in}    {addr} daddr @vips drop\n  }}\n  \
         chain out {{\n    type filter hook output priority -1; policy accept;\n{nd_in}    {addr} saddr @vips drop\n  }}\n}}\n"
    )
}

/// `nft -f` text that adds (`add`) or deletes (`delete`) `vips` in the sets.
fn elements_script(table: &str, op: &str, vips: &[IpAddr]) -> String {
    let mut out = String::new();
    for family in [Family::V4, Family::V6] {
        let these: Vec<String> = vips.iter().filter(|v| Family::of(v) == family).map(ToString::to_string).collect();
        if !these.is_empty() {
            out.push_str(&format!("{op} element {} {table} vips {{ {} }}\n", family.word(), these.join(", ")));
        }
    }
    out
}

impl Firewall {
    /// Deletes the tables a previous run may have left.
    pub async fn start(table: &str) -> Firewall {
        let mut fw = Firewall { table: table.to_string(), made: BTreeSet::new(), vips: BTreeSet::new(), warned: false };
        fw.delete_tables().await;
        fw
    }

    /// Drops traffic to `vips` from now on.
    pub async fn add(&mut self, vips: &[IpAddr]) {
        let new: Vec<IpAddr> = vips.iter().filter(|v| !self.vips.contains(v)).copied().collect();
        if new.is_empty() {
            return;
        }
        let mut script = String::new();
        for family in [Family::V4, Family::V6] {
            if new.iter().any(|v| Family::of(v) == family) && !self.made.contains(&family) {
                script.push_str(&table_script(&self.table, family));
            }
        }
        script.push_str(&elements_script(&self.table, "add", &new));
        if self.run(&script).await {
            self.made.extend(new.iter().map(Family::of));
            self.vips.extend(new);
        }
    }

    /// Lets traffic to `vips` through again.
    pub async fn remove(&mut self, vips: &[IpAddr]) {
        let gone: Vec<IpAddr> = vips.iter().filter(|v| self.vips.contains(v)).copied().collect();
        if gone.is_empty() {
            return;
        }
        if self.run(&elements_script(&self.table, "delete", &gone)).await {
            for v in &gone {
                self.vips.remove(v);
            }
        }
    }

    /// Deletes the tables (at stop).
    pub async fn finish(&mut self) {
        self.delete_tables().await;
        self.made.clear();
        self.vips.clear();
    }

    async fn delete_tables(&mut self) {
        for family in [Family::V4, Family::V6] {
            // One at a time: a missing table fails its own script only.
            let script = format!("delete table {} {}\n", family.word(), self.table);
            if self.made.contains(&family) || table_exists(family, &self.table).await {
                self.run(&script).await;
            }
        }
    }

    /// Runs `nft -f -` on `script`; false (said once) when it cannot.
    async fn run(&mut self, script: &str) -> bool {
        match nft(script).await {
            Ok(()) => true,
            Err(e) => {
                if !std::mem::replace(&mut self.warned, true) {
                    tracing::error!(
                        "nftables: {e}; traffic to the VIPs of a MASTER without accept mode is not dropped (vrrp_strict, no_accept)"
                    );
                } else {
                    tracing::debug!("nftables: {e}");
                }
                false
            }
        }
    }
}

/// Whether `nft list table FAMILY TABLE` finds it.
async fn table_exists(family: Family, table: &str) -> bool {
    tokio::process::Command::new("nft")
        .args(["list", "table", family.word(), table])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

async fn nft(script: &str) -> anyhow::Result<()> {
    let mut child = tokio::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run nft ({e}); install nftables"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if out.status.success() {
        Ok(())
    } else {
        anyhow::bail!("nft refused: {}", String::from_utf8_lossy(&out.stderr).trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_as_nft_reads_them() {
        assert_eq!(
            table_script("keepalived", Family::V4),
            "table ip keepalived {\n  set vips {\n    type ipv4_addr\n  }\n  \
             chain in {\n    type filter hook input priority -1; policy accept;\n    ip daddr @vips drop\n  }\n  \
             chain out {\n    type filter hook output priority -1; policy accept;\n    ip saddr @vips drop\n  }\n}\n"
        );
        assert!(
            table_script("kd", Family::V6).contains("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept")
        );
        let vips: Vec<IpAddr> = vec!["192.0.2.1".parse().expect("v4"), "2001:db8::1".parse().expect("v6")];
        assert_eq!(
            elements_script("keepalived", "add", &vips),
            "add element ip keepalived vips { 192.0.2.1 }\nadd element ip6 keepalived vips { 2001:db8::1 }\n"
        );
        assert_eq!(
            elements_script("keepalived", "delete", &vips[..1]),
            "delete element ip keepalived vips { 192.0.2.1 }\n"
        );
    }
}
