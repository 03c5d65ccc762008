//! Orders: placing them with their stock reservation, reading and listing them, moving them
//! along the lifecycle and expiring unpaid ones.

use std::collections::{BTreeMap, HashMap};

use pochi_core::store::OrderUpdate;
use pochi_core::{
    Actor, Entity, Error, Order, OrderFilter, OrderKey, OrderNumber, OrderStatus, ProductId,
    Result, StatusChange, TimelineEntry, Trigger, order::StockUnits, product::MAX_STOCK,
    tally::TallyChanges,
};
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};
use time::OffsetDateTime;

use crate::{
    error::{DbResult, corrupt, from_sqlx, retrying},
    rows::{self, LINE_COLUMNS, ORDER_COLUMNS, TIMELINE_COLUMNS},
    tallies,
};

/// Opens a multi-statement read: one consistent snapshot, no locks.
pub(crate) const READ_SNAPSHOT: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
     START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";

/// Opens a write. READ COMMITTED: every read after a lock sees what was committed before it
/// (at InnoDB's default, REPEATABLE READ, plain reads would see the snapshot of the first read
/// and miss what a transaction we waited for wrote), and no gap locks.
pub(crate) const WRITE: &str = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";

// ----- reading -----

/// Fills in the lines and timelines of `orders`, with one query for each.
pub(crate) async fn attach_items(conn: &mut MySqlConnection, orders: &mut [Order]) -> DbResult<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let numbers: Vec<&str> = orders.iter().map(|o| o.number.as_str()).collect();
    let mut lines: HashMap<String, Vec<_>> = HashMap::new();
    let found = in_numbers(
        &format!("SELECT {LINE_COLUMNS} FROM order_lines WHERE order_number IN ("),
        &numbers,
    )
    .build()
    .fetch_all(&mut *conn)
    .await?;
    for row in &found {
        let (number, line) = rows::line(row)?;
        lines.entry(number).or_default().push(line);
    }
    let mut timelines: HashMap<String, Vec<_>> = HashMap::new();
    let found = in_numbers(
        &format!("SELECT {TIMELINE_COLUMNS} FROM order_timeline WHERE order_number IN ("),
        &numbers,
    )
    .build()
    .fetch_all(&mut *conn)
    .await?;
    for row in &found {
        let (number, entry) = rows::timeline_entry(row)?;
        timelines.entry(number).or_default().push(entry);
    }
    for order in orders {
        order.lines = lines.remove(order.number.as_str()).unwrap_or_default();
        order.timeline = timelines.remove(order.number.as_str()).unwrap_or_default();
    }
    Ok(())
}

/// `start` followed by the numbers and `) ORDER BY order_number, position`.
fn in_numbers<'a>(start: &str, numbers: &[&'a str]) -> QueryBuilder<'a, MySql> {
    let mut query = QueryBuilder::<MySql>::new(start);
    let mut list = query.separated(", ");
    for number in numbers {
        list.push_bind(*number);
    }
    query.push(") ORDER BY order_number, position");
    query
}

/// An order with its lines and timeline; locked until the end of the transaction when `lock`.
pub(crate) async fn load_order(
    conn: &mut MySqlConnection,
    number: &str,
    lock: bool,
) -> DbResult<Option<Order>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE number = ?{lock}"
    ))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut order = [rows::order(&row)?];
    attach_items(conn, &mut order).await?;
    let [order] = order;
    Ok(Some(order))
}

pub(crate) async fn order(pool: &MySqlPool, number: &OrderNumber) -> Result<Option<Order>> {
    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;
    let order = load_order(&mut tx, number.as_str(), false).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(order)
}

