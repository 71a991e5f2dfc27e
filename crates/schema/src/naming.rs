//! Naming conventions for constraints and indexes the models leave unnamed (Alembic-style tokens),
//! so names in the database are stable and predictable instead of PostgreSQL's defaults.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Table};
use crate::normalize::{self, MAX_IDENT};

/// Templates per object kind. Tokens (Alembic's spelling): `%(table_name)s`, `%(column_0_name)s`,
/// `%(column_0N_name)s` / `%(column_0_N_name)s` (all columns, joined by `_` / none),
/// `%(column_0_label)s` (`table_column`), `%(referred_table_name)s`, `%(referred_column_0_name)s`,
/// `%(constraint_name)s` (the name the model gives; a template with it renames named objects too,
/// and an unnamed one contributes PostgreSQL's default name). A kind without a template keeps
/// PostgreSQL's default name. `validate` refuses any other token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamingConvention {
    #[serde(default, alias = "pk")]
    pub primary_key: Option<String>,
    #[serde(default, alias = "uq")]
    pub unique: Option<String>,
    #[serde(default, alias = "fk")]
    pub foreign_key: Option<String>,
    #[serde(default, alias = "ix")]
    pub index: Option<String>,
    #[serde(default, alias = "ck")]
    pub check: Option<String>,
}

/// Every token a template may use.
pub const TOKENS: &[&str] = &[
    "table_name",
    "column_0N_name",
    "column_0_N_name",
    "column_0_name",
    "column_0_label",
    "referred_table_name",
    "referred_column_0_name",
    "constraint_name",
];

const CONSTRAINT_NAME: &str = "%(constraint_name)s";

struct Tokens<'a> {
    table: &'a str,
    columns: &'a [String],
    referred_table: &'a str,
    referred_columns: &'a [String],
}

