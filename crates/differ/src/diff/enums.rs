//! Enum types: created, dropped, or their label list altered (the renderer decides between
//! `ADD VALUE` and a rebuild).

use super::keyed::by_key;
use retort_schema::{Catalog, Change};

pub(super) fn diff(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let old = by_key(from.enums(), |e| e.name.clone());
    let new = by_key(to.enums(), |e| e.name.clone());
    for (name, e) in &new {
        match old.get(name) {
            None => out.push(Change::CreateEnum {
                enum_type: (*e).clone(),
            }),
            Some(o) if o.values != e.values => out.push(Change::AlterEnum {
                name: name.clone(),
                from: o.values.clone(),
                to: e.values.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, e) in &old {
        if !new.contains_key(name) {
            out.push(Change::DropEnum {
                enum_type: (*e).clone(),
            });
        }
    }
}
