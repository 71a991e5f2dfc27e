//! Column types: typed variants for the built-in PostgreSQL types, user types by name, and `Other`.
//! `ColumnType::parse` accepts every alias (`int4`, `character varying(20)`, `timestamptz`, ...).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::catalog::QualName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ColumnType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Money,
    Boolean,
    Text,
    Varchar {
        length: Option<u32>,
    },
    Char {
        length: Option<u32>,
    },
    Bytea,
    Uuid,
    Json,
    Jsonb,
    Xml,
    Date,
    Time {
        precision: Option<u32>,
        tz: bool,
    },
    Timestamp {
        precision: Option<u32>,
        tz: bool,
    },
    Interval {
        fields: Option<String>,
        precision: Option<u32>,
    },
    Inet,
    Cidr,
    MacAddr,
    Bit {
        varying: bool,
        length: Option<u32>,
    },
    TsVector,
    Oid,
    /// A user-defined type (enum, domain, composite) by qualified name.
    Named {
        name: QualName,
    },
    Array {
        element: Box<ColumnType>,
    },
    /// Any other type, spelled as PostgreSQL's `format_type` spells it.
    Other {
        sql: String,
    },
}

impl ColumnType {
    /// The integer type of a serial pseudo-type name (`serial`, `bigserial`, `smallserial` and
    /// their `serial4` / `serial8` / `serial2` spellings), case-insensitively.
    pub fn parse_serial(input: &str) -> Option<ColumnType> {
        match input.trim().to_ascii_lowercase().as_str() {
            "smallserial" | "serial2" => Some(ColumnType::SmallInt),
            "serial" | "serial4" => Some(ColumnType::Integer),
            "bigserial" | "serial8" => Some(ColumnType::BigInt),
            _ => None,
        }
    }

