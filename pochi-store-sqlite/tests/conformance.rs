//! The whole `pochi-testkit` store suite, on a fresh database file per scenario and in memory.

#![allow(clippy::unwrap_used)]

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::{Duration, SystemTime},
};

use pochi_core::Store;
use pochi_store_sqlite::SqliteStore;

/// Where this test binary keeps its database files: under Cargo's scratch directory for
/// integration tests, so files outlive their scenario for debugging. Each test may run in a
/// process of its own (nextest), so a process removes only what is over an hour old, never a
/// directory another test is using.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sqlite-conformance");
        std::fs::create_dir_all(&dir).unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < hour_ago);
            if old {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        dir
    })
}

async fn file_store() -> Option<Arc<dyn Store>> {
    let dir = tempfile::tempdir_in(scratch()).unwrap().keep();
    let store = SqliteStore::open(dir.join("shop.db")).await.unwrap();
    store.migrate().await.unwrap();
    Some(Arc::new(store))
}

async fn memory_store() -> Option<Arc<dyn Store>> {
    let store = SqliteStore::in_memory().await.unwrap();
    store.migrate().await.unwrap();
    Some(Arc::new(store))
}

mod file {
    pochi_testkit::store_conformance_tests!(super::file_store);
}

mod memory {
    pochi_testkit::store_conformance_tests!(super::memory_store);
}
