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
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::{
    error::{DbError, DbResult, corrupt, retrying},
    orders::load_order,
    rows, tallies,
};

pub(crate) async fn place_order(pool: &PgPool, new: &NewOrder) -> Result<Placement> {
    retrying(|| try_place_order(pool, new)).await
}

async fn try_place_order(pool: &PgPool, new: &NewOrder) -> DbResult<Placement> {
    let order = &new.order;
    let mut tx = pool.begin().await?;
    if let Some(key) = &new.idempotency_key {
        let earlier =
            sqlx::query("SELECT number, fingerprint FROM orders WHERE idempotency_key = $1")
                .bind(key.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(earlier) = earlier {
            let fingerprint: String = earlier.try_get("fingerprint")?;
            verdict::check_replay(new, &fingerprint)?;
            let number: String = earlier.try_get("number")?;
            let order = load_order(&mut tx, &number, false)
                .await?
                .ok_or_else(|| Error::not_found(Entity::Order, &number))?;
            return Ok(Placement::Replayed(order));
        }
    }
    let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orders WHERE number = $1)")
        .bind(order.number.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if taken {
        return Err(verdict::order_number_taken().into());
    }

    // The order row first: it claims the number and the idempotency key, so a racing retry
    // with the same key waits here (holding no stock) and then sees this order.
    insert_order_row(&mut tx, new).await?;
    if let Some(refusal) = reserve_stock(&mut tx, order).await? {
        return Err(refusal.into());
    }
    insert_lines_timeline_and_tallies(&mut tx, order).await?;
    tx.commit().await?;
    Ok(Placement::Placed(order.clone()))
}

async fn insert_order_row(conn: &mut PgConnection, new: &NewOrder) -> DbResult<()> {
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20)",
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
    .await
    .map_err(|err| {
        let err = DbError::from(err);
        // The number is checked above; a violation of its key is a racing order that took it.
        if err.constraint() == Some("orders_pkey") {
            DbError::Core(verdict::order_number_taken())
        } else {
            err
        }
    })?;
    Ok(())
}

/// The order's lines, its timeline and its tallies, in one statement: the stock locks are
/// held from the reservation to the commit, so every round trip in between counts.
async fn insert_lines_timeline_and_tallies(conn: &mut PgConnection, order: &Order) -> DbResult<()> {
    let mut query = QueryBuilder::<Postgres>::new("WITH ");
    let mut first = true;
    if !order.lines.is_empty() {
        query.push(
            "line AS (INSERT INTO order_lines (order_number, position, product_id, name, \
             currency, unit_price, quantity, line_total) ",
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
        query.push(")");
        first = false;
    }
    if !order.timeline.is_empty() {
        if !first {
            query.push(", ");
        }
        query.push(
            "entry AS (INSERT INTO order_timeline (order_number, position, at, status, note, \
             actor_kind, actor_name) ",
        );
        let mut entries = Vec::with_capacity(order.timeline.len());
        for (position, entry) in order.timeline.iter().enumerate() {
            let position = i32::try_from(position).map_err(|e| corrupt("timeline position", e))?;
            entries.push((position, entry));
        }
        query.push_values(entries, |mut row, (position, entry)| {
            let (actor_kind, actor_name) = rows::actor_parts(&entry.actor);
            row.push_bind(order.number.as_str())
                .push_bind(position)
                .push_bind(entry.at)
                .push_bind(entry.status.as_str())
                .push_bind(&entry.note)
                .push_bind(actor_kind)
                .push_bind(actor_name);
        });
        query.push(")");
        first = false;
    }
    // Last, after the product locks (see `tallies`).
    let mut changes = TallyChanges::default();
    changes.placed(order);
    let tallied = tallies::push_ctes(&mut query, &changes, first);
    if !first || tallied {
        query.push(" SELECT 1").build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Takes the units of every product of `order` with a conditional update (enough left, still
/// active), in product-id order. Returns why the order cannot be placed, as the in-memory store
/// would say it: the first refused product in the order's own order.
async fn reserve_stock(conn: &mut PgConnection, order: &Order) -> DbResult<Option<Error>> {
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
    conn: &mut PgConnection,
    order: &Order,
    unit: &StockUnits,
) -> DbResult<Option<Error>> {
    let id: Uuid = unit.product_id.as_uuid();
    let quantity = i64::from(unit.quantity);
    let take = || {
        sqlx::query(
            "UPDATE products SET stock = stock - $2 \
             WHERE id = $1 AND active AND (stock IS NULL OR stock >= $2)",
        )
        .bind(id)
        .bind(quantity)
    };
    if take().execute(&mut *conn).await?.rows_affected() == 1 {
        return Ok(None);
    }
    // Refused: lock the row to say why with the numbers as they are now.
    let row = sqlx::query("SELECT active, stock FROM products WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let found = match &row {
        Some(row) => Some(ProductStock {
            active: row.try_get::<bool, _>("active")?,
            stock: row
                .try_get::<Option<i64>, _>("stock")?
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
