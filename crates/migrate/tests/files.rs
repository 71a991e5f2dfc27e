//! Migration files, the revision graph, retort.sum and offline planning, without a database:
//! every history is written with `write_revision` into a temporary directory.

mod common;

use common::{at, rev, table_rev};
use retort_migrate::{
    load, offline_sql, plan_downgrade_from, plan_offline, plan_upgrade_from, rehash, verify_sum,
    write_revision, ChecksumProblem, Direction, Error, NewRevision,
};
use std::fs;

fn ids(steps: &[retort_migrate::Step]) -> Vec<&str> {
    steps.iter().map(|s| s.id.as_str()).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn written_revisions_load_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    let a = table_rev(&dir, 0, "users", &[]);
    assert_eq!(a.id, "20250117_100000_create_users");
    let b = rev(
        &dir,
        3600,
        "Add user email verification!",
        &[&a.id],
        "ALTER TABLE users ADD COLUMN email_verified boolean;",
        "ALTER TABLE users DROP COLUMN email_verified;",
    );
    assert_eq!(b.id, "20250117_110000_add_user_email_verification");

    let up = fs::read_to_string(dir.join(&b.id).join("up.sql")).unwrap();
    assert_eq!(
        up,
        "-- retort:revision 20250117_110000_add_user_email_verification\n\
         -- retort:revises 20250117_100000_create_users\n\
         -- retort:message Add user email verification!\n\
         -- retort:created 2025-01-17T11:00:00Z\n\
         -- Review this migration before applying it. Each statement runs in one transaction\n\
         -- with the version-table update unless marked `-- retort:no-transaction`.\n\
         \n\
         ALTER TABLE users ADD COLUMN email_verified boolean;\n"
    );
    let down = fs::read_to_string(dir.join(&b.id).join("down.sql")).unwrap();
    assert_eq!(
        down,
        "-- retort:revision 20250117_110000_add_user_email_verification\n-- retort:down\n\n\
         ALTER TABLE users DROP COLUMN email_verified;\n"
    );

    let graph = load(&dir).unwrap();
    assert_eq!(graph.len(), 2);
    let loaded = graph.get(&b.id).unwrap();
    assert_eq!(loaded, &b);
    assert_eq!(loaded.parents, [a.id.as_str()]);
    assert_eq!(loaded.message, "Add user email verification!");
    assert_eq!(loaded.created, "2025-01-17T11:00:00Z");
    assert_eq!(loaded.up_line, 8);
    assert_eq!(loaded.down_line, 4);
    assert_eq!(graph.heads(), [b.id.as_str()]);
    assert_eq!(graph.bases(), [a.id.as_str()]);
    verify_sum(&dir, &graph).unwrap();
    let sum = fs::read_to_string(dir.join("retort.sum")).unwrap();
    let lines: Vec<&str> = sum.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], retort_migrate::V2_HEADER);
    // Sorted lines, one per file.
    assert!(lines[1].starts_with("20250117_100000_create_users/down.sql h1:"));
    assert!(lines[4].starts_with("20250117_110000_add_user_email_verification/up.sql h1:"));
}

#[test]
fn no_transaction_marks_are_written_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = write_revision(
        dir,
        &NewRevision {
            message: "index email",
            parents: vec![],
            created: at(0),
            up_body: "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);".into(),
            down_body: "DROP INDEX CONCURRENTLY users_email_idx;".into(),
            up_no_transaction: true,
            down_no_transaction: false,
        },
    )
    .unwrap();
    assert!(m.up_no_transaction && !m.down_no_transaction, "{m:?}");
    let up = fs::read_to_string(m.up_path()).unwrap();
    assert!(up.contains("\n-- retort:no-transaction\n"), "{up}");
    let down = fs::read_to_string(m.down_path()).unwrap();
    assert!(!down.contains("\n-- retort:no-transaction\n"), "{down}");
    let loaded = load(dir).unwrap();
    let again = loaded.get(&m.id).unwrap();
    assert!(again.up_no_transaction && !again.down_no_transaction);
}

