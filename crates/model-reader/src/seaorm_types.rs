//! SeaORM's type vocabulary in PostgreSQL terms: the Rust type map of `DeriveEntityModel`
//! (`String` is `varchar`, `Json` is `json`, as SeaORM's schema builder creates them), the
//! `ColumnType` spellings of `column_type` / `db_type`, and the sea-query expressions of
//! `default_expr`. Everything is read from syntax, never compiled.

use retort_schema::{ColumnType, QualName};
use syn::{Expr, ExprCall, ExprPath, Lit};

use crate::map_type::strip_option;
use crate::syntax::{Pos, RustType};

/// Why a field's Rust type has no column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeError {
    Unknown {
        text: String,
        pos: Pos,
    },
    /// The name is shared by several enums with different database types.
    Ambiguous {
        text: String,
        pos: Pos,
        candidates: Vec<ColumnType>,
    },
}

/// Maps a field type without its outer `Option` the way `DeriveEntityModel` does for PostgreSQL.
/// `enums` gives the database types of an enum named by its Rust identifier.
pub fn map_rust(
    ty: &RustType,
    enums: &dyn Fn(&str) -> Vec<ColumnType>,
) -> Result<ColumnType, TypeError> {
    let unknown = || TypeError::Unknown {
        text: ty.text().to_string(),
        pos: ty.pos(),
    };
    let RustType::Path { name, args, .. } = ty else {
        return Err(unknown());
    };
    use ColumnType::*;
    let plain = args.is_empty();
    let timestamp = |tz| Timestamp {
        precision: None,
        tz,
    };
    Ok(match name.as_str() {
        "char" if plain => Char { length: Some(1) },
        "String" if plain => Varchar { length: None },
        "i8" | "u8" | "i16" | "u16" if plain => SmallInt,
        "i32" | "u32" if plain => Integer,
        "i64" | "u64" if plain => BigInt,
        "f32" if plain => Real,
        "f64" if plain => Double,
        "bool" if plain => Boolean,
        "Date" | "NaiveDate" | "TimeDate" if plain => Date,
        "Time" | "NaiveTime" | "TimeTime" if plain => ColumnType::Time {
            precision: None,
            tz: false,
        },
        "DateTime" | "NaiveDateTime" | "TimeDateTime" | "PrimitiveDateTime" if plain => {
            timestamp(false)
        }
        "DateTimeUtc"
        | "DateTimeLocal"
        | "DateTimeWithTimeZone"
        | "TimeDateTimeWithTimeZone"
        | "OffsetDateTime"
            if plain =>
        {
            timestamp(true)
        }
        "DateTime" => match args.as_slice() {
            [RustType::Path { name: tz, args, .. }]
                if args.is_empty() && matches!(tz.as_str(), "Utc" | "FixedOffset" | "Local") =>
            {
                timestamp(true)
            }
            _ => return Err(unknown()),
        },
        "Uuid" if plain => Uuid,
        "Json" | "Value" if plain => Json,
        "Decimal" | "BigDecimal" if plain => Numeric {
            precision: None,
            scale: None,
        },
        "IpNetwork" if plain => Inet,
        "MacAddress" if plain => MacAddr,
        "Vec" if args.len() == 1 => {
            let (element, _) = strip_option(&args[0]);
            match element {
                RustType::Path { name, args, .. } if name == "u8" && args.is_empty() => Bytea,
                _ => match map_rust(element, enums)? {
                    array @ Array { .. } => array,
                    other => ColumnType::array(other),
                },
            }
        }
        _ if plain => {
            let mut found = enums(name);
            found.dedup();
            match found.as_slice() {
                [one] => one.clone(),
                [] => return Err(unknown()),
                many => {
                    return Err(TypeError::Ambiguous {
                        text: ty.text().to_string(),
                        pos: ty.pos(),
                        candidates: many.to_vec(),
                    })
                }
            }
        }
        _ => return Err(unknown()),
    })
}

/// The last identifier of a path expression (`sea_orm::ColumnType::Text` is `Text`).
fn last_ident(path: &ExprPath) -> Option<String> {
    path.path.segments.last().map(|s| s.ident.to_string())
}

