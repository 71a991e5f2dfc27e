//! SeaORM's expanded entity format, as `sea-orm-cli generate entity --expanded-format` writes it:
//! `#[derive(DeriveEntity)] struct Entity` with `impl EntityName` (`table_name`, `schema_name`,
//! `comment`; or `#[sea_orm(table_name = "...")]` on the struct), a `DeriveModel` struct (the
//! fields' Rust types), a `DeriveColumn` enum with `impl ColumnTrait` (`fn def`: a `ColumnType`
//! then `.def()`, `.null()`, `.unique()`, `.indexed()`, `.default(...)`, `.comment(...)`), a
//! `DerivePrimaryKey` enum with `impl PrimaryKeyTrait` (`fn auto_increment`), and
//! `impl RelationTrait` (`Entity::belongs_to(...).from(...).to(...)`, with `.on_delete(...)`,
//! `.on_update(...)`, `.fk_name(...)`). It is lowered to the declarations of the compact format,
//! so that both formats are read by the same code and mean the same.

use quote::ToTokens as _;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprMethodCall, Fields, ImplItem, Item, ItemEnum, ItemImpl, ItemStruct, Lit, Pat};

use super::attrs::{each_key, skip_value, string};
use super::seaorm::{literal_sql, SeaColumnAttrs, SeaFieldDecl, SeaModelDecl};
use super::{derives, ident_text, FileDecls, Pos, RustType, Spanned, SyntaxError};
use super::{SeaRelationDecl, SeaRelationVariant};

const ENTITY_KEYS: &[&str] = &[
    "table_name",
    "schema_name",
    "comment",
    "model",
    "column",
    "primary_key",
    "active_model",
    "relation",
    "table_iden",
    "rename_all",
];
const COLUMN_VARIANT_KEYS: &[&str] = &["column_name", "enum_name", "select_as", "save_as"];

/// Whether `items` (one module's) declare an entity in the expanded format.
pub fn declares(items: &[Item]) -> bool {
    items.iter().any(|i| match i {
        Item::Struct(s) => derives(&s.attrs).iter().any(|d| d == "DeriveEntity"),
        _ => false,
    })
}

/// The parts of one module's expanded entity.
struct Parts<'a> {
    entity: &'a ItemStruct,
    model: Option<&'a ItemStruct>,
    column: Option<&'a ItemEnum>,
    primary_key: Option<&'a ItemEnum>,
    impls: Vec<&'a ItemImpl>,
}

impl<'a> Parts<'a> {
    fn of(items: &'a [Item]) -> Option<Parts<'a>> {
        let with = |derive: &str| {
            items.iter().find_map(|i| match i {
                Item::Struct(s) if derives(&s.attrs).iter().any(|d| d == derive) => Some(s),
                _ => None,
            })
        };
        let enum_with = |derive: &str| {
            items.iter().find_map(|i| match i {
                Item::Enum(e) if derives(&e.attrs).iter().any(|d| d == derive) => Some(e),
                _ => None,
            })
        };
        Some(Parts {
            entity: with("DeriveEntity")?,
            model: with("DeriveModel"),
            column: enum_with("DeriveColumn"),
            primary_key: enum_with("DerivePrimaryKey"),
            impls: items
                .iter()
                .filter_map(|i| match i {
                    Item::Impl(imp) => Some(imp),
                    _ => None,
                })
                .collect(),
        })
    }

    /// `impl <name> for ...`.
    fn trait_impl(&self, name: &str) -> Option<&'a ItemImpl> {
        self.impls.iter().copied().find(|imp| {
            imp.trait_
                .as_ref()
                .and_then(|(_, path, _)| path.segments.last())
                .is_some_and(|s| s.ident == name)
        })
    }
}

