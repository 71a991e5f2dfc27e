//! The Rust type map: field types to column types (`i64` is bigint, `Option<T>` is a NULL-able T,
//! a `DbEnum` is its enum type). Paths match on their last segment, so qualified paths work too.

use std::collections::BTreeMap;

use retort_schema::{ColumnType, QualName};

use crate::syntax::{Pos, RustType};

/// Why a Rust type has no column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// No mapping for this (innermost) type.
    Unknown { text: String, pos: Pos },
    /// The name is shared by several `DbEnum`s.
    Ambiguous {
        text: String,
        pos: Pos,
        candidates: Vec<QualName>,
    },
}

/// Removes `Option` layers; true when there was at least one.
pub fn strip_option(ty: &RustType) -> (&RustType, bool) {
    match ty {
        RustType::Path { name, args, .. } if name == "Option" && args.len() == 1 => {
            (strip_option(&args[0]).0, true)
        }
        _ => (ty, false),
    }
}

/// Maps a type without its outer `Option`. `enums` maps a Rust enum name to its SQL types.
pub fn map(ty: &RustType, enums: &BTreeMap<String, Vec<QualName>>) -> Result<ColumnType, MapError> {
    let unknown = || MapError::Unknown {
        text: ty.text().to_string(),
        pos: ty.pos(),
    };
    let RustType::Path { name, args, .. } = ty else {
        return Err(unknown());
    };
    use ColumnType::*;
    let plain = args.is_empty();
    Ok(match name.as_str() {
        "i16" if plain => SmallInt,
        "i32" if plain => Integer,
        "i64" if plain => BigInt,
        "f32" if plain => Real,
        "f64" if plain => Double,
        "bool" if plain => Boolean,
        "String" if plain => Text,
        "Uuid" if plain => Uuid,
        "Decimal" if plain => Numeric {
            precision: None,
            scale: None,
        },
        "NaiveDate" if plain => Date,
        "NaiveTime" if plain => Time {
            precision: None,
            tz: false,
        },
        "NaiveDateTime" | "PrimitiveDateTime" if plain => Timestamp {
            precision: None,
            tz: false,
        },
        "OffsetDateTime" if plain => Timestamp {
            precision: None,
            tz: true,
        },
        "DateTime" => match args.as_slice() {
            [RustType::Path { name: tz, args, .. }]
                if args.is_empty() && matches!(tz.as_str(), "Utc" | "FixedOffset" | "Local") =>
            {
                Timestamp {
                    precision: None,
                    tz: true,
                }
            }
            _ => return Err(unknown()),
        },
        "Value" if plain => Jsonb,
        "Json" if args.len() <= 1 => Jsonb,
        "IpAddr" | "IpNetwork" if plain => Inet,
        "Vec" if args.len() == 1 => {
            let (element, _) = strip_option(&args[0]);
            match element {
                RustType::Path { name, args, .. } if name == "u8" && args.is_empty() => Bytea,
                _ => match map(element, enums)? {
                    // PostgreSQL arrays do not record their dimensions: `Vec<Vec<T>>` is `T[]`.
                    array @ Array { .. } => array,
                    other => ColumnType::array(other),
                },
            }
        }
        _ if plain => match enums.get(name.as_str()).map(Vec::as_slice) {
            Some([one]) => ColumnType::Named { name: one.clone() },
            Some(many) if !many.is_empty() => {
                return Err(MapError::Ambiguous {
                    text: ty.text().to_string(),
                    pos: ty.pos(),
                    candidates: many.to_vec(),
                })
            }
            _ => return Err(unknown()),
        },
        _ => return Err(unknown()),
    })
}
