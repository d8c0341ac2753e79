//! Finding the items of an earlier list in the order of a later one: what a reload does to
//! match virtual servers ([`crate::reuse::keep_unchanged`]) and the checks' real servers.
//!
//! An item usually keeps its place, or moves with the items added or removed before it, so
//! each search first looks just after the last item found. An index is built only at the first
//! item that does neither, and holds a short hash and a position for each item, eight bytes
//! (a map of the keys would be megabytes at 100,000 real servers, at a reload's peak).

use std::hash::{BuildHasher, BuildHasherDefault, Hash};

/// Finds items of `items` by key, asked in the order of a later list. With a key listed twice,
/// the search finds each copy at its own place, or the first copy when through the index. A
/// key is made for the item it is compared with; it holds no borrow of it.
pub struct InOrder<'a, T, F> {
    items: &'a [T],
    key: F,
    /// Where the item after the last one found is.
    next: usize,
    /// (the low half of a key's hash, its position), sorted.
    index: Option<Vec<(u32, u32)>>,
}

impl<'a, T, K: Hash + Eq, F: Fn(&T) -> K> InOrder<'a, T, F> {
    pub fn new(items: &'a [T], key: F) -> InOrder<'a, T, F> {
        InOrder { items, key, next: 0, index: None }
    }

    /// The low half of the key's hash: a match is checked by the keys themselves.
    fn hash(key: &K) -> u32 {
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key) as u32
    }

    /// The position of the item whose key is `wanted`.
    pub fn find(&mut self, wanted: K) -> Option<usize> {
        let (items, key) = (self.items, &self.key);
        let found = if items.get(self.next).is_some_and(|o| key(o) == wanted) {
            Some(self.next)
        } else {
            let index = self.index.get_or_insert_with(|| {
                // No list here holds four billion items; one that did would not be indexed past it.
                let mut index: Vec<(u32, u32)> = items
                    .iter()
                    .enumerate()
                    .map_while(|(i, o)| Some((Self::hash(&key(o)), u32::try_from(i).ok()?)))
                    .collect();
                index.sort_unstable();
                index
            });
            let h = Self::hash(&wanted);
            let from = index.partition_point(|(k, _)| *k < h);
            let mut same = index[from..].iter().take_while(|(k, _)| *k == h).map(|&(_, i)| i as usize);
            same.find(|&i| items.get(i).is_some_and(|o| key(o) == wanted))
        };
        if let Some(o) = found {
            self.next = o + 1;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::InOrder;

    fn finds(old: &[&'static str], new: &[&'static str]) -> Vec<Option<usize>> {
        let mut finder = InOrder::new(old, |s: &&'static str| *s);
        new.iter().map(|k| finder.find(k)).collect()
    }

    #[test]
    fn finds_in_place_moved_and_missing_items() {
        assert_eq!(finds(&["a", "b", "c"], &["a", "b", "c"]), [Some(0), Some(1), Some(2)]);
        assert_eq!(finds(&["a", "b", "c"], &["x", "b", "c", "a"]), [None, Some(1), Some(2), Some(0)]);
        assert_eq!(finds(&["a", "b", "c"], &["c", "b", "a"]), [Some(2), Some(1), Some(0)]);
        assert_eq!(finds(&[], &["a"]), [None]);
    }

    #[test]
    fn a_key_listed_twice_is_each_copy_in_place_else_the_first() {
        assert_eq!(finds(&["a", "b", "a"], &["a", "b", "a"]), [Some(0), Some(1), Some(2)]);
        assert_eq!(finds(&["a", "b", "a"], &["b", "a", "a"]), [Some(1), Some(2), Some(0)]);
    }
}