/// The last expression of the body of method `name` in `imp`.
fn method_result<'a>(imp: &'a ItemImpl, name: &str) -> Option<(&'a Expr, Pos)> {
    imp.items.iter().find_map(|item| match item {
        ImplItem::Fn(f) if f.sig.ident == name => match f.block.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => Some((e, Pos::of(f.sig.ident.span()))),
            _ => None,
        },
        _ => None,
    })
}

fn lit_str(expr: &Expr) -> Option<String> {
    match unparen(expr) {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        Expr::Group(g) => unparen(&g.expr),
        Expr::Reference(r) => unparen(&r.expr),
        _ => expr,
    }
}

/// `Some("x")` -> Some(Some("x")), `None` -> Some(None).
fn option_str(expr: &Expr) -> Option<Option<String>> {
    match unparen(expr) {
        Expr::Path(p) if p.path.is_ident("None") => Some(None),
        Expr::Call(c) if c.args.len() == 1 => match c.func.as_ref() {
            Expr::Path(p) if p.path.is_ident("Some") => lit_str(&c.args[0]).map(Some),
            _ => None,
        },
        _ => None,
    }
}

/// An expression as the compact format writes it in a string (`super::fruit::Entity`).
fn text(expr: &Expr) -> String {
    expr.to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" ,", ",")
        .replace("( ", "(")
        .replace(" )", ")")
}

/// A method chain `root.a(..).b(..)`: the root and the calls, innermost first.
fn chain(expr: &Expr) -> (&Expr, Vec<&ExprMethodCall>) {
    let mut calls = Vec::new();
    let mut e = unparen(expr);
    while let Expr::MethodCall(mc) = e {
        calls.push(mc);
        e = unparen(&mc.receiver);
    }
    calls.reverse();
    (e, calls)
}

