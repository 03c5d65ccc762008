//! Placing an order: the idempotency check, the order row, the stock reservation by
//! conditional updates, lines and timeline, in one transaction.

use pochi_core::{
    Entity, Error, Order, Placement, Result,
    store::{
        NewOrder, StockUnits,
        verdict::{self, ProductStock},
    },
    tally::TallyChanges,
};
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};
use uuid::Uuid;

use crate::{
    error::{DbResult, corrupt, retrying},
    orders::{WRITE, insert_timeline_entry, load_order},
    rows, tallies,
};

pub(crate) async fn place_order(pool: &MySqlPool, new: &NewOrder) -> Result<Placement> {
    retrying(|| try_place_order(pool, new)).await
}

async fn try_place_order(pool: &MySqlPool, new: &NewOrder) -> DbResult<Placement> {
    let order = &new.order;
    let mut tx = pool.begin_with(WRITE).await?;
    if let Some(key) = &new.idempotency_key {
        let earlier =
            sqlx::query("SELECT number, fingerprint FROM orders WHERE idempotency_key = ?")
                .bind(key.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(earlier) = earlier {
            let fingerprint: String = rows::get(&earlier, "fingerprint")?;
            verdict::check_replay(new, &fingerprint)?;
            let number: String = rows::get(&earlier, "number")?;
            let order = load_order(&mut tx, &number, false)
                .await?
                .ok_or_else(|| Error::not_found(Entity::Order, &number))?;
            return Ok(Placement::Replayed(order));
        }
    }
    let taken = sqlx::query("SELECT 1 FROM orders WHERE number = ?")
        .bind(order.number.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if taken {
        return Err(verdict::order_number_taken().into());
    }

    // The order row first: it claims the number and the idempotency key, so a racing retry
    // with the same key waits here (holding no stock) and then sees this order.
    insert_order_row(&mut tx, new).await?;
    if let Some(refusal) = reserve_stock(&mut tx, order).await? {
        return Err(refusal.into());
    }
    insert_lines(&mut tx, order).await?;
    for (position, entry) in order.timeline.iter().enumerate() {
        insert_timeline_entry(&mut tx, order.number.as_str(), position, entry).await?;
    }
    // Last, after the product locks (see `tallies`).
    let mut changes = TallyChanges::default();
    changes.placed(order);
    tallies::write(&mut tx, &changes).await?;
    tx.commit().await?;
    Ok(Placement::Placed(order.clone()))
}

async fn insert_order_row(conn: &mut MySqlConnection, new: &NewOrder) -> DbResult<()> {
    let order = &new.order;
    let currency = order.total.currency();
    let mut amounts = vec![order.subtotal, order.delivery_fee];
    for line in &order.lines {
        amounts.extend([line.unit_price, line.line_total]);
    }
    if let Some(flag) = order.payment_flag {
        amounts.extend([flag.expected, flag.received]);
    }
    rows::same_currency(currency, &amounts)?;
    let flag = order.payment_flag;
    sqlx::query(
        "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
         notes, currency, subtotal, delivery_fee, total, flag_kind, flag_expected, \
         flag_received, idempotency_key, fingerprint, created_at, updated_at, paid_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
         ?, ?, ?)",
    )
    .bind(order.number.as_str())
    .bind(order.status.as_str())
    .bind(&order.customer.name)
    .bind(order.customer.phone.as_str())
    .bind(order.delivery.county.name())
    .bind(&order.delivery.area)
    .bind(&order.delivery.address)
    .bind(order.delivery.notes.as_deref())
    .bind(currency.code())
    .bind(order.subtotal.amount())
    .bind(order.delivery_fee.amount())
    .bind(order.total.amount())
    .bind(flag.map(|f| rows::flag_kind_name(f.kind)))
    .bind(flag.map(|f| f.expected.amount()))
    .bind(flag.map(|f| f.received.amount()))
    .bind(new.idempotency_key.as_ref().map(|k| k.as_str()))
    .bind(&new.fingerprint)
    .bind(order.created_at)
    .bind(order.updated_at)
    .bind(order.paid_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_lines(conn: &mut MySqlConnection, order: &Order) -> DbResult<()> {
    let mut query = QueryBuilder::<MySql>::new(
        "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
         unit_price, quantity, line_total) ",
    );
    let mut position = 0i32;
    query.push_values(&order.lines, |mut row, line| {
        row.push_bind(order.number.as_str())
            .push_bind(position)
            .push_bind(line.product_id.as_uuid())
            .push_bind(&line.name)
            .push_bind(line.unit_price.currency().code())
            .push_bind(line.unit_price.amount())
            .push_bind(i64::from(line.quantity))
            .push_bind(line.line_total.amount());
        position += 1;
    });
    if !order.lines.is_empty() {
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Takes the units of every product of `order` with a conditional update (enough left, still
/// active), in product-id order. Returns why the order cannot be placed, as the in-memory store
/// would say it: the first refused product in the order's own order.
async fn reserve_stock(conn: &mut MySqlConnection, order: &Order) -> DbResult<Option<Error>> {
    let units = order.units_by_product();
    let mut in_lock_order: Vec<(usize, &StockUnits)> = units.iter().enumerate().collect();
    in_lock_order.sort_by_key(|(_, unit)| unit.product_id);
    let mut refusals: Vec<(usize, Error)> = Vec::new();
    for (index, unit) in in_lock_order {
        if let Some(refusal) = reserve_units(conn, order, unit).await? {
            refusals.push((index, refusal));
        }
    }
    Ok(verdict::first_refusal(refusals))
}

async fn reserve_units(
    conn: &mut MySqlConnection,
    order: &Order,
    unit: &StockUnits,
) -> DbResult<Option<Error>> {
    let id: Uuid = unit.product_id.as_uuid();
    let quantity = i64::from(unit.quantity);
    let take = || {
        sqlx::query(
            "UPDATE products SET stock = stock - ? \
             WHERE id = ? AND active = TRUE AND (stock IS NULL OR stock >= ?)",
        )
        .bind(quantity)
        .bind(id)
        .bind(quantity)
    };
    if take().execute(&mut *conn).await?.rows_affected() == 1 {
        return Ok(None);
    }
    // Refused: lock the row to say why with the numbers as they are now.
    let row = sqlx::query("SELECT active, stock FROM products WHERE id = ? FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let found = match &row {
        Some(row) => Some(ProductStock {
            active: rows::get::<bool>(row, "active")?,
            stock: rows::get::<Option<i64>>(row, "stock")?
                .map(rows::count)
                .transpose()?,
        }),
        None => None,
    };
    match verdict::check_stock(order, unit, found) {
        Err(refusal) => Ok(Some(refusal)),
        // Units came back between the update and the lock: take them now, under the lock.
        Ok(()) if take().execute(&mut *conn).await?.rows_affected() == 1 => Ok(None),
        _ => Err(corrupt(
            "stock",
            "a locked product refused a reservation it can hold",
        )),
    }
}
