//! SeaORM entities into the IR: `DeriveActiveEnum` enums, `DeriveEntityModel` models (one table
//! each, with SeaORM's defaults: an integer primary key auto-increments) and the `belongs_to`
//! variants of `DeriveRelation` enums (foreign keys), resolved by entity module name once every
//! model is known. A model at the top of a file belongs to the module named by the file's stem.

use std::collections::BTreeMap;
use std::path::Path;

use retort_schema::{
    normalize, Column, ColumnType, Enum, FkAction, ForeignKey, Identity, PrimaryKey, QualName,
    Table, Unique,
};

use super::tables::placeholder;
use super::{at, Builder};
use crate::case;
use crate::map_type::strip_option;
use crate::seaorm_types::{self, TypeError};
use crate::syntax::{
    Pos, SeaEnumDecl, SeaFieldDecl, SeaModelDecl, SeaRelationDecl, SeaRelationVariant, Spanned,
};
use crate::RenameHint;

/// An entity read from a `DeriveEntityModel` struct, for relation lookup.
pub(super) struct SeaEntity {
    file: String,
    /// The file's module (its stem), then the inline modules around the model.
    module: Vec<String>,
    table: QualName,
    /// `Column` enum variant (`FruitId`) -> column name (`fruit_id`).
    variants: BTreeMap<String, String>,
}

impl SeaEntity {
    fn name(&self) -> &str {
        self.module.last().map(String::as_str).unwrap_or_default()
    }
}

/// The module a file stands for: its stem, or its directory's name for `mod.rs`.
fn file_module(file: &str) -> String {
    let path = Path::new(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem == "mod" {
        if let Some(dir) = path.parent().and_then(Path::file_name) {
            return dir.to_string_lossy().into_owned();
        }
    }
    stem
}

fn module_path(file: &str, inline: &[String]) -> Vec<String> {
    let mut path = vec![file_module(file)];
    path.extend(inline.iter().cloned());
    path
}

/// Path segments of a Rust path written in a string, without `super`/`crate`/`self`.
fn named_segments(path: &syn::Path) -> Vec<String> {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .filter(|s| !matches!(s.as_str(), "super" | "crate" | "self"))
        .collect()
}

/// What one model accumulates while its fields are read.
#[derive(Default)]
struct ModelState {
    columns: BTreeMap<String, Pos>,
    variants: BTreeMap<String, String>,
    primary_key: Vec<(String, Pos)>,
    auto_increment: Option<Spanned<bool>>,
    /// `unique_key` groups in order of first use.
    unique_keys: Vec<(String, Vec<String>, Pos)>,
}

fn is_integer(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
    )
}

