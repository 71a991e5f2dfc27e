//! Scratch results kept between runs: the server's spelling of each model table with expressions
//! and the schema the migrations build, keyed by a hash of all they depend on, so unchanged
//! inputs need no scratch database at all.
//!
//! A key covers the Retort build (version and executable), the scratch server's major version
//! and the exact input (a table as the models declare it with every enum, or the checksums of
//! every migration with the scope). The files are JSON, written whole to a temporary name and
//! renamed, so a reader sees an old file or a new one; anything unreadable is a miss.

use retort_schema::{Catalog, Enum, Scope, Table};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bumped when what a key covers or a file holds changes shape.
const FORMAT: u32 = 1;

/// One project's cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScratchCache {
    dir: PathBuf,
    /// What every key starts with (`build_id`), worked out once.
    build: std::sync::OnceLock<String>,
}

#[derive(Serialize, Deserialize)]
struct CanonFile {
    format: u32,
    tables: BTreeMap<String, Table>,
}

/// A file that holds one entry: the value stored under `key`.
#[derive(Serialize, Deserialize)]
struct Keyed<T> {
    format: u32,
    key: String,
    value: T,
}

impl ScratchCache {
    pub fn new(dir: impl Into<PathBuf>) -> ScratchCache {
        ScratchCache {
            dir: dir.into(),
            build: std::sync::OnceLock::new(),
        }
    }

    fn build(&self) -> &str {
        self.build.get_or_init(|| build_id(&self.dir))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let text = std::fs::read(self.dir.join(name)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) {
        write_json(&self.dir, name, value);
    }

    /// The value of the one-entry file `name`, when it is stored under `key`.
    fn read_keyed<T: DeserializeOwned>(&self, name: &str, key: &str) -> Option<T> {
        self.read::<Keyed<T>>(name)
            .filter(|f| f.format == FORMAT && f.key == key)
            .map(|f| f.value)
    }

    /// Makes `value` the one entry of the file `name`, under `key`.
    fn write_keyed<T: Serialize>(&self, name: &str, key: &str, value: &T) {
        self.write(
            name,
            &Keyed {
                format: FORMAT,
                key: key.to_string(),
                value,
            },
        );
    }

    /// The canonical tables stored under `keys`, by key; the misses are absent.
    pub(crate) fn canonical_tables(&self, keys: &[String]) -> BTreeMap<String, Table> {
        let Some(mut file) = self
            .read::<CanonFile>("canon.json")
            .filter(|f| f.format == FORMAT)
        else {
            return BTreeMap::new();
        };
        keys.iter()
            .filter_map(|k| Some((k.clone(), file.tables.remove(k)?)))
            .collect()
    }

    /// Stores exactly `tables` (this run's, so entries of tables since changed go away).
    pub(crate) fn store_canonical_tables(&self, tables: BTreeMap<String, Table>) {
        self.write(
            "canon.json",
            &CanonFile {
                format: FORMAT,
                tables,
            },
        );
    }

    /// The schema stored under `key`, when it is the stored one.
    pub(crate) fn replayed(&self, key: &str) -> Option<Catalog> {
        self.read_keyed("replay.json", key)
    }

    pub(crate) fn store_replayed(&self, key: &str, catalog: &Catalog) {
        self.write_keyed("replay.json", key, catalog);
    }

    /// The objects the SQL declaration files made, stored under `key`.
    pub(crate) fn declared(&self, key: &str) -> Option<Vec<retort_schema::Object>> {
        self.read_keyed("declared.json", key)
    }

    pub(crate) fn store_declared(&self, key: &str, objects: &[retort_schema::Object]) {
        self.write_keyed("declared.json", key, &objects);
    }

    /// The models stored under `key`, when they are the stored ones.
    pub(crate) fn models(&self, key: &str) -> Option<retort_model_reader::Models> {
        self.read_keyed("models.json", key)
    }

    pub(crate) fn store_models(&self, key: &str, models: &retort_model_reader::Models) {
        self.write_keyed("models.json", key, models);
    }
}

/// Writes `value` as JSON to `dir/name`, whole, through a temporary file renamed into place.
/// Best effort: a cache that cannot be written only costs the next run time.
fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(value)?)?;
        std::fs::rename(&tmp, dir.join(name))
    };
    let _ = write();
}

/// The key of the models read from `files` (their contents) under the names `used` (what
/// messages and origins say) with `options`; `None` when a file cannot be read (reading it
/// again reports that).
pub(crate) fn models_key(
    cache: &ScratchCache,
    files: &[PathBuf],
    used: &[PathBuf],
    options: &retort_model_reader::ReadOptions,
) -> Option<String> {
    let mut parts: Vec<Vec<u8>> = vec![
        cache.build().as_bytes().to_vec(),
        b"models".to_vec(),
        format!("{options:?}").into_bytes(),
    ];
    for (f, u) in files.iter().zip(used) {
        parts.push(u.as_os_str().as_encoded_bytes().to_vec());
        parts.push(std::fs::read(f).ok()?);
    }
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Some(hash(&parts))
}

