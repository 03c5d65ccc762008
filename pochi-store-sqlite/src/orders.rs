//! Orders: placing them with their stock reservation, reading them with their lines and
//! timelines, and writing the updates `pochi-core` plans for them.

use std::collections::HashMap;

use pochi_core::store::{
    NewOrder, OrderUpdate, StockUnits,
    verdict::{self, ProductStock},
};
use pochi_core::{
    Actor, County, Entity, Error, Msisdn, Order, OrderFilter, OrderKey, OrderLine, OrderNumber,
    OrderStatus, Placement, ProductId, StatusChange, TimelineEntry, Trigger,
    order::{Customer, Delivery},
    product::MAX_STOCK,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, sqlite::SqliteRow};
use time::OffsetDateTime;

use crate::{
    codec::{Columns, count, json, micros, one_currency},
    error::Failure,
};

macro_rules! order_columns {
    () => {
        "number, status, customer_name, phone, county, area, address, delivery_notes, currency, \
         subtotal_minor, delivery_fee_minor, total_minor, payment_flag, created_at, updated_at, \
         paid_at"
    };
}

/// An order row without its lines and timeline.
fn order_from_row(row: &SqliteRow) -> Result<Order, Failure> {
    let c = Columns(row);
    let currency = c.currency("currency")?;
    Ok(Order {
        number: c.parsed("number", OrderNumber::parse)?,
        status: c.parsed("status", OrderStatus::parse)?,
        customer: Customer {
            name: c.text("customer_name")?,
            phone: c.parsed("phone", Msisdn::parse)?,
        },
        delivery: Delivery {
            county: c.parsed("county", County::parse)?,
            area: c.text("area")?,
            address: c.text("address")?,
            notes: c.opt_text("delivery_notes")?,
        },
        lines: Vec::new(),
        subtotal: c.money("subtotal_minor", currency)?,
        delivery_fee: c.money("delivery_fee_minor", currency)?,
        total: c.money("total_minor", currency)?,
        payment_flag: c.opt_json("payment_flag")?,
        timeline: Vec::new(),
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
        paid_at: c.opt_time("paid_at")?,
    })
}

fn line_from_row(row: &SqliteRow) -> Result<OrderLine, Failure> {
    let c = Columns(row);
    let currency = c.currency("currency")?;
    Ok(OrderLine {
        product_id: ProductId::from_uuid(c.uuid("product_id")?),
        name: c.text("name")?,
        unit_price: c.money("unit_price_minor", currency)?,
        quantity: c.u32("quantity")?,
        line_total: c.money("line_total_minor", currency)?,
    })
}

fn entry_from_row(row: &SqliteRow) -> Result<TimelineEntry, Failure> {
    let c = Columns(row);
    Ok(TimelineEntry {
        at: c.time("at")?,
        status: c.parsed("status", OrderStatus::parse)?,
        note: c.text("note")?,
        actor: c.json("actor")?,
    })
}

/// Completes order rows with their lines and timelines: one query for all lines, one for all
/// timeline entries, whatever the number of orders.
async fn complete(conn: &mut SqliteConnection, rows: &[SqliteRow]) -> Result<Vec<Order>, Failure> {
    let mut orders = rows
        .iter()
        .map(order_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if orders.is_empty() {
        return Ok(orders);
    }
    let index: HashMap<String, usize> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| (o.number.as_str().to_owned(), i))
        .collect();
    let numbers: Vec<&str> = orders.iter().map(|o| o.number.as_str()).collect();

    let lines = rows_of(
        conn,
        "SELECT order_number, product_id, name, currency, unit_price_minor, quantity, \
         line_total_minor FROM order_lines WHERE order_number IN (",
        &numbers,
    )
    .await?;
    let entries = rows_of(
        conn,
        "SELECT order_number, at, status, note, actor FROM order_timeline WHERE order_number IN (",
        &numbers,
    )
    .await?;
    for row in &lines {
        let at = position_of(&index, row)?;
        orders[at].lines.push(line_from_row(row)?);
    }
    for row in &entries {
        let at = position_of(&index, row)?;
        orders[at].timeline.push(entry_from_row(row)?);
    }
    Ok(orders)
}

/// Rows of a child table for the given orders, in each order's own sequence.
async fn rows_of(
    conn: &mut SqliteConnection,
    select: &'static str,
    numbers: &[&str],
) -> Result<Vec<SqliteRow>, Failure> {
    let mut query = QueryBuilder::<Sqlite>::new(select);
    let mut list = query.separated(", ");
    for number in numbers {
        list.push_bind(*number);
    }
    query.push(") ORDER BY order_number, position");
    Ok(query.build().fetch_all(conn).await?)
}

