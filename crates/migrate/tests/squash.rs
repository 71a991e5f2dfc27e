//! `retort squash` in the migrate crate: which lines can be folded, what the folded files say,
//! and databases before, inside and after the line on real PostgreSQL.

mod common;

use common::{at, connect, current, downgrade, rev, table_exists, table_rev, upgrade};
use retort_migrate::{load, plan_squash, verify_sum, write_squash, Error, Runner};
use retort_testkit::TestDb;

fn test_db(name: &str) -> TestDb {
    TestDb::create(name).expect("test database (run `cargo xtask test`, which sets DATABASE_URL)")
}

#[test]
fn a_line_folds_into_its_last_revision_and_the_revisions_after_it_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    // No `;` after the last statement: the next file's statements must still be cut apart.
    let b = rev(
        dir,
        1,
        "add b",
        &[&a.id],
        "CREATE TABLE b (id int)",
        "DROP TABLE b",
    );
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let d = table_rev(dir, 3, "d", &[&c.id]);
    let graph = load(dir).unwrap();
    let squash = plan_squash(&graph, &b.id[..17], &c.id, Some("b and c"), &at(10)).unwrap();
    assert_eq!(squash.id, c.id);
    assert_eq!(squash.line, [b.id.clone(), c.id.clone()]);
    assert_eq!(squash.replaces, std::slice::from_ref(&b.id));
    let graph = write_squash(dir, &squash).unwrap();
    verify_sum(dir, &graph).unwrap();
    assert!(!dir.join(&b.id).exists());
    let ids: Vec<&str> = graph.order().iter().map(String::as_str).collect();
    assert_eq!(ids, [a.id.as_str(), c.id.as_str(), d.id.as_str()]);
    let kept = graph.get(&c.id).unwrap();
    assert_eq!(kept.parents, std::slice::from_ref(&a.id));
    assert_eq!(kept.message, "b and c");
    assert_eq!(kept.replaces, std::slice::from_ref(&b.id));
    assert_eq!(
        graph.get(&d.id).unwrap().parents,
        std::slice::from_ref(&c.id)
    );
    assert_eq!(kept.up_parts.len(), 1, "{}", kept.up);
    let up = kept.up.as_str();
    assert!(
        up.contains("CREATE TABLE b (id int);")
            && up.find("CREATE TABLE b").unwrap() < up.find("CREATE TABLE c").unwrap(),
        "{up}"
    );
    let down = kept.down.as_str();
    assert!(
        down.contains("DROP TABLE c;")
            && down.find("DROP TABLE c").unwrap() < down.find("DROP TABLE b").unwrap(),
        "{down}"
    );

    // Folding the folded one again keeps what it replaced.
    let again = plan_squash(&graph, &a.id, &c.id, None, &at(11)).unwrap();
    assert_eq!(again.replaces, [a.id.clone(), b.id.clone()]);
    assert!(
        again.up.contains("-- retort:revises base\n"),
        "{}",
        again.up
    );
}

#[test]
fn branches_merges_and_reversed_ranges_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let side = table_rev(dir, 3, "side", &[&b.id]);
    let m = rev(dir, 4, "join", &[&c.id, &side.id], "", "");
    let n = table_rev(dir, 5, "n", &[&m.id]);
    let graph = load(dir).unwrap();
    let refused = |from: &str, to: &str| {
        let e = plan_squash(&graph, from, to, None, &at(9)).unwrap_err();
        assert!(matches!(e, Error::Target { .. }), "{e:?}");
        e.to_string()
    };
    let e = refused(&a.id, &c.id);
    assert!(e.contains(&b.id) && e.contains(&side.id), "{e}");
    assert!(refused(&c.id, &n.id).contains("is a merge"));
    assert!(refused(&c.id, &a.id).contains("not an ancestor"));
    assert!(refused(&c.id, &c.id).contains("same revision"));
    // A merge may open the line.
    let ok = plan_squash(&graph, &m.id, &n.id, None, &at(9)).unwrap();
    assert_eq!(ok.parents, [c.id.clone(), side.id.clone()]);
    // An edited file is not blessed by a squash.
    let text = std::fs::read_to_string(n.up_path()).unwrap();
    std::fs::write(n.up_path(), format!("{text}-- edited\n")).unwrap();
    let graph = load(dir).unwrap();
    let s = plan_squash(&graph, &m.id, &n.id, None, &at(9)).unwrap();
    let e = write_squash(dir, &s).unwrap_err();
    assert!(matches!(e, Error::Checksum { .. }), "{e:?}");
    assert!(dir.join(&m.id).join("up.sql").exists());
}

