//! A service's destinations: a vector sorted by key, each destination once. A director with
//! 10,000 services holds several tables of them (the mirror of the kernel's, the desired one
//! of a diff); a vector of exactly its length is about half the memory of a B-tree's node.

use std::ops::Index;

use serde::Serialize;

use crate::types::{Dest, DestKey};

/// Destinations sorted by [`DestKey`], without two of one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dests(Vec<Dest>);

impl Dests {
    pub fn new() -> Dests {
        Dests::default()
    }

    fn find(&self, key: &DestKey) -> Result<usize, usize> {
        self.0.binary_search_by(|d| d.key.cmp(key))
    }

    pub fn get(&self, key: &DestKey) -> Option<&Dest> {
        self.find(key).ok().map(|i| &self.0[i])
    }

    pub fn contains_key(&self, key: &DestKey) -> bool {
        self.find(key).is_ok()
    }

    /// Puts `dest` in, in place of the one of its key if there is one (returned).
    pub fn insert(&mut self, dest: Dest) -> Option<Dest> {
        match self.find(&dest.key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i], dest)),
            Err(i) => {
                // Grown by an eighth, not doubled: the kernel table's mirror is built one
                // destination at a time, and a doubled vector of 10 holds 16.
                if self.0.len() == self.0.capacity() {
                    self.0.reserve_exact(self.0.len() / 8 + 1);
                }
                self.0.insert(i, dest);
                None
            }
        }
    }

    pub fn remove(&mut self, key: &DestKey) -> Option<Dest> {
        self.find(key).ok().map(|i| self.0.remove(i))
    }

    /// Takes out the destinations of `keys` (sorted here) in one pass: one [`Dests::remove`]
    /// at a time moves the ones after it each time, and a service of 10,000 destinations
    /// all removed would move tens of millions.
    pub fn remove_all(&mut self, keys: &mut [DestKey]) {
        keys.sort_unstable();
        self.0.retain(|d| keys.binary_search(&d.key).is_err());
    }

    /// In key order.
    pub fn values(&self) -> std::slice::Iter<'_, Dest> {
        self.0.iter()
    }

    /// In order.
    pub fn keys(&self) -> impl Iterator<Item = &DestKey> {
        self.0.iter().map(|d| &d.key)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// As a map's collect: of two destinations with one key, the later stays.
impl FromIterator<Dest> for Dests {
    fn from_iter<I: IntoIterator<Item = Dest>>(iter: I) -> Dests {
        let mut all: Vec<Dest> = iter.into_iter().collect();
        // Latest first, so that the stable sort keeps it first among its key, and dedup keeps
        // the first of each run.
        all.reverse();
        all.sort_by_key(|d| d.key);
        all.dedup_by(|later, kept| later.key == kept.key);
        all.shrink_to_fit();
        Dests(all)
    }
}

impl Index<&DestKey> for Dests {
    type Output = Dest;

    /// Panics without a destination of that key, as a map's index does.
    fn index(&self, key: &DestKey) -> &Dest {
        self.get(key).unwrap_or_else(|| panic!("no destination {key}"))
    }
}

impl<'a> IntoIterator for &'a Dests {
    type Item = &'a Dest;
    type IntoIter = std::slice::Iter<'a, Dest>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Forwarding;

    fn dest(last: u8, weight: i32) -> Dest {
        Dest::new(DestKey { addr: [10, 0, 0, last].into(), port: 80 }, Forwarding::Masq, weight)
    }

    /// The same answers as a `BTreeMap<DestKey, Dest>` given the same inserts, removals and
    /// collects, over seeded random sequences.
    #[test]
    fn behaves_as_a_map_by_key() {
        let mut rng = fastrand::Rng::with_seed(1);
        for round in 0..200 {
            let mut map = std::collections::BTreeMap::new();
            let mut dests = Dests::new();
            for _ in 0..rng.u8(..40) {
                let d = dest(rng.u8(..12), rng.i32(0..5));
                if rng.u8(..3) == 0 {
                    assert_eq!(dests.remove(&d.key), map.remove(&d.key), "round {round}");
                } else if rng.u8(..8) == 0 {
                    let mut keys: Vec<DestKey> = (0..rng.u8(..5)).map(|_| dest(rng.u8(..12), 0).key).collect();
                    map.retain(|k, _| !keys.contains(k));
                    dests.remove_all(&mut keys);
                } else {
                    assert_eq!(dests.insert(d.clone()), map.insert(d.key, d), "round {round}");
                }
                assert_eq!(dests.values().collect::<Vec<_>>(), map.values().collect::<Vec<_>>(), "round {round}");
            }
            let list: Vec<Dest> = (0..rng.u8(..30)).map(|_| dest(rng.u8(..12), rng.i32(0..5))).collect();
            let collected: Dests = list.iter().cloned().collect();
            let by_map: std::collections::BTreeMap<DestKey, Dest> = list.into_iter().map(|d| (d.key, d)).collect();
            assert_eq!(collected.values().collect::<Vec<_>>(), by_map.values().collect::<Vec<_>>(), "round {round}");
            for k in by_map.keys() {
                assert_eq!(collected.get(k), by_map.get(k));
                assert!(collected.contains_key(k));
            }
            assert_eq!(collected.len(), by_map.len());
        }
    }
}
