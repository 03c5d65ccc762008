//! A cache of serialized catalogue pages, the hottest read of a shop.
//!
//! Every change the router makes to products (saving, removing, a new image, the settings
//! they are shown under) clears it. Stock taken by orders and given back by cancellations, and
//! every change the router cannot see (another process on the same database, the order-expiry
//! job), show after at most the configured TTL: a page is served only while younger than the
//! TTL, counted from when its read began. Orders do not clear it because under load they would
//! make nearly every page a store read, and the stock a page shows is advice anyway: placing
//! an order checks it in the store's transaction.
//!
//! A page is kept with its compressed variants ([`Precompressed`]), made by the read that
//! fetched it from the store, so they are made once per page and generation and every request
//! after that only picks one. (With a zero TTL nothing is kept, so nothing is precompressed:
//! each answer is compressed, if asked, by the router's compression layer as before.)
//!
//! Memory: at most [`MAX_PAGES`] pages. The variants add brotli's and gzip's share of a page's
//! plain bytes, at most about 60% for varied text and far less for catalogue JSON, whose
//! fields repeat (a 16 KB page of 50 products keeps 0.5 KB of brotli and 0.7 KB of gzip beside
//! it). The hard bound: a variant is kept only when smaller than the plain bytes, so a page
//! with both holds under 3× its plain bytes, and a full cache of the largest pages (100
//! products, about 32 KB) under 96 MB. In practice (variants at most about 60% of varied
//! text) about 50 MB instead of 32 MB; a shop's real pages, a few MB.
//!
//! Reads are single-flight: when a page is missing or stale, one request reads the store and
//! the requests that arrive meanwhile wait for that read and share its page, so a clear under
//! load costs one store read, not one per waiting request. A request shares only a read that
//! began after the last clear it could have seen (the same generation), so a client that
//! changed something through the router never gets a page read before its change. A page read
//! before a clear is not stored after it.
//!
//! Why not `moka`: its `get_with` coalesces loads as this does, but a load that began before
//! `invalidate_all` could still insert its page afterwards, and the rule here is that a client
//! who changed the catalogue never gets a page read before the change (the generation check).
//! The cache holds at most [`MAX_PAGES`] small pages with one TTL, which needs no eviction
//! policy beyond starting over.
//!
//! Keys come from client input (a cursor and a limit). The route builds them only from a
//! cursor that decodes, in its canonical form, so junk cursors are refused before they reach
//! the cache. Here both maps are bounded: beyond [`MAX_PAGES`] pages the cache starts over, and
//! beyond [`MAX_FLIGHTS`] reads in progress a request reads alone instead of registering; a
//! read leaves the map on every outcome (a page, an error, a request given up on).

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex, PoisonError, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use tokio::sync::OnceCell;

use crate::encoding::Precompressed;

/// A cached page: its plain bytes and compressed variants.
pub(crate) type Page = Arc<Precompressed>;

/// Beyond this many pages the cache starts over (cursors are client input).
const MAX_PAGES: usize = 1_024;

/// Beyond this many reads in progress, a request for another page reads alone.
const MAX_FLIGHTS: usize = 256;

#[derive(Debug)]
pub(crate) struct CatalogueCache {
    ttl: Duration,
    inner: RwLock<Pages>,
    /// The read in progress for each page key.
    flights: Mutex<HashMap<String, Arc<Flight>>>,
}

#[derive(Debug, Default)]
struct Pages {
    generation: u64,
    pages: HashMap<String, (Instant, Page)>,
}

/// One read of a page from the store, shared by the requests of its generation.
#[derive(Debug)]
struct Flight {
    generation: u64,
    started: Instant,
    page: OnceCell<Page>,
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
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The page under `key`: the cached one while fresh, else the one `load` reads (or that a
    /// read of the same generation already in progress returns), compressed by the request
    /// that read it. A failed read is not cached; the next waiting request reads again.
    pub(crate) async fn get_or_load<E, F, Fut>(&self, key: String, load: F) -> Result<Page, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        if self.ttl.is_zero() {
            return Ok(Arc::new(Precompressed::uncompressed(load().await?)));
        }
        if let Some(page) = self.get(&key, Instant::now()) {
            return Ok(page);
        }
        let landing = Landing {
            cache: self,
            flight: self.join_flight(&key),
            key,
            loader: AtomicBool::new(false),
        };
        let flight = &landing.flight;
        let page = flight
            .page
            .get_or_try_init(|| {
                landing.loader.store(true, Ordering::Relaxed);
                async { Ok(Arc::new(Precompressed::new(load().await?))) }
            })
            .await
            .cloned();
        if let Ok(page) = &page {
            self.put(
                flight.generation,
                landing.key.clone(),
                page.clone(),
                flight.started,
            );
        }
        page
        // `landing` leaves the map here, and also when this future is dropped mid-read.
    }

