//! Which objects Retort manages: the configured schemas and include/exclude table patterns.
//! Objects outside the scope are never read into a diff, so they are never dropped.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, QualName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Schemas to manage, e.g. `["public"]`.
    pub schemas: Vec<String>,
    /// Table patterns (`*` and `?` wildcards, optionally `schema.table`); empty means all.
    pub include: Vec<String>,
    /// Table patterns never managed.
    pub exclude: Vec<String>,
    /// The version table, always excluded.
    pub version_table: String,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            schemas: vec!["public".into()],
            include: Vec::new(),
            exclude: Vec::new(),
            version_table: "retort_version".into(),
        }
    }
}

/// Matches `text` against a pattern with `*` (any run) and `?` (one character).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn pattern_matches(pattern: &str, table: &QualName) -> bool {
    match pattern.split_once('.') {
        Some((s, t)) => wildcard_match(s, &table.schema) && wildcard_match(t, &table.name),
        None => wildcard_match(pattern, &table.name),
    }
}

impl Scope {
    pub fn contains_schema(&self, schema: &str) -> bool {
        self.schemas.iter().any(|s| s == schema)
    }

    /// The version table or its progress table (`<name>_steps`, for migrations with steps):
    /// Retort's own bookkeeping, never diffed. A qualified `schema.name` matches in that schema
    /// only, a bare name in every schema.
    pub fn is_version_table(&self, table: &QualName) -> bool {
        let (schema, name) = match self.version_table.split_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, self.version_table.as_str()),
        };
        schema.is_none_or(|s| s == table.schema)
            && (table.name == name || table.name.strip_suffix("_steps") == Some(name))
    }

    pub fn contains_table(&self, table: &QualName) -> bool {
        self.contains_schema(&table.schema)
            && !self.is_version_table(table)
            && (self.include.is_empty() || self.include.iter().any(|p| pattern_matches(p, table)))
            && !self.exclude.iter().any(|p| pattern_matches(p, table))
    }

    /// An SQL-defined object is in scope by its name (a trigger by its table's), as a table is.
    pub fn contains_object(&self, object: &crate::object::Object) -> bool {
        self.contains_table(object.table.as_ref().unwrap_or(&object.name))
    }

    /// Keeps only the objects in scope, borrowing when everything already is (the common case).
    pub fn filter_ref<'a>(&self, catalog: &'a Catalog) -> std::borrow::Cow<'a, Catalog> {
        let all_in = catalog.schemas.iter().all(|s| {
            self.contains_schema(&s.name)
                && s.tables.iter().all(|t| self.contains_table(&t.name))
                && s.objects.iter().all(|o| self.contains_object(o))
        });
        if all_in {
            std::borrow::Cow::Borrowed(catalog)
        } else {
            std::borrow::Cow::Owned(self.filter(catalog.clone()))
        }
    }

    /// Keeps only the objects in scope.
    pub fn filter(&self, mut catalog: Catalog) -> Catalog {
        catalog.schemas.retain(|s| self.contains_schema(&s.name));
        for s in &mut catalog.schemas {
            s.tables.retain(|t| self.contains_table(&t.name));
            s.objects.retain(|o| self.contains_object(o));
        }
        catalog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_version_table() {
        let scope = Scope {
            exclude: vec!["tmp_*".into(), "audit.*".into()],
            schemas: vec!["public".into(), "audit".into()],
            ..Scope::default()
        };
        assert!(scope.contains_table(&QualName::new("public", "users")));
        assert!(!scope.contains_table(&QualName::new("public", "tmp_x")));
        assert!(!scope.contains_table(&QualName::new("audit", "log")));
        assert!(!scope.contains_table(&QualName::new("public", "retort_version")));
        assert!(!scope.contains_table(&QualName::new("public", "retort_version_steps")));
        assert!(scope.contains_table(&QualName::new("public", "retort_version_log")));
        let ops = Scope {
            version_table: "ops.versions".into(),
            schemas: vec!["public".into(), "ops".into()],
            ..Scope::default()
        };
        assert!(!ops.contains_table(&QualName::new("ops", "versions")));
        assert!(!ops.contains_table(&QualName::new("ops", "versions_steps")));
        assert!(ops.contains_table(&QualName::new("public", "versions")));
        assert!(!scope.contains_table(&QualName::new("other", "users")));
        assert!(wildcard_match("a*c?", "abbbcd"));
        assert!(!wildcard_match("a*c", "abd"));
    }
}