fn expand(template: &str, t: &Tokens, constraint: &str) -> String {
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let name = template
        .replace(CONSTRAINT_NAME, constraint)
        .replace("%(table_name)s", t.table)
        .replace("%(column_0N_name)s", &t.columns.join(""))
        .replace("%(column_0_N_name)s", &t.columns.join("_"))
        .replace("%(column_0_name)s", &first(t.columns))
        .replace(
            "%(column_0_label)s",
            &format!("{}_{}", t.table, first(t.columns)),
        )
        .replace("%(referred_table_name)s", t.referred_table)
        .replace("%(referred_column_0_name)s", &first(t.referred_columns));
    let mut end = name.len().min(MAX_IDENT);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

impl NamingConvention {
    pub fn is_empty(&self) -> bool {
        *self == NamingConvention::default()
    }

    /// Refuses a template with a token that does not exist (it would stay in names literally).
    pub fn validate(&self) -> Result<(), String> {
        let kinds = [
            ("pk", &self.primary_key),
            ("uq", &self.unique),
            ("fk", &self.foreign_key),
            ("ix", &self.index),
            ("ck", &self.check),
        ];
        for (kind, tpl) in kinds {
            let Some(tpl) = tpl else { continue };
            let mut rest = tpl.as_str();
            while let Some(start) = rest.find("%(") {
                let after = &rest[start + 2..];
                let token = after.split_once(")s").map(|(t, _)| t);
                match token {
                    Some(t) if TOKENS.contains(&t) => rest = &after[t.len() + 2..],
                    _ => {
                        let shown = token.map_or_else(|| after.to_string(), |t| format!("%({t})s"));
                        return Err(format!(
                            "[naming] {kind} = {tpl:?}: unknown token {shown}; the tokens are {}",
                            TOKENS
                                .iter()
                                .map(|t| format!("%({t})s"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Renames every constraint and index that carries PostgreSQL's default name (so was left
    /// unnamed in the models) after the convention.
    pub fn apply(&self, catalog: &mut Catalog) {
        for s in &mut catalog.schemas {
            for t in &mut s.tables {
                self.apply_table(t);
            }
        }
    }

    fn apply_table(&self, t: &mut Table) {
        let table = t.name.name.clone();
        fn tokens<'a>(table: &'a str, columns: &'a [String]) -> Tokens<'a> {
            Tokens {
                table,
                columns,
                referred_table: "",
                referred_columns: &[],
            }
        }
        if let (Some(tpl), Some(pk)) = (&self.primary_key, &mut t.primary_key) {
            if pk.name == normalize::primary_key_name(&table) || tpl.contains(CONSTRAINT_NAME) {
                pk.name = expand(tpl, &tokens(&table, &pk.columns), &pk.name);
            }
        }
        if let Some(tpl) = &self.unique {
            for u in &mut t.uniques {
                if u.name == normalize::unique_name(&table, &u.columns)
                    || tpl.contains(CONSTRAINT_NAME)
                {
                    u.name = expand(tpl, &tokens(&table, &u.columns), &u.name);
                }
            }
        }
        if let Some(tpl) = &self.foreign_key {
            for f in &mut t.foreign_keys {
                if f.name == normalize::foreign_key_name(&table, &f.columns)
                    || tpl.contains(CONSTRAINT_NAME)
                {
                    f.name = expand(
                        tpl,
                        &Tokens {
                            table: &table,
                            columns: &f.columns,
                            referred_table: &f.ref_table.name,
                            referred_columns: &f.ref_columns,
                        },
                        &f.name,
                    );
                }
            }
        }
        if let Some(tpl) = &self.index {
            for i in &mut t.indexes {
                if i.name == normalize::index_name(&table, &i.keys) || tpl.contains(CONSTRAINT_NAME)
                {
                    let cols: Vec<String> = i
                        .keys
                        .iter()
                        .map(|k| normalize::index_key_column_name(k))
                        .collect();
                    i.name = expand(tpl, &tokens(&table, &cols), &i.name);
                }
            }
        }
        if let Some(tpl) = &self.check {
            let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            for c in &mut t.checks {
                let default_table = normalize::check_name(&table, &c.expr, &refs);
                let column = names
                    .iter()
                    .find(|n| c.name == normalize::object_name(&table, Some(n), "check"));
                if c.name == default_table || column.is_some() || tpl.contains(CONSTRAINT_NAME) {
                    let cols: Vec<String> = column.cloned().into_iter().collect();
                    c.name = expand(tpl, &tokens(&table, &cols), &c.name);
                }
            }
        }
        t.canonicalize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;
    use crate::types::ColumnType;

    #[test]
    fn default_names_follow_the_convention_and_explicit_names_stay() {
        let mut t = Table::new(QualName::new("public", "posts"));
        t.columns = vec![
            Column::new("id", ColumnType::BigInt),
            Column::new("author_id", ColumnType::BigInt),
        ];
        t.primary_key = Some(PrimaryKey {
            name: "posts_pkey".into(),
            columns: vec!["id".into()],
        });
        t.foreign_keys = vec![ForeignKey {
            name: "posts_author_id_fkey".into(),
            columns: vec!["author_id".into()],
            ref_table: QualName::new("public", "users"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: crate::catalog::Deferrable::NotDeferrable,
            match_full: false,
        }];
        t.indexes = vec![
            Index {
                name: "posts_author_id_idx".into(),
                unique: false,
                keys: vec!["author_id".into()],
                method: "btree".into(),
                include: vec![],
                predicate: None,
                invalid: false,
                nulls_not_distinct: false,
            },
            Index {
                name: "my_own_name".into(),
                unique: false,
                keys: vec!["id".into()],
                method: "btree".into(),
                include: vec![],
                predicate: None,
                invalid: false,
                nulls_not_distinct: false,
            },
        ];
        let conv = NamingConvention {
            primary_key: Some("pk_%(table_name)s".into()),
            foreign_key: Some("fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s".into()),
            index: Some("ix_%(column_0_label)s".into()),
            ..Default::default()
        };
        let mut c = Catalog::default();
        c.schema_mut("public").tables.push(t);
        conv.apply(&mut c);
        let t = &c.schemas[0].tables[0];
        assert_eq!(t.primary_key.as_ref().unwrap().name, "pk_posts");
        assert_eq!(t.foreign_keys[0].name, "fk_posts_author_id_users");
        let names: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["ix_posts_author_id", "my_own_name"]);
    }

    #[test]
    fn constraint_name_takes_the_model_name_and_unknown_tokens_are_refused() {
        let mut t = Table::new(QualName::new("public", "users"));
        t.checks = vec![Check {
            name: "positive_age".into(),
            expr: "age > 0".into(),
        }];
        let conv = NamingConvention {
            check: Some("ck_%(table_name)s_%(constraint_name)s".into()),
            ..Default::default()
        };
        assert_eq!(conv.validate(), Ok(()));
        let mut c = Catalog::default();
        c.schema_mut("public").tables.push(t);
        conv.apply(&mut c);
        assert_eq!(
            c.schemas[0].tables[0].checks[0].name,
            "ck_users_positive_age"
        );
        let bad = NamingConvention {
            unique: Some("uq_%(table)s".into()),
            ..Default::default()
        };
        let err = bad.validate().unwrap_err();
        assert!(err.contains("unknown token %(table)s"), "{err}");
        assert!(err.contains("%(constraint_name)s"), "{err}");
    }
}