/// The match arms of `fn def(&self)`: each variant (`Self::X`, `Column::X`) with its expression.
fn def_arms<'a>(
    imp: &'a ItemImpl,
    what: &str,
    errors: &mut Vec<SyntaxError>,
) -> Vec<(Spanned<String>, &'a Expr)> {
    let Some((body, pos)) = method_result(imp, "def") else {
        errors.push(SyntaxError::new(
            Pos::of(imp.impl_token.span),
            format!("`impl {what}` needs `fn def(&self)` with a `match self {{ ... }}`"),
        ));
        return Vec::new();
    };
    // `panic!("No RelationDef")`: sea-orm-cli's body for an entity without relations.
    if matches!(unparen(body), Expr::Macro(_)) {
        return Vec::new();
    }
    let Expr::Match(m) = unparen(body) else {
        errors.push(SyntaxError::new(
            pos,
            format!("`{what}::def` is read as `match self {{ Self::Variant => ..., }}`"),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for arm in &m.arms {
        let mut pats = vec![&arm.pat];
        while let Some(p) = pats.pop() {
            match p {
                Pat::Or(or) => pats.extend(or.cases.iter().rev()),
                Pat::Path(path) => {
                    if let Some(seg) = path.path.segments.last() {
                        out.push((ident_text(&seg.ident), arm.body.as_ref()));
                    }
                }
                other => errors.push(SyntaxError::new(
                    Pos::of(other.span()),
                    format!("a `{what}::def` arm is read as `Self::Variant => ...`"),
                )),
            }
        }
    }
    out
}

/// Reads the expanded entity of one module (`items`) into `out` as compact declarations.
pub fn entity(items: &[Item], module: &[String], out: &mut FileDecls) {
    let Some(parts) = Parts::of(items) else {
        return;
    };
    let entity_ident = ident_text(&parts.entity.ident);
    let mut table_name = None;
    let mut schema_name = None;
    let mut comment = None;
    for attr in parts
        .entity
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("sea_orm"))
    {
        each_key(
            attr,
            "sea_orm",
            ENTITY_KEYS,
            &mut out.errors,
            |key, pos, meta, _| {
                let slot = match key {
                    "table_name" => &mut table_name,
                    "schema_name" => &mut schema_name,
                    "comment" => &mut comment,
                    _ => return skip_value(meta),
                };
                *slot = Some(Spanned {
                    value: string(meta)?,
                    pos,
                });
                Ok(())
            },
        );
    }
    if let Some(imp) = parts.trait_impl("EntityName") {
        if let Some((e, pos)) = method_result(imp, "table_name") {
            match lit_str(e) {
                Some(value) => table_name = Some(Spanned { value, pos }),
                None => out.errors.push(SyntaxError::new(
                    pos,
                    "`fn table_name` is read when it returns a string literal",
                )),
            }
        }
        for (name, slot) in [("schema_name", &mut schema_name), ("comment", &mut comment)] {
            if let Some((e, pos)) = method_result(imp, name) {
                match option_str(e) {
                    Some(value) => *slot = value.map(|value| Spanned { value, pos }),
                    None => out.errors.push(SyntaxError::new(
                        pos,
                        format!("`fn {name}` is read when it returns `Some(\"...\")` or `None`"),
                    )),
                }
            }
        }
    }
    if table_name.is_none() {
        out.errors.push(SyntaxError::new(
            entity_ident.pos,
            "the expanded entity needs `impl EntityName for Entity { fn table_name(&self) -> \
             &str { \"...\" } }` (or #[sea_orm(table_name = \"...\")] on it)",
        ));
        return;
    }
    let missing = |what: &str| {
        SyntaxError::new(
            entity_ident.pos,
            format!("the expanded entity needs {what} in the same module"),
        )
    };
    let (Some(model), Some(column), Some(column_trait)) =
        (parts.model, parts.column, parts.trait_impl("ColumnTrait"))
    else {
        out.errors.push(missing(
            "a #[derive(DeriveModel)] struct, a #[derive(DeriveColumn)] enum and \
             `impl ColumnTrait` for it",
        ));
        return;
    };
    let Some(primary_key) = parts.primary_key else {
        out.errors
            .push(missing("a #[derive(DerivePrimaryKey)] enum"));
        return;
    };
    let Fields::Named(named) = &model.fields else {
        out.errors.push(SyntaxError::new(
            Pos::of(model.fields.span()),
            "#[derive(DeriveModel)] must be on a struct with named fields",
        ));
        return;
    };
    let fields: Vec<(Spanned<String>, RustType)> = named
        .named
        .iter()
        .filter_map(|f| Some((ident_text(f.ident.as_ref()?), RustType::from_syn(&f.ty))))
        .collect();
    let arms = def_arms(column_trait, "ColumnTrait", &mut out.errors);
    let auto_increment = primary_key_trait(&parts, primary_key, &mut out.errors);

    let mut decl = SeaModelDecl {
        module: module.to_vec(),
        ident: ident_text(&model.ident),
        table_name,
        schema_name,
        comment,
        rename_all: None,
        fields: Vec::new(),
    };
    let mut used = vec![false; fields.len()];
    for variant in &column.variants {
        let v = ident_text(&variant.ident);
        // DeriveModel pairs a field with the variant of its name in UpperCamelCase.
        let Some(i) =
            (0..fields.len()).find(|&i| !used[i] && same_word(&fields[i].0.value, &v.value))
        else {
            out.errors.push(SyntaxError::new(
                v.pos,
                format!("column `{}` has no field in the Model", v.value),
            ));
            continue;
        };
        used[i] = true;
        let mut c = SeaColumnAttrs {
            column_name: Some(Spanned {
                value: crate::case::snake_case(&v.value),
                pos: v.pos,
            }),
            enum_name: Some(v.clone()),
            ..Default::default()
        };
        for attr in variant
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("sea_orm"))
        {
            each_key(
                attr,
                "sea_orm",
                COLUMN_VARIANT_KEYS,
                &mut out.errors,
                |key, pos, meta, _| {
                    if key != "column_name" {
                        return skip_value(meta);
                    }
                    c.column_name = Some(Spanned {
                        value: string(meta)?,
                        pos,
                    });
                    Ok(())
                },
            );
        }
        match arms.iter().find(|(a, _)| a.value == v.value) {
            Some((_, def)) => column_def(def, &mut c, &mut out.errors),
            None => out.errors.push(SyntaxError::new(
                v.pos,
                format!("column `{}` has no arm in `ColumnTrait::def`", v.value),
            )),
        }
        if let Some(pk) = primary_key
            .variants
            .iter()
            .find(|p| p.ident == variant.ident)
        {
            c.primary_key = Some(Pos::of(pk.ident.span()));
            c.auto_increment.clone_from(&auto_increment);
        }
        decl.fields.push(SeaFieldDecl {
            ident: fields[i].0.clone(),
            ty: fields[i].1.clone(),
            column: c,
        });
    }
    for ((field, _), used) in fields.iter().zip(used) {
        if !used {
            out.errors.push(SyntaxError::new(
                field.pos,
                format!("field `{}` has no variant in the Column enum", field.value),
            ));
        }
    }
    for pk in &primary_key.variants {
        if !column.variants.iter().any(|v| v.ident == pk.ident) {
            out.errors.push(SyntaxError::new(
                Pos::of(pk.ident.span()),
                format!(
                    "primary key `{}` is not a variant of the Column enum",
                    pk.ident
                ),
            ));
        }
    }
    out.sea_models.push(decl);
    if let Some(imp) = parts.trait_impl("RelationTrait") {
        relations(imp, module, out);
    }
}

/// A field and a Column variant of the same name (`fruit_id`, `FruitId`; `r#type`, `Type`;
/// `self_`, `Self_`).
fn same_word(field: &str, variant: &str) -> bool {
    let norm = |s: &str| s.replace('_', "").to_lowercase();
    norm(field) == norm(variant)
}

/// `fn auto_increment() -> bool { ... }` of `impl PrimaryKeyTrait`.
fn primary_key_trait(
    parts: &Parts<'_>,
    primary_key: &ItemEnum,
    errors: &mut Vec<SyntaxError>,
) -> Option<Spanned<bool>> {
    let needs = || {
        SyntaxError::new(
            Pos::of(primary_key.ident.span()),
            "the expanded entity needs `impl PrimaryKeyTrait for PrimaryKey { ... fn \
             auto_increment() -> bool { true } }` (or `false`)",
        )
    };
    let Some((e, pos)) = parts
        .trait_impl("PrimaryKeyTrait")
        .and_then(|imp| method_result(imp, "auto_increment"))
    else {
        errors.push(needs());
        return None;
    };
    match unparen(e) {
        Expr::Lit(l) => match &l.lit {
            Lit::Bool(b) => Some(Spanned {
                value: b.value,
                pos,
            }),
            _ => {
                errors.push(needs());
                None
            }
        },
        _ => {
            errors.push(needs());
            None
        }
    }
}

/// One column's `ColumnType::X.def().null()...` into the compact attributes.
fn column_def(def: &Expr, c: &mut SeaColumnAttrs, errors: &mut Vec<SyntaxError>) {
    let (root, calls) = chain(def);
    let Some(at_def) = calls.iter().position(|m| m.method == "def") else {
        errors.push(SyntaxError::new(
            Pos::of(def.span()),
            "a column definition is read as `ColumnType::...def()` followed by `.null()`, \
             `.unique()`, `.indexed()`, `.default(...)`, `.comment(...)`",
        ));
        return;
    };
    let ty_pos = Pos::of(root.span());
    match (&calls[..at_def], root) {
        // `ColumnType::Text`, `ColumnType::String(StringLen::N(40u32))`,
        // `ColumnType::custom("tsvector")`.
        ([], Expr::Path(_) | Expr::Call(_)) => {
            c.column_type = Some(Spanned {
                value: text(root),
                pos: ty_pos,
            })
        }
        // `Mood::db_type().get_column_type().to_owned()`: the active enum of the field's type.
        (_, Expr::Call(call))
            if matches!(call.func.as_ref(), Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "db_type")) => {}
        _ => errors.push(SyntaxError::new(
            ty_pos,
            "the column type is read as `ColumnType::...` or `Enum::db_type()...`",
        )),
    }
    for call in &calls[at_def + 1..] {
        let pos = Pos::of(call.method.span());
        let arg = call.args.first();
        match (call.method.to_string().as_str(), arg) {
            ("null" | "nullable", None) => c.nullable = Some(pos),
            ("unique", None) => c.unique = Some(pos),
            ("indexed", None) => c.indexed = Some(pos),
            ("default" | "default_value", Some(value)) => match literal_sql(value) {
                Some(sql) => c.default_value = Some(Spanned { value: sql, pos }),
                None => {
                    c.default_expr = Some(Spanned {
                        value: text(value),
                        pos,
                    })
                }
            },
            ("comment", Some(value)) => match lit_str(value) {
                Some(value) => c.comment = Some(Spanned { value, pos }),
                None => errors.push(SyntaxError::new(pos, "expected `.comment(\"...\")`")),
            },
            ("unique_key", Some(value)) => match lit_str(value) {
                Some(value) => c.unique_key = Some(Spanned { value, pos }),
                None => errors.push(SyntaxError::new(pos, "expected `.unique_key(\"...\")`")),
            },
            ("select_as" | "save_as", _) => {}
            (other, _) => errors.push(SyntaxError::new(
                pos,
                format!("`.{other}(...)` on a column definition is not read"),
            )),
        }
    }
}

