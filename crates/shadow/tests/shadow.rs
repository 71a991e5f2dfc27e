//! The shadow database on real clusters: start, reuse without initdb, status, stop, concurrent
//! starts making one cluster, idle stop (never under a live handle), and the version mismatch error.

use retort_shadow::{Shadow, ShadowOptions, Started};
use std::time::{Duration, Instant};

/// A private base directory whose clusters are stopped on drop.
struct Base {
    dir: tempfile::TempDir,
    idle: Duration,
}

impl Base {
    fn new(idle: Duration) -> Base {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("retort-shadow-test-")
            .tempdir()
            .unwrap();
        // As root the server runs as `postgres`, which must reach the directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Base { dir, idle }
    }
    fn opts(&self) -> ShadowOptions {
        ShadowOptions {
            major: None,
            dir: Some(self.dir.path().join("shadow")),
            idle: self.idle,
        }
    }
    fn running(&self) -> bool {
        Shadow::status(&self.opts())
            .unwrap()
            .iter()
            .any(|s| s.running)
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        let _ = Shadow::stop(&self.opts());
    }
}

fn select_one(h: &retort_shadow::ShadowHandle) -> i32 {
    h.connect("postgres")
        .unwrap()
        .query_one("SELECT 1", &[])
        .unwrap()
        .get(0)
}

#[test]
fn starts_reuses_reports_and_stops() {
    let base = Base::new(Duration::from_secs(600));
    let first = Shadow::ensure(&base.opts()).unwrap();
    assert_eq!(first.started(), Started::Created);
    assert_eq!(select_one(&first), 1);
    // The URL works for any client, and the server listens on no TCP address.
    let mut c = postgres::Client::connect(&first.url("postgres"), postgres::NoTls).unwrap();
    let listen: String = c.query_one("SHOW listen_addresses", &[]).unwrap().get(0);
    assert_eq!(listen, "");
    let pid = first.pid();
    drop(first);

    let second = Shadow::ensure(&base.opts()).unwrap();
    assert_eq!(second.started(), Started::Reused);
    assert_eq!(second.pid(), pid);
    let status = Shadow::status(&base.opts()).unwrap();
    assert_eq!(status.len(), 1, "{status:?}");
    assert!(status[0].running);
    assert_eq!(status[0].pid, Some(pid));
    assert_eq!(
        status[0].url.as_deref(),
        Some(second.url("postgres").as_str())
    );
    assert!(status[0].watcher, "{status:?}");
    assert!(status[0].to_string().contains("running"), "{}", status[0]);

    // Not under a live handle.
    let e = Shadow::stop(&base.opts()).unwrap_err().to_string();
    assert!(e.contains("in use"), "{e}");
    assert!(base.running());
    drop(second);

    assert_eq!(Shadow::stop(&base.opts()).unwrap(), vec![status[0].major]);
    assert!(!base.running());
    assert!(Shadow::status(&base.opts()).unwrap()[0]
        .to_string()
        .contains("stopped"));
    assert_eq!(Shadow::stop(&base.opts()).unwrap(), Vec::<u32>::new());

    // The cluster is kept: the next start needs no initdb.
    let third = Shadow::ensure(&base.opts()).unwrap();
    assert_eq!(third.started(), Started::Restarted);
    assert_ne!(third.pid(), pid);
    assert_eq!(select_one(&third), 1);
}

#[test]
fn concurrent_starts_make_one_cluster() {
    let base = Base::new(Duration::from_secs(600));
    let opts = base.opts();
    let barrier = std::sync::Barrier::new(3);
    let handles: Vec<_> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    Shadow::ensure(&opts).unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let created = handles
        .iter()
        .filter(|h| h.started() == Started::Created)
        .count();
    assert_eq!(created, 1);
    assert!(handles.iter().all(|h| h.pid() == handles[0].pid()));
    for h in &handles {
        assert_eq!(select_one(h), 1);
    }
}

#[test]
fn an_idle_server_stops_but_not_under_a_live_handle() {
    let base = Base::new(Duration::from_secs(1));
    let h = Shadow::ensure(&base.opts()).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert!(base.running(), "stopped while a handle was live");
    assert_eq!(select_one(&h), 1);
    drop(h);
    let deadline = Instant::now() + Duration::from_secs(30);
    while base.running() {
        assert!(Instant::now() < deadline, "the idle server was not stopped");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The watcher ends with its server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Shadow::status(&base.opts()).unwrap()[0].watcher {
        assert!(Instant::now() < deadline, "the watcher outlived its server");
        std::thread::sleep(Duration::from_millis(200));
    }
    let again = Shadow::ensure(&base.opts()).unwrap();
    assert_eq!(again.started(), Started::Restarted);
}

#[test]
fn a_missing_major_version_is_named() {
    let base = Base::new(Duration::from_secs(600));
    let opts = ShadowOptions {
        major: Some(99),
        ..base.opts()
    };
    let e = Shadow::ensure(&opts).err().unwrap().to_string();
    assert!(e.contains("the target server is PostgreSQL 99"), "{e}");
    let installed = retort_shadow::install::installations();
    assert!(
        e.contains(&installed[0].version),
        "names the versions found: {e}"
    );
    assert!(!base.dir.path().join("shadow").join("99").exists());
}
