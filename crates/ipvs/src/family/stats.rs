//! The nested statistics attributes (`IPVS_STATS_ATTR_*`) of a service or destination.
//!
//! `*_ATTR_STATS` holds connections, packets and rates as u32 and bytes as u64; `*_ATTR_STATS64`
//! holds all of them as u64. Both parse into [`Stats`]; counters the kernel adds later and the
//! alignment padding (`IPVS_STATS_ATTR_PAD`) are skipped.

use netlink_packet_core::{DecodeError, NlasIterator};

use super::constants::*;
use super::nla::{parse_counter, put_u32, put_u64};
use crate::types::Stats;

/// How wide each counter is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    /// `IPVS_*_ATTR_STATS`: 32-bit counters and rates, 64-bit bytes.
    Legacy,
    /// `IPVS_*_ATTR_STATS64`.
    Wide,
}

fn fields(s: &Stats) -> [(u16, u64); 10] {
    [
        (IPVS_STATS_ATTR_CONNS, s.conns),
        (IPVS_STATS_ATTR_INPKTS, s.inpkts),
        (IPVS_STATS_ATTR_OUTPKTS, s.outpkts),
        (IPVS_STATS_ATTR_INBYTES, s.inbytes),
        (IPVS_STATS_ATTR_OUTBYTES, s.outbytes),
        (IPVS_STATS_ATTR_CPS, s.cps),
        (IPVS_STATS_ATTR_INPPS, s.inpps),
        (IPVS_STATS_ATTR_OUTPPS, s.outpps),
        (IPVS_STATS_ATTR_INBPS, s.inbps),
        (IPVS_STATS_ATTR_OUTBPS, s.outbps),
    ]
}

fn field_len(kind: u16, width: Width) -> usize {
    match (width, kind) {
        (Width::Wide, _) | (Width::Legacy, IPVS_STATS_ATTR_INBYTES | IPVS_STATS_ATTR_OUTBYTES) => 8,
        (Width::Legacy, _) => 4,
    }
}

/// Length of the nested value (the ten counters, each with its 4-byte header).
pub(crate) fn value_len(width: Width) -> usize {
    fields(&Stats::default()).iter().map(|(kind, _)| 4 + field_len(*kind, width)).sum()
}

pub(crate) fn emit(stats: &Stats, width: Width, buf: &mut [u8]) {
    let mut at = 0;
    for (kind, value) in fields(stats) {
        let len = field_len(kind, width);
        let total = (4 + len) as u16;
        buf[at..at + 2].copy_from_slice(&total.to_ne_bytes());
        buf[at + 2..at + 4].copy_from_slice(&kind.to_ne_bytes());
        if len == 8 {
            put_u64(&mut buf[at + 4..], value);
        } else {
            // Legacy counters are u32 in the kernel too: the truncation is the wire format's.
            put_u32(&mut buf[at + 4..], value as u32);
        }
        at += total as usize;
    }
}

pub(crate) fn parse(buf: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for nla in NlasIterator::new(buf) {
        let nla = nla?;
        let slot = match nla.kind() {
            IPVS_STATS_ATTR_CONNS => &mut s.conns,
            IPVS_STATS_ATTR_INPKTS => &mut s.inpkts,
            IPVS_STATS_ATTR_OUTPKTS => &mut s.outpkts,
            IPVS_STATS_ATTR_INBYTES => &mut s.inbytes,
            IPVS_STATS_ATTR_OUTBYTES => &mut s.outbytes,
            IPVS_STATS_ATTR_CPS => &mut s.cps,
            IPVS_STATS_ATTR_INPPS => &mut s.inpps,
            IPVS_STATS_ATTR_OUTPPS => &mut s.outpps,
            IPVS_STATS_ATTR_INBPS => &mut s.inbps,
            IPVS_STATS_ATTR_OUTBPS => &mut s.outbps,
            _ => continue,
        };
        *slot = parse_counter(nla.value())?;
    }
    Ok(s)
}
