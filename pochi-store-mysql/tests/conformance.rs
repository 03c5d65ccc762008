//! The whole conformance kit against a real MySQL-protocol server (MariaDB here), one fresh database per scenario.

mod common;

use std::sync::Arc;

use pochi_core::Store;

async fn mysql_store() -> Option<Arc<dyn Store>> {
    common::test_db()
        .await
        .map(|db| Arc::new(db.store) as Arc<dyn Store>)
}

mod mysql {
    pochi_testkit::store_conformance_tests!(super::mysql_store);
}