#[test]
fn missing_directory_is_an_empty_history() {
    let tmp = tempfile::tempdir().unwrap();
    let graph = load(&tmp.path().join("nope")).unwrap();
    assert!(graph.is_empty());
    assert!(graph.heads().is_empty());
    verify_sum(graph.dir(), &graph).unwrap();
    assert!(plan_upgrade_from(&graph, &[], "head").unwrap().is_empty());
}

#[test]
fn write_revision_refuses_existing_dirs_and_unknown_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    table_rev(dir, 0, "a", &[]);
    let again = write_revision(
        dir,
        &NewRevision {
            message: "create a",
            parents: vec![],
            created: at(0),
            up_body: String::new(),
            down_body: String::new(),
            up_no_transaction: false,
            down_no_transaction: false,
        },
    );
    assert!(
        matches!(again, Err(Error::RevisionExists { .. })),
        "{again:?}"
    );
    let orphan = write_revision(
        dir,
        &NewRevision {
            message: "orphan",
            parents: vec!["nope".into()],
            created: at(1),
            up_body: String::new(),
            down_body: String::new(),
            up_no_transaction: false,
            down_no_transaction: false,
        },
    );
    let e = orphan.unwrap_err();
    assert!(matches!(e, Error::MissingParent { .. }));
    assert!(
        e.to_string()
            .contains("revises nope, but no migration nope exists"),
        "{e}"
    );
}

#[test]
fn branches_and_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b1 = table_rev(dir, 1, "b1", &[&a.id]);
    let b2 = table_rev(dir, 2, "b2", &[&a.id]);
    let graph = load(dir).unwrap();
    assert_eq!(graph.heads(), [b1.id.clone(), b2.id.clone()]);
    let e = plan_upgrade_from(&graph, &[], "head").unwrap_err();
    assert!(matches!(e, Error::MultipleHeads { .. }));
    assert!(e.to_string().contains("retort merge"), "{e}");
    assert!(e.to_string().contains("`heads`"), "{e}");

    let m = rev(dir, 3, "merge b1 and b2", &[&b1.id, &b2.id], "", "");
    let up = fs::read_to_string(m.up_path()).unwrap();
    assert!(up.contains(&format!("-- retort:revises {} {}\n", b1.id, b2.id)));
    let graph = load(dir).unwrap();
    assert!(graph.get(&m.id).unwrap().is_merge());
    assert_eq!(graph.heads(), [m.id.as_str()]);
    assert_eq!(graph.order(), [a.id.as_str(), &b1.id, &b2.id, &m.id]);
    let history: Vec<&str> = graph.history().iter().map(|m| m.id.as_str()).collect();
    assert_eq!(history, [&m.id, &b2.id, &b1.id, &a.id]);

    // From one branch, `head` applies the other branch and the merge.
    let steps = plan_upgrade_from(&graph, std::slice::from_ref(&b1.id), "head").unwrap();
    assert_eq!(ids(&steps), [&b2.id, &m.id]);
    assert_eq!(steps[0].version_after, [b1.id.clone(), b2.id.clone()]);
    assert_eq!(steps[1].version_before, [b1.id.clone(), b2.id.clone()]);
    assert_eq!(steps[1].version_after, [m.id.as_str()]);
    assert_eq!(
        steps[1].describe(),
        format!("upgrade {}, {} -> {}", b1.id, b2.id, m.id)
    );

    // Downgrading to b1 undoes what came after it (the merge); the other branch stays, as in
    // Alembic. Downgrading to a undoes both branches.
    let steps = plan_downgrade_from(&graph, std::slice::from_ref(&m.id), &b1.id).unwrap();
    assert_eq!(ids(&steps), [&m.id]);
    assert_eq!(steps[0].version_after, [b1.id.clone(), b2.id.clone()]);
    let steps = plan_downgrade_from(&graph, std::slice::from_ref(&m.id), &a.id).unwrap();
    assert_eq!(ids(&steps), [&m.id, &b2.id, &b1.id]);
    assert_eq!(steps[2].version_after, [a.id.as_str()]);
    // -1 below the merge leaves both branch heads.
    let steps = plan_downgrade_from(&graph, std::slice::from_ref(&m.id), "-1").unwrap();
    assert_eq!(steps[0].version_after, [b1.id.clone(), b2.id.clone()]);
}