/// `impl RelationTrait`: every `Entity::belongs_to(...)` arm as a compact relation variant.
fn relations(imp: &ItemImpl, module: &[String], out: &mut FileDecls) {
    let ident = match imp.self_ty.as_ref() {
        syn::Type::Path(p) => p.path.segments.last().map(|s| ident_text(&s.ident)),
        _ => None,
    };
    let Some(ident) = ident else { return };
    let mut decl = SeaRelationDecl {
        module: module.to_vec(),
        ident,
        variants: Vec::new(),
    };
    for (variant, body) in def_arms(imp, "RelationTrait", &mut out.errors) {
        let (root, calls) = chain(body);
        let Expr::Call(call) = root else { continue };
        let kind = match call.func.as_ref() {
            Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let mut v = SeaRelationVariant {
            ident: variant,
            belongs_to: None,
            from: None,
            to: None,
            on_delete: None,
            on_update: None,
            fk_name: None,
            skip_fk: None,
        };
        if kind.as_deref() == Some("belongs_to") {
            v.belongs_to = call.args.first().map(|a| Spanned {
                value: text(a),
                pos: Pos::of(a.span()),
            });
        }
        for m in &calls {
            let pos = Pos::of(m.method.span());
            let Some(arg) = m.args.first() else { continue };
            let slot = match m.method.to_string().as_str() {
                "from" => &mut v.from,
                "to" => &mut v.to,
                "fk_name" => {
                    match lit_str(arg) {
                        Some(value) => v.fk_name = Some(Spanned { value, pos }),
                        None => out
                            .errors
                            .push(SyntaxError::new(pos, "expected `.fk_name(\"...\")`")),
                    }
                    continue;
                }
                "on_delete" | "on_update" => {
                    // `ForeignKeyAction::Cascade`: the compact format's `"Cascade"`.
                    let action = match unparen(arg) {
                        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    };
                    let value = action.unwrap_or_else(|| text(arg));
                    let slot = if m.method == "on_delete" {
                        &mut v.on_delete
                    } else {
                        &mut v.on_update
                    };
                    *slot = Some(Spanned { value, pos });
                    continue;
                }
                _ => continue,
            };
            *slot = Some(Spanned {
                value: text(arg),
                pos,
            });
        }
        decl.variants.push(v);
    }
    out.sea_relations.push(decl);
}
