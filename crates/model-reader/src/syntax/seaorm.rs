//! The SeaORM dialect's grammar, read as SeaORM users write it: `#[derive(DeriveEntityModel)]`
//! models, `#[derive(DeriveActiveEnum)]` enums and `#[derive(DeriveRelation)]` enums, each with the
//! path of inline modules it sits in (entities are found by module name).
//!
//! Every `#[sea_orm(...)]` key SeaORM knows is accepted; keys without a schema effect are skipped,
//! unknown keys and keys whose effect Retort cannot represent are errors.

use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Fields, ItemEnum, ItemStruct, Lit, Token, UnOp};

use super::attrs::{each_key, flag, set, set_flag, skip_value, string};
use super::{ident_text, FileDecls, Pos, RustType, Spanned, SyntaxError};

const MODEL_KEYS: &[&str] = &[
    "table_name",
    "schema_name",
    "comment",
    "rename_all",
    "table_iden",
    "model_attrs",
    "active_model_attrs",
];
const COLUMN_KEYS: &[&str] = &[
    "primary_key",
    "auto_increment",
    "column_type",
    "column_name",
    "enum_name",
    "default_value",
    "default_expr",
    "nullable",
    "indexed",
    "unique",
    "unique_key",
    "ignore",
    "comment",
    "renamed_from",
    "select_as",
    "save_as",
    "extra",
];
const ENUM_KEYS: &[&str] = &[
    "rs_type",
    "db_type",
    "enum_name",
    "rename_all",
    "display",
    "display_label",
    "display_value",
];
const VARIANT_KEYS: &[&str] = &[
    "string_value",
    "num_value",
    "display",
    "display_label",
    "display_value",
];
const RELATION_KEYS: &[&str] = &[
    "belongs_to",
    "has_one",
    "has_many",
    "from",
    "to",
    "on_update",
    "on_delete",
    "fk_name",
    "skip_fk",
    "on_condition",
    "condition_type",
    "via",
];

/// `#[derive(DeriveEntityModel)] #[sea_orm(table_name = "...")] pub struct Model { ... }`.
#[derive(Debug)]
pub struct SeaModelDecl {
    /// Inline modules around the struct, outermost first.
    pub module: Vec<String>,
    pub ident: Spanned<String>,
    pub table_name: Option<Spanned<String>>,
    pub schema_name: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    pub rename_all: Option<Spanned<String>>,
    pub fields: Vec<SeaFieldDecl>,
}

#[derive(Debug)]
pub struct SeaFieldDecl {
    pub ident: Spanned<String>,
    pub ty: RustType,
    pub column: SeaColumnAttrs,
}

/// Everything `#[sea_orm(...)]` on a model field says about its column.
#[derive(Debug, Default)]
pub struct SeaColumnAttrs {
    pub primary_key: Option<Pos>,
    pub auto_increment: Option<Spanned<bool>>,
    pub column_type: Option<Spanned<String>>,
    pub column_name: Option<Spanned<String>>,
    pub enum_name: Option<Spanned<String>>,
    /// `default_value` as an SQL literal (`'text'`, `1`, `true`).
    pub default_value: Option<Spanned<String>>,
    /// `default_expr` as written: a sea-query expression in Rust syntax.
    pub default_expr: Option<Spanned<String>>,
    pub nullable: Option<Pos>,
    pub indexed: Option<Pos>,
    pub unique: Option<Pos>,
    pub unique_key: Option<Spanned<String>>,
    pub ignore: Option<Pos>,
    pub comment: Option<Spanned<String>>,
    pub renamed_from: Option<Spanned<String>>,
}

/// `#[derive(DeriveActiveEnum)] #[sea_orm(rs_type = "...", db_type = "...", enum_name = "...")]`.
#[derive(Debug)]
pub struct SeaEnumDecl {
    pub ident: Spanned<String>,
    pub db_type: Option<Spanned<String>>,
    pub enum_name: Option<Spanned<String>>,
    pub rename_all: Option<Spanned<String>>,
    pub variants: Vec<SeaVariantDecl>,
}

#[derive(Debug)]
pub struct SeaVariantDecl {
    pub ident: Spanned<String>,
    pub string_value: Option<Spanned<String>>,
    /// Position of `num_value` or of an explicit discriminant.
    pub num_value: Option<Pos>,
}

