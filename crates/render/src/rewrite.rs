//! What makes PostgreSQL rewrite a whole table under an ACCESS EXCLUSIVE lock: a column added with
//! a volatile default, an identity or a stored expression, and type changes that convert values.

use retort_schema::{Column, ColumnType};

/// Built-in functions a default commonly calls that are volatile (`pg_proc.provolatile = 'v'`):
/// a column added with one is filled row by row. (`now()` and `CURRENT_TIMESTAMP` are stable:
/// adding a column with them only stores the value once.)
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "gen_random_bytes",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "pg_current_xact_id",
];

/// The first volatile built-in function `expr` calls (outside string literals), if any.
pub(crate) fn volatile_call(expr: &str) -> Option<&'static str> {
    // Blank out string literals, so that a name inside one is not taken for a call.
    let mut plain = String::with_capacity(expr.len());
    let mut in_string = false;
    for c in expr.chars() {
        if c == '\'' {
            in_string = !in_string;
            plain.push(' ');
        } else {
            plain.push(if in_string { ' ' } else { c });
        }
    }
    let bytes = plain.as_bytes();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate().chain([(bytes.len(), &b' ')]) {
        let word = b.is_ascii_alphanumeric() || b == b'_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                start = None;
                let rest = plain[i..].trim_start();
                if rest.starts_with('(') {
                    let name = plain[s..i].to_ascii_lowercase();
                    if let Some(f) = VOLATILE.iter().find(|f| **f == name) {
                        return Some(f);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Why adding `column` to a table that has rows rewrites it, if it does.
pub(crate) fn added_column(column: &Column) -> Option<String> {
    if column.identity.is_some() {
        return Some("fills an identity value into every row".into());
    }
    if column.generated.is_some() {
        return Some("computes the stored expression for every row".into());
    }
    let default = column.default.as_deref()?;
    volatile_call(default).map(|f| format!("calls the volatile {f}() of its default for every row"))
}

/// True when changing a column from `from` to `to` converts every stored value (the table and its
/// indexes are rewritten). Changes that only relax a length, precision or scale limit do not;
/// nor is a rewrite claimed for user-defined or unknown types, which Retort cannot judge.
pub(crate) fn type_change(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType::*;
    let wider = |a: &Option<u32>, b: &Option<u32>| b.is_none() || (a.is_some() && b >= a);
    match (from, to) {
        _ if from == to => false,
        (Named { .. } | Other { .. }, _) | (_, Named { .. } | Other { .. }) => false,
        (Array { element: a }, Array { element: b }) => type_change(a, b),
        (Varchar { length: a }, Varchar { length: b }) => !wider(a, b),
        (Varchar { .. }, Text) | (Text, Varchar { length: None }) | (Cidr, Inet) => false,
        (
            Numeric {
                precision: p1,
                scale: s1,
            },
            Numeric {
                precision: p2,
                scale: s2,
            },
        ) => {
            !((p2.is_none() && s2.is_none())
                || (s1.unwrap_or(0) == s2.unwrap_or(0) && wider(p1, p2)))
        }
        (
            Timestamp {
                precision: a,
                tz: t1,
            },
            Timestamp {
                precision: b,
                tz: t2,
            },
        )
        | (
            Time {
                precision: a,
                tz: t1,
            },
            Time {
                precision: b,
                tz: t2,
            },
        ) => t1 != t2 || a.unwrap_or(6) > b.unwrap_or(6),
        (
            Bit {
                varying: true,
                length: a,
            },
            Bit {
                varying: true,
                length: b,
            },
        ) => !wider(a, b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;

    #[test]
    fn volatile_calls_are_found_outside_strings_only() {
        assert_eq!(volatile_call("gen_random_uuid()"), Some("gen_random_uuid"));
        assert_eq!(
            volatile_call("(random() * (100)::double precision)"),
            Some("random")
        );
        assert_eq!(
            volatile_call("public.uuid_generate_v4 ()"),
            Some("uuid_generate_v4")
        );
        assert_eq!(
            volatile_call("nextval('t_id_seq'::regclass)"),
            Some("nextval")
        );
        assert_eq!(volatile_call("now()"), None);
        assert_eq!(volatile_call("CURRENT_TIMESTAMP"), None);
        assert_eq!(volatile_call("'random()'::text"), None);
        assert_eq!(volatile_call("my_random()"), None);
        assert_eq!(volatile_call("random"), None);
    }

    #[test]
    fn only_conversions_rewrite() {
        assert!(type_change(&Integer, &BigInt));
        assert!(type_change(&Text, &Jsonb));
        assert!(type_change(
            &Varchar { length: Some(20) },
            &Varchar { length: Some(10) }
        ));
        assert!(!type_change(
            &Varchar { length: Some(10) },
            &Varchar { length: Some(20) }
        ));
        assert!(!type_change(&Varchar { length: Some(10) }, &Text));
        let num = |p, s| Numeric {
            precision: p,
            scale: s,
        };
        assert!(!type_change(
            &num(Some(10), Some(2)),
            &num(Some(12), Some(2))
        ));
        assert!(!type_change(&num(Some(10), Some(2)), &num(None, None)));
        assert!(type_change(
            &num(Some(10), Some(2)),
            &num(Some(12), Some(3))
        ));
        let ts = |p, tz| Timestamp { precision: p, tz };
        assert!(!type_change(&ts(Some(3), false), &ts(None, false)));
        assert!(type_change(&ts(None, false), &ts(None, true)));
        assert!(type_change(
            &Array {
                element: Box::new(Integer)
            },
            &Array {
                element: Box::new(BigInt)
            }
        ));
    }
}