/// Removes parentheses, groups and wrappers such as `Arc::new(x)`, `RcOrArc::new(x)`, `x.into()`.
fn unwrap(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap(&p.expr),
        Expr::Group(g) => unwrap(&g.expr),
        Expr::Reference(r) => unwrap(&r.expr),
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "into" | "to_owned" | "to_string" | "into_iden" | "clone"
                ) =>
        {
            unwrap(&m.receiver)
        }
        Expr::Call(c) if c.args.len() == 1 => match c.func.as_ref() {
            Expr::Path(p)
                if p.path.segments.len() >= 2
                    && p.path.segments.last().is_some_and(|s| s.ident == "new")
                    && p.path.segments.iter().rev().nth(1).is_some_and(|s| {
                        matches!(
                            s.ident.to_string().as_str(),
                            "Arc" | "Rc" | "RcOrArc" | "SeaRc" | "Box"
                        )
                    }) =>
            {
                unwrap(&c.args[0])
            }
            _ => expr,
        },
        _ => expr,
    }
}

/// The first string literal anywhere in an expression (`Alias::new("citext")`, `"x".to_owned()`).
fn first_string(expr: &Expr) -> Option<String> {
    use quote::ToTokens as _;
    fn find(tokens: proc_macro2::TokenStream) -> Option<String> {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Literal(lit) => {
                    if let Ok(Lit::Str(s)) = syn::parse2::<Lit>(lit.into_token_stream()) {
                        return Some(s.value());
                    }
                }
                proc_macro2::TokenTree::Group(g) => {
                    if let Some(s) = find(g.stream()) {
                        return Some(s);
                    }
                }
                _ => {}
            }
        }
        None
    }
    find(expr.to_token_stream())
}

