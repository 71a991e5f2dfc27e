//! Renders `Change`s as PostgreSQL statements with their hazards, and whole migration bodies.
//! Pure text: it never diffs and never touches a database.

use retort_schema::*;
use serde::Serialize;
use std::fmt::Write;

/// Why a statement deserves a reviewer's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Stored data is deleted.
    DataLoss,
    /// A type change that can fail or truncate on existing values.
    Narrowing,
    /// Fails when existing rows hold NULL (or no default fills the new column).
    NotNull,
    /// Enum labels disappear; rows using them make the migration fail.
    EnumValueRemoval,
    /// The statement cannot run inside a transaction.
    NonTransactional,
    /// The statement blocks writes to an existing table while it runs.
    Locking,
    /// A drop and an add that look like a rename without a `renamed_from` hint: data would be lost.
    PossibleRename,
    /// Every row is rewritten and the stored values change meaning or spelling.
    Rewrite,
    /// An index disappears (queries that used it slow down; a unique one stops refusing duplicates).
    IndexLoss,
    /// A constraint (primary key, unique, foreign key, check, a domain's checks) stops being enforced.
    ConstraintLoss,
    /// A column stops filling itself in (DROP DEFAULT, DROP IDENTITY): inserts that omit it change.
    DefaultLoss,
}

impl HazardKind {
    pub fn label(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data loss",
            HazardKind::Narrowing => "narrowing",
            HazardKind::NotNull => "not null",
            HazardKind::EnumValueRemoval => "enum value removal",
            HazardKind::NonTransactional => "no transaction",
            HazardKind::Locking => "locking",
            HazardKind::PossibleRename => "possible rename",
            HazardKind::Rewrite => "rewrite",
            HazardKind::IndexLoss => "index loss",
            HazardKind::ConstraintLoss => "constraint loss",
            HazardKind::DefaultLoss => "default loss",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

/// One SQL statement (without the trailing semicolon) and what to watch for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sql: String,
    pub hazards: Vec<Hazard>,
}

impl Statement {
    fn new(sql: String) -> Self {
        Statement {
            sql,
            hazards: Vec::new(),
        }
    }