    /// The serial pseudo-type for an integer type, as written in CREATE TABLE / ADD COLUMN.
    pub fn serial_name(&self) -> Option<&'static str> {
        match self {
            ColumnType::SmallInt => Some("smallserial"),
            ColumnType::Integer => Some("serial"),
            ColumnType::BigInt => Some("bigserial"),
            _ => None,
        }
    }

    pub fn array(element: ColumnType) -> Self {
        ColumnType::Array {
            element: Box::new(element),
        }
    }

    pub fn named(schema: &str, name: &str) -> Self {
        ColumnType::Named {
            name: QualName::new(schema, name),
        }
    }

    /// Parses a built-in type in any of PostgreSQL's spellings. A name that is not a built-in type
    /// becomes `Named` in `default_schema` (or in the schema it is qualified with).
    pub fn parse(input: &str, default_schema: &str) -> Option<ColumnType> {
        let s = collapse_ws(input.trim());
        if s.is_empty() {
            return None;
        }
        // PostgreSQL keeps neither the number of dimensions nor their sizes: `integer[][]` and
        // `integer[3]` are both stored (and printed) as `integer[]`.
        let mut inner = s.as_str();
        while let Some(open) = inner.strip_suffix(']').and_then(|x| x.rfind('[')) {
            let size = &inner[open + 1..inner.len() - 1];
            if !size.trim().chars().all(|c| c.is_ascii_digit()) {
                break;
            }
            inner = inner[..open].trim_end();
        }
        if inner.len() < s.len() {
            return match ColumnType::parse(inner, default_schema)? {
                a @ ColumnType::Array { .. } => Some(a),
                t => Some(ColumnType::array(t)),
            };
        }
        let lower = s.to_ascii_lowercase();
        if let Some(inner) = lower.strip_prefix("_") {
            // Internal array names such as `_int4`.
            if let Some(t) = builtin(inner) {
                return Some(ColumnType::array(t));
            }
        }
        if let Some(t) = builtin(&lower) {
            return Some(t);
        }
        // A user-defined type name, optionally qualified and quoted.
        let parts = split_qualified(&s)?;
        match parts.as_slice() {
            [name] => Some(ColumnType::named(default_schema, name)),
            [schema, name] => Some(ColumnType::named(schema, name)),
            _ => None,
        }
    }

    /// True for types whose values can be implicitly converted by `ALTER COLUMN ... TYPE` without
    /// a `USING` clause (PostgreSQL has an assignment cast between them).
    pub fn needs_using(&self, from: &ColumnType) -> bool {
        use ColumnType::*;
        let textual = |t: &ColumnType| matches!(t, Text | Varchar { .. } | Char { .. });
        let numeric = |t: &ColumnType| {
            matches!(
                t,
                SmallInt | Integer | BigInt | Real | Double | Numeric { .. }
            )
        };
        let temporal = |t: &ColumnType| matches!(t, Timestamp { .. } | Date | Time { .. });
        !((textual(self) && textual(from))
            || (numeric(self) && numeric(from))
            || (temporal(self) && temporal(from))
            || (textual(self) && !matches!(from, Array { .. }))
            || matches!((self, from), (Jsonb, Json) | (Json, Jsonb))
            || matches!((self, from), (Bit { .. }, Bit { .. })))
    }

    /// True when changing `from` into `self` can lose data or fail on existing rows.
    pub fn is_narrowing_from(&self, from: &ColumnType) -> bool {
        use ColumnType::*;
        let rank = |t: &ColumnType| match t {
            SmallInt => Some(1),
            Integer => Some(2),
            BigInt => Some(3),
            Numeric {
                precision: None, ..
            } => Some(5),
            Numeric { .. } => Some(4),
            _ => None,
        };
        match (from, self) {
            // Unbounded varchar and text are the same storage: nothing is checked or rewritten.
            (Text | Varchar { .. }, Varchar { length: None }) => false,
            (Text, Varchar { length: Some(_) } | Char { .. }) => true,
            (Varchar { length: None }, Varchar { length: Some(_) }) => true,
            (Varchar { length: Some(a) }, Varchar { length: Some(b) }) => b < a,
            (Varchar { .. }, Char { .. }) => true,
            (
                Numeric {
                    precision: Some(p1),
                    scale: s1,
                },
                Numeric {
                    precision: Some(p2),
                    scale: s2,
                },
            ) => {
                // Digits before the point are precision minus scale: raising the scale alone
                // narrows them (numeric(8,0) -> numeric(8,2) refuses 1000000).
                let (s1, s2) = (s1.unwrap_or(0), s2.unwrap_or(0));
                s2 < s1 || p2.saturating_sub(s2) < p1.saturating_sub(s1)
            }
            (Real | Double, SmallInt | Integer | BigInt | Numeric { .. }) => true,
            (Double, Real) => true,
            (Real, Double) => false,
            (SmallInt | Integer, Real) | (SmallInt | Integer | BigInt, Double) => false,
            (Timestamp { .. }, Date) => true,
            (Timestamp { precision: p1, .. }, Timestamp { precision: p2, .. })
            | (Time { precision: p1, .. }, Time { precision: p2, .. }) => {
                p2.unwrap_or(6) < p1.unwrap_or(6)
            }
            (Date, Timestamp { .. }) => false,
            (Json, Jsonb) | (Jsonb, Json) => false,
            (Char { length: a }, Varchar { length: b }) => match (a, b) {
                (_, None) => false,
                (Some(a), Some(b)) => b < a,
                (None, Some(_)) => true,
            },
            (Char { length: Some(a) }, Char { length: Some(b) }) => b < a,
            (Array { element: a }, Array { element: b }) => b.is_narrowing_from(a),
            _ => match (rank(from), rank(self)) {
                (Some(a), Some(b)) => b < a,
                _ => from != self && !matches!(self, Text),
            },
        }
    }
}

fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for ch in s.chars() {
        if ch.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            prev_space = false;
            out.push(ch);
        }
    }
    out.replace(" (", "(").replace("( ", "(").replace(" )", ")")
}

