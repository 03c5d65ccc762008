//! The kit against the reference implementation, and the provider suite against the
//! manual-code provider.

use std::sync::Arc;

use pochi_core::{ManualCodeProvider, MemoryStore, Store};
use pochi_testkit::ProviderUnderTest;

async fn memory_store() -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new()))
}

async fn manual_provider() -> ProviderUnderTest {
    ProviderUnderTest {
        provider: Arc::new(ManualCodeProvider::new()),
        phone: None,
        code: Some("QKX1234567".into()),
        channels: Vec::new(),
        guard: None,
    }
}

mod memory {
    pochi_testkit::store_conformance_tests!(super::memory_store);
}

mod manual {
    pochi_testkit::provider_conformance_tests!(super::manual_provider);
}