    /// The read in progress for `key` in the current generation, or a new one (registered
    /// while fewer than [`MAX_FLIGHTS`] are).
    fn join_flight(&self, key: &str) -> Arc<Flight> {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // Read under the flights lock: a clear after this line makes a later request start
        // a read of its own.
        let generation = self.generation();
        match flights.get(key) {
            Some(flight) if flight.generation == generation => flight.clone(),
            _ => {
                let flight = Arc::new(Flight {
                    generation,
                    started: Instant::now(),
                    page: OnceCell::new(),
                });
                if flights.len() < MAX_FLIGHTS || flights.contains_key(key) {
                    flights.insert(key.to_owned(), flight.clone());
                }
                flight
            }
        }
    }

    /// How many reads are registered as in progress.
    #[cfg(test)]
    fn flights(&self) -> usize {
        self.flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The cached page, if fresh.
    fn get(&self, key: &str, now: Instant) -> Option<Page> {
        let pages = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        pages
            .pages
            .get(key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, page)| page.clone())
    }

    /// The generation a read must belong to for its page to be stored.
    fn generation(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Stores a page whose read began at `read_at` in `generation`, unless the cache was
    /// cleared since.
    fn put(&self, generation: u64, key: String, page: Page, read_at: Instant) {
        let mut pages = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if pages.generation != generation {
            return;
        }
        if pages.pages.len() >= MAX_PAGES && !pages.pages.contains_key(&key) {
            pages.pages.clear();
        }
        pages.pages.insert(key, (read_at, page));
    }

    /// Forgets every page.
    pub(crate) fn clear(&self) {
        let mut pages = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        pages.generation += 1;
        pages.pages.clear();
    }
}

/// One request's part in a read: when it ends (a page, an error, or the request dropped
/// mid-read), the read leaves the map if its page is there or this request was the one
/// reading, so the next request starts a read of its own and nothing is left behind. A request
/// that only waited leaves the map to the reader.
struct Landing<'c> {
    cache: &'c CatalogueCache,
    key: String,
    flight: Arc<Flight>,
    /// Whether this request ran the read.
    loader: AtomicBool,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        if !self.flight.page.initialized() && !self.loader.load(Ordering::Relaxed) {
            return;
        }
        let mut flights = self
            .cache
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flights
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            flights.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::sync::oneshot;

    use super::*;
    use crate::encoding::ContentCoding;

    type Loaded = Result<Bytes, String>;

    async fn page(cache: &CatalogueCache, body: &'static [u8]) -> Loaded {
        cache
            .get_or_load(page_key(None, 20), || async {
                Ok(Bytes::from_static(body))
            })
            .await
            .map(|page| page.plain().clone())
    }

    fn plain(body: &'static [u8]) -> Page {
        Arc::new(Precompressed::uncompressed(Bytes::from_static(body)))
    }

    #[test]
    fn pages_are_served_until_cleared_or_stale() {
        let cache = CatalogueCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let key = page_key(None, 20);
        cache.put(cache.generation(), key.clone(), plain(b"[1]"), t0);
        assert_eq!(
            cache.get(&key, t0).map(|p| p.plain().clone()).as_deref(),
            Some(&b"[1]"[..])
        );
        assert!(cache.get(&key, t0 + Duration::from_secs(5)).is_none());
        cache.clear();
        assert!(cache.get(&key, t0).is_none());
    }

    #[test]
    fn a_page_read_before_a_clear_is_not_stored() {
        let cache = CatalogueCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let before = cache.generation();
        cache.clear();
        cache.put(before, page_key(None, 20), plain(b"old"), t0);
        assert!(cache.get(&page_key(None, 20), t0).is_none());
    }