pub(crate) async fn list_orders(
    pool: &MySqlPool,
    filter: &OrderFilter,
    after: Option<OrderKey>,
    limit: usize,
) -> Result<Vec<Order>> {
    let mut query =
        QueryBuilder::<MySql>::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1"));
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(phone) = &filter.phone {
        query
            .push(" AND phone = ")
            .push_bind(phone.as_str().to_owned());
    }
    if let Some(from) = filter.placed_from {
        query.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(before) = filter.placed_before {
        query.push(" AND created_at < ").push_bind(before);
    }
    if let Some(after) = after {
        // The expanded form of `(created_at, number) < (?, ?)`: MySQL uses the index for it.
        query
            .push(" AND (created_at < ")
            .push_bind(after.created_at)
            .push(" OR (created_at = ")
            .push_bind(after.created_at)
            .push(" AND number < ")
            .push_bind(after.number.to_string())
            .push("))");
    }
    query
        .push(" ORDER BY created_at DESC, number DESC LIMIT ")
        .push_bind(rows::limit(limit));

    let mut tx = pool.begin_with(READ_SNAPSHOT).await.map_err(from_sqlx)?;
    let found = query.build().fetch_all(&mut *tx).await.map_err(from_sqlx)?;
    let mut orders = found
        .iter()
        .map(rows::order)
        .collect::<DbResult<Vec<_>>>()?;
    attach_items(&mut tx, &mut orders).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(orders)
}

// ----- writing -----

pub(crate) async fn insert_timeline_entry(
    conn: &mut MySqlConnection,
    number: &str,
    position: usize,
    entry: &TimelineEntry,
) -> DbResult<()> {
    let (actor_kind, actor_name) = rows::actor_parts(&entry.actor);
    let position = i32::try_from(position).map_err(|e| corrupt("timeline position", e))?;
    sqlx::query(
        "INSERT INTO order_timeline (order_number, position, at, status, note, actor_kind, \
         actor_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(number)
    .bind(position)
    .bind(entry.at)
    .bind(entry.status.as_str())
    .bind(&entry.note)
    .bind(actor_kind)
    .bind(actor_name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes what a status move or a settlement decided for the locked `order` and applies it to
/// `order`: its row and timeline, the stock it gives back, then the tallies (the order every
/// transaction takes its locks in).
pub(crate) async fn write_move(
    conn: &mut MySqlConnection,
    order: &mut Order,
    update: &OrderUpdate,
) -> DbResult<()> {
    let paid_at_before = order.paid_at;
    write_update(conn, order, update).await?;
    release_stock(conn, &update.releases).await?;
    let mut changes = TallyChanges::default();
    changes.moved(update.from, paid_at_before, order);
    tallies::write(conn, &changes).await
}

/// Writes the status, flag and timeline entry of `update` and applies it to `order`. Stock
/// releases are written by [`release_stock`], the tallies by the caller.
async fn write_update(
    conn: &mut MySqlConnection,
    order: &mut Order,
    update: &OrderUpdate,
) -> DbResult<()> {
    let currency = order.total.currency();
    let flag = update.payment_flag;
    if let Some(flag) = flag {
        rows::same_currency(currency, &[flag.expected, flag.received])?;
    }
    sqlx::query(
        "UPDATE orders SET status = ?, updated_at = ?, paid_at = COALESCE(?, paid_at), \
         flag_kind = ?, flag_expected = ?, flag_received = ? WHERE number = ?",
    )
    .bind(update.to.as_str())
    .bind(update.entry.at)
    .bind(update.paid_at)
    .bind(flag.map(|f| rows::flag_kind_name(f.kind)))
    .bind(flag.map(|f| f.expected.amount()))
    .bind(flag.map(|f| f.received.amount()))
    .bind(order.number.as_str())
    .execute(&mut *conn)
    .await?;
    insert_timeline_entry(
        conn,
        order.number.as_str(),
        order.timeline.len(),
        &update.entry,
    )
    .await?;
    order.apply(update);
    Ok(())
}

/// Gives units back to tracked products, one update per product in id order (the order every
/// transaction locks products in, so none deadlocks on them).
async fn release_stock<'a>(
    conn: &mut MySqlConnection,
    releases: impl IntoIterator<Item = &'a StockUnits>,
) -> DbResult<()> {
    let mut by_product: BTreeMap<ProductId, i64> = BTreeMap::new();
    for release in releases {
        *by_product.entry(release.product_id).or_default() += i64::from(release.quantity);
    }
    for (product, quantity) in by_product {
        sqlx::query(
            "UPDATE products SET stock = LEAST(stock + ?, ?) \
             WHERE id = ? AND stock IS NOT NULL",
        )
        .bind(quantity)
        .bind(i64::from(MAX_STOCK))
        .bind(product.as_uuid())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// ----- moving -----

pub(crate) async fn move_order(
    pool: &MySqlPool,
    number: &OrderNumber,
    change: &StatusChange,
) -> Result<Order> {
    retrying(|| try_move_order(pool, number, change)).await
}

async fn try_move_order(
    pool: &MySqlPool,
    number: &OrderNumber,
    change: &StatusChange,
) -> DbResult<Order> {
    let mut tx = pool.begin_with(WRITE).await?;
    let mut order = load_order(&mut tx, number.as_str(), true)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Order, number))?;
    let update = order.plan_move(change)?;
    write_move(&mut tx, &mut order, &update).await?;
    tx.commit().await?;
    Ok(order)
}

pub(crate) async fn expire_orders(
    pool: &MySqlPool,
    placed_before: OffsetDateTime,
    at: OffsetDateTime,
    limit: usize,
) -> Result<Vec<Order>> {
    retrying(|| try_expire_orders(pool, placed_before, at, limit)).await
}

async fn try_expire_orders(
    pool: &MySqlPool,
    placed_before: OffsetDateTime,
    at: OffsetDateTime,
    limit: usize,
) -> DbResult<Vec<Order>> {
    let mut tx = pool.begin_with(WRITE).await?;
    // Orders another sweeper (or a payment) holds are skipped, not waited for: that
    // transaction settles them.
    let due = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE status = ? AND created_at < ? \
         ORDER BY created_at, number LIMIT ? FOR UPDATE SKIP LOCKED"
    ))
    .bind(OrderStatus::PendingPayment.as_str())
    .bind(placed_before)
    .bind(rows::limit(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut orders = due.iter().map(rows::order).collect::<DbResult<Vec<_>>>()?;
    attach_items(&mut tx, &mut orders).await?;
    let change = StatusChange {
        to: OrderStatus::Cancelled,
        trigger: Trigger::Expiry,
        actor: Actor::System,
        note: None,
        at,
    };
    let mut releases = Vec::new();
    let mut changes = TallyChanges::default();
    let mut expired = Vec::with_capacity(orders.len());
    for mut order in orders {
        let update = order.plan_move(&change)?;
        let paid_at_before = order.paid_at;
        write_update(&mut tx, &mut order, &update).await?;
        changes.moved(update.from, paid_at_before, &order);
        releases.extend(update.releases);
        expired.push(order);
    }
    // All releases of the batch at once, in product order, then the tallies.
    release_stock(&mut tx, &releases).await?;
    tallies::write(&mut tx, &changes).await?;
    tx.commit().await?;
    Ok(expired)
}