/// `#[derive(DeriveRelation)] pub enum Relation { ... }`.
#[derive(Debug)]
pub struct SeaRelationDecl {
    pub module: Vec<String>,
    pub ident: Spanned<String>,
    pub variants: Vec<SeaRelationVariant>,
}

#[derive(Debug)]
pub struct SeaRelationVariant {
    pub ident: Spanned<String>,
    pub belongs_to: Option<Spanned<String>>,
    pub from: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub on_delete: Option<Spanned<String>>,
    pub on_update: Option<Spanned<String>>,
    pub fk_name: Option<Spanned<String>>,
    pub skip_fk: Option<Pos>,
}

fn sea_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("sea_orm"))
}

pub fn model(s: &ItemStruct, module: &[String], out: &mut FileDecls) {
    let mut decl = SeaModelDecl {
        module: module.to_vec(),
        ident: ident_text(&s.ident),
        table_name: None,
        schema_name: None,
        comment: None,
        rename_all: None,
        fields: Vec::new(),
    };
    for attr in sea_attrs(&s.attrs) {
        each_key(
            attr,
            "sea_orm",
            MODEL_KEYS,
            &mut out.errors,
            |key, pos, meta, errors| {
                let slot = match key {
                    "table_name" => &mut decl.table_name,
                    "schema_name" => &mut decl.schema_name,
                    "comment" => &mut decl.comment,
                    "rename_all" => &mut decl.rename_all,
                    _ => return skip_value(meta),
                };
                set(slot, string(meta)?, key, pos, "sea_orm", errors);
                Ok(())
            },
        );
    }
    let Fields::Named(named) = &s.fields else {
        out.errors.push(SyntaxError::new(
            Pos::of(s.fields.span()),
            "#[derive(DeriveEntityModel)] must be on a struct with named fields",
        ));
        return;
    };
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let mut column = SeaColumnAttrs::default();
        for attr in sea_attrs(&field.attrs) {
            column_attr(attr, &mut column, &mut out.errors);
        }
        decl.fields.push(SeaFieldDecl {
            ident: ident_text(ident),
            ty: RustType::from_syn(&field.ty),
            column,
        });
    }
    out.sea_models.push(decl);
}

fn column_attr(attr: &Attribute, c: &mut SeaColumnAttrs, errors: &mut Vec<SyntaxError>) {
    each_key(
        attr,
        "sea_orm",
        COLUMN_KEYS,
        errors,
        |key, pos, meta, errors| {
            let flag_slot = match key {
                "primary_key" => Some(&mut c.primary_key),
                "nullable" => Some(&mut c.nullable),
                "indexed" => Some(&mut c.indexed),
                "unique" => Some(&mut c.unique),
                "ignore" => Some(&mut c.ignore),
                _ => None,
            };
            if let Some(slot) = flag_slot {
                if flag(meta)? {
                    set_flag(slot, key, pos, "sea_orm", errors);
                }
                return Ok(());
            }
            match key {
                "select_as" | "save_as" => return skip_value(meta),
                "extra" => {
                    errors.push(SyntaxError::new(
                        pos,
                        "#[sea_orm(extra = \"...\")] adds raw SQL to the column definition, \
                         which Retort cannot compare; express it with column_type, \
                         default_value or default_expr",
                    ));
                    return skip_value(meta);
                }
                "auto_increment" => {
                    let value = match meta.value()?.parse::<Lit>()? {
                        Lit::Bool(b) => b.value,
                        Lit::Str(s) if s.value() == "true" => true,
                        Lit::Str(s) if s.value() == "false" => false,
                        other => {
                            return Err(syn::Error::new(
                                other.span(),
                                "expected `auto_increment = true` or `auto_increment = false`",
                            ))
                        }
                    };
                    set(&mut c.auto_increment, value, key, pos, "sea_orm", errors);
                    return Ok(());
                }
                "default_value" => {
                    let expr: Expr = meta.value()?.parse()?;
                    let Some(sql) = literal_sql(&expr) else {
                        return Err(syn::Error::new(
                            expr.span(),
                            "expected a literal default_value (string, number or bool); \
                             use default_expr for expressions",
                        ));
                    };
                    set(&mut c.default_value, sql, key, pos, "sea_orm", errors);
                    return Ok(());
                }
                _ => {}
            }
            let slot = match key {
                "column_type" => &mut c.column_type,
                "column_name" => &mut c.column_name,
                "enum_name" => &mut c.enum_name,
                "default_expr" => &mut c.default_expr,
                "unique_key" => &mut c.unique_key,
                "comment" => &mut c.comment,
                _ => &mut c.renamed_from,
            };
            set(slot, string(meta)?, key, pos, "sea_orm", errors);
            Ok(())
        },
    );
}