    #[tokio::test]
    async fn a_cached_page_is_served_without_reading_again() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        assert_eq!(page(&cache, b"first").await.as_deref(), Ok(&b"first"[..]));
        assert_eq!(page(&cache, b"second").await.as_deref(), Ok(&b"first"[..]));
        cache.clear();
        assert_eq!(page(&cache, b"third").await.as_deref(), Ok(&b"third"[..]));
    }

    #[tokio::test]
    async fn a_page_is_compressed_by_its_read_and_shared_until_cleared() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        let load = || async { Ok::<_, String>(Bytes::from("{\"name\":\"Kikoi\"},".repeat(100))) };
        let first = cache.get_or_load(page_key(None, 20), load).await.unwrap();
        assert!(first.variant(ContentCoding::Brotli).is_some());
        assert!(first.variant(ContentCoding::Gzip).is_some());
        let again = cache.get_or_load(page_key(None, 20), load).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the variants were made again");
        cache.clear();
        let after = cache.get_or_load(page_key(None, 20), load).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &after));
    }

    #[tokio::test]
    async fn with_a_zero_ttl_every_request_reads_the_store() {
        let cache = CatalogueCache::new(Duration::ZERO);
        assert_eq!(page(&cache, b"first").await.as_deref(), Ok(&b"first"[..]));
        assert_eq!(page(&cache, b"second").await.as_deref(), Ok(&b"second"[..]));
    }

    #[tokio::test]
    async fn requests_waiting_for_a_read_share_it() {
        // given twenty requests for a page that is not cached, where the first one's read
        // lasts until all of them have asked (asking joins the read before the first await)
        let cache = Arc::new(CatalogueCache::new(Duration::from_secs(60)));
        let (asked, reads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut requests = Vec::new();
        for _ in 0..20 {
            let (cache, asked, reads) = (cache.clone(), asked.clone(), reads.clone());
            requests.push(tokio::spawn(async move {
                asked.fetch_add(1, Ordering::SeqCst);
                cache
                    .get_or_load(page_key(None, 20), || async move {
                        reads.fetch_add(1, Ordering::SeqCst);
                        while asked.load(Ordering::SeqCst) < 20 {
                            tokio::task::yield_now().await;
                        }
                        Ok::<_, String>(Bytes::from_static(b"page"))
                    })
                    .await
                    .map(|page| page.plain().clone())
            }));
        }
        // when they are answered
        for request in requests {
            assert_eq!(request.await.unwrap().as_deref(), Ok(&b"page"[..]));
        }
        // then the store was read once
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_request_after_a_clear_does_not_share_a_read_begun_before_it() {
        // given a read in progress
        let cache = Arc::new(CatalogueCache::new(Duration::from_secs(60)));
        let (release, released) = oneshot::channel::<()>();
        let (started, has_started) = oneshot::channel::<()>();
        let early = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .get_or_load(page_key(None, 20), || async move {
                        let _ = started.send(());
                        let _ = released.await;
                        Ok::<_, String>(Bytes::from_static(b"before the change"))
                    })
                    .await
                    .map(|page| page.plain().clone())
            }
        });
        has_started.await.unwrap();
        // when the catalogue changes and another request comes
        cache.clear();
        let late = page(&cache, b"after the change").await;
        let _ = release.send(());
        // then it reads for itself, and the early page is not kept
        assert_eq!(late.as_deref(), Ok(&b"after the change"[..]));
        assert_eq!(
            early.await.unwrap().as_deref(),
            Ok(&b"before the change"[..])
        );
        assert_eq!(
            page(&cache, b"unused").await.as_deref(),
            Ok(&b"after the change"[..])
        );
    }

    #[tokio::test]
    async fn a_failed_read_is_not_cached() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        let failed = cache
            .get_or_load(page_key(None, 20), || async {
                Err::<Bytes, _>("database down".to_owned())
            })
            .await
            .map(|page| page.plain().clone());
        assert_eq!(failed, Err("database down".to_owned()));
        assert_eq!(page(&cache, b"back").await.as_deref(), Ok(&b"back"[..]));
    }

    #[tokio::test]
    async fn a_failed_read_leaves_nothing_behind() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        for n in 0..100 {
            let failed = cache
                .get_or_load(page_key(Some(&format!("junk-{n}")), 20), || async {
                    Err::<Bytes, _>("no such cursor".to_owned())
                })
                .await;
            assert!(failed.is_err());
        }
        assert_eq!(cache.flights(), 0);
    }

    #[tokio::test]
    async fn a_request_given_up_mid_read_leaves_nothing_behind() {
        // given a read that never finishes
        let cache = Arc::new(CatalogueCache::new(Duration::from_secs(60)));
        let (started, has_started) = oneshot::channel::<()>();
        let stuck = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .get_or_load(page_key(None, 20), || async move {
                        let _ = started.send(());
                        std::future::pending::<Loaded>().await
                    })
                    .await
            }
        });
        has_started.await.unwrap();
        assert_eq!(cache.flights(), 1);
        // when its client goes away
        stuck.abort();
        let _ = stuck.await;
        // then the read is forgotten, and the next request reads for itself
        assert_eq!(cache.flights(), 0);
        assert_eq!(page(&cache, b"fresh").await.as_deref(), Ok(&b"fresh"[..]));
    }

    #[tokio::test]
    async fn reads_in_progress_are_bounded() {
        // given more stuck reads of distinct pages than the cache registers
        let cache = Arc::new(CatalogueCache::new(Duration::from_secs(60)));
        let mut stuck = Vec::new();
        for n in 0..MAX_FLIGHTS + 50 {
            let (started, has_started) = oneshot::channel::<()>();
            stuck.push(tokio::spawn({
                let cache = cache.clone();
                async move {
                    cache
                        .get_or_load(page_key(None, n + 1), || async move {
                            let _ = started.send(());
                            std::future::pending::<Loaded>().await
                        })
                        .await
                }
            }));
            has_started.await.unwrap();
        }
        // then the map holds at most its bound, and every request still reads
        assert_eq!(cache.flights(), MAX_FLIGHTS);
        for request in stuck {
            request.abort();
        }
    }
}
