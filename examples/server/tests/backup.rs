//! Backups that restore, with the real `pochi-server backup` and `pochi-server restore`, on a
//! SQLite file, PostgreSQL and MariaDB: a shop takes orders and payments and gets a product
//! image, is backed up while it runs, loses its database and media, is restored, and serves
//! the same products, orders, payments and image bytes. Also: an unreachable or empty database
//! fails the backup, a backup directory inside the data directory is refused, retention keeps
//! the newest backup, and restore refuses to replace a shop unless forced.
//!
//! PostgreSQL and MariaDB come from `POCHI_TEST_POSTGRES_URL` / `POCHI_TEST_MYSQL_URL` (the
//! user `scripts/ensure-databases` creates, by default); each test makes a database of its
//! own and drops it. Without a server a test skips with a message, unless `CI` is set: then
//! it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Output,
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant, SystemTime},
};

use pochi_server::{
    Settings,
    backup::{self, BackupError, MANIFEST_FILE},
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

mod common;

use common::db::Db;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A shop's configuration: its data in `root/data`, backups in `root/backups`.
fn shop_vars(root: &Path, db: &Db) -> Vec<(String, String)> {
    let mut vars = vec![
        (
            "POCHI_DATA_DIR".to_owned(),
            root.join("data").display().to_string(),
        ),
        ("POCHI_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "POCHI_BACKUP_DIR".to_owned(),
            root.join("backups").display().to_string(),
        ),
    ];
    if let Some(url) = db.url() {
        vars.push(("POCHI_DATABASE_URL".to_owned(), url));
    }
    vars
}

fn settings(vars: &[(String, String)]) -> Settings {
    Settings::from_vars(vars.iter().cloned()).unwrap()
}

/// Runs the real `pochi-server` with exactly `vars` as its `POCHI_*` configuration.
async fn pochi_server(args: &[&str], vars: &[(String, String)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pochi-server"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POCHI_") {
            command.env_remove(name);
        }
    }
    command.envs(vars.iter().cloned());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn admin_get(base: &str, login: &(String, String), path: &str) -> Value {
    let response = Client::new()
        .get(format!("{base}{path}"))
        .basic_auth(&login.0, Some(&login.1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

async fn post(base: &str, path: &str, body: Value) -> Value {
    let response = Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

async fn upload_image(base: &str, login: &(String, String), product: &str) -> String {
    let boundary = "pochi-backup-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"kikoi.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PNG);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = Client::new()
        .post(format!("{base}/api/admin/products/{product}/image"))
        .basic_auth(&login.0, Some(&login.1))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let product: Value = response.json().await.unwrap();
    product["image"].as_str().unwrap().to_owned()
}

/// Places an order for `quantity` of `product`; returns its number.
async fn place_order(base: &str, product: &Value, quantity: u32, phone: &str) -> String {
    let order = post(
        base,
        "/api/orders",
        json!({
            "name": "Wanjiru Kamau",
            "phone": phone,
            "county": "Nairobi",
            "area": "Westlands",
            "address": "Mpaka Road, House 4",
            "items": [{"productId": product["id"], "quantity": quantity}],
        }),
    )
    .await;
    order["number"].as_str().unwrap().to_owned()
}

/// Starts a push for the order and answers it with `outcome` on the simulator.
async fn pay(base: &str, order: &str, outcome: &str) {
    let payment = post(base, "/api/payments", json!({ "orderNumber": order })).await;
    let id = payment["id"].as_str().unwrap();
    post(
        base,
        &format!("/api/simulator/payments/{id}"),
        json!({ "outcome": outcome }),
    )
    .await;
}

/// Everything the shop's admin sees: every product, every order with its payments, and every
/// image's bytes.
async fn snapshot(base: &str, login: &(String, String)) -> BTreeMap<String, Value> {
    let mut seen = BTreeMap::new();
    let products = admin_get(base, login, "/api/admin/products?limit=100").await;
    for product in products["items"].as_array().unwrap() {
        if let Some(key) = product["image"].as_str() {
            let bytes = Client::new()
                .get(format!("{base}/api/media/{key}"))
                .send()
                .await
                .unwrap();
            assert_eq!(bytes.status(), StatusCode::OK, "image {key}");
            let bytes = bytes.bytes().await.unwrap();
            seen.insert(format!("image {key}"), json!(bytes.to_vec()));
        }
    }
    seen.insert("products".to_owned(), products);
    let orders = admin_get(base, login, "/api/admin/orders?limit=100").await;
    for order in orders["items"].as_array().unwrap() {
        let number = order["number"].as_str().unwrap();
        seen.insert(
            format!("order {number}"),
            admin_get(base, login, &format!("/api/admin/orders/{number}")).await,
        );
        seen.insert(
            format!("payments {number}"),
            admin_get(base, login, &format!("/api/admin/payments/{number}")).await,
        );
    }
    seen.insert("orders".to_owned(), orders);
    seen
}

fn count(snapshot: &BTreeMap<String, Value>, prefix: &str) -> usize {
    snapshot.keys().filter(|k| k.starts_with(prefix)).count()
}

/// The round trip on `db`: a shop with orders, payments and an image is backed up while it
/// runs, loses its database and its data directory, is restored, and serves the same shop.
async fn round_trip(db: Db) {
    let root = tempfile::tempdir().unwrap();
    let vars = shop_vars(root.path(), &db);
    let data_dir = root.path().join("data");

    // Given a shop that sold things.
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let base = server.base_url();
    let login = server.generated_admin().expect("a generated admin");
    let catalogue = admin_get(&base, &login, "/api/admin/products?limit=100").await;
    let products = catalogue["items"].as_array().unwrap().clone();
    assert!(products.len() >= 2, "demo products");
    let image = upload_image(&base, &login, products[0]["id"].as_str().unwrap()).await;
    let paid = place_order(&base, &products[0], 2, "0712 345 678").await;
    pay(&base, &paid, "paid").await;
    let retried = place_order(&base, &products[1], 1, "0722 000 111").await;
    pay(&base, &retried, "cancelled").await;
    pay(&base, &retried, "paid").await;
    let unpaid = place_order(&base, &products[0], 1, "0733 222 333").await;
    pay(&base, &unpaid, "cancelled").await;
    let before = snapshot(&base, &login).await;
    assert_eq!(before[&format!("image {image}")], json!(PNG));

    // When it is backed up while it runs (the real command, the server's configuration).
    let started = Instant::now();
    let backed_up = pochi_server(&["backup"], &vars).await;
    let backup_took = started.elapsed();
    assert!(backed_up.status.success(), "backup: {}", stderr(&backed_up));
    let stdout = String::from_utf8_lossy(&backed_up.stdout).into_owned();
    assert!(stdout.contains("3 orders"), "{stdout}");
    let sets: Vec<PathBuf> = std::fs::read_dir(root.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sets.len(), 1, "one backup, no leftovers: {sets:?}");
    let set = sets[0].clone();
    let manifest = backup::Manifest::read(&set).unwrap();
    assert_eq!(manifest.backend, db.kind());
    let mut files: Vec<String> = std::fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected = vec![
        manifest.database_file.clone(),
        "files.tar.gz".to_owned(),
        MANIFEST_FILE.to_owned(),
    ];
    expected.sort();
    assert_eq!(
        files, expected,
        "the dump, the archive, the manifest: no option file left"
    );
    assert_eq!(manifest.rows["orders"], 3);
    assert_eq!(manifest.rows["payments"], 4);
    assert_eq!(manifest.media_files, 1);
    server.shutdown().await.unwrap();

    // And its database, media and data directory are destroyed.
    match &db {
        Db::Sqlite => {}
        server_db => server_db.drop_database().await,
    }
    std::fs::remove_dir_all(&data_dir).unwrap();

    // Then restore brings it back, checked against the manifest.
    let started = Instant::now();
    let restored = pochi_server(&["restore", set.to_str().unwrap()], &vars).await;
    let restore_took = started.elapsed();
    assert!(restored.status.success(), "restore: {}", stderr(&restored));

    // And the server serves the same shop: products, orders, payments, image bytes, login.
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let base = server.base_url();
    assert_eq!(server.generated_admin(), None, "the admin login came back");
    let after = snapshot(&base, &login).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (what, value) in &before {
        assert_eq!(&after[what], value, "{what} differs after the restore");
    }
    let tracked: Value = Client::new()
        .get(format!("{base}/api/track/{paid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tracked["status"], "paid");
    server.shutdown().await.unwrap();

    // And a second restore onto the shop is refused unless forced.
    let refused = pochi_server(&["restore", set.to_str().unwrap()], &vars).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let forced = pochi_server(&["restore", "--force", set.to_str().unwrap()], &vars).await;
    assert!(forced.status.success(), "{}", stderr(&forced));

    eprintln!(
        "round trip on {}: backup {:.2}s, restore {:.2}s; compared {} products, {} orders, {} payment lists, {} images; rows in the manifest: {:?}",
        db.kind(),
        backup_took.as_secs_f64(),
        restore_took.as_secs_f64(),
        before["products"]["items"].as_array().unwrap().len(),
        count(&before, "order "),
        count(&before, "payments "),
        count(&before, "image "),
        manifest.rows,
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_shop_restored_from_its_backup_serves_the_same_orders_payments_and_images() {
    round_trip(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_shop_restored_from_its_backup_serves_the_same_orders_payments_and_images() {
    if let Some(db) = Db::fresh("postgres").await {
        round_trip(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_shop_restored_from_its_backup_serves_the_same_orders_payments_and_images() {
    if let Some(db) = Db::fresh("mysql").await {
        round_trip(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_unreachable_database_fails_with_one_line_and_no_password() {
    let root = tempfile::tempdir().unwrap();
    for url in [
        "postgres://pochi:s3cret-pw@127.0.0.1:1/duka",
        "mysql://pochi:s3cret-pw@127.0.0.1:1/duka",
    ] {
        let mut vars = shop_vars(root.path(), &Db::Sqlite);
        vars.push(("POCHI_DATABASE_URL".to_owned(), url.to_owned()));
        let output = pochi_server(&["backup"], &vars).await;
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert_eq!(message.trim_end().lines().count(), 1, "{message}");
        assert!(
            message.starts_with("backup failed: the ") && message.contains("cannot be reached"),
            "{message}"
        );
        assert!(!message.contains("s3cret-pw"), "{message}");
        let left: Vec<_> = std::fs::read_dir(root.path().join("backups"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "nothing is left in the backup directory");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_missing_or_empty_sqlite_database_fails_and_creates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let vars = shop_vars(root.path(), &Db::Sqlite);
    std::fs::create_dir_all(root.path().join("data")).unwrap();

    // The cron bug: no database where the configuration points.
    let err = backup::backup(&settings(&vars)).await.unwrap_err();
    assert!(matches!(err, BackupError::Empty { .. }), "{err}");
    assert!(
        !root.path().join("data/pochi.db").exists(),
        "no file was created"
    );

    // A database file without the shop's tables.
    std::fs::write(root.path().join("data/pochi.db"), b"").unwrap();
    let output = pochi_server(&["backup"], &vars).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("holds no Pochi shop"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("backups"))
            .unwrap()
            .count(),
        0
    );
}

async fn empty_server_database_fails(kind: &str) {
    let Some(db) = Db::fresh(kind).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let err = backup::backup(&settings(&shop_vars(root.path(), &db)))
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::Empty { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(root.path().join("backups"))
            .unwrap()
            .count(),
        0
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_empty_postgres_database_fails() {
    empty_server_database_fails("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_empty_mariadb_database_fails() {
    empty_server_database_fails("mysql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_directory_inside_the_data_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let mut vars = shop_vars(root.path(), &Db::Sqlite);
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    server.shutdown().await.unwrap();
    let inside = root.path().join("data/backups");
    vars.retain(|(k, _)| k != "POCHI_BACKUP_DIR");
    vars.push(("POCHI_BACKUP_DIR".to_owned(), inside.display().to_string()));

    let err = backup::backup(&settings(&vars)).await.unwrap_err();

    assert!(
        matches!(err, BackupError::InsideDataDir { what: "data", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("POCHI_BACKUP_DIR"), "{err}");
    assert!(!inside.exists(), "nothing was written there");
}

/// Rewrites a backup's manifest as if it was taken `days` ago, under a new name.
fn aged_copy(set: &Path, days: u64, name: &str) -> PathBuf {
    let copy = set.with_file_name(name);
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(set).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join(MANIFEST_FILE)).unwrap()).unwrap();
    let when = time::OffsetDateTime::now_utc() - Duration::from_secs(days * 86_400);
    manifest["created_at"] = json!(
        when.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    std::fs::write(copy.join(MANIFEST_FILE), manifest.to_string()).unwrap();
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_backups_but_never_the_newest_complete_one() {
    let root = tempfile::tempdir().unwrap();
    let mut vars = shop_vars(root.path(), &Db::Sqlite);
    vars.push(("POCHI_DEMO_PRODUCTS".to_owned(), "true".to_owned()));
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    server.shutdown().await.unwrap();
    let first = backup::backup(&settings(&vars)).await.unwrap();
    let backups = root.path().join("backups");

    // Given only old backups (30 and 20 days), and an unfinished one that looks newer.
    let older = aged_copy(&first.path, 30, "pochi-20260101T000000Z");
    let old = aged_copy(&first.path, 20, "pochi-20260111T000000Z");
    std::fs::remove_dir_all(&first.path).unwrap();
    let unfinished = backups.join("pochi-20991231T000000Z");
    std::fs::create_dir(&unfinished).unwrap();

    // When retention runs with 14 days, the newest complete one stays however old.
    let removed = backup::prune(&backups, 14, SystemTime::now()).unwrap();
    assert_eq!(removed, vec![older.clone()]);
    assert!(old.exists() && unfinished.exists());

    // And once a new backup is made, the old one goes.
    let made = pochi_server(&["backup"], &vars).await;
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(!old.exists(), "the 20-day-old backup was removed");
    let mut left: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left[0].starts_with("pochi-2026"), "{left:?}");
    assert_eq!(
        left[1], "pochi-20991231T000000Z",
        "not a backup: left alone"
    );

    // And a failing backup removes nothing.
    let mut broken = vars.clone();
    broken.push((
        "POCHI_DATABASE_URL".to_owned(),
        "postgres://pochi:pw@127.0.0.1:1/duka".to_owned(),
    ));
    assert!(!pochi_server(&["backup"], &broken).await.status.success());
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 2);
}

/// A backup taken while customers order holds whole orders: restored elsewhere, its stock
/// plus the units its orders sold is the stock the shop started with, and every order has
/// its line.
async fn backup_while_customers_order(db: Db, target: Db) {
    let root = tempfile::tempdir().unwrap();
    let mut vars = shop_vars(root.path(), &db);
    for limit in [
        "POCHI_OPEN_ORDERS_PER_ADDRESS",
        "POCHI_OPEN_ORDERS_PER_PHONE",
        "POCHI_CHECKOUT_RATE_LIMIT",
        "POCHI_PHONE_ORDER_RATE_LIMIT",
        "POCHI_RATE_LIMIT",
    ] {
        vars.push((limit.to_owned(), "off".to_owned()));
    }
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let base = server.base_url();
    let login = server.generated_admin().unwrap();
    let catalogue = admin_get(&base, &login, "/api/admin/products?limit=100").await;
    let products = catalogue["items"].as_array().unwrap().clone();
    let stock_at_start: i64 = products.iter().map(|p| p["stock"].as_i64().unwrap()).sum();

    // Customers buy everything, one unit an order, while the backup runs.
    let placed = std::sync::Arc::new(AtomicU32::new(0));
    // One customer a product, at once, each buying its stock a unit at a time.
    let customers: Vec<_> = products
        .into_iter()
        .enumerate()
        .map(|(i, product)| {
            let (base, placed) = (base.clone(), placed.clone());
            tokio::spawn(async move {
                for unit in 0..product["stock"].as_i64().unwrap() {
                    place_order(&base, &product, 1, &format!("07{i}2{unit:06}")).await;
                    placed.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while placed.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let made = backup::backup(&settings(&vars)).await.unwrap();
    let placed_by_then = u64::from(placed.load(Ordering::SeqCst));
    for customer in customers {
        customer.await.unwrap();
    }
    server.shutdown().await.unwrap();
    let rows = &made.manifest.rows;
    let total = u64::try_from(stock_at_start).unwrap();
    assert!(
        rows["orders"] > 0 && rows["orders"] < total,
        "the backup ran while orders were placed: {rows:?} of {total}"
    );
    // How many orders were placed while it ran depends on timing: printed, not asserted.
    assert_eq!(
        rows["order_lines"], rows["orders"],
        "every order has its line"
    );

    // Restored into another database, the backup's stock and orders add up.
    let elsewhere = shop_vars(&root.path().join("elsewhere"), &target);
    backup::restore(
        &settings(&elsewhere),
        &made.path,
        backup::IfShopExists::Refuse,
    )
    .await
    .unwrap();
    let restored = pochi_server::start(settings(&elsewhere)).await.unwrap();
    let base = restored.base_url();
    let catalogue = admin_get(&base, &login, "/api/admin/products?limit=100").await;
    let stock: i64 = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stock"].as_i64().unwrap())
        .sum();
    let orders = admin_get(&base, &login, "/api/admin/orders?limit=100").await;
    let orders = orders["items"].as_array().unwrap().len();
    assert_eq!(u64::try_from(orders).unwrap(), rows["orders"]);
    assert_eq!(
        stock + i64::try_from(orders).unwrap(),
        stock_at_start,
        "stock plus units sold in the backup"
    );
    restored.shutdown().await.unwrap();
    eprintln!(
        "backup under orders on {}: {} of {total} orders in the backup, {placed_by_then} placed when it ended, taken in {:.2}s",
        db.kind(),
        rows["orders"],
        made.took.as_secs_f64()
    );
    db.drop_database().await;
    target.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_customers_order_holds_whole_orders() {
    backup_while_customers_order(Db::Sqlite, Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_taken_while_customers_order_holds_whole_orders() {
    let Some(db) = Db::fresh("postgres").await else {
        return;
    };
    let Some(target) = Db::fresh("postgres").await else {
        return;
    };
    backup_while_customers_order(db, target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_backup_taken_while_customers_order_holds_whole_orders() {
    let Some(db) = Db::fresh("mysql").await else {
        return;
    };
    let Some(target) = Db::fresh("mysql").await else {
        return;
    };
    backup_while_customers_order(db, target).await;
}

/// A copy of the backup set `set` in `root/name`, for tampering with.
fn copy_set(set: &Path, root: &Path, name: &str) -> PathBuf {
    let copy = root.join(name);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(set).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    copy
}

/// Rewrites the set's files archive with a symbolic link to `/etc/passwd` among the media.
fn add_symlink_to_archive(set: &Path) {
    let path = set.join("files.tar.gz");
    let mut entries = Vec::new();
    {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(&path).unwrap(),
        ));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            entries.push((name, bytes));
        }
    }
    let file = std::fs::File::create(&path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        builder.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    builder
        .append_link(&mut link, "media/evil.png", "/etc/passwd")
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();
}

/// A backup that was tampered with or damaged is refused before the live shop changes: a
/// symbolic link in its files archive (which the server would then serve), a manifest whose
/// rows the dump does not hold, a truncated dump.
async fn damaged_backups_leave_the_live_shop_alone(db: Db) {
    let root = tempfile::tempdir().unwrap();
    let vars = shop_vars(root.path(), &db);
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let base = server.base_url();
    let login = server.generated_admin().expect("a generated admin");
    let catalogue = admin_get(&base, &login, "/api/admin/products?limit=100").await;
    let products = catalogue["items"].as_array().unwrap().clone();
    upload_image(&base, &login, products[0]["id"].as_str().unwrap()).await;
    place_order(&base, &products[0], 1, "0712 345 678").await;
    let backed_up = pochi_server(&["backup"], &vars).await;
    assert!(backed_up.status.success(), "backup: {}", stderr(&backed_up));
    let set = std::fs::read_dir(root.path().join("backups"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // The live shop moves on after the backup, so a restore of it would show.
    place_order(&base, &products[1], 1, "0722 000 111").await;
    let live = snapshot(&base, &login).await;
    server.shutdown().await.unwrap();

    let linked = copy_set(&set, root.path(), "linked");
    add_symlink_to_archive(&linked);
    let lying = copy_set(&set, root.path(), "lying");
    let manifest_path = lying.join(MANIFEST_FILE);
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let orders = manifest["rows"]["orders"].as_u64().unwrap();
    manifest["rows"]["orders"] = json!(orders + 4);
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let truncated = copy_set(&set, root.path(), "truncated");
    let dump = truncated.join(backup::Manifest::read(&truncated).unwrap().database_file);
    let bytes = std::fs::read(&dump).unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() * 2 / 3]).unwrap();

    for (what, bad) in [
        ("a symbolic link", &linked),
        ("a lying manifest", &lying),
        ("a truncated dump", &truncated),
    ] {
        let refused = pochi_server(&["restore", "--force", bad.to_str().unwrap()], &vars).await;
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{what}: {}",
            stderr(&refused)
        );
        eprintln!("{what}: {}", stderr(&refused).trim());
    }
    assert!(
        !root.path().join("data/media/evil.png").exists(),
        "the link was restored"
    );
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let after = snapshot(&server.base_url(), &login).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        live.keys().collect::<Vec<_>>()
    );
    for (what, value) in &live {
        assert_eq!(&after[what], value, "{what} changed");
    }
    server.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_sqlite_backup_is_refused_and_leaves_the_live_shop_alone() {
    damaged_backups_leave_the_live_shop_alone(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_postgres_backup_is_refused_and_leaves_the_live_shop_alone() {
    if let Some(db) = Db::fresh("postgres").await {
        damaged_backups_leave_the_live_shop_alone(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_mariadb_backup_is_refused_and_leaves_the_live_shop_alone() {
    if let Some(db) = Db::fresh("mysql").await {
        damaged_backups_leave_the_live_shop_alone(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_shop_with_fewer_orders_than_its_last_backup_is_refused_and_prunes_nothing() {
    // Given a shop with an order, backed up.
    let root = tempfile::tempdir().unwrap();
    let vars = shop_vars(root.path(), &Db::Sqlite);
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let products = admin_get(
        &server.base_url(),
        &server.generated_admin().unwrap(),
        "/api/admin/products?limit=10",
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone();
    place_order(&server.base_url(), &products[0], 1, "0712 345 678").await;
    server.shutdown().await.unwrap();
    let first = pochi_server(&["backup"], &vars).await;
    assert!(first.status.success(), "{}", stderr(&first));

    // When the backup runs against another database: migrated, with the shop's tables, but no
    // orders (a wrong POCHI_DATABASE_URL, or a fresh database after a move).
    let other = tempfile::tempdir().unwrap();
    let mut wrong = shop_vars(other.path(), &Db::Sqlite);
    wrong.retain(|(name, _)| name != "POCHI_BACKUP_DIR");
    wrong.push((
        "POCHI_BACKUP_DIR".to_owned(),
        root.path().join("backups").display().to_string(),
    ));
    pochi_server::start(settings(&wrong))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    let refused = pochi_server(&["backup"], &wrong).await;

    // Then it fails, naming the likely cause, and the real backup is all the directory holds.
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("POCHI_DATABASE_URL"),
        "{}",
        stderr(&refused)
    );
    let sets: Vec<_> = std::fs::read_dir(root.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_is_refused_while_a_server_runs_on_the_data_directory() {
    // Given a backup of a shop whose server is running.
    let root = tempfile::tempdir().unwrap();
    let vars = shop_vars(root.path(), &Db::Sqlite);
    let server = pochi_server::start(settings(&vars)).await.unwrap();
    let backed_up = pochi_server(&["backup"], &vars).await;
    assert!(backed_up.status.success(), "{}", stderr(&backed_up));
    let set = std::fs::read_dir(root.path().join("backups"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let database = root.path().join("data/pochi.db");
    let inode = |path: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().ino()
    };
    let before = inode(&database);

    // When it is restored, forced, with the server still up: refused, file untouched.
    let refused = pochi_server(&["restore", "--force", set.to_str().unwrap()], &vars).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("stop it first"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(inode(&database), before, "the database file was replaced");

    // Then, the server stopped, the same restore runs.
    server.shutdown().await.unwrap();
    let restored = pochi_server(&["restore", "--force", set.to_str().unwrap()], &vars).await;
    assert!(restored.status.success(), "{}", stderr(&restored));
}