#[test]
fn targets_resolve_prefixes_and_relative_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let graph = load(dir).unwrap();
    assert_eq!(
        ids(&plan_upgrade_from(&graph, &[], "20250117_100001").unwrap()),
        [&a.id, &b.id]
    );
    assert_eq!(
        ids(&plan_upgrade_from(&graph, std::slice::from_ref(&a.id), "+1").unwrap()),
        [&b.id]
    );
    assert_eq!(
        ids(&plan_upgrade_from(&graph, std::slice::from_ref(&a.id), "heads").unwrap()),
        [&b.id, &c.id]
    );
    let e = plan_upgrade_from(&graph, std::slice::from_ref(&a.id), "+3").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid target +3: only 2 migration(s) are not applied"
    );
    let e = plan_upgrade_from(&graph, &[], "2025").unwrap_err();
    assert!(matches!(e, Error::AmbiguousRevision { .. }), "{e}");
    let e = plan_upgrade_from(&graph, &[], "nope").unwrap_err();
    assert!(matches!(e, Error::UnknownRevision { .. }), "{e}");
    assert_eq!(
        ids(&plan_downgrade_from(&graph, std::slice::from_ref(&c.id), "-2").unwrap()),
        [&c.id, &b.id]
    );
    assert_eq!(
        ids(&plan_downgrade_from(&graph, std::slice::from_ref(&c.id), &a.id).unwrap()),
        [&c.id, &b.id]
    );
    assert_eq!(
        ids(&plan_downgrade_from(&graph, std::slice::from_ref(&c.id), "base").unwrap()),
        [&c.id, &b.id, &a.id]
    );
    let e = plan_downgrade_from(&graph, std::slice::from_ref(&a.id), &c.id).unwrap_err();
    assert!(e.to_string().contains("is not applied"), "{e}");
    let e = plan_upgrade_from(&graph, &["ghost".to_string()], "head").unwrap_err();
    assert!(matches!(e, Error::UnknownDbRevision { .. }), "{e}");
    assert!(e
        .to_string()
        .contains("database is at revision ghost which has no migration file"));
    assert!(e.to_string().contains("retort stamp"));
}

#[test]
fn header_problems_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let up = a.up_path();
    let text = fs::read_to_string(&up).unwrap();
    fs::write(
        &up,
        text.replace(
            "-- retort:created",
            "-- retort:author someone\n-- retort:created",
        ),
    )
    .unwrap();
    let e = load(dir).unwrap_err();
    assert!(matches!(e, Error::Header { line: 4, .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("up.sql:4: unknown directive `-- retort:author`"),
        "{e}"
    );

    fs::write(&up, text.replace("-- retort:revises base\n", "")).unwrap();
    let e = load(dir).unwrap_err();
    assert!(e.to_string().contains("no `-- retort:revises"), "{e}");

    fs::write(&up, text).unwrap();
    let renamed = dir.join("20250117_100000_other");
    fs::rename(&a.dir, &renamed).unwrap();
    let e = load(dir).unwrap_err();
    assert!(
        e.to_string()
            .contains("does not match its directory name 20250117_100000_other"),
        "{e}"
    );
}

#[test]
fn duplicate_ids_missing_parents_and_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);

    // Duplicate: a copy of a's files in another directory.
    let copy = dir.join("20250117_100000_copy");
    fs::create_dir(&copy).unwrap();
    fs::copy(a.up_path(), copy.join("up.sql")).unwrap();
    fs::copy(a.down_path(), copy.join("down.sql")).unwrap();
    let e = load(dir).unwrap_err();
    assert!(matches!(e, Error::DuplicateId { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("revision {} is declared twice", a.id)),
        "{e}"
    );
    fs::remove_dir_all(&copy).unwrap();

    // Missing parent.
    let b_up = fs::read_to_string(b.up_path()).unwrap();
    fs::write(
        b.up_path(),
        b_up.replace(&format!("revises {}", a.id), "revises 20250101_000000_gone"),
    )
    .unwrap();
    let e = load(dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "migration {} revises 20250101_000000_gone, but no migration 20250101_000000_gone exists in {}",
            b.id,
            dir.display()
        )
    );
    fs::write(b.up_path(), &b_up).unwrap();

    // Cycle: a revises b.
    let a_up = fs::read_to_string(a.up_path()).unwrap();
    fs::write(
        a.up_path(),
        a_up.replace("revises base", &format!("revises {}", b.id)),
    )
    .unwrap();
    let e = load(dir).unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("migrations form a cycle: {} -> {} -> {}", a.id, b.id, a.id)
    );
}

