//! Orders per second that a store can place: `cargo bench -p pochi-benches --bench stores`.
//!
//! Each iteration places one order (two lines: one product with tracked stock, one without)
//! through `Store::place_order`, the shop's hot write path: idempotency lookup, conditional
//! stock decrement, order, lines and timeline in one transaction. The iterations of a sample
//! are shared out among K concurrent callers (tokio tasks on a multi-threaded runtime); the
//! reported throughput is orders per second across all callers.

// A benchmark, like a test, stops at the first failure.
#![allow(clippy::expect_used)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pochi_core::{NewOrder, Store, product::MAX_STOCK};
use pochi_store_sqlite::SqliteStore;
use pochi_testkit::fixtures::{T0, checkout, new_order, order_number, product};
use tokio::runtime::Runtime;

/// Concurrent callers measured.
const CALLERS: [u64; 2] = [1, 8];

fn place_order(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, template) = runtime.block_on(async {
        let store = SqliteStore::open(dir.path().join("bench.db"))
            .await
            .expect("the database opens");
        store.migrate().await.expect("the schema applies");
        // Stock that no run can exhaust, so every order is placed.
        let tracked = product("Kikoi", "1500", Some(MAX_STOCK));
        let untracked = product("Delivery bag", "50", None);
        store.insert_product(&tracked).await.expect("insert");
        store.insert_product(&untracked).await.expect("insert");
        let template = new_order(
            order_number(),
            &checkout(&[(&tracked, 2), (&untracked, 1)]),
            &[tracked.clone(), untracked.clone()],
            T0,
        );
        (Arc::new(store), Arc::new(template))
    });

    let mut group = c.benchmark_group("place_order/sqlite_file");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(10));
    for callers in CALLERS {
        group.bench_with_input(
            BenchmarkId::new("callers", callers),
            &callers,
            |b, &callers| {
                b.iter_custom(|orders| {
                    runtime.block_on(place_concurrently(&store, &template, callers, orders))
                });
            },
        );
    }
    group.finish();
}

/// Places `orders` orders with `callers` tasks and returns the wall time it took.
async fn place_concurrently(
    store: &Arc<SqliteStore>,
    template: &Arc<NewOrder>,
    callers: u64,
    orders: u64,
) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let share = orders / callers + u64::from(caller < orders % callers);
            let store = Arc::clone(store);
            let template = Arc::clone(template);
            tokio::spawn(async move {
                for _ in 0..share {
                    let mut new = (*template).clone();
                    new.order.number = order_number();
                    store.place_order(&new).await.expect("the order is placed");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a caller finished");
    }
    start.elapsed()
}

criterion_group!(benches, place_order);
criterion_main!(benches);