#[test]
fn steps_outside_a_transaction_stay_steps_and_their_neighbours_join() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(
        dir,
        1,
        "index a",
        &[&a.id],
        "ALTER TABLE a ADD COLUMN v int;\n-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY a_v ON a (v);",
        "-- retort:step no-transaction\nDROP INDEX CONCURRENTLY a_v;\n-- retort:step\nALTER TABLE a DROP COLUMN v;",
    );
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let d = table_rev(dir, 3, "d", &[&c.id]);
    let graph = load(dir).unwrap();
    let squash = plan_squash(&graph, &a.id, &d.id, None, &at(9)).unwrap();
    let graph = write_squash(dir, &squash).unwrap();
    let kept = graph.get(&d.id).unwrap();
    let up: Vec<(bool, bool)> = kept
        .up_parts
        .iter()
        .map(|p| (p.no_transaction, p.sql.contains("CONCURRENTLY")))
        .collect();
    // a + the column (joined), the index alone, then c and d joined.
    assert_eq!(
        up,
        [(false, false), (true, true), (false, false)],
        "{}",
        kept.up
    );
    assert!(
        kept.up_parts[2].sql.contains("CREATE TABLE c")
            && kept.up_parts[2].sql.contains("CREATE TABLE d")
    );
    let down: Vec<(bool, bool)> = kept
        .down_parts
        .iter()
        .map(|p| (p.no_transaction, p.sql.contains("CONCURRENTLY")))
        .collect();
    assert_eq!(
        down,
        [(false, false), (true, true), (false, false)],
        "{}",
        kept.down
    );
    assert!(
        kept.down_parts[2].sql.contains("DROP COLUMN v")
            && kept.down_parts[2].sql.contains("DROP TABLE a")
    );

    let db = test_db("migrate_squash_steps");
    let mut client = connect(&db);
    upgrade(&mut client, &graph, "head").unwrap();
    assert_eq!(current(&mut client), [d.id.as_str()]);
    let index: bool = client
        .query_one("SELECT to_regclass('a_v') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(index);
    downgrade(&mut client, &graph, "base").unwrap();
    assert!(!table_exists(&mut client, "a") && !table_exists(&mut client, "d"));
}

#[test]
fn databases_after_the_line_go_on_and_one_inside_it_is_told_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let old = load(dir).unwrap();
    let at_c = test_db("migrate_squash_at_c");
    let at_b = test_db("migrate_squash_at_b");
    let mut client_c = connect(&at_c);
    let mut client_b = connect(&at_b);
    upgrade(&mut client_c, &old, &c.id).unwrap();
    upgrade(&mut client_b, &old, &b.id).unwrap();

    let squash = plan_squash(&old, &a.id, &c.id, None, &at(9)).unwrap();
    write_squash(dir, &squash).unwrap();
    let d = table_rev(dir, 3, "d", &[&c.id]);
    let graph = load(dir).unwrap();

    // At the kept id: nothing to redo, the next revision applies.
    upgrade(&mut client_c, &graph, "head").unwrap();
    assert_eq!(current(&mut client_c), [d.id.as_str()]);
    assert!(table_exists(&mut client_c, "d"));

    // Inside the line: refused, naming the revision that folded it in.
    let e = upgrade(&mut client_b, &graph, "head").unwrap_err();
    assert!(matches!(e, Error::Squashed { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&b.id) && text.contains(&c.id), "{text}");
    assert!(!table_exists(&mut client_b, "c"));
    let e = Runner::new(&mut client_b, "retort_version")
        .plan_downgrade(&graph, "base")
        .unwrap_err();
    assert!(matches!(e, Error::Squashed { .. }), "{e:?}");

    // A new database builds the whole history and takes it back.
    let fresh = test_db("migrate_squash_fresh");
    let mut client = connect(&fresh);
    upgrade(&mut client, &graph, "head").unwrap();
    assert!(table_exists(&mut client, "a") && table_exists(&mut client, "d"));
    downgrade(&mut client, &graph, "-1").unwrap();
    assert_eq!(current(&mut client), [c.id.as_str()]);
    downgrade(&mut client, &graph, "-1").unwrap();
    assert!(current(&mut client).is_empty());
    assert!(!table_exists(&mut client, "a"));
}
