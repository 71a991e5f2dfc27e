//! The revision graph: every migration with its parents, checked for missing parents, duplicate
//! ids and cycles, with a deterministic topological order (parents first, ties by id).

use crate::error::Error;
use crate::file::{check_dir_name, Migration};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// All migrations of a directory, validated and ordered.
#[derive(Debug, Clone)]
pub struct Graph {
    dir: PathBuf,
    migrations: BTreeMap<String, Migration>,
    children: BTreeMap<String, Vec<String>>,
    order: Vec<String>,
}

impl Graph {
    /// Builds and validates the graph. Duplicate ids are reported before ids that differ from
    /// their directory name, then missing parents, then cycles.
    pub fn new(dir: &Path, list: Vec<Migration>) -> Result<Graph, Error> {
        let mut migrations: BTreeMap<String, Migration> = BTreeMap::new();
        for m in list {
            if let Some(first) = migrations.get(&m.id) {
                return Err(Error::DuplicateId {
                    id: m.id.clone(),
                    first: first.dir.clone(),
                    second: m.dir.clone(),
                });
            }
            migrations.insert(m.id.clone(), m);
        }
        for m in migrations.values() {
            check_dir_name(m)?;
        }
        let mut children: BTreeMap<String, Vec<String>> = migrations
            .keys()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for m in migrations.values() {
            for parent in &m.parents {
                match children.get_mut(parent) {
                    Some(list) => list.push(m.id.clone()),
                    None => {
                        return Err(Error::MissingParent {
                            id: m.id.clone(),
                            parent: parent.clone(),
                            dir: dir.to_path_buf(),
                        })
                    }
                }
            }
        }
        let order = topological_order(&migrations, &children)?;
        Ok(Graph {
            dir: dir.to_path_buf(),
            migrations,
            children,
            order,
        })
    }

    /// The migrations directory this graph was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Migration> {
        self.migrations.get(id)
    }

    /// Revisions that no other revision revises, sorted by id.
    pub fn heads(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|(_, c)| c.is_empty())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Revisions without parents, sorted by id.
    pub fn bases(&self) -> Vec<String> {
        self.migrations
            .values()
            .filter(|m| m.parents.is_empty())
            .map(|m| m.id.clone())
            .collect()
    }

    /// The revision that `retort squash` wrote in place of `id` (its `-- retort:replaces` lists it).
    pub fn replaced_by(&self, id: &str) -> Option<&Migration> {
        self.migrations
            .values()
            .find(|m| m.replaces.iter().any(|r| r == id))
    }

    /// Revisions that revise `id` directly, sorted by id.
    pub fn children(&self, id: &str) -> &[String] {
        self.children.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Full id for an id or a unique id prefix.
    pub fn resolve(&self, spec: &str) -> Result<String, Error> {
        if self.migrations.contains_key(spec) {
            return Ok(spec.to_string());
        }
        let matches: Vec<String> = self
            .migrations
            .keys()
            .filter(|id| id.starts_with(spec))
            .cloned()
            .collect();
        match matches.len() {
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            0 => {
                let mut candidates: Vec<String> = self
                    .migrations
                    .keys()
                    .filter(|id| !spec.is_empty() && id.contains(spec))
                    .cloned()
                    .collect();
                if candidates.is_empty() {
                    candidates = self.similar_ids(spec);
                }
                Err(Error::UnknownRevision {
                    spec: spec.to_string(),
                    candidates,
                })
            }
            _ => Err(Error::AmbiguousRevision {
                spec: spec.to_string(),
                candidates: matches,
            }),
        }
    }

    /// Ids that look like a mistyped `spec`: close in edit distance to the whole id, to its prefix
    /// of the same length, or to its message part (after `YYYYMMDD_HHMMSS_`); closest first.
    fn similar_ids(&self, spec: &str) -> Vec<String> {
        if spec.chars().count() < 4 {
            return Vec::new();
        }
        let limit = (spec.chars().count() / 4).clamp(1, 3);
        let mut scored: Vec<(usize, &String)> = self
            .migrations
            .keys()
            .filter_map(|id| {
                let prefix: String = id.chars().take(spec.chars().count()).collect();
                let slug = id.get(16..).unwrap_or("");
                let d = strsim::osa_distance(spec, id)
                    .min(strsim::osa_distance(spec, &prefix))
                    .min(if slug.is_empty() {
                        usize::MAX
                    } else {
                        strsim::osa_distance(spec, slug)
                    });
                (d <= limit).then_some((d, id))
            })
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(3)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// `id` and everything it revises, directly or not. Unknown ids give an empty set.
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        self.ancestors_of([id])
    }

    /// Union of [`Graph::ancestors`] over several ids.
    pub fn ancestors_of<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        self.walk(ids, |m| m.parents.clone())
    }

    /// `id` and everything that revises it, directly or not.
    pub fn descendants(&self, id: &str) -> BTreeSet<String> {
        self.walk([id], |m| self.children(&m.id).to_vec())
    }

    fn walk<'a>(
        &self,
        start: impl IntoIterator<Item = &'a str>,
        next: impl Fn(&Migration) -> Vec<String>,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = start.into_iter().map(str::to_string).collect();
        while let Some(id) = stack.pop() {
            let Some(m) = self.migrations.get(&id) else {
                continue;
            };
            if seen.insert(id) {
                stack.extend(next(m));
            }
        }
        seen
    }

    /// Members of `set` that no other member revises, sorted by id.
    pub fn heads_of(&self, set: &BTreeSet<String>) -> Vec<String> {
        set.iter()
            .filter(|id| !self.children(id).iter().any(|c| set.contains(c)))
            .cloned()
            .collect()
    }

    /// All ids, parents before children, ties broken by id.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// All migrations in topological order.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.order.iter().filter_map(|id| self.migrations.get(id))
    }

    /// All migrations, newest first (the reverse of [`Graph::order`]).
    pub fn history(&self) -> Vec<&Migration> {
        self.order
            .iter()
            .rev()
            .filter_map(|id| self.migrations.get(id))
            .collect()
    }
}

