//! `#[derive(DbEnum)]` enums into `Enum`s: type name, schema and value spelling (`rename_all`,
//! `rename`). Registers the Rust name so fields of that type map to the enum.

use std::collections::BTreeMap;

use retort_schema::{Enum, QualName};

use super::{at, Builder};
use crate::case;
use crate::syntax::EnumDecl;

impl Builder<'_> {
    pub(super) fn add_enum(&mut self, file: &str, e: &EnumDecl) {
        let schema = self.schema_of(file, e.schema.as_ref());
        let (name, name_pos) = match &e.name {
            Some(n) => (n.value.clone(), n.pos),
            None => (case::snake_case(&e.ident.value), e.ident.pos),
        };
        self.check_ident(file, name_pos, "enum type name", &name);
        let qn = QualName::new(schema, name);
        let rule = e.rename_all.as_ref().and_then(|r| {
            if case::rename("X", &r.value).is_some() {
                Some(r.value.as_str())
            } else {
                self.error(
                    file,
                    r.pos,
                    format!(
                        "unknown rename_all rule `{}`; expected one of {}",
                        r.value,
                        case::RENAME_RULES.join(", ")
                    ),
                );
                None
            }
        });
        let mut values = Vec::new();
        let mut seen = BTreeMap::new();
        for v in &e.variants {
            let (value, pos) = match &v.rename {
                Some(r) => (r.value.clone(), r.pos),
                None => {
                    let spelled = rule.and_then(|r| case::rename(&v.ident.value, r));
                    let value = spelled.unwrap_or_else(|| case::snake_case(&v.ident.value));
                    (value, v.ident.pos)
                }
            };
            if !self.check_ident(file, pos, "enum value", &value) {
                continue;
            }
            if seen.insert(value.clone(), pos).is_some() {
                self.error(
                    file,
                    pos,
                    format!("duplicate value `{value}` in enum type `{qn}`"),
                );
                continue;
            }
            if let Some(old) = &v.renamed_from {
                self.enum_value_renames.push(crate::EnumValueRename {
                    enum_type: qn.clone(),
                    from: old.value.clone(),
                    to: value.clone(),
                });
            }
            values.push(value);
        }
        let candidates = self.rust_enums.entry(e.ident.value.clone()).or_default();
        if !candidates.contains(&qn) {
            candidates.push(qn.clone());
        }
        let key = qn.to_string();
        if let Some(first) = self.origins.get(&key) {
            let message = format!("duplicate enum type `{key}`; first declared at {first}");
            self.error(file, e.ident.pos, message);
            return;
        }
        self.origins.insert(key, at(file, e.ident.pos));
        self.add_diesel_enum_mapping(file, e, &qn);
        self.catalog
            .schema_mut(&qn.schema)
            .enums
            .push(Enum { name: qn, values });
    }
}
