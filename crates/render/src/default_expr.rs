//! Column defaults as PostgreSQL's `DEFAULT` grammar (`b_expr`) accepts them: a single term
//! as it is, anything else in parentheses.

/// A column default as written after `DEFAULT` in a column definition. There PostgreSQL's grammar
/// takes only a restricted expression (`b_expr`: no AND/OR/NOT/IS/IN/LIKE/COLLATE, no bare
/// subquery), and the IR keeps defaults without their outer parentheses, so anything but a single
/// literal, name or call (with optional casts) is written in parentheses.
pub(crate) fn default_sql(d: &str) -> String {
    if is_primary(d) {
        d.to_string()
    } else {
        format!("({d})")
    }
}

/// True for a literal, a name or a function call, optionally signed and followed by `::type` casts.
fn is_primary(expr: &str) -> bool {
    let e = expr.trim();
    let e = e.strip_prefix('-').unwrap_or(e);
    let segments = top_level_casts(e);
    let Some((head, types)) = segments.split_first() else {
        return false;
    };
    if head.is_empty() || !single_term(head) {
        return false;
    }
    types.iter().all(|t| {
        let lower = t.trim().to_ascii_lowercase();
        let mut rest = lower.as_str().to_string();
        for phrase in MULTIWORD_TYPES {
            rest = rest.replace(phrase, "t");
        }
        !rest.is_empty() && single_term(&rest)
    })
}

/// Type names PostgreSQL spells with spaces, as `format_type` prints them.
const MULTIWORD_TYPES: &[&str] = &[
    "timestamp with time zone",
    "timestamp without time zone",
    "time with time zone",
    "time without time zone",
    "character varying",
    "double precision",
    "bit varying",
];

/// `expr` split at its `::` casts outside quotes and brackets.
fn top_level_casts(e: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 0usize);
    let bytes = e.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth = depth.saturating_sub(1),
            (None, ':') if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                out.push(&e[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&e[start..]);
    out
}

/// True when `s` has no whitespace or operator outside quotes and brackets, and balances.
fn single_term(s: &str) -> bool {
    let (mut depth, mut quote) = (0usize, None::<char>);
    for c in s.trim().chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            (None, c)
                if depth == 0 && (c.is_whitespace() || "+-*/<>=~!@#%^&|`?,;:".contains(c)) =>
            {
                return false
            }
            _ => {}
        }
    }
    quote.is_none() && depth == 0
}