/// Kahn's algorithm taking the smallest ready id each time; leftovers mean a cycle.
fn topological_order(
    migrations: &BTreeMap<String, Migration>,
    children: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, Error> {
    let mut pending: BTreeMap<&str, usize> = migrations
        .values()
        .map(|m| (m.id.as_str(), m.parents.len()))
        .collect();
    let mut ready: BTreeSet<&str> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(migrations.len());
    while let Some(id) = ready.pop_first() {
        order.push(id.to_string());
        pending.remove(id);
        for child in children.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(n) = pending.get_mut(child.as_str()) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(child.as_str());
                }
            }
        }
    }
    if pending.is_empty() {
        return Ok(order);
    }
    Err(Error::Cycle {
        ids: find_cycle(migrations, pending.keys().copied().collect()),
    })
}

/// Walks parent links from the smallest unordered id until an id repeats; returns that loop,
/// closed (first id repeated at the end) and in "revised by" direction.
fn find_cycle(migrations: &BTreeMap<String, Migration>, stuck: BTreeSet<&str>) -> Vec<String> {
    let Some(start) = stuck.first() else {
        return Vec::new();
    };
    let mut path: Vec<&str> = vec![start];
    let mut current = *start;
    loop {
        // Every stuck node has at least one stuck parent, otherwise it would have been ordered.
        let next = migrations
            .get(current)
            .and_then(|m| m.parents.iter().find(|p| stuck.contains(p.as_str())));
        let Some(next) = next else {
            return path.iter().map(|s| s.to_string()).collect();
        };
        if let Some(pos) = path.iter().position(|p| *p == next.as_str()) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.reverse();
            cycle.insert(0, next.clone());
            return cycle;
        }
        path.push(next.as_str());
        current = next.as_str();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, parents: &[&str]) -> Migration {
        Migration {
            id: id.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            message: String::new(),
            created: String::new(),
            dir: PathBuf::from("m").join(id),
            up: String::new(),
            down: String::new(),
            up_line: 1,
            down_line: 1,
            up_no_transaction: false,
            down_no_transaction: false,
            checksum: String::new(),
            up_parts: Vec::new(),
            replaces: Vec::new(),
            down_parts: Vec::new(),
        }
    }

    fn graph(list: &[(&str, &[&str])]) -> Result<Graph, Error> {
        Graph::new(
            Path::new("m"),
            list.iter().map(|(id, p)| m(id, p)).collect(),
        )
    }

    #[test]
    fn order_puts_parents_first_and_breaks_ties_by_id() {
        let g = graph(&[
            ("d", &["b", "c"]),
            ("c", &["a"]),
            ("b", &["a"]),
            ("a", &[]),
            ("e", &["a"]),
        ])
        .unwrap();
        assert_eq!(g.order(), ["a", "b", "c", "d", "e"]);
        assert_eq!(g.heads(), ["d", "e"]);
        assert_eq!(g.bases(), ["a"]);
        assert_eq!(
            g.ancestors("d").into_iter().collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(
            g.descendants("b").into_iter().collect::<Vec<_>>(),
            ["b", "d"]
        );
        let history: Vec<&str> = g.history().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(history, ["e", "d", "c", "b", "a"]);
    }

    #[test]
    fn cycle_is_named() {
        let e = graph(&[("a", &[]), ("b", &["a", "d"]), ("c", &["b"]), ("d", &["c"])]).unwrap_err();
        assert_eq!(e.to_string(), "migrations form a cycle: b -> c -> d -> b");
    }

    #[test]
    fn self_parent_is_a_cycle() {
        let e = graph(&[("a", &["a"])]).unwrap_err();
        assert_eq!(e.to_string(), "migrations form a cycle: a -> a");
    }

    #[test]
    fn resolve_prefixes() {
        let g = graph(&[("abc1", &[]), ("abc2", &["abc1"]), ("xyz", &["abc2"])]).unwrap();
        assert_eq!(g.resolve("x").unwrap(), "xyz");
        assert_eq!(g.resolve("abc1").unwrap(), "abc1");
        let e = g.resolve("abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "revision abc is ambiguous: it matches abc1, abc2"
        );
        let e = g.resolve("bc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown revision bc; did you mean one of: abc1, abc2"
        );
        let e = g.resolve("q").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown revision q; `retort history` lists the revisions"
        );
    }

    #[test]
    fn unknown_revisions_suggest_similar_ids() {
        let users = "20260101_000001_create_users";
        let email = "20260102_000000_add_email";
        let g = graph(&[(users, &[]), (email, &[users])]).unwrap();
        let hint = |spec: &str| g.resolve(spec).unwrap_err().to_string();
        assert_eq!(
            hint("20260101_000001_craete_users"),
            format!("unknown revision 20260101_000001_craete_users; did you mean one of: {users}")
        );
        assert_eq!(
            hint("add_emial"),
            format!("unknown revision add_emial; did you mean one of: {email}")
        );
        assert!(hint("zzzzzzzzzz").ends_with("`retort history` lists the revisions"));
    }
}