#[test]
fn retort_sum_catches_edits_insertions_and_removals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let graph = load(dir).unwrap();
    verify_sum(dir, &graph).unwrap();

    let checksum = |graph: &retort_migrate::Graph| match verify_sum(dir, graph) {
        Err(Error::Checksum { file, problem }) => (file, problem),
        other => panic!("expected a checksum error, got {other:?}"),
    };

    // Editing an old file names exactly that file, even though the chain continues after it.
    let original = fs::read_to_string(a.up_path()).unwrap();
    fs::write(a.up_path(), format!("{original}-- sneaky\n")).unwrap();
    let e = verify_sum(dir, &graph).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}/up.sql: it was edited", a.id)),
        "{e}"
    );
    // A new revision cannot bless the edit.
    let e = write_revision(
        dir,
        &NewRevision {
            message: "c",
            parents: vec![b.id.clone()],
            created: at(2),
            up_body: String::new(),
            down_body: String::new(),
            up_no_transaction: false,
            down_no_transaction: false,
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Checksum { .. }), "{e:?}");
    fs::write(a.up_path(), &original).unwrap();
    verify_sum(dir, &graph).unwrap();

    // A hand-made revision that retort.sum does not know.
    let c_dir = dir.join("20250117_100002_c");
    fs::create_dir(&c_dir).unwrap();
    fs::write(
        c_dir.join("up.sql"),
        format!(
            "-- retort:revision 20250117_100002_c\n-- retort:revises {}\n\nSELECT 1;\n",
            b.id
        ),
    )
    .unwrap();
    fs::write(
        c_dir.join("down.sql"),
        "-- retort:revision 20250117_100002_c\n-- retort:down\n",
    )
    .unwrap();
    let with_c = load(dir).unwrap();
    assert_eq!(
        checksum(&with_c),
        (
            "20250117_100002_c/up.sql".to_string(),
            ChecksumProblem::NotRecorded
        )
    );
    // Accepting it on purpose.
    let with_c = rehash(dir).unwrap();
    verify_sum(dir, &with_c).unwrap();
    fs::remove_dir_all(&c_dir).unwrap();
    assert_eq!(
        checksum(&load(dir).unwrap()),
        (
            "20250117_100002_c/up.sql".to_string(),
            ChecksumProblem::Removed
        )
    );
    rehash(dir).unwrap();

    // Editing a line of retort.sum by hand: the file it names no longer matches.
    let sum = fs::read_to_string(dir.join("retort.sum")).unwrap();
    fs::write(
        dir.join("retort.sum"),
        sum.replacen("/up.sql h1:", "/up.sql h1:x", 1),
    )
    .unwrap();
    assert_eq!(
        checksum(&graph),
        (format!("{}/up.sql", a.id), ChecksumProblem::Edited)
    );
    // Two different hashes for one file (a botched merge) are a malformed sum.
    fs::write(
        dir.join("retort.sum"),
        format!("{sum}{}/up.sql h1:other\n", a.id),
    )
    .unwrap();
    let e = verify_sum(dir, &graph).unwrap_err();
    assert!(matches!(e, Error::SumMalformed { .. }), "{e:?}");

    fs::remove_file(dir.join("retort.sum")).unwrap();
    let e = verify_sum(dir, &graph).unwrap_err();
    assert!(matches!(e, Error::SumMissing { .. }), "{e:?}");
}