fn int(expr: &Expr) -> Option<u32> {
    match unwrap(expr) {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// `Some(x)` -> Some(Some(x)), `None` -> Some(None), anything else -> None.
fn option(expr: &Expr) -> Option<Option<&Expr>> {
    match unwrap(expr) {
        Expr::Path(p) if p.path.is_ident("None") => Some(None),
        Expr::Call(c) if c.args.len() == 1 => match c.func.as_ref() {
            Expr::Path(p) if p.path.is_ident("Some") => Some(Some(&c.args[0])),
            _ => None,
        },
        _ => None,
    }
}

fn opt_int(expr: &Expr) -> Option<Option<u32>> {
    match option(expr)? {
        None => Some(None),
        Some(e) => int(e).map(Some),
    }
}

/// `StringLen::N(n)`, `StringLen::None`, `StringLen::Max`, or the older `Some(n)` / `None`.
fn string_len(expr: &Expr) -> Option<Option<u32>> {
    match unwrap(expr) {
        Expr::Path(p) => match last_ident(p)?.as_str() {
            "None" | "Max" => Some(None),
            _ => None,
        },
        Expr::Call(c) => match c.func.as_ref() {
            Expr::Path(p) if last_ident(p).as_deref() == Some("N") && c.args.len() == 1 => {
                int(&c.args[0]).map(Some)
            }
            _ => opt_int(&Expr::Call(c.clone())),
        },
        _ => None,
    }
}

/// `PgInterval::HourToMinute` -> `HOUR TO MINUTE`.
fn interval_fields(expr: &Expr) -> Option<Option<String>> {
    match option(expr)? {
        None => Some(None),
        Some(e) => match unwrap(e) {
            Expr::Path(p) => {
                let name = last_ident(p)?;
                let words = crate::case::rename(&name, "SCREAMING_SNAKE_CASE")?;
                Some(Some(words.replace('_', " ")))
            }
            _ => None,
        },
    }
}

/// Reads a SeaORM `ColumnType` spelling (`column_type = "..."`, `db_type = "..."`).
/// Enum and custom types come back as `Named` (checked against declared enums by the caller).
pub fn parse_column_type(text: &str, default_schema: &str) -> Result<ColumnType, String> {
    let expr: Expr = syn::parse_str(text).map_err(|e| format!("not a Rust expression: {e}"))?;
    column_type(&expr, default_schema)
}

fn column_type(expr: &Expr, default_schema: &str) -> Result<ColumnType, String> {
    use ColumnType::*;
    let expr = unwrap(expr);
    let (name, args): (String, Vec<&Expr>) = match expr {
        Expr::Path(p) => (last_ident(p).unwrap_or_default(), Vec::new()),
        Expr::Call(ExprCall { func, args, .. }) => match func.as_ref() {
            Expr::Path(p) => (last_ident(p).unwrap_or_default(), args.iter().collect()),
            _ => return Err("expected a SeaORM ColumnType".into()),
        },
        Expr::Struct(s) => {
            let name = s.path.segments.last().map(|s| s.ident.to_string());
            if name.as_deref() != Some("Enum") {
                return Err("expected a SeaORM ColumnType".into());
            }
            let field = s
                .fields
                .iter()
                .find(|f| matches!(&f.member, syn::Member::Named(i) if i == "name"));
            let enum_name = field.and_then(|f| first_string(&f.expr)).ok_or(
                "expected `Enum { name: Alias::new(\"...\").into_iden(), .. }` with the type \
                 name as a string literal",
            )?;
            return Ok(ColumnType::named(default_schema, &enum_name));
        }
        _ => return Err("expected a SeaORM ColumnType".into()),
    };
    let bad = || format!("unsupported arguments for ColumnType::{name}");
    let no_args = |t: ColumnType| {
        if args.is_empty() {
            Ok(t)
        } else {
            Err(format!("ColumnType::{name} takes no arguments"))
        }
    };
    match name.as_str() {
        "Char" => match args.as_slice() {
            [] => Ok(Char { length: Some(1) }),
            [a] => match opt_int(a).ok_or_else(bad)? {
                Some(n) => Ok(Char { length: Some(n) }),
                None => Ok(Char { length: Some(1) }),
            },
            _ => Err(bad()),
        },
        "String" => match args.as_slice() {
            [] => Ok(Varchar { length: None }),
            [a] => Ok(Varchar {
                length: string_len(a).ok_or_else(bad)?,
            }),
            _ => Err(bad()),
        },
        "Text" => no_args(Text),
        "TinyInteger" | "TinyUnsigned" | "SmallInteger" | "SmallUnsigned" => no_args(SmallInt),
        "Integer" | "Unsigned" => no_args(Integer),
        "BigInteger" | "BigUnsigned" => no_args(BigInt),
        "Float" => no_args(Real),
        "Double" => no_args(Double),
        "Decimal" => match args.as_slice() {
            [] => Ok(Numeric {
                precision: None,
                scale: None,
            }),
            [a] => match option(a).ok_or_else(bad)? {
                None => Ok(Numeric {
                    precision: None,
                    scale: None,
                }),
                Some(ps) => match unwrap(ps) {
                    Expr::Tuple(t) if t.elems.len() == 2 => Ok(Numeric {
                        precision: Some(int(&t.elems[0]).ok_or_else(bad)?),
                        scale: Some(int(&t.elems[1]).ok_or_else(bad)?),
                    }),
                    _ => Err(bad()),
                },
            },
            _ => Err(bad()),
        },
        "Money" => Ok(Money),
        "DateTime" | "Timestamp" => no_args(Timestamp {
            precision: None,
            tz: false,
        }),
        "TimestampWithTimeZone" => no_args(Timestamp {
            precision: None,
            tz: true,
        }),
        "Time" => no_args(Time {
            precision: None,
            tz: false,
        }),
        "Date" => no_args(Date),
        "Interval" => match args.as_slice() {
            [] => Ok(Interval {
                fields: None,
                precision: None,
            }),
            [f, p] => Ok(Interval {
                fields: interval_fields(f).ok_or_else(bad)?,
                precision: opt_int(p).ok_or_else(bad)?,
            }),
            _ => Err(bad()),
        },
        "Binary" | "VarBinary" | "Blob" => Ok(Bytea),
        "Bit" => match args.as_slice() {
            [] => Ok(Bit {
                varying: false,
                length: Some(1),
            }),
            [a] => Ok(Bit {
                varying: false,
                length: Some(opt_int(a).ok_or_else(bad)?.unwrap_or(1)),
            }),
            _ => Err(bad()),
        },
        "VarBit" => match args.as_slice() {
            [a] => Ok(Bit {
                varying: true,
                length: Some(int(a).ok_or_else(bad)?),
            }),
            _ => Err(bad()),
        },
        "Boolean" => no_args(Boolean),
        "Json" => no_args(Json),
        "JsonBinary" => no_args(Jsonb),
        "Uuid" => no_args(Uuid),
        "Cidr" => no_args(Cidr),
        "Inet" => no_args(Inet),
        "MacAddr" => no_args(MacAddr),
        "Array" => match args.as_slice() {
            [inner] => match column_type(inner, default_schema)? {
                array @ Array { .. } => Ok(array),
                element => Ok(ColumnType::array(element)),
            },
            _ => Err(bad()),
        },
        // `Custom(...)` is the variant, `custom("...")` sea-query's constructor of it (what
        // sea-orm-cli writes for a type it has no variant for, e.g. `tsvector`).
        "Custom" | "custom" => {
            let sql = args.first().and_then(|a| first_string(a)).ok_or(
                "expected `Custom(\"<type>\".to_owned())` or `custom(\"<type>\")` with the type \
                 as a string",
            )?;
            ColumnType::parse(&sql, default_schema)
                .ok_or_else(|| format!("invalid custom type `{sql}`"))
        }
        "Year" => Err("ColumnType::Year does not exist in PostgreSQL".into()),
        "" => Err("expected a SeaORM ColumnType".into()),
        other => Err(format!("ColumnType::{other} is not supported by Retort")),
    }
}

/// The names a Named type (or array of it) refers to.
pub fn named_element(ty: &ColumnType) -> Option<&QualName> {
    match ty {
        ColumnType::Named { name } => Some(name),
        ColumnType::Array { element } => named_element(element),
        _ => None,
    }
}

const DEFAULT_EXPR_FORMS: &str = "Expr::current_timestamp(), Expr::current_date(), \
     Expr::current_time(), Expr::cust(\"<sql>\"), Expr::val(<literal>), Keyword::CurrentTimestamp";

/// Translates a `default_expr` (a sea-query expression in Rust syntax) into SQL.
pub fn default_expr_sql(text: &str) -> Result<String, String> {
    let unsupported =
        || format!("cannot translate default_expr `{text}`; supported forms: {DEFAULT_EXPR_FORMS}");
    let expr: Expr = syn::parse_str(text).map_err(|_| unsupported())?;
    let expr = unwrap(&expr);
    let keyword = |name: &str| -> Option<&'static str> {
        Some(match name {
            "current_timestamp" | "CurrentTimestamp" => "CURRENT_TIMESTAMP",
            "current_date" | "CurrentDate" => "CURRENT_DATE",
            "current_time" | "CurrentTime" => "CURRENT_TIME",
            "Null" => "NULL",
            _ => return None,
        })
    };
    match expr {
        // `Keyword::CurrentTimestamp`
        Expr::Path(p) => {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            match segments.as_slice() {
                [.., k, name] if k == "Keyword" => {
                    keyword(name).map(str::to_string).ok_or_else(unsupported)
                }
                _ => Err(unsupported()),
            }
        }
        Expr::Call(c) => {
            let Expr::Path(p) = c.func.as_ref() else {
                return Err(unsupported());
            };
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let [.., owner, func] = segments.as_slice() else {
                return Err(unsupported());
            };
            if owner != "Expr" && owner != "SimpleExpr" {
                return Err(unsupported());
            }
            match (func.as_str(), c.args.len()) {
                (f, 0) => keyword(f).map(str::to_string).ok_or_else(unsupported),
                ("cust" | "custom_keyword", 1) => first_string(&c.args[0]).ok_or_else(unsupported),
                ("val" | "value", 1) => {
                    crate::syntax::literal_sql(unwrap(&c.args[0])).ok_or_else(unsupported)
                }
                ("Keyword", 1) => match unwrap(&c.args[0]) {
                    Expr::Path(k) => last_ident(k)
                        .and_then(|n| keyword(&n))
                        .map(str::to_string)
                        .ok_or_else(unsupported),
                    _ => Err(unsupported()),
                },
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(text: &str) -> String {
        match parse_column_type(text, "public") {
            Ok(t) => t.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn column_type_spellings() {
        let cases = [
            ("Text", "text"),
            ("String(StringLen::N(255))", "varchar(255)"),
            ("String(StringLen::None)", "varchar"),
            ("String(StringLen::Max)", "varchar"),
            ("String(Some(40))", "varchar(40)"),
            ("String(None)", "varchar"),
            ("Char(Some(3))", "char(3)"),
            ("Char(None)", "char(1)"),
            ("TinyInteger", "smallint"),
            ("SmallInteger", "smallint"),
            ("Integer", "integer"),
            ("BigInteger", "bigint"),
            ("BigUnsigned", "bigint"),
            ("Float", "real"),
            ("Double", "double precision"),
            ("Decimal(Some((10, 2)))", "numeric(10,2)"),
            ("Decimal(None)", "numeric"),
            ("DateTime", "timestamp"),
            ("Timestamp", "timestamp"),
            ("TimestampWithTimeZone", "timestamptz"),
            ("Date", "date"),
            ("Time", "time"),
            ("Boolean", "boolean"),
            ("Json", "json"),
            ("JsonBinary", "jsonb"),
            ("Uuid", "uuid"),
            ("Binary(BlobSize::Blob(None))", "bytea"),
            ("VarBinary(StringLen::N(16))", "bytea"),
            ("Binary(16)", "bytea"),
            ("Inet", "inet"),
            ("Interval(None, None)", "interval"),
            (
                "Interval(Some(PgInterval::HourToMinute), Some(3))",
                "interval HOUR TO MINUTE(3)",
            ),
            ("Array(RcOrArc::new(ColumnType::Integer))", "integer[]"),
            ("Array(std::sync::Arc::new(ColumnType::Text))", "text[]"),
            ("Custom(\"citext\".to_owned())", "citext"),
            ("Custom(Alias::new(\"citext\").into_iden())", "citext"),
            ("custom(\"tsvector\")", "tsvector"),
            ("ColumnType::custom(\"tsvector\")", "tsvector"),
            (
                "Enum { name: Alias::new(\"tea\").into_iden(), variants: vec![] }",
                "public.tea",
            ),
            ("sea_orm::ColumnType::Text", "text"),
        ];
        for (input, want) in cases {
            assert_eq!(ct(input), want, "{input}");
        }
        for bad in [
            "Year",
            "Vector(None)",
            "Decimal(Some(10))",
            "Text(1)",
            "1 +",
        ] {
            assert!(ct(bad).starts_with("error: "), "{bad}: {}", ct(bad));
        }
    }

    #[test]
    fn default_expressions() {
        let ok = |t: &str| default_expr_sql(t).unwrap_or_else(|e| format!("error: {e}"));
        assert_eq!(ok("Expr::current_timestamp()"), "CURRENT_TIMESTAMP");
        assert_eq!(ok("Expr::current_timestamp().into()"), "CURRENT_TIMESTAMP");
        assert_eq!(ok("Expr::current_date()"), "CURRENT_DATE");
        assert_eq!(ok("Keyword::CurrentTimestamp"), "CURRENT_TIMESTAMP");
        assert_eq!(
            ok("SimpleExpr::Keyword(Keyword::CurrentTime)"),
            "CURRENT_TIME"
        );
        assert_eq!(ok("Expr::cust(\"gen_random_uuid()\")"), "gen_random_uuid()");
        assert_eq!(ok("Expr::val(1)"), "1");
        assert_eq!(ok("Expr::value(\"x\")"), "'x'");
        assert!(ok("gen_random_uuid()").starts_with("error: cannot translate"));
        assert!(ok("Func::random()").starts_with("error: cannot translate"));
    }
}