    fn hazard(mut self, kind: HazardKind, message: impl Into<String>) -> Self {
        self.hazards.push(Hazard {
            kind,
            message: message.into(),
        });
        self
    }
}

fn q(s: &str) -> String {
    quote_ident(s)
}

fn cols(cs: &[String]) -> String {
    cs.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

fn alter(table: &QualName) -> String {
    format!("ALTER TABLE {}", quote_qual(table))
}

fn drop_constraint(table: &QualName, name: &str) -> String {
    format!("{} DROP CONSTRAINT {}", alter(table), q(name))
}

fn identity_sql(i: Identity) -> &'static str {
    match i {
        Identity::Always => "ALWAYS",
        // Callers pass SQL identities only; a serial behaves as BY DEFAULT.
        Identity::ByDefault | Identity::Serial => "BY DEFAULT",
    }
}

/// `name type [GENERATED ...] [NOT NULL] [DEFAULT ...]` as used in CREATE TABLE and ADD COLUMN.
/// A serial is written with its pseudo-type (`serial`, `bigserial`, `smallserial`).
fn column_def(c: &Column) -> String {
    let ty = match (c.identity, c.ty.serial_name()) {
        (Some(Identity::Serial), Some(serial)) => serial.to_string(),
        _ => c.ty.to_string(),
    };
    let mut s = format!("{} {ty}", q(&c.name));
    if let Some(g) = &c.generated {
        let _ = write!(s, " GENERATED ALWAYS AS ({g}) STORED");
    }
    if let Some(i) = c.identity.filter(|i| i.is_sql_identity()) {
        let _ = write!(s, " GENERATED {} AS IDENTITY", identity_sql(i));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {}", default_sql(d));
    }
    s
}

/// `serial` implies NOT NULL: a nullable serial needs it dropped after the column is created.
fn serial_nullability(table: &QualName, c: &Column) -> Option<Statement> {
    (c.identity == Some(Identity::Serial) && c.nullable).then(|| {
        Statement::new(format!(
            "{} ALTER COLUMN {} DROP NOT NULL",
            alter(table),
            q(&c.name)
        ))
    })
}

/// The sequence a serial or identity column owns, looked up by ownership when the statement runs
/// (its name may be anything: a renamed table keeps its serial's old sequence name).
fn owned_sequence(table: &QualName, column: &str) -> String {
    format!(
        "pg_get_serial_sequence({}, {})",
        quote_literal(&quote_qual(table)),
        quote_literal(column)
    )
}

/// Sets the column's sequence so that the next value is past every stored one.
fn restart_past_max(table: &QualName, column: &str) -> Statement {
    Statement::new(format!(
        "SELECT setval({}, coalesce(max({}), 0) + 1, false) FROM {}",
        owned_sequence(table, column),
        q(column),
        quote_qual(table)
    ))
}

/// `$retort$body$retort$`, with a tag that does not occur in the body.
fn dollar_quote(body: &str) -> String {
    let mut tag = "$retort$".to_string();
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!("{tag}{body}{tag}")
}

/// Drops a serial's default and then its sequence (found by ownership).
fn drop_serial(table: &QualName, column: &str) -> Vec<Statement> {
    let body = format!(
        " BEGIN EXECUTE 'DROP SEQUENCE ' || {}; END ",
        owned_sequence(table, column)
    );
    vec![
        Statement::new(format!(
            "{} ALTER COLUMN {} DROP DEFAULT",
            alter(table),
            q(column)
        )),
        Statement::new(format!("DO {}", dollar_quote(&body))),
    ]
}

/// Makes an existing column a serial: a sequence it owns, named as PostgreSQL names a serial's,
/// sized by the column's type, as its default, with the next value past the stored ones.
fn create_serial(table: &QualName, column: &str, ty: Option<&ColumnType>) -> Vec<Statement> {
    let seq = QualName::new(
        &table.schema,
        normalize::serial_sequence_name(&table.name, column),
    );
    let size = match ty {
        Some(t) if t.serial_name().is_some() => format!(" AS {t}"),
        _ => String::new(),
    };
    vec![
        Statement::new(format!(
            "CREATE SEQUENCE {}{size} OWNED BY {}.{}",
            quote_qual(&seq),
            quote_qual(table),
            q(column)
        )),
        Statement::new(format!(
            "{} ALTER COLUMN {} SET DEFAULT nextval({}::regclass)",
            alter(table),
            q(column),
            quote_literal(&quote_qual(&seq))
        )),
        restart_past_max(table, column),
    ]
}

/// A change of identity where either side may be a serial. Identity statements are used only on
/// identity columns; conversions keep the next value past the largest stored one.
fn identity_change(
    table: &QualName,
    column: &str,
    from: Option<Identity>,
    to: Option<Identity>,
    to_ty: Option<&ColumnType>,
) -> Vec<Statement> {
    let mut out = Vec::new();
    match (from, to) {
        (Some(Identity::Serial), Some(Identity::Serial)) => {
            // The column's type changed: the sequence follows it.
            return match to_ty.filter(|t| t.serial_name().is_some()) {
                Some(t) => vec![Statement::new(format!(
                    "DO {}",
                    dollar_quote(&format!(
                        " BEGIN EXECUTE 'ALTER SEQUENCE ' || {} || ' AS {t}'; END ",
                        owned_sequence(table, column)
                    ))
                ))],
                None => Vec::new(),
            };
        }
        (Some(a), Some(b)) if a.is_sql_identity() && b.is_sql_identity() => {
            return vec![Statement::new(format!(
                "{} ALTER COLUMN {} SET GENERATED {}",
                alter(table),
                q(column),
                identity_sql(b)
            ))];
        }
        _ => {}
    }
    match from {
        Some(Identity::Serial) => out.extend(drop_serial(table, column)),
        Some(_) => out.push(Statement::new(format!(
            "{} ALTER COLUMN {} DROP IDENTITY",
            alter(table),
            q(column)
        ))),
        None => {}
    }
    match to {
        Some(Identity::Serial) => out.extend(create_serial(table, column, to_ty)),
        Some(i) => {
            out.push(Statement::new(format!(
                "{} ALTER COLUMN {} ADD GENERATED {} AS IDENTITY",
                alter(table),
                q(column),
                identity_sql(i)
            )));
            if from.is_some() {
                out.push(restart_past_max(table, column));
            }
        }
        None => {}
    }
    out
}

/// A column default as written after `DEFAULT` in a column definition. There PostgreSQL's grammar
/// takes only a restricted expression (`b_expr`: no AND/OR/NOT/IS/IN/LIKE/COLLATE, no bare
/// subquery), and the IR keeps defaults without their outer parentheses, so anything but a single
/// literal, name or call (with optional casts) is written in parentheses.
fn default_sql(d: &str) -> String {
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

fn fk_sql(fk: &ForeignKey) -> String {
    let mut s = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        cols(&fk.columns),
        quote_qual(&fk.ref_table),
        cols(&fk.ref_columns)
    );
    if fk.match_full {
        s.push_str(" MATCH FULL");
    }
    if fk.on_delete != FkAction::NoAction {
        let _ = write!(s, " ON DELETE {}", fk.on_delete.sql());
    }
    if fk.on_update != FkAction::NoAction {
        let _ = write!(s, " ON UPDATE {}", fk.on_update.sql());
    }
    match fk.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => s.push_str(" DEFERRABLE"),
        Deferrable::InitiallyDeferred => s.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    s
}

fn unique_sql(u: &Unique) -> String {
    format!(
        "UNIQUE{} ({})",
        if u.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        cols(&u.columns)
    )
}

/// One index key: the column quoted, an expression as the reader validated it, then the closed
/// grammar `[opclass] [ASC | DESC] [NULLS FIRST | LAST]`, read from the end; whatever precedes the
/// ordering words is the operator class, quoted as one (qualified) name, so it can only fail.
fn index_key(k: &str) -> String {
    let parts = index_key::split(k);
    let mut s = match parts.head {
        index_key::KeyHead::Column(c) => q(&c),
        index_key::KeyHead::Expr(e) => e.to_string(),
    };
    let mut words = parts.suffix;
    let upper = |w: &str| w.to_ascii_uppercase();
    let mut nulls = None;
    if let [.., n, which] = words.as_slice() {
        if upper(n) == "NULLS" && matches!(upper(which).as_str(), "FIRST" | "LAST") {
            nulls = Some(format!(" NULLS {}", upper(which)));
            words.truncate(words.len() - 2);
        }
    }
    let mut direction = None;
    if let [.., d] = words.as_slice() {
        if matches!(upper(d).as_str(), "ASC" | "DESC") {
            direction = Some(format!(" {}", upper(d)));
            words.pop();
        }
    }
    if !words.is_empty() {
        s.push(' ');
        s.push_str(&qualified(&words.join(" ")));
    }
    s.push_str(direction.as_deref().unwrap_or(""));
    s.push_str(nulls.as_deref().unwrap_or(""));
    s
}

/// A possibly schema-qualified name (`schema.name`), each part quoted as needed.
fn qualified(name: &str) -> String {
    name.split('.').map(q).collect::<Vec<_>>().join(".")
}

fn comment_sql(target: String, text: &Option<String>) -> String {
    format!(
        "COMMENT ON {target} IS {}",
        text.as_deref().map_or("NULL".to_string(), quote_literal)
    )
}

fn column_target(table: &QualName, column: &str) -> String {
    format!("COLUMN {}.{}", quote_qual(table), q(column))
}

fn is_subsequence(small: &[String], big: &[String]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

fn create_enum(e: &Enum) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        quote_qual(&e.name),
        e.values
            .iter()
            .map(|v| quote_literal(v))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn alter_enum(name: &QualName, from: &[String], to: &[String]) -> Vec<Statement> {
    if is_subsequence(from, to) {
        // Only additions: ADD VALUE keeps existing rows and needs no rewrite.
        return to
            .iter()
            .enumerate()
            .filter(|(_, v)| !from.contains(v))
            .map(|(i, v)| {
                let position = match to[i + 1..].iter().find(|n| from.contains(n)) {
                    Some(next) => format!(" BEFORE {}", quote_literal(next)),
                    // Only new labels follow: each goes after the label just before it in `to`,
                    // which exists by now (an earlier label or one added by a statement above);
                    // after the last old label, two new ones would end up reversed.
                    None => match i.checked_sub(1).map(|p| &to[p]) {
                        Some(prev) => format!(" AFTER {}", quote_literal(prev)),
                        None => String::new(),
                    },
                };
                Statement::new(format!(
                    "ALTER TYPE {} ADD VALUE {}{position}",
                    quote_qual(name),
                    quote_literal(v)
                ))
            })
            .collect();
    }
    // Values removed or reordered: rebuild the type and cast every column that uses it.
    let removed: Vec<&String> = from.iter().filter(|v| !to.contains(v)).collect();
    let old = QualName::new(&name.schema, format!("{}__retort_old", name.name));
    let qn = quote_qual(name);
    // Every column of the old type (or an array of it) is cast through text; defaults that
    // mention the old type are dropped first and restored with the new type name.
    let old_lit = quote_literal(&quote_qual(&old));
    let retype = [
        "DO $TAG$",
        "DECLARE r record; again text[] := '{}'; stmt text;",
        "BEGIN",
        "    -- Indexes and checks whose expressions use the old type (a predicate `s = 'x'::type`)",
        "    -- cannot follow the column to the new type: drop them and make them again after.",
        "    FOR r IN SELECT DISTINCT n.nspname, ic.relname, pg_get_indexdef(ic.oid) AS def",
        "        FROM pg_depend dep",
        "        JOIN pg_class ic ON ic.oid = dep.objid AND dep.classid = 'pg_class'::regclass",
        "        JOIN pg_namespace n ON n.oid = ic.relnamespace",
        "        WHERE dep.refclassid = 'pg_type'::regclass AND dep.refobjid = {old_lit}::regtype",
        "            AND ic.relkind = 'i'",
        "            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ic.oid)",
        "    LOOP",
        "        again := again || replace(r.def, {old_name}, {new_name});",
        "        EXECUTE format('DROP INDEX %I.%I', r.nspname, r.relname);",
        "    END LOOP;",
        "    FOR r IN SELECT DISTINCT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) AS def",
        "        FROM pg_depend dep",
        "        JOIN pg_constraint k ON k.oid = dep.objid AND dep.classid = 'pg_constraint'::regclass",
        "        JOIN pg_class c ON c.oid = k.conrelid",
        "        JOIN pg_namespace n ON n.oid = c.relnamespace",
        "        WHERE dep.refclassid = 'pg_type'::regclass AND dep.refobjid = {old_lit}::regtype",
        "            AND k.contype = 'c'",
        "    LOOP",
        "        again := again || format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', r.nspname, r.relname, r.conname, replace(r.def, {old_name}, {new_name}));",
        "        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', r.nspname, r.relname, r.conname);",
        "    END LOOP;",
        "    FOR r IN SELECT n.nspname, c.relname, a.attname, a.atttypid = {old_lit}::regtype AS scalar,",
        "            pg_get_expr(d.adbin, d.adrelid) AS def",
        "        FROM pg_attribute a",
        "        JOIN pg_class c ON c.oid = a.attrelid",
        "        JOIN pg_namespace n ON n.oid = c.relnamespace",
        "        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum",
        "        WHERE a.atttypid IN ({old_lit}::regtype, (SELECT typarray FROM pg_type WHERE oid = {old_lit}::regtype))",
        "            AND NOT a.attisdropped AND c.relkind IN ('r', 'p')",
        "    LOOP",
        "        IF r.def IS NOT NULL THEN",
        "            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I DROP DEFAULT', r.nspname, r.relname, r.attname);",
        "        END IF;",
        "        IF r.scalar THEN",
        "            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE {qn} USING %I::text::{qn}', r.nspname, r.relname, r.attname, r.attname);",
        "        ELSE",
        "            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE {qn}[] USING %I::text[]::{qn}[]', r.nspname, r.relname, r.attname, r.attname);",
        "        END IF;",
        "        IF r.def IS NOT NULL THEN",
        "            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT %s', r.nspname, r.relname, r.attname, replace(r.def, {old_name}, {new_name}));",
        "        END IF;",
        "    END LOOP;",
        "    FOREACH stmt IN ARRAY again LOOP",
        "        EXECUTE stmt;",
        "    END LOOP;",
        "END",
        "$TAG$",
    ]
    .join("\n")
    .replace("{old_lit}", &old_lit)
    .replace("{qn}", &qn)
    .replace("{old_name}", &quote_literal(&old.name))
    .replace("{new_name}", &quote_literal(&name.name));
    // The dollar-quote tag must not occur in the body, or a name holding it would end the quote.
    let tag = (0..)
        .map(|n| {
            if n == 0 {
                "retort".to_string()
            } else {
                format!("retort{n}")
            }
        })
        .find(|t| !retype.contains(&format!("${t}$")))
        .unwrap_or_default();
    let retype = retype.replace("$TAG$", &format!("${tag}$"));
    let mut first = Statement::new(format!("ALTER TYPE {qn} RENAME TO {}", q(&old.name)));
    if !removed.is_empty() {
        first = first.hazard(
            HazardKind::EnumValueRemoval,
            format!(
                "enum {name} loses {}: rows that use them make this migration fail",
                removed
                    .iter()
                    .map(|v| quote_literal(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    vec![
        first,
        Statement::new(create_enum(&Enum {
            name: name.clone(),
            values: to.to_vec(),
        })),
        Statement::new(retype),
        Statement::new(format!("DROP TYPE {}", quote_qual(&old))),
    ]
}

fn create_table(t: &Table) -> Vec<Statement> {
    let mut lines: Vec<String> = t.columns.iter().map(column_def).collect();
    if let Some(pk) = &t.primary_key {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            q(&pk.name),
            cols(&pk.columns)
        ));
    }
    for u in &t.uniques {
        lines.push(format!("CONSTRAINT {} {}", q(&u.name), unique_sql(u)));
    }
    for c in &t.checks {
        lines.push(format!("CONSTRAINT {} CHECK ({})", q(&c.name), c.expr));
    }
    let mut out = vec![Statement::new(format!(
        "CREATE TABLE {} (\n    {}\n)",
        quote_qual(&t.name),
        lines.join(",\n    ")
    ))];
    out.extend(
        t.columns
            .iter()
            .filter_map(|c| serial_nullability(&t.name, c)),
    );
    if t.comment.is_some() {
        out.push(Statement::new(comment_sql(
            format!("TABLE {}", quote_qual(&t.name)),
            &t.comment,
        )));
    }
    for c in t.columns.iter().filter(|c| c.comment.is_some()) {
        out.push(Statement::new(comment_sql(
            column_target(&t.name, &c.name),
            &c.comment,
        )));
    }
    out
}

/// What a column type change does to the values already stored, when it does more than copy
/// them: narrowing (values rounded, cut or refused) or a rewrite that changes their meaning.
fn type_change_effect(from: &ColumnType, to: &ColumnType) -> Option<(HazardKind, String)> {
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
fn via_text(from: &ColumnType, to: &ColumnType) -> &'static str {
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

/// Choices that change how changes are written, not what they do.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Build and drop indexes of existing tables with CONCURRENTLY (the migration then runs
    /// outside a transaction).
    pub concurrent_indexes: bool,
}

/// The statements for one change.
pub fn statements(change: &Change) -> Vec<Statement> {
    use Change::*;
    let one = |sql: String| vec![Statement::new(sql)];
    match change {
        RenameTable { from, to } => one(format!("{} RENAME TO {}", alter(from), q(&to.name))),
        RenameEnumValue { name, from, to } => one(format!(
            "ALTER TYPE {} RENAME VALUE {} TO {}",
            quote_qual(name),
            quote_literal(from),
            quote_literal(to)
        )),
        RenameColumn { table, from, to } => one(format!(
            "{} RENAME COLUMN {} TO {}",
            alter(table),
            q(from),
            q(to)
        )),
        RenameConstraint { table, from, to } => one(format!(
            "{} RENAME CONSTRAINT {} TO {}",
            alter(table),
            q(from),
            q(to)
        )),
        RenameIndex { table, from, to } => one(format!(
            "ALTER INDEX {} RENAME TO {}",
            quote_qual(&QualName::new(&table.schema, from)),
            q(to)
        )),
        CreateSchema { name } => one(format!("CREATE SCHEMA IF NOT EXISTS {}", q(name))),
        DropSchema { name } => one(format!("DROP SCHEMA IF EXISTS {}", q(name))),
        CreateEnum { enum_type } => one(create_enum(enum_type)),
        DropEnum { enum_type } => one(format!("DROP TYPE {}", quote_qual(&enum_type.name))),
        AlterEnum { name, from, to } => alter_enum(name, from, to),
        CreateTable { table } => create_table(table),
        DropTable { table } => {
            vec![
                Statement::new(format!("DROP TABLE {}", quote_qual(&table.name))).hazard(
                    HazardKind::DataLoss,
                    format!("drops table {} and all its rows", table.name),
                ),
            ]
        }
        AddColumn { table, column } => {
            let mut st = Statement::new(format!(
                "{} ADD COLUMN {}",
                alter(table),
                column_def(column)
            ));
            if !column.nullable
                && column.default.is_none()
                && column.identity.is_none()
                && column.generated.is_none()
            {
                st = st.hazard(
                    HazardKind::NotNull,
                    format!(
                        "adds NOT NULL column {}.{} without a default: fails if the table has rows",
                        table, column.name
                    ),
                );
            }
            let mut out = vec![st];
            out.extend(serial_nullability(table, column));
            if column.comment.is_some() {
                out.push(Statement::new(comment_sql(
                    column_target(table, &column.name),
                    &column.comment,
                )));
            }
            out
        }
        DropColumn { table, column } => {
            let st = Statement::new(format!("{} DROP COLUMN {}", alter(table), q(&column.name)));
            if column.generated.is_some() {
                // A generated column holds no data of its own: it is recomputed when re-added.
                vec![st]
            } else {
                vec![st.hazard(
                    HazardKind::DataLoss,
                    format!("drops column {}.{} and its data", table, column.name),
                )]
            }
        }
        AlterColumnGenerated { table, from, to } => {
            if to.generated.is_none() {
                one(format!(
                    "{} ALTER COLUMN {} DROP EXPRESSION",
                    alter(table),
                    q(&to.name)
                ))
            } else {
                vec![
                    Statement::new(format!("{} DROP COLUMN {}", alter(table), q(&from.name)))
                        .hazard(
                            HazardKind::DataLoss,
                            format!(
                                "{table}.{} becomes a generated column: it is dropped and added again, its stored values are replaced by computed ones",
                                from.name
                            ),
                        ),
                    Statement::new(format!("{} ADD COLUMN {}", alter(table), column_def(to))),
                ]
            }
        }
        AlterColumnType {
            table,
            column,
            from,
            to,
        } => {
            let using = if to.needs_using(from) {
                format!(" USING {}{}::{to}", q(column), via_text(from, to))
            } else {
                String::new()
            };
            let mut st = Statement::new(format!(
                "{} ALTER COLUMN {} TYPE {to}{using}",
                alter(table),
                q(column)
            ));
            if let Some((kind, effect)) = type_change_effect(from, to) {
                st = st.hazard(
                    kind,
                    format!("changes {table}.{column} from {from} to {to}: {effect}"),
                );
            }
            vec![st]
        }
        AlterColumnNullable {
            table, column, to, ..
        } => {
            if *to {
                one(format!(
                    "{} ALTER COLUMN {} DROP NOT NULL",
                    alter(table),
                    q(column)
                ))
            } else {
                vec![Statement::new(format!(
                    "{} ALTER COLUMN {} SET NOT NULL",
                    alter(table),
                    q(column)
                ))
                .hazard(
                    HazardKind::NotNull,
                    format!("sets {table}.{column} NOT NULL: fails if any row holds NULL"),
                )]
            }
        }
        AlterColumnDefault {
            table, column, to, ..
        } => one(match to {
            Some(d) => format!(
                "{} ALTER COLUMN {} SET DEFAULT {}",
                alter(table),
                q(column),
                default_sql(d)
            ),
            None => format!("{} ALTER COLUMN {} DROP DEFAULT", alter(table), q(column)),
        }),
        AlterColumnIdentity {
            table,
            column,
            from,
            to,
        } => identity_change(table, column, *from, *to, None),
        AlterColumnSerial {
            table,
            column,
            from,
            to,
            to_ty,
            ..
        } => identity_change(table, column, *from, *to, Some(to_ty)),
        AddPrimaryKey { table, primary_key } => one(format!(
            "{} ADD CONSTRAINT {} PRIMARY KEY ({})",
            alter(table),
            q(&primary_key.name),
            cols(&primary_key.columns)
        )),
        DropPrimaryKey { table, primary_key } => one(drop_constraint(table, &primary_key.name)),
        AddUnique { table, unique } => one(format!(
            "{} ADD CONSTRAINT {} {}",
            alter(table),
            q(&unique.name),
            unique_sql(unique)
        )),
        DropUnique { table, unique } => one(drop_constraint(table, &unique.name)),
        AddCheck { table, check } => one(format!(
            "{} ADD CONSTRAINT {} CHECK ({})",
            alter(table),
            q(&check.name),
            check.expr
        )),
        DropCheck { table, check } => one(drop_constraint(table, &check.name)),
        AddForeignKey { table, foreign_key } => one(format!(
            "{} ADD CONSTRAINT {} {}",
            alter(table),
            q(&foreign_key.name),
            fk_sql(foreign_key)
        )),
        DropForeignKey { table, foreign_key } => one(drop_constraint(table, &foreign_key.name)),
        AlterForeignKeyDeferrable {
            table, name, to, ..
        } => one(format!(
            "{} ALTER CONSTRAINT {} {}",
            alter(table),
            q(name),
            to.sql()
        )),
        CreateIndex { table, index } => {
            let mut s = format!(
                "CREATE {}INDEX {} ON {}",
                if index.unique { "UNIQUE " } else { "" },
                q(&index.name),
                quote_qual(table)
            );
            if index.method != "btree" {
                // The method is a name: quoted, it cannot be anything but one word.
                let _ = write!(s, " USING {}", q(&index.method));
            }
            let keys: Vec<String> = index.keys.iter().map(|k| index_key(k)).collect();
            let _ = write!(s, " ({})", keys.join(", "));
            if !index.include.is_empty() {
                let _ = write!(s, " INCLUDE ({})", cols(&index.include));
            }
            if let Some(p) = &index.predicate {
                let _ = write!(s, " WHERE {p}");
            }
            one(s)
        }
        DropIndex { table, index } => one(format!(
            "DROP INDEX {}",
            quote_qual(&QualName::new(&table.schema, &index.name))
        )),
        AlterTableComment { table, to, .. } => {
            one(comment_sql(format!("TABLE {}", quote_qual(table)), to))
        }
        AlterColumnComment {
            table, column, to, ..
        } => one(comment_sql(column_target(table, column), to)),
    }
}

/// Statements for a whole migration: per-change statements plus hazards that need the context
/// of the other changes (indexes on existing tables, drop + add pairs that look like renames).
/// Whether the same migration sets a default on `table.column` again (a default over an enum is
/// dropped around the column's type change and restored after it: nothing is lost).
fn default_set_again(changes: &[Change], table: &QualName, column: &str) -> bool {
    changes.iter().any(|c| {
        matches!(c, Change::AlterColumnDefault { table: t, column: n, to: Some(_), .. }
            if t == table && n == column)
    })
}

pub fn migration_statements(changes: &[Change], opts: &RenderOptions) -> Vec<Statement> {
    let created: Vec<&QualName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(&table.name),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for change in changes {
        let mut sts = statements(change);
        match change {
            Change::CreateIndex { table, .. } if !created.contains(&table) => {
                if opts.concurrent_indexes {
                    sts[0].sql = sts[0].sql.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1);
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::NonTransactional,
                        "CREATE INDEX CONCURRENTLY runs outside a transaction; the migration is not atomic",
                    );
                } else {
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::Locking,
                        format!("builds an index on existing table {table}, blocking writes until done (consider --concurrent-indexes)"),
                    );
                }
            }
            Change::DropIndex { table, .. }
                if opts.concurrent_indexes
                    && !changes.iter().any(
                        |c| matches!(c, Change::DropTable { table: t } if &t.name == table),
                    ) =>
            {
                sts[0].sql = sts[0]
                    .sql
                    .replacen("DROP INDEX ", "DROP INDEX CONCURRENTLY ", 1);
            }
            Change::DropIndex { table, index } if !rebuilt_index(changes, table, &index.name) => {
                let why = if index.unique {
                    "queries that used it get slower, and duplicates become possible"
                } else {
                    "queries that used it get slower"
                };
                sts[0] = sts[0].clone().hazard(
                    HazardKind::IndexLoss,
                    format!("drops index {}.{}: {why}", table.schema, index.name),
                );
            }
            Change::DropPrimaryKey { table, primary_key } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops primary key {} of {table}: duplicate keys become possible",
                        primary_key.name
                    ),
                );
            }
            Change::DropUnique { table, unique } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops unique constraint {} of {table}: duplicates of ({}) become possible",
                        unique.name,
                        unique.columns.join(", ")
                    ),
                );
            }
            Change::DropCheck { table, check } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops check constraint {} of {table}: rows violating ({}) become possible",
                        check.name, check.expr
                    ),
                );
            }
            Change::DropForeignKey { table, foreign_key } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops foreign key {} of {table}: rows may then reference missing rows of {}",
                        foreign_key.name, foreign_key.ref_table
                    ),
                );
            }
            Change::AlterColumnDefault {
                table,
                column,
                from: Some(old),
                to: None,
            } if !default_set_again(changes, table, column) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::DefaultLoss,
                    format!("drops the default ({old}) of {table}.{column}: inserts that omit the column store NULL, or fail if it is NOT NULL"),
                );
            }
            Change::AlterColumnIdentity {
                table,
                column,
                from: Some(_),
                to: None,
            }
            | Change::AlterColumnSerial {
                table,
                column,
                from: Some(_),
                to: None,
                ..
            } => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::DefaultLoss,
                    format!("{table}.{column} stops generating values and its sequence is dropped: inserts that omit the column fail"),
                );
            }
            Change::DropColumn { table, column } => {
                let twin = changes.iter().find_map(|c| match c {
                    Change::AddColumn {
                        table: t,
                        column: added,
                    } if t == table && added.ty == column.ty && added.name != column.name => {
                        Some(added.name.clone())
                    }
                    _ => None,
                });
                if let Some(new_name) = twin {
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::PossibleRename,
                        format!(
                            "{table}.{} is dropped and {new_name} added with the same type: if this is a rename, add #[column(renamed_from = \"{}\")] to keep the data (manual step needed)",
                            column.name, column.name
                        ),
                    );
                }
            }
            _ => {}
        }
        out.extend(sts);
    }
    out
}