/// A Rust literal (`"x"`, `1`, `-1.5`, `true`) as the SQL literal SeaORM binds for it.
pub fn literal_sql(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Some(retort_schema::quote_literal(&s.value())),
            Lit::Int(i) => Some(i.base10_digits().to_string()),
            Lit::Float(f) => Some(f.base10_digits().to_string()),
            Lit::Bool(b) => Some(b.value.to_string()),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match u.expr.as_ref() {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Int(i) => Some(format!("-{}", i.base10_digits())),
                Lit::Float(f) => Some(format!("-{}", f.base10_digits())),
                _ => None,
            },
            _ => None,
        },
        Expr::Paren(p) => literal_sql(&p.expr),
        Expr::Group(g) => literal_sql(&g.expr),
        _ => None,
    }
}

pub fn active_enum(e: &ItemEnum, out: &mut FileDecls) {
    let mut decl = SeaEnumDecl {
        ident: ident_text(&e.ident),
        db_type: None,
        enum_name: None,
        rename_all: None,
        variants: Vec::new(),
    };
    for attr in sea_attrs(&e.attrs) {
        each_key(
            attr,
            "sea_orm",
            ENUM_KEYS,
            &mut out.errors,
            |key, pos, meta, errors| {
                let slot = match key {
                    "db_type" => &mut decl.db_type,
                    "enum_name" => &mut decl.enum_name,
                    "rename_all" => &mut decl.rename_all,
                    _ => return skip_value(meta),
                };
                set(slot, string(meta)?, key, pos, "sea_orm", errors);
                Ok(())
            },
        );
    }
    for variant in &e.variants {
        if !matches!(variant.fields, Fields::Unit) {
            out.errors.push(SyntaxError::new(
                Pos::of(variant.ident.span()),
                format!(
                    "variant `{}` of a DeriveActiveEnum cannot carry data",
                    ident_text(&variant.ident).value
                ),
            ));
        }
        let mut string_value = None;
        let mut num_value = variant
            .discriminant
            .as_ref()
            .map(|(eq, _): &(Token![=], Expr)| Pos::of(eq.span));
        for attr in sea_attrs(&variant.attrs) {
            each_key(
                attr,
                "sea_orm",
                VARIANT_KEYS,
                &mut out.errors,
                |key, pos, meta, errors| match key {
                    "string_value" => {
                        set(
                            &mut string_value,
                            string(meta)?,
                            key,
                            pos,
                            "sea_orm",
                            errors,
                        );
                        Ok(())
                    }
                    "num_value" => {
                        num_value = Some(pos);
                        skip_value(meta)
                    }
                    _ => skip_value(meta),
                },
            );
        }
        decl.variants.push(SeaVariantDecl {
            ident: ident_text(&variant.ident),
            string_value,
            num_value,
        });
    }
    out.sea_enums.push(decl);
}

pub fn relation(e: &ItemEnum, module: &[String], out: &mut FileDecls) {
    let mut decl = SeaRelationDecl {
        module: module.to_vec(),
        ident: ident_text(&e.ident),
        variants: Vec::new(),
    };
    for variant in &e.variants {
        let mut v = SeaRelationVariant {
            ident: ident_text(&variant.ident),
            belongs_to: None,
            from: None,
            to: None,
            on_delete: None,
            on_update: None,
            fk_name: None,
            skip_fk: None,
        };
        for attr in sea_attrs(&variant.attrs) {
            each_key(
                attr,
                "sea_orm",
                RELATION_KEYS,
                &mut out.errors,
                |key, pos, meta, errors| {
                    let slot = match key {
                        "skip_fk" => {
                            if flag(meta)? {
                                set_flag(&mut v.skip_fk, key, pos, "sea_orm", errors);
                            }
                            return Ok(());
                        }
                        "belongs_to" => &mut v.belongs_to,
                        "from" => &mut v.from,
                        "to" => &mut v.to,
                        "on_delete" => &mut v.on_delete,
                        "on_update" => &mut v.on_update,
                        "fk_name" => &mut v.fk_name,
                        _ => return skip_value(meta),
                    };
                    set(slot, string(meta)?, key, pos, "sea_orm", errors);
                    Ok(())
                },
            );
        }
        decl.variants.push(v);
    }
    out.sea_relations.push(decl);
}
