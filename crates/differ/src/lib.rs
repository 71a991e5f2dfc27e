//! The differ: (database IR, model IR) -> ordered `Vec<Change>`. Pure, no IO.
//! `diff` matches objects by key and compares normalised IR with `==`; `order` sorts the result.

mod diff;
mod guard;
mod order;

pub use diff::{diff_unordered, diff_unordered_with, table_shell, EnumValueRename, Hints, Rename};
pub use guard::{verify, Unresolved};
pub use order::order;

use retort_schema::{Catalog, Change};

/// The ordered changes that turn `from` into `to`.
pub fn diff(from: &Catalog, to: &Catalog) -> Vec<Change> {
    order(diff_unordered(from, to))
}

/// The ordered changes that turn `from` into `to`, honouring `renamed_from` hints.
pub fn diff_with(from: &Catalog, to: &Catalog, hints: &Hints) -> Vec<Change> {
    order(diff_unordered_with(from, to, hints))
}

/// The changes that undo `changes`: each inverse, in reverse order.
pub fn inverse(changes: &[Change]) -> Vec<Change> {
    changes.iter().rev().map(Change::inverse).collect()
}