fn position_of(index: &HashMap<String, usize>, row: &SqliteRow) -> Result<usize, Failure> {
    let number = Columns(row).text("order_number")?;
    index
        .get(&number)
        .copied()
        .ok_or_else(|| Failure::corrupt("order_number", "a row for an order not asked for"))
}

pub(crate) async fn find(
    conn: &mut SqliteConnection,
    number: &OrderNumber,
) -> Result<Option<Order>, Failure> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE number = ?"
    ))
    .bind(number.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(complete(conn, &rows).await?.pop())
}

pub(crate) async fn find_required(
    conn: &mut SqliteConnection,
    number: &OrderNumber,
) -> Result<Order, Failure> {
    find(conn, number)
        .await?
        .ok_or_else(|| Error::not_found(Entity::Order, number).into())
}

pub(crate) async fn list(
    conn: &mut SqliteConnection,
    filter: &OrderFilter,
    after: Option<OrderKey>,
    limit: usize,
) -> Result<Vec<Order>, Failure> {
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE 1 = 1"
    ));
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(phone) = &filter.phone {
        query
            .push(" AND phone = ")
            .push_bind(phone.as_str().to_owned());
    }
    if let Some(from) = filter.placed_from {
        query.push(" AND created_at >= ").push_bind(micros(from));
    }
    if let Some(before) = filter.placed_before {
        query.push(" AND created_at < ").push_bind(micros(before));
    }
    if let Some(after) = after {
        query
            .push(" AND (created_at, number) < (")
            .push_bind(micros(after.created_at))
            .push(", ")
            .push_bind(after.number.as_str().to_owned())
            .push(")");
    }
    query
        .push(" ORDER BY created_at DESC, number DESC LIMIT ")
        .push_bind(count(limit));
    let rows = query.build().fetch_all(&mut *conn).await?;
    complete(conn, &rows).await
}

