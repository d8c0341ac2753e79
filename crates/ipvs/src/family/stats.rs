//! The nested statistics attributes (`IPVS_STATS_ATTR_*`) of a service or destination.
//!
//! `*_ATTR_STATS` holds connections, packets and rates as u32 and bytes as u64; `*_ATTR_STATS64`
//! holds all of them as u64. Both parse into [`Stats`]; counters the kernel adds later and the
//! alignment padding (`IPVS_STATS_ATTR_PAD`) are skipped.

use netlink_packet_core::{DecodeError, NLA_TYPE_MASK};

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
    // Two of these come with every destination a dump lists: the counters are read straight
    // from the headers rather than through `NlasIterator`'s buffer type and its checks, which
    // cost more than the counters themselves.
    for (kind, value) in Attributes(buf) {
        let value = value?;
        let slot = match kind {
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
        *slot = parse_counter(value)?;
    }
    Ok(s)
}

/// The attributes of a nested list as their type and value; a header cut short or claiming
/// more than the list holds is an error, and the last item.
struct Attributes<'a>(&'a [u8]);

impl<'a> Iterator for Attributes<'a> {
    type Item = (u16, Result<&'a [u8], DecodeError>);

    fn next(&mut self) -> Option<Self::Item> {
        let buf = std::mem::take(&mut self.0);
        if buf.is_empty() {
            return None;
        }
        let Some((&[l0, l1, k0, k1], _)) = buf.split_first_chunk::<4>() else {
            return Some((0, Err(DecodeError::from(format!("attribute header cut short at {} bytes", buf.len())))));
        };
        let (len, kind) = (usize::from(u16::from_ne_bytes([l0, l1])), u16::from_ne_bytes([k0, k1]) & NLA_TYPE_MASK);
        let Some(value) = buf.get(4..len) else {
            return Some((kind, Err(DecodeError::from(format!("attribute of {len} bytes in {}", buf.len())))));
        };
        self.0 = buf.get((len + 3) & !3..).unwrap_or_default();
        Some((kind, Ok(value)))
    }
}