/// What every key starts with: the cache format, the Retort version and a SHA-256 of this
/// executable (a rebuilt Retort may read catalogs differently; the same binary installed again
/// keeps its cache, as in CI). The hash is stored in `dir/build.json` with the executable's size
/// and modification time, so it is computed once per installed binary; without an executable
/// to read, its size and time stand in.
fn build_id(dir: &Path) -> String {
    #[derive(Serialize, Deserialize)]
    struct Stamp {
        len: u64,
        modified: u128,
        sha256: String,
    }
    let exe = std::env::current_exe().ok();
    let meta = exe.as_ref().and_then(|e| std::fs::metadata(e).ok());
    let (len, modified) = meta.map_or((0, 0), |m| {
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        (m.len(), modified)
    });
    let path = dir.join("build.json");
    let stored = std::fs::read(&path)
        .ok()
        .and_then(|t| serde_json::from_slice::<Stamp>(&t).ok())
        .filter(|s| s.len == len && s.modified == modified);
    let sha = match stored {
        Some(s) => s.sha256,
        None => match exe.as_ref().and_then(|e| std::fs::read(e).ok()) {
            Some(bytes) => {
                let sha = hash(&[&bytes]);
                write_json(
                    dir,
                    "build.json",
                    &Stamp {
                        len,
                        modified,
                        sha256: sha.clone(),
                    },
                );
                sha
            }
            None => format!("{len}:{modified}"),
        },
    };
    format!("{FORMAT}/{}/{sha}", env!("CARGO_PKG_VERSION"))
}

/// SHA-256 over length-prefixed parts, hex.
fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// The keys of the canonical form of each of `tables` on the server `identity`: the table as the
/// models declare it, every enum (an expression may name any), and the version table's name.
pub(crate) fn canon_keys<'a>(
    cache: &ScratchCache,
    identity: &str,
    tables: impl IntoIterator<Item = &'a Table>,
    enums: &[&Enum],
    scope: &Scope,
) -> Vec<String> {
    let build = cache.build();
    let enums = serde_json::to_vec(enums).unwrap_or_default();
    tables
        .into_iter()
        .map(|t| {
            let table = serde_json::to_vec(t).unwrap_or_default();
            hash(&[
                build.as_bytes(),
                b"canon",
                identity.as_bytes(),
                &table,
                &enums,
                scope.version_table.as_bytes(),
            ])
        })
        .collect()
}

/// The key of what the SQL declaration `files` make over the tables of `catalog` on the server
/// `identity` with the target's `extensions`, read with `scope`.
pub(crate) fn declared_key(
    cache: &ScratchCache,
    identity: &str,
    catalog: &Catalog,
    files: &[(String, String)],
    scope: &Scope,
    extensions: &[(String, String)],
) -> String {
    let catalog = serde_json::to_vec(catalog).unwrap_or_default();
    let files = serde_json::to_vec(files).unwrap_or_default();
    let scope = serde_json::to_vec(&(
        &scope.schemas,
        &scope.include,
        &scope.exclude,
        &scope.version_table,
    ))
    .unwrap_or_default();
    let extensions = serde_json::to_vec(extensions).unwrap_or_default();
    hash(&[
        cache.build().as_bytes(),
        b"declared",
        identity.as_bytes(),
        &catalog,
        &files,
        &scope,
        &extensions,
    ])
}

/// The key of the schema the migrations of `graph` build on the server `identity`, read with
/// `scope`: every migration's id, parents and checksum, in the graph's order.
pub(crate) fn replay_key(
    cache: &ScratchCache,
    identity: &str,
    graph: &retort_migrate::Graph,
    scope: &Scope,
) -> String {
    let mut migrations = String::new();
    for m in graph.iter() {
        migrations.push_str(&m.id);
        migrations.push(' ');
        migrations.push_str(&m.parents.join(","));
        migrations.push(' ');
        migrations.push_str(&m.checksum);
        migrations.push('\n');
    }
    let scope = serde_json::to_vec(scope).unwrap_or_default();
    hash(&[
        cache.build().as_bytes(),
        b"replay",
        identity.as_bytes(),
        migrations.as_bytes(),
        &scope,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::QualName;

    #[test]
    fn keys_change_with_every_input() {
        let scope = Scope::default();
        let t = Table::new(QualName::new("public", "t"));
        let mut u = t.clone();
        u.comment = Some("x".into());
        let dir = std::env::temp_dir().join(format!("retort-keys-test-{}", std::process::id()));
        let cache = ScratchCache::new(&dir);
        let k = |id: &str, t: &Table, e: &[&Enum], s: &Scope| {
            canon_keys(&cache, id, [t], e, s).remove(0)
        };
        let base = k("15", &t, &[], &scope);
        assert_eq!(base, k("15", &t, &[], &scope));
        assert_ne!(base, k("16", &t, &[], &scope));
        assert_ne!(base, k("15", &u, &[], &scope));
        let e = Enum {
            name: QualName::new("public", "mood"),
            values: vec!["a".into()],
        };
        assert_ne!(base, k("15", &t, &[&e], &scope));
        let other = Scope {
            version_table: "other_versions".into(),
            ..Scope::default()
        };
        assert_ne!(base, k("15", &t, &[], &other));
        // The build stamp is written once and read back: the same key in a new cache object.
        assert!(dir.join("build.json").is_file());
        let again = ScratchCache::new(&dir);
        assert_eq!(base, canon_keys(&again, "15", [&t], &[], &scope).remove(0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stored_file_is_read_back_and_a_broken_one_is_a_miss() {
        let dir = std::env::temp_dir().join(format!("retort-cache-test-{}", std::process::id()));
        let cache = ScratchCache::new(&dir);
        let t = Table::new(QualName::new("public", "t"));
        cache.store_canonical_tables(BTreeMap::from([("k1".to_string(), t.clone())]));
        let got = cache.canonical_tables(&["k1".into(), "k2".into()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got["k1"], t);
        cache.store_replayed("r1", &Catalog::default());
        assert_eq!(cache.replayed("r1"), Some(Catalog::default()));
        assert_eq!(cache.replayed("r2"), None);
        std::fs::write(dir.join("canon.json"), "{not json").unwrap();
        assert!(cache.canonical_tables(&["k1".into()]).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
