//! The whole conformance kit against a real PostgreSQL server, one fresh schema per scenario.

mod common;

use std::sync::Arc;

use pochi_core::Store;

async fn postgres_store() -> Option<Arc<dyn Store>> {
    common::test_db()
        .await
        .map(|db| Arc::new(db.store) as Arc<dyn Store>)
}

mod postgres {
    pochi_testkit::store_conformance_tests!(super::postgres_store);
}