/// True when the migration creates an index of the same name on `table` again (a rebuild).
fn rebuilt_index(changes: &[Change], table: &QualName, name: &str) -> bool {
    changes.iter().any(|c| {
        matches!(c, Change::CreateIndex { table: t, index } if t == table && index.name == name)
            || matches!(c, Change::DropTable { table: t } if &t.name == table)
    })
}

/// True when the constraint `drop` removes is added again (same table and name) in the migration,
/// or goes with its table.
fn readded(changes: &[Change], drop: &Change) -> bool {
    use Change::*;
    let (table, name) = match drop {
        DropPrimaryKey { table, primary_key } => (table, &primary_key.name),
        DropUnique { table, unique } => (table, &unique.name),
        DropCheck { table, check } => (table, &check.name),
        DropForeignKey { table, foreign_key } => (table, &foreign_key.name),
        _ => return false,
    };
    changes.iter().any(|c| match c {
        AddPrimaryKey {
            table: t,
            primary_key: x,
        } => t == table && &x.name == name,
        AddUnique {
            table: t,
            unique: x,
        } => t == table && &x.name == name,
        AddCheck { table: t, check: x } => t == table && &x.name == name,
        AddForeignKey {
            table: t,
            foreign_key: x,
        } => t == table && &x.name == name,
        DropTable { table: t } => &t.name == table,
        _ => false,
    })
}

