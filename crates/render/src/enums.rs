//! Enum types: create, drop, add labels in place, rebuild when labels go or move, rename a label.
//! The rebuild casts every column of the type through text.

use crate::sql::q;
use crate::{HazardKind, Statement};
use retort_schema::{quote_literal, quote_qual, Enum, QualName};

pub(crate) fn create(e: &Enum) -> Vec<Statement> {
    vec![Statement::new(create_sql(e))]
}

pub(crate) fn drop(e: &Enum) -> Vec<Statement> {
    vec![Statement::new(format!("DROP TYPE {}", quote_qual(&e.name)))]
}

pub(crate) fn rename_value(name: &QualName, from: &str, to: &str) -> Vec<Statement> {
    vec![Statement::new(format!(
        "ALTER TYPE {} RENAME VALUE {} TO {}",
        quote_qual(name),
        quote_literal(from),
        quote_literal(to)
    ))]
}

fn is_subsequence(small: &[String], big: &[String]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

fn create_sql(e: &Enum) -> String {
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

/// Labels added in place with `ADD VALUE`; removed or reordered ones rebuild the type and cast
/// every column that uses it.
pub(crate) fn alter(name: &QualName, from: &[String], to: &[String]) -> Vec<Statement> {
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
        Statement::new(create_sql(&Enum {
            name: name.clone(),
            values: to.to_vec(),
        })),
        Statement::new(retype),
        Statement::new(format!("DROP TYPE {}", quote_qual(&old))),
    ]
}