impl Builder<'_> {
    /// A `rename_all` rule, checked; None (with an error) when unknown.
    fn sea_rename_rule<'a>(
        &mut self,
        file: &str,
        rule: Option<&'a Spanned<String>>,
    ) -> Option<&'a str> {
        let rule = rule?;
        if case::rename("X", &rule.value).is_some() {
            Some(rule.value.as_str())
        } else {
            self.error(
                file,
                rule.pos,
                format!(
                    "unknown rename_all rule `{}`; expected one of {}",
                    rule.value,
                    case::RENAME_RULES.join(", ")
                ),
            );
            None
        }
    }

    /// The database types declared for a Rust enum name (active enums, then native DbEnums).
    fn sea_enum_types(&self, name: &str) -> Vec<ColumnType> {
        let mut out: Vec<ColumnType> = self.sea_enums.get(name).cloned().unwrap_or_default();
        for qn in self.rust_enums.get(name).into_iter().flatten() {
            let named = ColumnType::Named { name: qn.clone() };
            if !out.contains(&named) {
                out.push(named);
            }
        }
        out
    }

    pub(super) fn add_sea_enum(&mut self, file: &str, e: &SeaEnumDecl) {
        let Some(db_type) = &e.db_type else {
            let message = format!(
                "#[derive(DeriveActiveEnum)] `{}` needs #[sea_orm(db_type = \"...\")]",
                e.ident.value
            );
            self.error(file, e.ident.pos, message);
            return;
        };
        if db_type.value.trim() != "Enum" {
            // Stored as a plain column type (`String(StringLen::N(1))`, `Integer`, ...).
            match seaorm_types::parse_column_type(&db_type.value, &self.opts.default_schema) {
                Ok(ty) => {
                    let types = self.sea_enums.entry(e.ident.value.clone()).or_default();
                    if !types.contains(&ty) {
                        types.push(ty);
                    }
                }
                Err(message) => {
                    let message = format!("invalid db_type `{}`: {message}", db_type.value);
                    self.error(file, db_type.pos, message);
                }
            }
            return;
        }
        let (name, name_pos) = match &e.enum_name {
            Some(n) => (n.value.clone(), n.pos),
            // SeaORM names the type after the Rust enum, in UpperCamelCase.
            None => (
                case::rename(&e.ident.value, "PascalCase").unwrap_or_default(),
                e.ident.pos,
            ),
        };
        self.check_ident(file, name_pos, "enum type name", &name);
        let qn = QualName::new(self.opts.default_schema.clone(), name);
        let rule = self.sea_rename_rule(file, e.rename_all.as_ref());
        let mut values = Vec::new();
        let mut seen = BTreeMap::new();
        for v in &e.variants {
            let (value, pos) = match (&v.string_value, v.num_value, rule) {
                (Some(s), _, _) => (s.value.clone(), s.pos),
                (None, None, Some(rule)) => (
                    case::rename(&v.ident.value, rule).unwrap_or_default(),
                    v.ident.pos,
                ),
                (None, Some(pos), _) => {
                    let message = format!(
                        "variant `{}` of enum type `{qn}` has a number; db_type = \"Enum\" takes \
                         #[sea_orm(string_value = \"...\")] (use db_type = \"Integer\" for numbers)",
                        v.ident.value
                    );
                    self.error(file, pos, message);
                    continue;
                }
                (None, None, None) => {
                    let message = format!(
                        "variant `{}` of enum type `{qn}` needs #[sea_orm(string_value = \"...\")]",
                        v.ident.value
                    );
                    self.error(file, v.ident.pos, message);
                    continue;
                }
            };
            if !self.check_ident(file, pos, "enum value", &value) {
                continue;
            }
            if seen.insert(value.clone(), pos).is_some() {
                let message = format!("duplicate value `{value}` in enum type `{qn}`");
                self.error(file, pos, message);
                continue;
            }
            values.push(value);
        }
        let key = qn.to_string();
        if let Some(first) = self.origins.get(&key) {
            let message = format!("duplicate enum type `{key}`; first declared at {first}");
            self.error(file, e.ident.pos, message);
            return;
        }
        let named = ColumnType::Named { name: qn.clone() };
        let types = self.sea_enums.entry(e.ident.value.clone()).or_default();
        if !types.contains(&named) {
            types.push(named);
        }
        let natives = self.rust_enums.entry(e.ident.value.clone()).or_default();
        if !natives.contains(&qn) {
            natives.push(qn.clone());
        }
        self.origins.insert(key, at(file, e.ident.pos));
        self.catalog
            .schema_mut(&qn.schema)
            .enums
            .push(Enum { name: qn, values });
    }

    pub(super) fn add_sea_model(&mut self, file: &str, m: &SeaModelDecl) {
        let Some(table_name) = &m.table_name else {
            let message = format!(
                "#[derive(DeriveEntityModel)] `{}` needs #[sea_orm(table_name = \"...\")]",
                m.ident.value
            );
            self.error(file, m.ident.pos, message);
            return;
        };
        let schema = self.schema_of(file, m.schema_name.as_ref());
        self.check_ident(file, table_name.pos, "table name", &table_name.value);
        let qn = QualName::new(schema, table_name.value.clone());
        let key = qn.to_string();
        let span = at(file, m.ident.pos);
        if let Some(first) = self.origins.get(&key) {
            let message = if self.catalog.enum_type(&qn).is_some() {
                format!("table `{key}` has the same name as the enum type declared at {first}")
            } else {
                format!("duplicate table `{key}`; first declared at {first}")
            };
            self.error(file, table_name.pos, message);
            return;
        }
        self.dialects.insert(key.clone(), crate::Dialect::SeaOrm);
        self.origins.insert(key, span);
        self.record_name(file, m.ident.pos, &qn, qn.name.clone(), true, false);
        let rule = self.sea_rename_rule(file, m.rename_all.as_ref());
        let mut table = Table::new(qn.clone());
        table.comment = m.comment.as_ref().map(|c| c.value.clone());
        let mut state = ModelState::default();
        for field in &m.fields {
            self.add_sea_column(file, &mut table, field, rule, &mut state);
        }
        self.add_sea_keys(file, m, &mut table, &mut state);
        super::tables::shrink(&mut table);
        self.sea_entities.push(SeaEntity {
            file: file.to_string(),
            module: module_path(file, &m.module),
            table: qn,
            variants: std::mem::take(&mut state.variants),
        });
        let schema = table.name.schema.clone();
        self.catalog.schema_mut(&schema).tables.push(table);
    }

    fn add_sea_column(
        &mut self,
        file: &str,
        table: &mut Table,
        field: &SeaFieldDecl,
        rule: Option<&str>,
        state: &mut ModelState,
    ) {
        let c = &field.column;
        if c.ignore.is_some() {
            return;
        }
        let (name, name_pos) = match (&c.column_name, rule) {
            (Some(n), _) => (n.value.clone(), n.pos),
            (None, Some(rule)) => (
                case::rename(&field.ident.value, rule).unwrap_or_default(),
                field.ident.pos,
            ),
            (None, None) => (case::snake_case(&field.ident.value), field.ident.pos),
        };
        self.check_ident(file, name_pos, "column name", &name);
        let label = format!("{}.{}", table.name.name, name);
        if !self.claim_column(file, &mut state.columns, &name, &label, field.ident.pos) {
            return;
        }
        let variant = match &c.enum_name {
            Some(v) => v.value.clone(),
            None => case::rename(&field.ident.value, "PascalCase").unwrap_or_default(),
        };
        state.variants.insert(variant, name.clone());
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

        let ty = self.sea_column_type(file, field, &label);
        let (_, option) = strip_option(&field.ty);
        let mut column = Column::new(name.clone(), ty.clone());
        column.nullable = option || c.nullable.is_some();
        column.comment = c.comment.as_ref().map(|x| x.value.clone());
        match (&c.default_value, &c.default_expr) {
            (Some(_), Some(expr)) => {
                let message =
                    format!("column `{label}` cannot have both default_value and default_expr");
                self.error(file, expr.pos, message);
            }
            (Some(value), None) => {
                column.default = Some(normalize::default_expr(&value.value, &ty));
            }
            (None, Some(expr)) => match seaorm_types::default_expr_sql(&expr.value) {
                Ok(sql) => {
                    let sql = Spanned {
                        value: sql,
                        pos: expr.pos,
                    };
                    if self.fragment(file, "default_expr", &sql) {
                        column.default = Some(normalize::default_expr(&sql.value, &ty));
                    }
                }
                Err(message) => self.error(file, expr.pos, message),
            },
            (None, None) => {}
        }
        if let Some(pos) = c.primary_key {
            state.primary_key.push((name.clone(), pos));
        }
        if let Some(given) = &c.auto_increment {
            if state.auto_increment.as_ref().is_none_or(|a| a.value) {
                state.auto_increment = Some(given.clone());
            }
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
        // A unique column needs no second index (SeaORM's schema builder skips it too).
        if let (Some(pos), None) = (c.indexed, c.unique) {
            self.add_column_index(file, pos, table, &cols);
        }
        if let Some(key) = &c.unique_key {
            match state
                .unique_keys
                .iter_mut()
                .find(|(k, _, _)| *k == key.value)
            {
                Some((_, members, _)) => members.push(name.clone()),
                None => state
                    .unique_keys
                    .push((key.value.clone(), cols.clone(), key.pos)),
            }
        }
        table.columns.push(column);
    }

    /// `column_type` when given, else SeaORM's Rust type map; user types must be declared enums.
    fn sea_column_type(&mut self, file: &str, field: &SeaFieldDecl, label: &str) -> ColumnType {
        let (inner, _) = strip_option(&field.ty);
        let (ty, pos) = match &field.column.column_type {
            Some(given) => {
                match seaorm_types::parse_column_type(&given.value, &self.opts.default_schema) {
                    Ok(ty) => (ty, given.pos),
                    Err(message) => {
                        let message = format!(
                            "invalid column_type `{}` for column `{label}`: {message}",
                            given.value
                        );
                        self.error(file, given.pos, message);
                        return placeholder();
                    }
                }
            }
            None => match seaorm_types::map_rust(inner, &|name| self.sea_enum_types(name)) {
                Ok(ty) => (ty, inner.pos()),
                Err(TypeError::Unknown { text, pos }) => {
                    let message = format!(
                        "unknown Rust type `{text}` for column `{label}`; \
                         add #[sea_orm(column_type = \"...\")]"
                    );
                    self.unresolved(file, pos, &super::last_word(&text), message);
                    return placeholder();
                }
                Err(TypeError::Ambiguous {
                    text,
                    pos,
                    candidates,
                }) => {
                    let names: Vec<String> = candidates.iter().map(|t| format!("`{t}`")).collect();
                    let message = format!(
                        "ambiguous Rust type `{text}` for column `{label}`: several enums named \
                         so map to {}; add #[sea_orm(column_type = \"...\")]",
                        names.join(", ")
                    );
                    self.error(file, pos, message);
                    return placeholder();
                }
            },
        };
        if let Some(name) = seaorm_types::named_element(&ty) {
            if self.catalog.enum_type(name).is_none() {
                let message = format!(
                    "unknown type `{name}` for column `{label}`; declare it with \
                     #[derive(DeriveActiveEnum)] and db_type = \"Enum\""
                );
                let referenced = name.name.clone();
                self.unresolved(file, pos, &referenced, message);
            }
        }
        ty
    }

    /// The primary key (with SeaORM's auto-increment rule) and `unique_key` groups.
    fn add_sea_keys(
        &mut self,
        file: &str,
        m: &SeaModelDecl,
        table: &mut Table,
        state: &mut ModelState,
    ) {
        let label = table.name.name.clone();
        let Some((_, pk_pos)) = state.primary_key.first().cloned() else {
            let message = format!(
                "SeaORM entity `{label}` has no #[sea_orm(primary_key)] field; SeaORM requires one"
            );
            self.error(file, m.ident.pos, message);
            return;
        };
        let columns: Vec<String> = state.primary_key.iter().map(|(c, _)| c.clone()).collect();
        let pk = PrimaryKey {
            name: normalize::primary_key_name(&label),
            columns,
        };
        for col in &pk.columns {
            if let Some(column) = table.column_mut(col) {
                column.nullable = false;
            }
        }
        // SeaORM: `auto_increment` defaults to true and applies to a single-column key.
        let wanted = state.auto_increment.as_ref().is_none_or(|a| a.value);
        if let ([only], true) = (pk.columns.as_slice(), wanted) {
            let explicit = state.auto_increment.as_ref().map(|a| a.pos);
            if let Some(column) = table.column_mut(only) {
                let integer = is_integer(&column.ty);
                if integer && column.default.is_some() {
                    let message = format!(
                        "primary key `{label}.{only}` auto-increments (SeaORM's default for an \
                         integer key) and cannot also have a default; add auto_increment = false"
                    );
                    self.error(file, pk_pos, message);
                } else if integer {
                    column.identity = Some(Identity::ByDefault);
                } else if let Some(pos) = explicit {
                    if column.ty != placeholder() {
                        let message = format!(
                            "auto_increment needs an integer primary key; `{label}.{only}` is {}",
                            column.ty
                        );
                        self.error(file, pos, message);
                    }
                }
            }
        }
        self.use_name(file, pk_pos, &table.name, &pk.name, true, true);
        table.primary_key = Some(pk);
        for (_, columns, pos) in std::mem::take(&mut state.unique_keys) {
            let name = normalize::unique_name(&label, &columns);
            self.use_name(file, pos, &table.name, &name, true, true);
            table.uniques.push(Unique {
                name,
                columns,
                nulls_not_distinct: false,
            });
        }
    }

    pub(super) fn add_sea_relations(&mut self, file: &str, r: &SeaRelationDecl) {
        let own_path = module_path(file, &r.module);
        let own = self
            .sea_entities
            .iter()
            .position(|e| e.file == file && e.module == own_path);
        let Some(own) = own else {
            if r.variants.iter().any(|v| v.belongs_to.is_some()) {
                let message = format!(
                    "#[derive(DeriveRelation)] enum `{}` has no #[derive(DeriveEntityModel)] \
                     Model in the same module",
                    r.ident.value
                );
                self.error(file, r.ident.pos, message);
            }
            return;
        };
        for v in &r.variants {
            self.add_sea_relation(file, own, v);
        }
    }

    fn add_sea_relation(&mut self, file: &str, own: usize, v: &SeaRelationVariant) {
        // has_one / has_many describe the other side: nothing in this table.
        let Some(target) = &v.belongs_to else { return };
        if v.skip_fk.is_some() {
            return;
        }
        let (Some(from), Some(to)) = (&v.from, &v.to) else {
            let message = format!(
                "belongs_to relation `{}` needs `from = \"Column::...\"` and `to = \"...\"`",
                v.ident.value
            );
            self.error(file, target.pos, message);
            return;
        };
        let Some(referenced) = self.resolve_entity(file, own, v, target) else {
            return;
        };
        let from_cols = self.relation_columns(file, own, v, from, "from");
        let to_cols = self.relation_columns(file, referenced, v, to, "to");
        let on_delete = self.sea_action(file, v.on_delete.as_ref());
        let on_update = self.sea_action(file, v.on_update.as_ref());
        let (Some(columns), Some(ref_columns)) = (from_cols, to_cols) else {
            return;
        };
        if columns.len() != ref_columns.len() {
            let message = format!(
                "relation `{}` maps {} column(s) in `from` to {} in `to`",
                v.ident.value,
                columns.len(),
                ref_columns.len()
            );
            self.error(file, to.pos, message);
            return;
        }
        let table = self.sea_entities[own].table.clone();
        let ref_table = self.sea_entities[referenced].table.clone();
        let is_key = self
            .find_table(&ref_table)
            .is_some_and(|t| is_unique_key(t, &ref_columns));
        if !is_key {
            let message = format!(
                "relation `{}` references `{ref_table}` ({}), which is neither its primary key \
                 nor unique",
                v.ident.value,
                ref_columns.join(", ")
            );
            self.error(file, to.pos, message);
            return;
        }
        let name = match &v.fk_name {
            Some(n) => n.value.clone(),
            None => normalize::foreign_key_name(&table.name, &columns),
        };
        let pos = v.fk_name.as_ref().map_or(target.pos, |n| n.pos);
        self.use_name(file, pos, &table, &name, false, true);
        if let Some(t) = self.find_table_mut(&table) {
            t.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_table,
                ref_columns,
                on_delete,
                on_update,
                deferrable: retort_schema::Deferrable::NotDeferrable,
                match_full: false,
            });
        }
    }

    /// `on_delete` / `on_update`: `Cascade`, `SetNull`, `Restrict`, `NoAction`, `SetDefault`.
    fn sea_action(&mut self, file: &str, given: Option<&Spanned<String>>) -> FkAction {
        let Some(given) = given else {
            return FkAction::NoAction;
        };
        match FkAction::parse(&given.value) {
            Some(action) => action,
            None => {
                let message = format!(
                    "invalid foreign key action `{}`; expected one of Cascade, SetNull, Restrict, \
                     NoAction, SetDefault",
                    given.value
                );
                self.error(file, given.pos, message);
                FkAction::NoAction
            }
        }
    }

    /// The entity `belongs_to = "super::fruit::Entity"` names, found by its module name.
    fn resolve_entity(
        &mut self,
        file: &str,
        own: usize,
        v: &SeaRelationVariant,
        target: &Spanned<String>,
    ) -> Option<usize> {
        let path = syn::parse_str::<syn::Path>(&target.value).ok();
        let segments = path.as_ref().map(named_segments).unwrap_or_default();
        let Some((last, modules)) = segments.split_last().filter(|(l, _)| *l == "Entity") else {
            let message = format!(
                "invalid belongs_to `{}` in relation `{}`; expected a path to an entity such as \
                 \"super::fruit::Entity\"",
                target.value, v.ident.value
            );
            self.error(file, target.pos, message);
            return None;
        };
        debug_assert_eq!(last, "Entity");
        let Some(name) = modules.last() else {
            return Some(own);
        };
        let mut candidates: Vec<usize> = (0..self.sea_entities.len())
            .filter(|&i| self.sea_entities[i].name() == name)
            .collect();
        if candidates.len() > 1 {
            // `crate::billing::invoice::Entity`: compare the segments both paths have.
            let narrowed: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| {
                    let module = &self.sea_entities[i].module;
                    module
                        .iter()
                        .rev()
                        .zip(modules.iter().rev())
                        .all(|(a, b)| a == b)
                })
                .collect();
            if !narrowed.is_empty() {
                candidates = narrowed;
            }
        }
        if candidates.len() > 1 {
            let same_file: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| self.sea_entities[i].file == file)
                .collect();
            if !same_file.is_empty() {
                candidates = same_file;
            }
        }
        match candidates.as_slice() {
            [one] => Some(*one),
            [] => {
                let message = format!(
                    "relation `{}` belongs_to `{}`, but no entity module `{name}` was read (no \
                     #[derive(DeriveEntityModel)] Model in a module or file named `{name}`)",
                    v.ident.value, target.value
                );
                let referenced = name.to_string();
                self.unresolved(file, target.pos, &referenced, message);
                None
            }
            many => {
                let places: Vec<String> = many
                    .iter()
                    .map(|&i| {
                        let e = &self.sea_entities[i];
                        format!("`{}` in {}", e.module.join("::"), e.file)
                    })
                    .collect();
                let message = format!(
                    "relation `{}` belongs_to `{}`, which is ambiguous: {}",
                    v.ident.value,
                    target.value,
                    places.join(", ")
                );
                self.error(file, target.pos, message);
                None
            }
        }
    }

    /// `from` / `to`: `Column::FruitId`, `super::fruit::Column::Id` or a tuple of them.
    fn relation_columns(
        &mut self,
        file: &str,
        entity: usize,
        v: &SeaRelationVariant,
        spec: &Spanned<String>,
        key: &str,
    ) -> Option<Vec<String>> {
        let invalid = || {
            format!(
                "invalid `{key}` in relation `{}`: expected \"Column::Name\" or \
                 \"(Column::A, Column::B)\"",
                v.ident.value
            )
        };
        let paths: Vec<syn::Path> = match syn::parse_str::<syn::Expr>(&spec.value) {
            Ok(syn::Expr::Path(p)) => vec![p.path],
            Ok(syn::Expr::Paren(p)) => match *p.expr {
                syn::Expr::Path(p) => vec![p.path],
                _ => Vec::new(),
            },
            Ok(syn::Expr::Tuple(t)) => t
                .elems
                .into_iter()
                .filter_map(|e| match e {
                    syn::Expr::Path(p) => Some(p.path),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if paths.is_empty() {
            self.error(file, spec.pos, invalid());
            return None;
        }
        let entity_name = self.sea_entities[entity].name().to_string();
        let mut out = Vec::new();
        for path in &paths {
            let segments = named_segments(path);
            let [modules @ .., column_enum, variant] = segments.as_slice() else {
                self.error(file, spec.pos, invalid());
                return None;
            };
            if column_enum != "Column" {
                self.error(file, spec.pos, invalid());
                return None;
            }
            if let Some(module) = modules.last() {
                if *module != entity_name {
                    let message = format!(
                        "`{key}` of relation `{}` names columns of `{module}`, expected columns \
                         of `{entity_name}`",
                        v.ident.value
                    );
                    self.error(file, spec.pos, message);
                    return None;
                }
            }
            let e = &self.sea_entities[entity];
            let column = e.variants.get(variant).cloned().or_else(|| {
                let snake = case::snake_case(variant);
                e.variants.values().find(|c| **c == snake).cloned()
            });
            match column {
                Some(c) if out.contains(&c) => {
                    let message = format!("column `{c}` appears twice in `{key}`");
                    self.error(file, spec.pos, message);
                    return None;
                }
                Some(c) => out.push(c),
                None => {
                    let message = format!(
                        "unknown column `Column::{variant}` in `{key}` of relation `{}`: entity \
                         `{entity_name}` (table `{}`) has no such field",
                        v.ident.value, e.table
                    );
                    self.error(file, spec.pos, message);
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// True when `columns` (in any order) are the primary key or a unique constraint or index.
fn is_unique_key(table: &Table, columns: &[String]) -> bool {
    let same =
        |cols: &[String]| cols.len() == columns.len() && columns.iter().all(|c| cols.contains(c));
    table
        .primary_key
        .as_ref()
        .is_some_and(|pk| same(&pk.columns))
        || table.uniques.iter().any(|u| same(&u.columns))
        || table
            .indexes
            .iter()
            .any(|i| i.unique && i.predicate.is_none() && same(&i.keys))
}
