//! Matching of two lists of named objects (constraints, indexes): added, dropped, changed
//! (drop + add) and renamed (an old and a new object equal but for their names).

use retort_schema::{Change, Check, ForeignKey, Index, Unique};
use std::collections::{BTreeMap, BTreeSet};

/// Indexes `items` by `key`.
pub(super) fn by_key<'a, T: 'a, K: Ord>(
    items: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, &'a T> {
    items.map(|i| (key(i), i)).collect()
}

/// An object matched by its name within a table.
pub(super) trait Named: PartialEq + Clone {
    fn name(&self) -> &String;
    /// The same object under another name.
    fn renamed(&self, name: &str) -> Self;
}

macro_rules! named {
    ($($t:ty),*) => {$(
        impl Named for $t {
            fn name(&self) -> &String {
                &self.name
            }
            fn renamed(&self, name: &str) -> Self {
                Self { name: name.to_string(), ..self.clone() }
            }
        }
    )*};
}
named!(Unique, Check, ForeignKey, Index);

/// How a kind's changes are spelled.
pub(super) struct Changes<'a, T> {
    pub add: &'a dyn Fn(&T) -> Change,
    pub drop: &'a dyn Fn(&T) -> Change,
    pub rename: &'a dyn Fn(&str, &str) -> Change,
}

/// Pushes the changes that turn the list `old` into `new`. A new object equal to a vanished one
/// but for its name is a rename; an object whose name stays but whose definition changes is
/// dropped and added again.
pub(super) fn diff<T: Named>(old: &[T], new: &[T], k: Changes<'_, T>, out: &mut Vec<Change>) {
    let old_map = by_key(old.iter(), |x| x.name().clone());
    let new_map = by_key(new.iter(), |x| x.name().clone());
    let mut gone: Vec<&T> = old_map
        .iter()
        .filter(|(n, _)| !new_map.contains_key(*n))
        .map(|(_, o)| *o)
        .collect();
    let mut renamed_to = BTreeSet::new();
    for (n, x) in &new_map {
        if old_map.contains_key(n) {
            continue;
        }
        if let Some(pos) = gone.iter().position(|o| o.renamed(n) == **x) {
            let o = gone.remove(pos);
            out.push((k.rename)(o.name(), n));
            renamed_to.insert(n.clone());
        }
    }
    for (n, o) in &old_map {
        match new_map.get(n) {
            None if gone.iter().any(|g| g.name() == n) => out.push((k.drop)(o)),
            Some(x) if x != o => out.push((k.drop)(o)),
            _ => {}
        }
    }
    for (n, x) in &new_map {
        match old_map.get(n) {
            Some(o) if o == x => {}
            _ if renamed_to.contains(n) => {}
            _ => out.push((k.add)(x)),
        }
    }
}