/// Renders changes as a migration body with default options.
pub fn render_body(changes: &[Change]) -> String {
    render_body_with(changes, &RenderOptions::default())
}

/// Renders changes as a migration body: one statement per paragraph, hazards as comments above.
pub fn render_body_with(changes: &[Change], opts: &RenderOptions) -> String {
    let mut out = String::new();
    {
        for st in migration_statements(changes, opts) {
            if !out.is_empty() {
                out.push('\n');
            }
            for h in &st.hazards {
                let _ = writeln!(out, "-- WARNING ({}): {}", h.kind.label(), h.message);
            }
            let _ = writeln!(out, "{};", st.sql);
        }
    }
    out
}

/// All hazards of a list of changes, in order.
pub fn hazards(changes: &[Change]) -> Vec<Hazard> {
    migration_statements(changes, &RenderOptions::default())
        .into_iter()
        .flat_map(|s| s.hazards)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_outside_b_expr_are_parenthesised() {
        for simple in [
            "0",
            "-1",
            "'a'",
            "'a'::text",
            "'x'::character varying",
            "now()",
            "nextval('s'::regclass)",
            "'2020-01-01'::timestamp with time zone",
            "'{}'::integer[]",
            "gen_random_uuid()",
            "true",
        ] {
            assert_eq!(super::default_sql(simple), simple, "{simple}");
        }
        for complex in [
            "true and false",
            "1 in (1, 2)",
            "not false",
            "select 1",
            "'a' like 'b'",
            "x is null",
            "1 + 2",
            "'a'::text is null",
            "'a' collate \"C\"",
            "now() - '1 day'::interval",
        ] {
            assert_eq!(
                super::default_sql(complex),
                format!("({complex})"),
                "{complex}"
            );
        }
    }

    use super::*;

    fn users() -> QualName {
        QualName::new("public", "users")
    }

    #[test]
    fn enum_additions_after_the_last_label_keep_their_order() {
        // sqldef tests_types.yml AlterTypeAddValue: both used to go AFTER 'send_message'.
        let st = alter_enum(
            &QualName::new("public", "eventtype"),
            &["example".into(), "send_message".into()],
            &[
                "example".into(),
                "send_message".into(),
                "send_meeting_options".into(),
                "update_reactionslot".into(),
            ],
        );
        let sql: Vec<&str> = st.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "ALTER TYPE public.eventtype ADD VALUE 'send_meeting_options' AFTER 'send_message'",
                "ALTER TYPE public.eventtype ADD VALUE 'update_reactionslot' AFTER 'send_meeting_options'"
            ]
        );
    }

    #[test]
    fn enum_additions_use_add_value_with_position() {
        let st = alter_enum(
            &QualName::new("public", "mood"),
            &["a".into(), "c".into()],
            &["a".into(), "b".into(), "c".into(), "d".into()],
        );
        let sql: Vec<&str> = st.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "ALTER TYPE public.mood ADD VALUE 'b' BEFORE 'c'",
                "ALTER TYPE public.mood ADD VALUE 'd' AFTER 'c'"
            ]
        );
    }

    #[test]
    fn enum_removal_rebuilds_with_a_hazard() {
        let st = alter_enum(
            &QualName::new("public", "mood"),
            &["a".into(), "b".into()],
            &["a".into()],
        );
        assert_eq!(st.len(), 4);
        assert_eq!(st[0].hazards[0].kind, HazardKind::EnumValueRemoval);
        assert_eq!(st[3].sql, "DROP TYPE public.mood__retort_old");
    }

    #[test]
    fn drops_and_narrowing_carry_hazards() {
        let col = Column::new("name", ColumnType::Text);
        let drop = Change::DropColumn {
            table: users(),
            column: col,
        };
        assert_eq!(
            render_body(&[drop]),
            "-- WARNING (data loss): drops column public.users.name and its data\nALTER TABLE public.users DROP COLUMN name;\n"
        );
        let narrow = Change::AlterColumnType {
            table: users(),
            column: "n".into(),
            from: ColumnType::BigInt,
            to: ColumnType::Integer,
        };
        assert_eq!(
            statements(&narrow)[0].hazards[0].kind,
            HazardKind::Narrowing
        );
        let widen = narrow.inverse();
        assert!(statements(&widen)[0].hazards.is_empty());
    }

    #[test]
    fn a_generated_column_made_plain_keeps_its_values() {
        let mut generated = Column::new("total", ColumnType::Integer);
        generated.generated = Some("price * qty".into());
        let plain = Column::new("total", ColumnType::Integer);
        let up = Change::AlterColumnGenerated {
            table: users(),
            from: generated,
            to: plain,
        };
        assert_eq!(
            render_body(std::slice::from_ref(&up)),
            "ALTER TABLE public.users ALTER COLUMN total DROP EXPRESSION;\n"
        );
        let down = statements(&up.inverse());
        assert_eq!(down.len(), 2);
        assert_eq!(down[0].hazards[0].kind, HazardKind::DataLoss);
        assert_eq!(
            down[1].sql,
            "ALTER TABLE public.users ADD COLUMN total integer GENERATED ALWAYS AS (price * qty) STORED"
        );
    }

    #[test]
    fn value_changing_type_changes_say_how() {
        let hazard = |from: ColumnType, to: ColumnType| {
            let st = statements(&Change::AlterColumnType {
                table: users(),
                column: "c".into(),
                from,
                to,
            });
            st[0].hazards.first().map(|h| (h.kind, h.message.clone()))
        };
        let (kind, msg) = hazard(ColumnType::Json, ColumnType::Jsonb).unwrap();
        assert_eq!(kind, HazardKind::Rewrite);
        assert!(msg.contains("duplicate keys"), "{msg}");
        let ts = |tz| ColumnType::Timestamp {
            precision: None,
            tz,
        };
        assert_eq!(hazard(ts(true), ts(false)).unwrap().0, HazardKind::Rewrite);
        assert_eq!(hazard(ts(false), ts(true)).unwrap().0, HazardKind::Rewrite);
        let num = |p, s| ColumnType::Numeric {
            precision: Some(p),
            scale: Some(s),
        };
        let (kind, msg) = hazard(num(12, 4), num(12, 2)).unwrap();
        assert_eq!(kind, HazardKind::Narrowing);
        assert!(msg.contains("rounded to 2 decimal place(s)"), "{msg}");
        let (_, msg) = hazard(ColumnType::Double, ColumnType::Real).unwrap();
        assert!(msg.contains("rounded"), "{msg}");
        let (_, msg) = hazard(ColumnType::Text, ColumnType::Varchar { length: Some(5) }).unwrap();
        assert!(msg.contains("longer than 5"), "{msg}");
        assert_eq!(hazard(num(10, 2), num(12, 2)), None);
        let (kind, msg) = hazard(num(8, 0), num(8, 2)).unwrap();
        assert_eq!(kind, HazardKind::Narrowing);
        assert!(
            msg.contains("more than 6 digit(s) before the point"),
            "{msg}"
        );
        assert!(!msg.contains("rounded"), "{msg}");
        let (kind, msg) = hazard(num(8, 0), num(10, 2)).unwrap();
        assert_eq!(kind, HazardKind::Rewrite);
        assert!(msg.contains("2 decimal place(s)"), "{msg}");
        assert_eq!(hazard(ColumnType::Integer, ColumnType::BigInt), None);
        // Widening without a rewrite: no warning.
        let vc = |n| ColumnType::Varchar { length: n };
        assert_eq!(hazard(vc(Some(5)), vc(None)), None);
        assert_eq!(hazard(vc(Some(5)), ColumnType::Text), None);
        assert_eq!(hazard(ColumnType::Text, vc(None)), None);
        // Rewrites that change values.
        let (kind, msg) = hazard(ColumnType::Char { length: Some(3) }, vc(None)).unwrap();
        assert_eq!(kind, HazardKind::Rewrite);
        assert!(msg.contains("trailing blanks"), "{msg}");
        let (kind, _) = hazard(
            ColumnType::array(ColumnType::Text),
            ColumnType::array(vc(None)),
        )
        .unwrap();
        assert_eq!(kind, HazardKind::Rewrite);
        let domain = ColumnType::Named {
            name: QualName::new("public", "email"),
        };
        let (kind, msg) = hazard(domain, ColumnType::Text).unwrap();
        assert_eq!(kind, HazardKind::ConstraintLoss);
        assert!(msg.contains("public.email"), "{msg}");
    }

    fn index(name: &str, unique: bool) -> Index {
        Index {
            name: name.into(),
            keys: vec!["email".into()],
            unique,
            method: "btree".into(),
            include: vec![],
            predicate: None,
            invalid: false,
        }
    }

    #[test]
    fn destructive_statements_warn_unless_the_object_is_rebuilt() {
        let kinds = |changes: &[Change]| -> Vec<Vec<HazardKind>> {
            migration_statements(changes, &RenderOptions::default())
                .iter()
                .map(|s| s.hazards.iter().map(|h| h.kind).collect())
                .collect()
        };
        let drop = Change::DropIndex {
            table: users(),
            index: index("users_email_key", true),
        };
        assert_eq!(
            kinds(std::slice::from_ref(&drop)),
            vec![vec![HazardKind::IndexLoss]]
        );
        let msg = &migration_statements(std::slice::from_ref(&drop), &Default::default())[0]
            .hazards[0]
            .message;
        assert!(msg.contains("duplicates become possible"), "{msg}");
        // Drop and create under the same name: a rebuild, not a loss (the create locks instead).
        let create = Change::CreateIndex {
            table: users(),
            index: index("users_email_key", false),
        };
        assert_eq!(
            kinds(&[drop, create]),
            vec![vec![], vec![HazardKind::Locking]]
        );
        let check = Check {
            name: "users_age_check".into(),
            expr: "age >= 0".into(),
        };
        let drop_check = Change::DropCheck {
            table: users(),
            check: check.clone(),
        };
        assert_eq!(
            kinds(std::slice::from_ref(&drop_check)),
            vec![vec![HazardKind::ConstraintLoss]]
        );
        let add_check = Change::AddCheck {
            table: users(),
            check,
        };
        assert_eq!(kinds(&[drop_check, add_check]), vec![vec![], vec![]]);
        let drop_default = Change::AlterColumnDefault {
            table: users(),
            column: "created_at".into(),
            from: Some("now()".into()),
            to: None,
        };
        assert_eq!(kinds(&[drop_default]), vec![vec![HazardKind::DefaultLoss]]);
        let drop_identity = Change::AlterColumnIdentity {
            table: users(),
            column: "id".into(),
            from: Some(Identity::Always),
            to: None,
        };
        assert_eq!(kinds(&[drop_identity]), vec![vec![HazardKind::DefaultLoss]]);
    }

    #[test]
    fn one_enum_to_another_casts_through_text() {
        let named = |n: &str| ColumnType::Named {
            name: QualName::new("public", n),
        };
        let st = statements(&Change::AlterColumnType {
            table: users(),
            column: "state".into(),
            from: named("old_state"),
            to: named("new_state"),
        });
        assert!(
            st[0].sql.ends_with("USING state::text::public.new_state"),
            "{}",
            st[0].sql
        );
        let st = statements(&Change::AlterColumnType {
            table: users(),
            column: "tags".into(),
            from: ColumnType::array(named("a")),
            to: ColumnType::array(named("b")),
        });
        assert!(
            st[0].sql.ends_with("USING tags::text[]::public.b[]"),
            "{}",
            st[0].sql
        );
    }

    #[test]
    fn type_change_adds_using_only_when_needed() {
        let c = Change::AlterColumnType {
            table: users(),
            column: "n".into(),
            from: ColumnType::Text,
            to: ColumnType::Integer,
        };
        assert_eq!(
            statements(&c)[0].sql,
            "ALTER TABLE public.users ALTER COLUMN n TYPE integer USING n::integer"
        );
        assert!(!statements(&c.inverse())[0].sql.contains("USING"));
    }

    fn sqls(c: &Change) -> Vec<String> {
        statements(c).into_iter().map(|s| s.sql).collect()
    }

    fn serial_change(from: Option<Identity>, to: Option<Identity>) -> Change {
        Change::AlterColumnSerial {
            table: QualName::new("app", "Users"),
            column: "Id".into(),
            from,
            to,
            from_ty: ColumnType::Integer,
            to_ty: ColumnType::BigInt,
        }
    }

    #[test]
    fn serial_columns_are_created_with_their_pseudo_type() {
        let mut id = Column::new("id", ColumnType::BigInt);
        id.identity = Some(Identity::Serial);
        id.nullable = false;
        let mut n = Column::new("n", ColumnType::SmallInt);
        n.identity = Some(Identity::Serial);
        let mut t = Table::new(users());
        t.columns = vec![id, n.clone()];
        let sql = sqls(&Change::CreateTable { table: t });
        assert_eq!(
            sql,
            [
                "CREATE TABLE public.users (\n    id bigserial NOT NULL,\n    n smallserial\n)",
                "ALTER TABLE public.users ALTER COLUMN n DROP NOT NULL",
            ]
        );
        let add = Change::AddColumn {
            table: users(),
            column: n,
        };
        assert_eq!(
            sqls(&add),
            [
                "ALTER TABLE public.users ADD COLUMN n smallserial",
                "ALTER TABLE public.users ALTER COLUMN n DROP NOT NULL",
            ]
        );
    }

    #[test]
    fn serial_conversions_keep_values_and_never_use_identity_statements_on_a_serial() {
        let seq = "pg_get_serial_sequence('app.\"Users\"', 'Id')";
        let restart =
            format!("SELECT setval({seq}, coalesce(max(\"Id\"), 0) + 1, false) FROM app.\"Users\"");
        let drop_serial = [
            "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" DROP DEFAULT".to_string(),
            format!("DO $retort$ BEGIN EXECUTE 'DROP SEQUENCE ' || {seq}; END $retort$"),
        ];
        let create_serial = [
            "CREATE SEQUENCE app.\"Users_Id_seq\" AS bigint OWNED BY app.\"Users\".\"Id\""
                .to_string(),
            "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" SET DEFAULT \
             nextval('app.\"Users_Id_seq\"'::regclass)"
                .to_string(),
            restart.clone(),
        ];
        let to_identity = serial_change(Some(Identity::Serial), Some(Identity::Always));
        let mut expected = drop_serial.to_vec();
        expected.push(
            "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" ADD GENERATED ALWAYS AS IDENTITY".into(),
        );
        expected.push(restart.clone());
        assert_eq!(sqls(&to_identity), expected);

        let mut expected =
            vec!["ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" DROP IDENTITY".to_string()];
        expected.extend(create_serial.clone());
        assert_eq!(
            sqls(&serial_change(
                Some(Identity::ByDefault),
                Some(Identity::Serial)
            )),
            expected
        );
        assert_eq!(
            sqls(&serial_change(None, Some(Identity::Serial))),
            create_serial
        );
        let gone = serial_change(Some(Identity::Serial), None);
        assert_eq!(sqls(&gone), drop_serial);
        let hz: Vec<HazardKind> = hazards(&[gone]).into_iter().map(|h| h.kind).collect();
        assert_eq!(hz, [HazardKind::DefaultLoss]);

        // Even an AlterColumnIdentity that names a serial gets no identity statement for it.
        let odd = Change::AlterColumnIdentity {
            table: users(),
            column: "id".into(),
            from: Some(Identity::Serial),
            to: None,
        };
        assert!(sqls(&odd).iter().all(|s| !s.contains("IDENTITY")));
        let odd = Change::AlterColumnIdentity {
            table: users(),
            column: "id".into(),
            from: Some(Identity::Serial),
            to: Some(Identity::Always),
        };
        assert!(sqls(&odd).iter().all(|s| !s.contains("SET GENERATED")));
    }

    #[test]
    fn a_serial_of_a_new_type_resizes_its_sequence() {
        let c = serial_change(Some(Identity::Serial), Some(Identity::Serial));
        assert_eq!(
            sqls(&c),
            ["DO $retort$ BEGIN EXECUTE 'ALTER SEQUENCE ' || \
              pg_get_serial_sequence('app.\"Users\"', 'Id') || ' AS bigint'; END $retort$"]
        );
        assert!(sqls(&c.inverse())[0].contains("' AS integer'"));
    }

    #[test]
    fn dollar_quotes_avoid_the_body() {
        assert_eq!(dollar_quote(" x "), "$retort$ x $retort$");
        assert_eq!(dollar_quote("$retort$"), "$retort_$$retort$$retort_$");
    }
}