#[test]
fn offline_sql_wraps_each_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(
        dir,
        1,
        "index a",
        &[&a.id],
        "CREATE INDEX CONCURRENTLY ix_a ON a (id)",
        "DROP INDEX CONCURRENTLY ix_a;",
    );
    let graph = load(dir).unwrap();
    let steps = plan_offline(&graph, None, "head", Direction::Up).unwrap();
    let sql = offline_sql(&graph, &steps, "retort_version");
    assert!(
        sql.starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"retort_version\" ("),
        "{sql}"
    );
    assert!(
        sql.contains(
            "ALTER TABLE \"public\".\"retort_version\" ADD COLUMN IF NOT EXISTS checksum text;"
        ),
        "{sql}"
    );
    let expected_a = format!(
        "-- Running upgrade  -> {a}\n-- create a\nBEGIN;\n\nCREATE TABLE a (id int PRIMARY KEY);\n\n\
         INSERT INTO \"public\".\"retort_version\" (revision, checksum) VALUES ('{a}', '{sum}');\n\nCOMMIT;\n",
        a = a.id,
        sum = a.checksum
    );
    assert!(sql.contains(&expected_a), "{sql}");
    let expected_b = format!(
        "-- Running upgrade {a} -> {b}\n-- index a\n\
         -- runs outside a transaction: CREATE INDEX CONCURRENTLY\n\n\
         CREATE INDEX CONCURRENTLY ix_a ON a (id)\n;\n\nBEGIN;\n\n\
         UPDATE \"public\".\"retort_version\" SET revision = '{b}', applied_at = now(), checksum = '{sum}' \
         WHERE revision = '{a}';\n\n\
         COMMIT;\n",
        a = a.id,
        b = b.id,
        sum = b.checksum
    );
    assert!(sql.contains(&expected_b), "{sql}");

    // FROM:TO (FROM may list several revisions, as the version table does), and a downgrade
    // from the heads to base.
    let steps = plan_offline(&graph, Some(""), "head", Direction::Up).unwrap();
    assert_eq!(ids(&steps), [&a.id, &b.id]);
    let steps = plan_offline(
        &graph,
        Some(&format!("{},{}", a.id, b.id)),
        "head",
        Direction::Up,
    )
    .unwrap();
    assert!(steps.is_empty());
    let steps = plan_offline(&graph, Some(&a.id), "head", Direction::Up).unwrap();
    assert_eq!(ids(&steps), [&b.id]);
    let steps = plan_offline(&graph, None, "base", Direction::Down).unwrap();
    assert_eq!(ids(&steps), [&b.id, &a.id]);
    let sql = offline_sql(&graph, &steps, "ops.versions");
    assert!(
        sql.contains(&format!("-- Running downgrade {} -> \n", a.id)),
        "{sql}"
    );
    assert!(sql.contains(&format!(
        "DELETE FROM \"ops\".\"versions\" WHERE revision IN ('{}');\n\nCOMMIT;",
        a.id
    )));
    assert_eq!(steps[1].version_before, strings(&[&a.id]));
    assert!(steps[1].version_after.is_empty());
}

/// Runs git in `dir`, asserting success; returns stdout.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_branches_adding_migrations_merge_without_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let dir = repo.join("migrations");
    fs::create_dir(&dir).unwrap();
    let base = table_rev(&dir, 0, "base", &[]);
    let attrs = fs::read_to_string(dir.join(".gitattributes")).unwrap();
    assert!(attrs.contains("retort.sum merge=union"), "{attrs}");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "base"]);
    git(repo, &["checkout", "-qb", "feature"]);
    table_rev(&dir, 2, "feature", &[&base.id]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "feature"]);
    git(repo, &["checkout", "-q", "main"]);
    table_rev(&dir, 1, "mainline", &[&base.id]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "mainline"]);
    // Both branches appended a line at the same place of retort.sum.
    git(repo, &["merge", "-q", "--no-edit", "feature"]);
    let graph = load(&dir).unwrap();
    assert_eq!(graph.heads().len(), 2);
    verify_sum(&dir, &graph).unwrap();
    let sum = fs::read_to_string(dir.join("retort.sum")).unwrap();
    assert!(!sum.contains("<<<<<<<"), "{sum}");
}
