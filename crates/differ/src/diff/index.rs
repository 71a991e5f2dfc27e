//! Indexes of a table present on both sides, matched by name (renames detected). Indexes of
//! created and dropped tables are listed by `table`.

use super::keyed::{self, Changes};
use retort_schema::{Change, Table};

pub(super) fn diff(old: &Table, new: &Table, out: &mut Vec<Change>) {
    let table = &new.name;
    keyed::diff(
        &old.indexes,
        &new.indexes,
        Changes {
            add: &|i| Change::CreateIndex {
                table: table.clone(),
                index: i.clone(),
            },
            drop: &|i| Change::DropIndex {
                table: table.clone(),
                index: i.clone(),
            },
            rename: &|from, to| Change::RenameIndex {
                table: table.clone(),
                from: from.to_string(),
                to: to.to_string(),
            },
        },
        out,
    );
}
