//! `#[derive(Table)]` structs into `Table`s: columns in field order, then the primary key, unique
//! constraints, checks and indexes, all named with `normalize`'s PostgreSQL naming rules.

use std::collections::BTreeMap;

use retort_schema::{
    index_key, normalize, Check, Column, ColumnType, Deferrable, Identity, Index, PrimaryKey,
    QualName, Table, Unique,
};

use super::{at, Builder, PendingFk};
use crate::map_type::{self, MapError};
use crate::sql;
use crate::syntax::{FieldDecl, KeyPart, Pos, Spanned, TableDecl};
use crate::RenameHint;

/// The columns declared so far: SQL name -> position, and Rust field name -> SQL name.
#[derive(Default)]
struct Columns {
    sql: BTreeMap<String, Pos>,
    fields: BTreeMap<String, String>,
}

impl Columns {
    /// A column named in an attribute, by its SQL name or by its field name.
    fn resolve(&self, name: &str) -> Option<String> {
        if self.sql.contains_key(name) {
            Some(name.to_string())
        } else {
            self.fields.get(name).cloned()
        }
    }
}

/// Splits the ordering suffix off an index key: `created_at DESC NULLS LAST`.
/// Returns the key body and the suffix PostgreSQL prints (defaults are dropped).
fn split_order(key: &str) -> (&str, String) {
    let mut body = key.trim();
    let ends = |body: &str, word: &str| {
        body.len() > word.len()
            && body.is_char_boundary(body.len() - word.len())
            && body[body.len() - word.len()..].eq_ignore_ascii_case(word)
    };
    let mut nulls = None;
    for (word, first) in [(" nulls first", true), (" nulls last", false)] {
        if ends(body, word) {
            body = body[..body.len() - word.len()].trim_end();
            nulls = Some(first);
        }
    }
    let mut desc = false;
    for (word, is_desc) in [(" desc", true), (" asc", false)] {
        if ends(body, word) {
            body = body[..body.len() - word.len()].trim_end();
            desc = is_desc;
        }
    }
    let mut suffix = String::new();
    if desc {
        suffix.push_str(" DESC");
    }
    match (desc, nulls) {
        (false, Some(true)) => suffix.push_str(" NULLS FIRST"),
        (true, Some(false)) => suffix.push_str(" NULLS LAST"),
        _ => {}
    }
    (body, suffix)
}

