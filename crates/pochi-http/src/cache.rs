//! A cache of serialized catalogue pages, the hottest read of a shop.
//!
//! Every change the router makes that can change a product (saving, removing, a new image,
//! placing an order or moving one, which reserve and release stock) clears it. Changes it
//! cannot see (another process, the order-expiry job) show after at most the configured TTL.
//! A page read before a clear is not stored after it (the generation check).

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use bytes::Bytes;

/// Beyond this many pages the cache starts over (cursors are client input).
const MAX_PAGES: usize = 1_024;

#[derive(Debug)]
pub(crate) struct CatalogueCache {
    ttl: Duration,
    inner: RwLock<Pages>,
}

#[derive(Debug, Default)]
struct Pages {
    generation: u64,
    pages: HashMap<String, (Instant, Bytes)>,
}

/// What a page is cached under.
pub(crate) fn page_key(cursor: Option<&str>, limit: usize) -> String {
    format!("{limit}|{}", cursor.unwrap_or_default())
}

impl CatalogueCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        CatalogueCache {
            ttl,
            inner: RwLock::new(Pages::default()),
        }
    }

    /// The cached page, if fresh.
    pub(crate) fn get(&self, key: &str, now: Instant) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        let pages = self.inner.read().unwrap_or_else(|e| e.into_inner());
        pages
            .pages
            .get(key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, bytes)| bytes.clone())
    }

    /// The generation to pass to [`CatalogueCache::put`], read before reading the store.
    pub(crate) fn generation(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .generation
    }

    /// Stores a page read at `generation`, unless the cache was cleared since.
    pub(crate) fn put(&self, generation: u64, key: String, bytes: Bytes, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut pages = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if pages.generation != generation {
            return;
        }
        if pages.pages.len() >= MAX_PAGES {
            pages.pages.clear();
        }
        pages.pages.insert(key, (read_at, bytes));
    }

    /// Forgets every page.
    pub(crate) fn clear(&self) {
        let mut pages = self.inner.write().unwrap_or_else(|e| e.into_inner());
        pages.generation += 1;
        pages.pages.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_served_until_cleared_or_stale() {
        let cache = CatalogueCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let key = page_key(None, 20);
        cache.put(
            cache.generation(),
            key.clone(),
            Bytes::from_static(b"[1]"),
            t0,
        );
        assert_eq!(cache.get(&key, t0).as_deref(), Some(&b"[1]"[..]));
        assert_eq!(cache.get(&key, t0 + Duration::from_secs(5)), None);
        cache.clear();
        assert_eq!(cache.get(&key, t0), None);
    }

    #[test]
    fn a_page_read_before_a_clear_is_not_stored() {
        let cache = CatalogueCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let before = cache.generation();
        cache.clear();
        cache.put(before, page_key(None, 20), Bytes::from_static(b"old"), t0);
        assert_eq!(cache.get(&page_key(None, 20), t0), None);
    }
}