pub(crate) async fn place(
    conn: &mut SqliteConnection,
    new: &NewOrder,
) -> Result<Placement, Failure> {
    if let Some(key) = &new.idempotency_key {
        let earlier: Option<(String, String)> =
            sqlx::query_as("SELECT number, fingerprint FROM orders WHERE idempotency_key = ?")
                .bind(key.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((number, fingerprint)) = earlier {
            verdict::check_replay(new, &fingerprint)?;
            let number = OrderNumber::parse(&number).map_err(|e| Failure::corrupt("number", e))?;
            return Ok(Placement::Replayed(find_required(conn, &number).await?));
        }
    }
    let order = &new.order;
    let taken: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM orders WHERE number = ?")
        .bind(order.number.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(verdict::order_number_taken().into());
    }
    for wanted in order.units_by_product() {
        reserve(conn, order, &wanted).await?;
    }
    insert(conn, new).await?;
    Ok(Placement::Placed(order.clone()))
}

/// Takes the units of a product, only if it is sold and enough are left. On failure the
/// caller's transaction rolls back every reservation made before. SQLite runs one writer at a
/// time, so the product cannot change between the update and the look at why it refused.
async fn reserve(
    conn: &mut SqliteConnection,
    order: &Order,
    wanted: &StockUnits,
) -> Result<(), Failure> {
    let id = wanted.product_id.to_string();
    let taken = sqlx::query(
        "UPDATE products SET stock = stock - ?1 \
         WHERE id = ?2 AND active = 1 AND (stock IS NULL OR stock >= ?1)",
    )
    .bind(i64::from(wanted.quantity))
    .bind(&id)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() == 1 {
        return Ok(());
    }
    let found: Option<(bool, Option<i64>)> =
        sqlx::query_as("SELECT active, stock FROM products WHERE id = ?")
            .bind(&id)
            .fetch_optional(&mut *conn)
            .await?;
    let found = found
        .map(|(active, stock)| {
            let stock = stock.map(u32::try_from).transpose();
            stock.map(|stock| ProductStock { active, stock })
        })
        .transpose()
        .map_err(|e| Failure::corrupt("stock", e))?;
    verdict::check_stock(order, wanted, found)?;
    Err(Failure::corrupt(
        "stock",
        "a product refused a reservation it can hold",
    ))
}

async fn insert(conn: &mut SqliteConnection, new: &NewOrder) -> Result<(), Failure> {
    let order = &new.order;
    let currency = one_currency(&[order.subtotal, order.delivery_fee, order.total])?;
    let payment_flag = order.payment_flag.as_ref().map(json).transpose()?;
    sqlx::query(concat!(
        "INSERT INTO orders (",
        order_columns!(),
        ", idempotency_key, fingerprint) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(order.number.as_str())
    .bind(order.status.as_str())
    .bind(&order.customer.name)
    .bind(order.customer.phone.as_str())
    .bind(order.delivery.county.name())
    .bind(&order.delivery.area)
    .bind(&order.delivery.address)
    .bind(order.delivery.notes.as_deref())
    .bind(currency.code())
    .bind(order.subtotal.to_minor())
    .bind(order.delivery_fee.to_minor())
    .bind(order.total.to_minor())
    .bind(payment_flag)
    .bind(micros(order.created_at))
    .bind(micros(order.updated_at))
    .bind(order.paid_at.map(micros))
    .bind(new.idempotency_key.as_ref().map(|k| k.as_str()))
    .bind(&new.fingerprint)
    .execute(&mut *conn)
    .await?;

    if !order.lines.is_empty() {
        let mut lines = QueryBuilder::<Sqlite>::new(
            "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
             unit_price_minor, quantity, line_total_minor) ",
        );
        let mut failure = None;
        lines.push_values(order.lines.iter().enumerate(), |mut row, (i, line)| {
            if let Err(err) = one_currency(&[line.unit_price, line.line_total]) {
                failure = Some(err);
            }
            row.push_bind(order.number.as_str())
                .push_bind(count(i))
                .push_bind(line.product_id.to_string())
                .push_bind(line.name.as_str())
                .push_bind(line.unit_price.currency().code())
                .push_bind(line.unit_price.to_minor())
                .push_bind(i64::from(line.quantity))
                .push_bind(line.line_total.to_minor());
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        lines.build().execute(&mut *conn).await?;
    }
    for (position, entry) in order.timeline.iter().enumerate() {
        insert_entry(conn, &order.number, position, entry).await?;
    }
    Ok(())
}

async fn insert_entry(
    conn: &mut SqliteConnection,
    number: &OrderNumber,
    position: usize,
    entry: &TimelineEntry,
) -> Result<(), Failure> {
    sqlx::query(
        "INSERT INTO order_timeline (order_number, position, at, status, note, actor) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(number.as_str())
    .bind(count(position))
    .bind(micros(entry.at))
    .bind(entry.status.as_str())
    .bind(&entry.note)
    .bind(json(&entry.actor)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an update planned by `pochi-core` for `order` (as read in this transaction): released
/// stock, the order's new state, the new timeline entry. `order` is updated to match.
pub(crate) async fn apply_update(
    conn: &mut SqliteConnection,
    order: &mut Order,
    update: &OrderUpdate,
) -> Result<(), Failure> {
    for release in &update.releases {
        sqlx::query(
            "UPDATE products SET stock = MIN(stock + ?, ?) WHERE id = ? AND stock IS NOT NULL",
        )
        .bind(i64::from(release.quantity))
        .bind(i64::from(MAX_STOCK))
        .bind(release.product_id.to_string())
        .execute(&mut *conn)
        .await?;
    }
    let position = order.timeline.len();
    order.apply(update);
    let payment_flag = order.payment_flag.as_ref().map(json).transpose()?;
    sqlx::query(
        "UPDATE orders SET status = ?, updated_at = ?, paid_at = ?, payment_flag = ? \
         WHERE number = ?",
    )
    .bind(order.status.as_str())
    .bind(micros(order.updated_at))
    .bind(order.paid_at.map(micros))
    .bind(payment_flag)
    .bind(order.number.as_str())
    .execute(&mut *conn)
    .await?;
    insert_entry(conn, &order.number, position, &update.entry).await
}

pub(crate) async fn move_to(
    conn: &mut SqliteConnection,
    number: &OrderNumber,
    change: &StatusChange,
) -> Result<Order, Failure> {
    let mut order = find_required(conn, number).await?;
    let update = order.plan_move(change)?;
    apply_update(conn, &mut order, &update).await?;
    Ok(order)
}

pub(crate) async fn expire(
    conn: &mut SqliteConnection,
    placed_before: OffsetDateTime,
    at: OffsetDateTime,
    limit: usize,
) -> Result<Vec<Order>, Failure> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE status = ? AND created_at < ? ORDER BY created_at, number LIMIT ?"
    ))
    .bind(OrderStatus::PendingPayment.as_str())
    .bind(micros(placed_before))
    .bind(count(limit))
    .fetch_all(&mut *conn)
    .await?;
    let change = StatusChange {
        to: OrderStatus::Cancelled,
        trigger: Trigger::Expiry,
        actor: Actor::System,
        note: None,
        at,
    };
    let mut expired = complete(conn, &rows).await?;
    for order in &mut expired {
        let update = order.plan_move(&change)?;
        apply_update(conn, order, &update).await?;
    }
    Ok(expired)
}