impl Builder<'_> {
    pub(super) fn add_table(&mut self, file: &str, t: &TableDecl) {
        let schema = self.schema_of(file, t.schema.as_ref());
        let (name, name_pos) = match &t.name {
            Some(n) => (n.value.clone(), n.pos),
            None => (crate::case::snake_case(&t.ident.value), t.ident.pos),
        };
        self.check_ident(file, name_pos, "table name", &name);
        let qn = QualName::new(schema, name);
        let key = qn.to_string();
        let span = at(file, t.ident.pos);
        if let Some(first) = self.origins.get(&key) {
            let message = if self.catalog.enum_type(&qn).is_some() {
                format!("table `{key}` has the same name as the enum type declared at {first}")
            } else {
                format!("duplicate table `{key}`; first declared at {first}")
            };
            self.error(file, t.ident.pos, message);
            return;
        }
        self.dialects.insert(key.clone(), crate::Dialect::Native);
        self.origins.insert(key, span);
        self.record_name(file, t.ident.pos, &qn, qn.name.clone(), true, false);
        if let Some(from) = &t.renamed_from {
            self.renames.push(RenameHint {
                table: qn.clone(),
                column: None,
                from: from.value.clone(),
            });
        }
        let mut table = Table::new(qn);
        table.comment = t.comment.as_ref().map(|c| c.value.clone());
        let mut columns = Columns::default();
        let mut pk_fields = Vec::new();
        table.columns.reserve_exact(t.fields.len());
        for field in &t.fields {
            self.add_column(file, &mut table, field, &mut columns, &mut pk_fields);
        }
        self.add_primary_key(file, t, &mut table, &columns, &pk_fields);
        self.add_uniques(file, t, &mut table, &columns);
        self.add_checks(file, t, &mut table);
        self.add_indexes(file, t, &mut table, &columns);
        shrink(&mut table);
        let schema = table.name.schema.clone();
        self.catalog.schema_mut(&schema).tables.push(table);
    }

    fn add_column(
        &mut self,
        file: &str,
        table: &mut Table,
        field: &FieldDecl,
        columns: &mut Columns,
        pk_fields: &mut Vec<(String, Pos)>,
    ) {
        let c = &field.column;
        if c.skip.is_some() {
            return;
        }
        let (name, name_pos) = match &c.name {
            Some(n) => (n.value.clone(), n.pos),
            None => (field.ident.value.clone(), field.ident.pos),
        };
        self.check_ident(file, name_pos, "column name", &name);
        let label = format!("{}.{}", table.name.name, name);
        if !self.claim_column(file, &mut columns.sql, &name, &label, field.ident.pos) {
            return;
        }
        columns
            .fields
            .insert(field.ident.value.clone(), name.clone());
        self.origins.insert(
            format!("{}.{}", table.name, name),
            at(file, field.ident.pos),
        );
        if let Some(from) = &c.renamed_from {
            self.renames.push(RenameHint {
                table: table.name.clone(),
                column: Some(name.clone()),
                from: from.value.clone(),
            });
        }

        let (inner, option) = map_type::strip_option(&field.ty);
        // `type = "serial"` (and bigserial, smallserial): the integer type with a serial default.
        let serial =
            c.ty.as_ref()
                .and_then(|given| ColumnType::parse_serial(&given.value).map(|ty| (ty, given.pos)));
        let ty = match &c.ty {
            Some(_) if serial.is_some() => serial.as_ref().map(|(ty, _)| ty.clone()).unwrap(),
            Some(given) => self.sql_type(file, given, &label),
            None => match map_type::map(inner, &self.rust_enums) {
                Ok(ty) => ty,
                Err(MapError::Unknown { text, pos }) => {
                    let message = format!(
                        "unknown Rust type `{text}` for column `{label}`; \
                         add #[column(type = \"...\")]"
                    );
                    self.unresolved(file, pos, &super::last_word(&text), message);
                    placeholder()
                }
                Err(MapError::Ambiguous {
                    text,
                    pos,
                    candidates,
                }) => {
                    let names: Vec<String> = candidates.iter().map(|n| format!("`{n}`")).collect();
                    let message = format!(
                        "ambiguous Rust type `{text}` for column `{label}`: it names enum types {}; \
                         add #[column(type = \"...\")]",
                        names.join(", ")
                    );
                    self.error(file, pos, message);
                    placeholder()
                }
            },
        };

        let mut column = Column::new(name.clone(), ty.clone());
        column.nullable = option || c.nullable.is_some();
        column.comment = c.comment.as_ref().map(|x| x.value.clone());
        if let Some(identity) = &c.identity {
            let kind = match identity.value.as_deref() {
                None | Some("by_default") | Some("by default") => Some(Identity::ByDefault),
                Some("always") => Some(Identity::Always),
                Some(other) => {
                    let message = format!(
                        "invalid identity `{other}` for column `{label}`; \
                         expected \"always\" or \"by_default\""
                    );
                    self.error(file, identity.pos, message);
                    None
                }
            };
            if !matches!(
                ty,
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
            ) && ty != placeholder()
            {
                let message = format!(
                    "identity column `{label}` must be smallint, integer or bigint, not {ty}"
                );
                self.error(file, identity.pos, message);
            }
            column.identity = kind;
            column.nullable = false;
        }
        if let Some((_, pos)) = serial {
            if c.identity.is_some() {
                let message = format!(
                    "column `{label}` cannot be both a serial and an identity; \
                     use `type = \"serial\"` or `identity`, not both"
                );
                self.error(file, pos, message);
            } else {
                // serial columns are NOT NULL, as in PostgreSQL.
                column.identity = Some(Identity::Serial);
                column.nullable = false;
            }
        }
        if let Some(default) = &c.default {
            if serial.is_some() {
                let message = format!(
                    "serial column `{label}` cannot also have a `default`: its default is the \
                     sequence's next value"
                );
                self.error(file, default.pos, message);
            } else if c.identity.is_some() {
                let message = format!("column `{label}` cannot have both `identity` and `default`");
                self.error(file, default.pos, message);
            } else if self.fragment(file, "default", default) {
                column.default = Some(normalize::default_expr(&default.value, &ty));
            }
        }
        if let Some(generated) = &c.generated {
            if c.identity.is_some() || c.default.is_some() || serial.is_some() {
                let message = format!(
                    "generated column `{label}` cannot also have `identity`, `default` or a \
                     serial type"
                );
                self.error(file, generated.pos, message);
            } else if self.fragment(file, "generated", generated) {
                column.generated = Some(normalize::bool_expr(&generated.value));
            }
        }
        if let Some(pos) = c.primary_key {
            pk_fields.push((name.clone(), pos));
        }
        let cols = vec![name.clone()];
        if let Some(pos) = c.unique {
            let unique = Unique {
                name: normalize::unique_name(&table.name.name, &cols),
                columns: cols.clone(),
                nulls_not_distinct: false,
            };
            self.use_name(file, pos, &table.name, &unique.name, true, true);
            table.uniques.push(unique);
        }
        if let Some(pos) = c.index {
            self.add_column_index(file, pos, table, &cols);
        }
        if let Some(check) = &c.check {
            if self.fragment(file, "check", check) {
                let name = normalize::object_name(&table.name.name, Some(&name), "check");
                self.use_name(file, check.pos, &table.name, &name, false, true);
                table.checks.push(Check {
                    name,
                    expr: normalize::bool_expr(&check.value),
                });
            }
        }
        let on_delete = self.fk_action(file, c.on_delete.as_ref());
        let on_update = self.fk_action(file, c.on_update.as_ref());
        match &c.references {
            Some(target) => self.pending_fks.push(PendingFk {
                table: table.name.clone(),
                column: name.clone(),
                target: target.clone(),
                file: file.to_string(),
                on_delete,
                on_update,
                deferrable: if c.initially_deferred.is_some() {
                    Deferrable::InitiallyDeferred
                } else if c.deferrable.is_some() {
                    Deferrable::InitiallyImmediate
                } else {
                    Deferrable::NotDeferrable
                },
                match_full: c.match_full.is_some(),
            }),
            None => {
                for (key, given) in [("on_delete", &c.on_delete), ("on_update", &c.on_update)] {
                    if let Some(given) = given {
                        self.error(file, given.pos, format!("`{key}` needs `references`"));
                    }
                }
                for (key, given) in [
                    ("deferrable", c.deferrable),
                    ("initially_deferred", c.initially_deferred),
                    ("match_full", c.match_full),
                ] {
                    if let Some(pos) = given {
                        self.error(file, pos, format!("`{key}` needs `references`"));
                    }
                }
            }
        }
        table.columns.push(column);
    }

    /// Records column `name` of a table at `pos`; a second declaration of the same name is an
    /// error naming the first (both dialects). Returns false for a duplicate.
    pub(super) fn claim_column(
        &mut self,
        file: &str,
        seen: &mut BTreeMap<String, Pos>,
        name: &str,
        label: &str,
        pos: Pos,
    ) -> bool {
        if let Some(first) = seen.get(name) {
            let message = format!(
                "duplicate column `{label}`; first declared at {}",
                at(file, *first)
            );
            self.error(file, pos, message);
            return false;
        }
        seen.insert(name.to_string(), pos);
        true
    }

    /// A plain btree index on `cols` with PostgreSQL's default name (`#[column(index)]`, SeaORM's
    /// `indexed`).
    pub(super) fn add_column_index(
        &mut self,
        file: &str,
        pos: Pos,
        table: &mut Table,
        cols: &[String],
    ) {
        let index = Index {
            name: normalize::index_name(&table.name.name, cols),
            unique: false,
            keys: cols.iter().map(|c| index_key::column_key(c)).collect(),
            method: "btree".into(),
            include: Vec::new(),
            predicate: None,
            invalid: false,
            nulls_not_distinct: false,
        };
        self.use_name(file, pos, &table.name, &index.name, true, false);
        table.indexes.push(index);
    }

    /// A `type = "..."` override; a user type must be an enum declared in the model files.
    fn sql_type(&mut self, file: &str, given: &Spanned<String>, label: &str) -> ColumnType {
        let Some(ty) = ColumnType::parse(&given.value, &self.opts.default_schema) else {
            let message = format!("invalid column type `{}` for column `{label}`", given.value);
            self.error(file, given.pos, message);
            return placeholder();
        };
        let mut element = &ty;
        while let ColumnType::Array { element: inner } = element {
            element = inner;
        }
        // A schema-qualified name refers to a type that exists in the database (a domain, a
        // composite or an extension's type); an unqualified one must be a DbEnum of the models,
        // so that a typo is an error rather than a silent reference.
        let qualified = given.value.trim_end_matches("[]").contains('.');
        if let ColumnType::Named { name } = element {
            if self.catalog.enum_type(name).is_none() && !qualified {
                let message = format!(
                    "unknown type `{name}` for column `{label}`; \
                     declare it with #[derive(DbEnum)], or write it schema-qualified \
                     (`{name}`) to use a domain or other type of the database"
                );
                let referenced = name.name.clone();
                self.unresolved(file, given.pos, &referenced, message);
            }
        }
        ty
    }

    /// Resolves `columns(...)` of a primary key or unique constraint: column names only.
    fn column_list(
        &mut self,
        file: &str,
        parts: &[Spanned<KeyPart>],
        columns: &Columns,
        what: &str,
        table: &str,
    ) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for part in parts {
            let name = match &part.value {
                KeyPart::Column(c) | KeyPart::Expr(c) => c.trim(),
            };
            match columns.resolve(name) {
                Some(col) if out.contains(&col) => {
                    let message = format!("column `{col}` appears twice in #[{what}]");
                    self.error(file, part.pos, message);
                    ok = false;
                }
                Some(col) => out.push(col),
                None => {
                    let message = match &part.value {
                        KeyPart::Column(_) => {
                            format!("unknown column `{name}` in #[{what}] on table `{table}`")
                        }
                        KeyPart::Expr(_) => format!(
                            "`{name}` is not a column of table `{table}`; \
                             #[{what}] takes column names only"
                        ),
                    };
                    self.error(file, part.pos, message);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn add_primary_key(
        &mut self,
        file: &str,
        t: &TableDecl,
        table: &mut Table,
        columns: &Columns,
        pk_fields: &[(String, Pos)],
    ) {
        let label = table.name.name.clone();
        let (pk, pos) = match t.primary_keys.as_slice() {
            [] => match pk_fields.first() {
                None => return,
                Some((_, pos)) => {
                    let cols = pk_fields.iter().map(|(c, _)| c.clone()).collect();
                    (
                        PrimaryKey {
                            name: normalize::primary_key_name(&label),
                            columns: cols,
                        },
                        *pos,
                    )
                }
            },
            [decl, rest @ ..] => {
                for extra in rest {
                    let message = format!("table `{label}` has more than one #[primary_key]");
                    self.error(file, extra.pos, message);
                }
                if let Some((_, pos)) = pk_fields.first() {
                    let message = format!(
                        "table `{label}` declares its primary key with both #[primary_key] \
                         and #[column(primary_key)]"
                    );
                    self.error(file, *pos, message);
                }
                let Some(cols) =
                    self.column_list(file, &decl.columns, columns, "primary_key", &label)
                else {
                    return;
                };
                let name = match &decl.name {
                    Some(n) => n.value.clone(),
                    None => normalize::primary_key_name(&label),
                };
                (
                    PrimaryKey {
                        name,
                        columns: cols,
                    },
                    decl.pos,
                )
            }
        };
        for col in &pk.columns {
            if let Some(column) = table.column_mut(col) {
                column.nullable = false;
            }
        }
        self.use_name(file, pos, &table.name, &pk.name, true, true);
        table.primary_key = Some(pk);
    }

    fn add_uniques(&mut self, file: &str, t: &TableDecl, table: &mut Table, columns: &Columns) {
        let label = table.name.name.clone();
        for decl in &t.uniques {
            let Some(cols) = self.column_list(file, &decl.columns, columns, "unique", &label)
            else {
                continue;
            };
            let name = match &decl.name {
                Some(n) => n.value.clone(),
                None => normalize::unique_name(&label, &cols),
            };
            self.use_name(file, decl.pos, &table.name, &name, true, true);
            table.uniques.push(Unique {
                name,
                columns: cols,
                nulls_not_distinct: decl.nulls_not_distinct,
            });
        }
    }

    fn add_checks(&mut self, file: &str, t: &TableDecl, table: &mut Table) {
        for decl in &t.checks {
            if !self.fragment(file, "expr", &decl.expr) {
                continue;
            }
            let expr = normalize::bool_expr(&decl.expr.value);
            let name = match &decl.name {
                Some(n) => n.value.clone(),
                None => {
                    let cols: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                    normalize::check_name(&table.name.name, &expr, &cols)
                }
            };
            self.use_name(file, decl.pos, &table.name, &name, false, true);
            table.checks.push(Check { name, expr });
        }
    }

    fn add_indexes(&mut self, file: &str, t: &TableDecl, table: &mut Table, columns: &Columns) {
        let label = table.name.name.clone();
        for decl in &t.indexes {
            let mut keys = Vec::new();
            let mut ok = true;
            for part in &decl.columns {
                match &part.value {
                    KeyPart::Column(c) => match columns.resolve(c) {
                        Some(col) => keys.push(index_key::column_key(&col)),
                        None => {
                            let message =
                                format!("unknown column `{c}` in #[index] on table `{label}`");
                            self.error(file, part.pos, message);
                            ok = false;
                        }
                    },
                    KeyPart::Expr(e) => {
                        let (body, suffix) = split_order(e);
                        // `column opclass`, e.g. "data jsonb_path_ops".
                        let with_opclass =
                            body.split_once(char::is_whitespace).and_then(|(c, op)| {
                                let op = op.trim();
                                columns
                                    .resolve(c)
                                    .filter(|_| sql::is_qualified_identifier(op))
                                    .map(|col| {
                                        let col = index_key::column_key(&col);
                                        format!("{col} {}", op.to_ascii_lowercase())
                                    })
                            });
                        if let Some(col) = columns.resolve(body) {
                            keys.push(format!("{}{suffix}", index_key::column_key(&col)));
                        } else if let Some(key) = with_opclass {
                            keys.push(format!("{key}{suffix}"));
                        } else {
                            let body = Spanned {
                                value: body.to_string(),
                                pos: part.pos,
                            };
                            if self.fragment(file, "columns", &body) {
                                keys.push(format!(
                                    "({}){suffix}",
                                    normalize::bool_expr(&body.value)
                                ));
                            } else {
                                ok = false;
                            }
                        }
                    }
                }
            }
            let include = self.column_list(file, &decl.include, columns, "index", &label);
            let predicate = match &decl.predicate {
                Some(p) if self.fragment(file, "where", p) => Some(normalize::bool_expr(&p.value)),
                Some(_) => {
                    ok = false;
                    None
                }
                None => None,
            };
            let method = match &decl.method {
                Some(m) if m.value.trim().is_empty() => {
                    self.error(file, m.pos, "index method must not be empty");
                    ok = false;
                    String::new()
                }
                Some(m) if !sql::is_identifier(m.value.trim()) => {
                    let message = format!(
                        "invalid index method `{}`; expected an access method name such as \
                         btree, hash, gin, gist, spgist or brin",
                        m.value.escape_debug()
                    );
                    self.error(file, m.pos, message);
                    ok = false;
                    String::new()
                }
                Some(m) => m.value.trim().to_ascii_lowercase(),
                None => "btree".into(),
            };
            let (true, Some(include)) = (ok, include) else {
                continue;
            };
            let name = match &decl.name {
                Some(n) => n.value.clone(),
                None => normalize::index_name(&label, &keys),
            };
            self.use_name(file, decl.pos, &table.name, &name, true, false);
            table.indexes.push(Index {
                name,
                unique: decl.unique,
                keys,
                method,
                include,
                predicate,
                invalid: false,
                nulls_not_distinct: decl.nulls_not_distinct,
            });
        }
    }
}

/// Drops the spare capacity of a table's lists as soon as it is built: with thousands of tables
/// it adds up, and the catalog lives on after reading.
pub(super) fn shrink(table: &mut Table) {
    table.columns.shrink_to_fit();
    table.uniques.shrink_to_fit();
    table.checks.shrink_to_fit();
    table.indexes.shrink_to_fit();
}

/// Stands in for a type that could not be resolved; an error has been reported.
pub(super) fn placeholder() -> ColumnType {
    ColumnType::Other {
        sql: "<unresolved>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::split_order;

    #[test]
    fn index_key_order_suffixes() {
        assert_eq!(split_order("created_at"), ("created_at", String::new()));
        assert_eq!(
            split_order("created_at DESC"),
            ("created_at", " DESC".into())
        );
        assert_eq!(split_order("a desc nulls first"), ("a", " DESC".into()));
        assert_eq!(
            split_order("a DESC NULLS LAST"),
            ("a", " DESC NULLS LAST".into())
        );
        assert_eq!(split_order("a nulls first"), ("a", " NULLS FIRST".into()));
        assert_eq!(split_order("a ASC NULLS LAST"), ("a", String::new()));
        assert_eq!(split_order("lower(a)"), ("lower(a)", String::new()));
    }
}
