//! What is particular to SQLite: files that outlive the process, connection modes, locks held
//! by other writers, rows the store did not write.

mod common;

use std::{str::FromStr, time::Duration};

use common::*;
use pochi_core::{Error, Store, StoreExt};
use pochi_store_sqlite::{
    SqliteStore,
    sqlx::{
        Connection, SqliteConnection,
        sqlite::{SqliteConnectOptions, SqlitePoolOptions},
    },
};

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    // given
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let kikoi = product("Kikoi", 1500, Some(4));
    let placed = order(&[(&kikoi, 1)]);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        store.insert_product(&kikoi).await.unwrap();
        store.place_order(&new_order(placed.clone())).await.unwrap();
    }

    // when: opened again, and migrated again as every start does
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();

    // then
    assert_eq!(store.order(&placed.number).await.unwrap(), Some(placed));
    assert_eq!(
        store.product_required(kikoi.id).await.unwrap().stock,
        Some(3)
    );
}

#[tokio::test]
async fn any_text_round_trips_byte_for_byte() {
    let store = memory_store().await;
    let mut odd = product("nul\u{0}byte, max \u{10FFFF}, bom \u{FEFF}, ﷽, 𝕂", 1, None);
    odd.description = "  leading and trailing spaces\r\n\ttabs  ".to_owned();
    store.insert_product(&odd).await.unwrap();

    assert_eq!(store.product_required(odd.id).await.unwrap(), odd);
}

#[tokio::test]
async fn urls_open_files_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by-url.db");

    let file = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    file.migrate().await.unwrap();
    let memory = SqliteStore::connect("sqlite::memory:").await.unwrap();
    memory.migrate().await.unwrap();

    assert!(path.exists());
    assert!(
        format!("{file:?}").starts_with("SqliteStore { database: \"by-url.db\", connections: "),
        "{file:?}"
    );
    assert_eq!(
        format!("{memory:?}"),
        "SqliteStore { database: \"memory\", connections: 1 }"
    );
    let err = SqliteStore::connect("postgres://user:secret@db/shop")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("database_url"));
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test]
async fn debug_output_shows_the_file_name_only() {
    let (store, dir) = file_store().await;

    let shown = format!("{store:?}");

    assert!(
        shown.starts_with("SqliteStore { database: \"shop.db\","),
        "{shown}"
    );
    assert!(!shown.contains(&*dir.path().to_string_lossy()));
}

#[tokio::test]
async fn a_database_locked_by_another_writer_is_unavailable_after_retries() {
    // given: a store whose connections wait at most 50 ms for a lock, and another connection
    // holding the write lock
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("shop.db"))
        .create_if_missing(true)
        .busy_timeout(Duration::from_millis(50));
    let pool = SqlitePoolOptions::new()
        .connect_with(options.clone())
        .await
        .unwrap();
    let store = SqliteStore::from_pool(pool);
    store.migrate().await.unwrap();
    let mut other = SqliteConnection::connect_with(&options).await.unwrap();
    let holder = other.begin_with("BEGIN IMMEDIATE").await.unwrap();

    // when
    let err = store
        .insert_product(&product("Kikoi", 1500, None))
        .await
        .unwrap_err();

    // then: retryable, and nothing was written once the lock is gone
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    holder.rollback().await.unwrap();
    assert_eq!(store.list_products(false, None, 10).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_closed_pool_is_unavailable() {
    let pool = SqlitePoolOptions::new()
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").unwrap())
        .await
        .unwrap();
    let store = SqliteStore::from_pool(pool.clone());

    pool.close().await;

    assert!(matches!(
        store.ping().await.unwrap_err(),
        Error::Unavailable { .. }
    ));
}

#[tokio::test]
async fn a_corrupt_row_is_a_backend_error_not_a_panic() {
    // given: a row written behind the store's back with a status no order can have
    let (store, placed, mut raw, _dir) = placed_order_in_a_file().await;
    pochi_store_sqlite::sqlx::query("UPDATE orders SET status = 'shipped'")
        .execute(&mut raw)
        .await
        .unwrap();

    // when
    let err = store.order(&placed.number).await.unwrap_err();

    // then: the column is named, the value is not
    match &err {
        Error::Backend { context, source } => {
            assert_eq!(*context, "sqlite store");
            assert!(source.to_string().contains("status"), "{source}");
            assert!(!source.to_string().contains("shipped"), "{source}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_store_commits_with_a_full_sync() {
    // A C2B payment is acknowledged to Safaricom after its commit and never sent again, so a
    // commit must survive a power cut: synchronous = FULL (2) on every connection.
    let (store, _dir) = file_store().await;
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(store.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let level: i64 = pochi_store_sqlite::sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(level, 2);
    }
}

#[tokio::test]
async fn a_full_disk_is_storage_full_and_leaves_every_connection_usable() {
    // given: a shop whose database file may not grow (SQLite's max_page_count stands in for a
    // full disk)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let kikoi = product("Kikoi", 1500, Some(100_000));
    let first = order(&[(&kikoi, 1)]);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        store.insert_product(&kikoi).await.unwrap();
        store.place_order(&new_order(first.clone())).await.unwrap();
        store.pool().close().await;
    }
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let pages: i64 = pochi_store_sqlite::sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = SqliteStore::connect_with(
        SqliteConnectOptions::new()
            .filename(&path)
            .pragma("max_page_count", pages.to_string()),
    )
    .await
    .unwrap();

    // when: orders are placed until the file is full, and a few more after that
    let mut refusals = Vec::new();
    for _ in 0..5_000 {
        if let Err(err) = store.place_order(&new_order(order(&[(&kikoi, 1)]))).await {
            refusals.push(err);
            if refusals.len() == 20 {
                break;
            }
        }
    }

    // then: each refusal says the disk is full, and may be retried
    assert_eq!(refusals.len(), 20, "the database never filled up");
    for err in &refusals {
        assert!(matches!(err, Error::StorageFull { .. }), "{err:?}");
        assert_eq!(err.code(), "storage_full");
        assert!(err.is_retryable());
    }
    // and every connection of the pool still reads (a connection left counting a transaction
    // open would refuse each later BEGIN until the server restarts)
    for _ in 0..40 {
        assert_eq!(
            store.order(&first.number).await.unwrap(),
            Some(first.clone())
        );
    }
}

#[tokio::test]
async fn an_event_of_a_kind_this_build_does_not_know_waits_and_stops_no_message() {
    // given: an order's event, and before it an event of a kind a newer build wrote (the shop
    // rolled back to this build after the newer one had run)
    let (store, placed, mut raw, _dir) = placed_order_in_a_file().await;
    pochi_store_sqlite::sqlx::query(
        "INSERT INTO outbox_events (id, order_number, kind, details, created_at) \
         SELECT '0190f000-0000-7000-8000-000000000001', order_number, 'loyalty_points', \
         replace(details, '\"order_placed\"', '\"loyalty_points\"'), created_at - 1 \
         FROM outbox_events",
    )
    .execute(&mut raw)
    .await
    .unwrap();

    // when the dispatcher reads the pending events
    let pending = store.pending_outbox_events(10).await.unwrap();

    // then the order's event comes, and the unknown one waits, still pending
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].details.order_number, placed.number);
    let waiting: i64 = pochi_store_sqlite::sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox_events WHERE kind = 'loyalty_points' AND expanded_at IS NULL",
    )
    .fetch_one(&mut raw)
    .await
    .unwrap();
    assert_eq!(waiting, 1);
}