/// Splits `schema.name` / `"Schema"."Name"`, folding unquoted parts to lower case.
pub fn split_qualified(s: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted_part = true;
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        '"' => break,
                        other => cur.push(other),
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                if quoted_part {
                    return None;
                }
                cur.push(c.to_ascii_lowercase())
            }
            _ => return None,
        }
    }
    parts.push(cur);
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(parts)
}

/// Splits `name(args)` into the name and its comma-separated numeric arguments.
fn with_args(s: &str) -> (&str, Option<Vec<u32>>) {
    match s.find('(') {
        Some(open) if s.ends_with(')') => {
            let args = s[open + 1..s.len() - 1]
                .split(',')
                .map(|a| a.trim().parse::<u32>().ok())
                .collect::<Option<Vec<_>>>();
            match args {
                Some(a) => (s[..open].trim_end(), Some(a)),
                None => (s, None),
            }
        }
        _ => (s, None),
    }
}

fn builtin(lower: &str) -> Option<ColumnType> {
    use ColumnType::*;
    // Time types put the precision in the middle: `timestamp(3) with time zone`.
    for (prefix, is_ts) in [("timestamp", true), ("time", false)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let (precision, rest) = if let Some(r) = rest.strip_prefix('(') {
                let close = r.find(')')?;
                (
                    Some(r[..close].trim().parse::<u32>().ok()?),
                    &r[close + 1..],
                )
            } else {
                (None, rest)
            };
            let tz = match rest.trim() {
                "" | "without time zone" => Some(false),
                "with time zone" => Some(true),
                _ => None,
            };
            if let Some(tz) = tz {
                return Some(if is_ts {
                    Timestamp { precision, tz }
                } else {
                    Time { precision, tz }
                });
            }
        }
    }
    if let Some(rest) = lower.strip_prefix("timestamptz") {
        let (_, args) = with_args(&format!("x{rest}"));
        if rest.is_empty() || args.is_some() {
            return Some(Timestamp {
                precision: args.and_then(|a| a.first().copied()),
                tz: true,
            });
        }
    }
    if let Some(rest) = lower.strip_prefix("timetz") {
        let (_, args) = with_args(&format!("x{rest}"));
        if rest.is_empty() || args.is_some() {
            return Some(Time {
                precision: args.and_then(|a| a.first().copied()),
                tz: true,
            });
        }
    }
    if let Some(rest) = lower.strip_prefix("interval") {
        let rest = rest.trim();
        let (fields, precision) = match rest.rfind('(') {
            Some(open) if rest.ends_with(')') => (
                rest[..open].trim(),
                Some(rest[open + 1..rest.len() - 1].trim().parse::<u32>().ok()?),
            ),
            _ => (rest, None),
        };
        return Some(Interval {
            fields: (!fields.is_empty()).then(|| fields.to_ascii_uppercase()),
            precision,
        });
    }
    let (name, args) = with_args(lower);
    let first = args.as_ref().and_then(|a| a.first().copied());
    let no_args = args.is_none();
    Some(match name {
        "smallint" | "int2" if no_args => SmallInt,
        "integer" | "int" | "int4" if no_args => Integer,
        "bigint" | "int8" if no_args => BigInt,
        "real" | "float4" if no_args => Real,
        "double precision" | "float8" if no_args => Double,
        "float" => match first {
            Some(p) if p <= 24 => Real,
            _ => Double,
        },
        "numeric" | "decimal" => Numeric {
            precision: first,
            scale: match args.as_deref() {
                Some([_, s]) => Some(*s),
                Some([_]) => Some(0),
                _ => None,
            },
        },
        "money" if no_args => Money,
        "boolean" | "bool" if no_args => Boolean,
        "text" if no_args => Text,
        "character varying" | "varchar" => Varchar { length: first },
        "character" | "char" | "bpchar" => Char {
            length: first.or(if name == "bpchar" { None } else { Some(1) }),
        },
        "bytea" if no_args => Bytea,
        "uuid" if no_args => Uuid,
        "json" if no_args => Json,
        "jsonb" if no_args => Jsonb,
        "xml" if no_args => Xml,
        "date" if no_args => Date,
        "inet" if no_args => Inet,
        "cidr" if no_args => Cidr,
        "macaddr" if no_args => MacAddr,
        "bit" => Bit {
            varying: false,
            length: first.or(Some(1)),
        },
        "bit varying" | "varbit" => Bit {
            varying: true,
            length: first,
        },
        "tsvector" if no_args => TsVector,
        "oid" if no_args => Oid,
        "citext" | "hstore" | "point" | "line" | "box" | "polygon" | "circle" | "path" | "lseg"
        | "int4range" | "int8range" | "numrange" | "tsrange" | "tstzrange" | "daterange"
        | "tsquery" | "macaddr8" | "pg_lsn" | "regclass"
            if no_args =>
        {
            Other {
                sql: name.to_string(),
            }
        }
        _ => return None,
    })
}

