//! Column type changes: what they do to stored values (narrowing, rewrite, lost checks), and the
//! cast a USING needs between user-defined types.

use crate::HazardKind;
use retort_schema::ColumnType;

/// What a column type change does to the values already stored, when it does more than copy
/// them: narrowing (values rounded, cut or refused) or a rewrite that changes their meaning.
pub(crate) fn type_change_effect(
    from: &ColumnType,
    to: &ColumnType,
) -> Option<(HazardKind, String)> {
    use ColumnType::*;
    let narrowing = |s: &str| Some((HazardKind::Narrowing, s.to_string()));
    let rewrite = |s: &str| Some((HazardKind::Rewrite, s.to_string()));
    match (from, to) {
        (Json, Jsonb) => rewrite("the table is rewritten, and jsonb keeps only the last of duplicate keys and drops key order and white space"),
        (Jsonb, Json) => rewrite("the table is rewritten (values keep their jsonb spelling)"),
        (Timestamp { tz: true, .. }, Timestamp { tz: false, .. }) => rewrite("values become local times in the session's TimeZone, their offset is lost, and the table is rewritten"),
        (Timestamp { tz: false, .. }, Timestamp { tz: true, .. }) => rewrite("values are read as times in the session's TimeZone (check it is the zone they were written in); the table is rewritten unless TimeZone is UTC"),
        (Time { tz: true, .. }, Time { tz: false, .. }) => rewrite("values lose their offset"),
        (Char { length: a }, Varchar { length: b }) if b.is_none() || b >= a => rewrite("trailing blanks are stripped from every value (char pads, varchar keeps what is stored), and the table is rewritten"),
        (Char { .. }, Text) => rewrite("trailing blanks are stripped from every value (char pads, text keeps what is stored), and the table is rewritten"),
        (Array { element: a }, Array { element: b })
            if a != b && !to.is_narrowing_from(from) =>
        {
            rewrite("every array is converted element by element: the table is rewritten")
        }
        (Named { name }, t) if !matches!(t, Named { .. }) => Some((
            HazardKind::ConstraintLoss,
            format!("values are no longer checked by type {name} (a domain's CHECKs or an enum's labels)"),
        )),
        (
            Numeric { precision: p1, scale: s1 },
            Numeric { precision: p2, scale: s2 },
        ) if to.is_narrowing_from(from) => {
            let (s1, s2) = (s1.unwrap_or(0), s2.unwrap_or(0));
            let mut parts = Vec::new();
            if s2 < s1 || (p1.is_none() && p2.is_some()) {
                parts.push(format!("values are rounded to {s2} decimal place(s)"));
            }
            if let Some(p2) = p2 {
                let before = p2.saturating_sub(s2);
                if p1.is_none_or(|p1| before < p1.saturating_sub(s1)) {
                    parts.push(format!(
                        "values with more than {before} digit(s) before the point make the migration fail"
                    ));
                }
            }
            if s2 != s1 {
                parts.push("the table is rewritten".into());
            }
            narrowing(&parts.join("; "))
        }
        (Numeric { scale: s1, .. }, Numeric { scale: s2, .. }) if s1 != s2 => rewrite(&format!(
            "the table is rewritten (every value is stored with {} decimal place(s))",
            s2.unwrap_or(0)
        )),
        (Real | Double, SmallInt | Integer | BigInt) => narrowing("values are rounded to whole numbers, and those out of range make the migration fail"),
        (Real | Double, Numeric { .. }) => narrowing("values are rounded to the new scale, and NaN or infinite values or those out of range make the migration fail"),
        (Double, Real) => narrowing("values are rounded to about 6 significant digits, and those out of range make the migration fail"),
        (Timestamp { .. }, Date) => narrowing("the time of day is dropped from every value"),
        (Timestamp { precision: p1, .. }, Timestamp { precision: p2, .. })
        | (Time { precision: p1, .. }, Time { precision: p2, .. })
            if to.is_narrowing_from(from) =>
        {
            narrowing(&format!(
                "fractional seconds are rounded to {} digit(s) (was {})",
                p2.unwrap_or(6),
                p1.unwrap_or(6)
            ))
        }
        (_, Varchar { length: Some(n) } | Char { length: Some(n) }) if to.is_narrowing_from(from) => {
            narrowing(&format!("values longer than {n} character(s) make the migration fail"))
        }
        _ if to.is_narrowing_from(from) => {
            if matches!((from, to), (SmallInt | Integer | BigInt, SmallInt | Integer | BigInt)) {
                narrowing("values out of the new type's range make the migration fail")
            } else if matches!((from, to), (Numeric { .. }, SmallInt | Integer | BigInt)) {
                narrowing("values are rounded to whole numbers, and those out of range make the migration fail")
            } else {
                narrowing("existing values may not convert, and one that does not makes the migration fail")
            }
        }
        _ => None,
    }
}

/// The cast through text a USING needs between user-defined types: PostgreSQL has no cast from
/// one enum (or domain over an enum) to another, but both convert from and to text.
pub(crate) fn via_text(from: &ColumnType, to: &ColumnType) -> &'static str {
    use ColumnType::*;
    match (from, to) {
        (Named { .. }, Named { .. }) => "::text",
        (Array { element: a }, Array { element: b })
            if matches!((&**a, &**b), (Named { .. }, Named { .. })) =>
        {
            "::text[]"
        }
        _ => "",
    }
}