fn opt(p: Option<u32>) -> String {
    p.map(|p| format!("({p})")).unwrap_or_default()
}

impl fmt::Display for ColumnType {
    /// The SQL spelling used in generated migrations.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ColumnType::*;
        match self {
            SmallInt => f.write_str("smallint"),
            Integer => f.write_str("integer"),
            BigInt => f.write_str("bigint"),
            Real => f.write_str("real"),
            Double => f.write_str("double precision"),
            Numeric {
                precision: Some(p),
                scale: Some(s),
            } => write!(f, "numeric({p},{s})"),
            Numeric {
                precision: Some(p),
                scale: None,
            } => write!(f, "numeric({p})"),
            Numeric { .. } => f.write_str("numeric"),
            Money => f.write_str("money"),
            Boolean => f.write_str("boolean"),
            Text => f.write_str("text"),
            Varchar { length } => write!(f, "varchar{}", opt(*length)),
            Char { length } => write!(f, "char{}", opt(*length)),
            Bytea => f.write_str("bytea"),
            Uuid => f.write_str("uuid"),
            Json => f.write_str("json"),
            Jsonb => f.write_str("jsonb"),
            Xml => f.write_str("xml"),
            Date => f.write_str("date"),
            Time { precision, tz } => {
                write!(f, "time{}", opt(*precision))?;
                if *tz {
                    f.write_str(" with time zone")?;
                }
                Ok(())
            }
            Timestamp { precision, tz } => {
                if *tz {
                    write!(f, "timestamptz{}", opt(*precision))
                } else {
                    write!(f, "timestamp{}", opt(*precision))
                }
            }
            Interval { fields, precision } => {
                f.write_str("interval")?;
                if let Some(fl) = fields {
                    write!(f, " {fl}")?;
                }
                write!(f, "{}", opt(*precision))
            }
            Inet => f.write_str("inet"),
            Cidr => f.write_str("cidr"),
            MacAddr => f.write_str("macaddr"),
            Bit { varying, length } => {
                write!(
                    f,
                    "{}{}",
                    if *varying { "varbit" } else { "bit" },
                    opt(*length)
                )
            }
            TsVector => f.write_str("tsvector"),
            Oid => f.write_str("oid"),
            Named { name } => write!(
                f,
                "{}.{}",
                crate::quote_ident(&name.schema),
                crate::quote_ident(&name.name)
            ),
            Array { element } => write!(f, "{element}[]"),
            Other { sql } => f.write_str(sql),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ColumnType {
        ColumnType::parse(s, "public").unwrap()
    }

    #[test]
    fn serial_pseudo_types_name_integer_types() {
        assert_eq!(
            ColumnType::parse_serial("serial"),
            Some(ColumnType::Integer)
        );
        assert_eq!(
            ColumnType::parse_serial("BIGSERIAL"),
            Some(ColumnType::BigInt)
        );
        assert_eq!(
            ColumnType::parse_serial("serial2"),
            Some(ColumnType::SmallInt)
        );
        assert_eq!(ColumnType::parse_serial("integer"), None);
        for ty in [
            ColumnType::SmallInt,
            ColumnType::Integer,
            ColumnType::BigInt,
        ] {
            assert_eq!(
                ColumnType::parse_serial(ty.serial_name().unwrap()),
                Some(ty)
            );
        }
        assert_eq!(ColumnType::Text.serial_name(), None);
    }

    #[test]
    fn aliases_parse_to_the_same_type() {
        assert_eq!(p("int4"), p("integer"));
        assert_eq!(p("INT"), ColumnType::Integer);
        assert_eq!(p("character varying(255)"), p("varchar(255)"));
        assert_eq!(
            p("timestamp with time zone"),
            ColumnType::Timestamp {
                precision: None,
                tz: true
            }
        );
        assert_eq!(p("timestamp(3) with time zone"), p("timestamptz(3)"));
        assert_eq!(p("timestamp without time zone"), p("timestamp"));
        assert_eq!(p("numeric(10, 2)"), p("decimal(10,2)"));
        assert_eq!(p("integer[]"), ColumnType::array(ColumnType::Integer));
        assert_eq!(p("integer[][]"), ColumnType::array(ColumnType::Integer));
        assert_eq!(p("int4[3][ 4 ]"), ColumnType::array(ColumnType::Integer));
        assert_eq!(
            p("varchar(5) []"),
            ColumnType::array(ColumnType::Varchar { length: Some(5) })
        );
        assert_eq!(p("_int4"), ColumnType::array(ColumnType::Integer));
        assert_eq!(p("bool"), ColumnType::Boolean);
        assert_eq!(p("float8"), p("double precision"));
        assert_eq!(p("character(1)"), p("char"));
    }

    #[test]
    fn user_types_are_named_and_qualified() {
        assert_eq!(p("mood"), ColumnType::named("public", "mood"));
        assert_eq!(p("app.\"Mood\""), ColumnType::named("app", "Mood"));
        assert!(ColumnType::parse("not a type!", "public").is_none());
    }

    #[test]
    fn display_round_trips_through_parse() {
        for s in [
            "smallint",
            "numeric(10,2)",
            "varchar(20)",
            "timestamptz(3)",
            "time with time zone",
            "interval",
            "bit(3)",
            "varbit",
            "text[]",
            "public.mood",
            "char(2)",
        ] {
            let t = p(s);
            assert_eq!(p(&t.to_string()), t, "{s}");
        }
    }

    #[test]
    fn narrowing_is_detected() {
        assert!(p("varchar(10)").is_narrowing_from(&p("varchar(20)")));
        assert!(!p("varchar(20)").is_narrowing_from(&p("varchar(10)")));
        assert!(p("integer").is_narrowing_from(&p("bigint")));
        assert!(!p("bigint").is_narrowing_from(&p("integer")));
        assert!(!p("text").is_narrowing_from(&p("varchar(3)")));
        assert!(!p("varchar").is_narrowing_from(&p("varchar(3)")));
        assert!(p("numeric(8,2)").is_narrowing_from(&p("numeric(8,0)")));
        assert!(!p("numeric(10,2)").is_narrowing_from(&p("numeric(8,0)")));
        assert!(p("numeric(8,1)").is_narrowing_from(&p("numeric(8,2)")));
        assert!(!p("varchar").is_narrowing_from(&p("text")));
        assert!(!p("text").is_narrowing_from(&p("varchar")));
        assert!(!p("double precision").is_narrowing_from(&p("real")));
        assert!(!p("timestamptz").is_narrowing_from(&p("timestamp")));
        assert!(p("timestamptz(0)").is_narrowing_from(&p("timestamptz")));
        assert!(!p("jsonb").is_narrowing_from(&p("json")));
        assert!(!p("varchar(3)").is_narrowing_from(&p("char(3)")));
        assert!(p("integer").is_narrowing_from(&p("text")));
    }
}
