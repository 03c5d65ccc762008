//! Placing an order: the idempotency check, the order row, the stock reservation by
//! conditional updates, then lines, timeline and tallies, in one transaction.

use pochi_core::{
    Entity, Error, Order, Placement, Result,
    notify::OutboxEvent,
    store::{
        NewOrder, StockUnits,
        verdict::{self, ProductStock},
    },
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Type};
use time::Date;

use crate::{
    SqlStore,
    dialect::{Dialect, for_update, sql},
    error::{DbError, DbResult, corrupt, retrying},
    orders::Conn,
    rows,
    tallies::Inserts,
    tally::TallyChanges,
};

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    pub(crate) async fn place_order(&self, new: &NewOrder) -> Result<Placement> {
        retrying(|| self.try_place_order(new)).await
    }

    async fn try_place_order(&self, new: &NewOrder) -> DbResult<Placement, D> {
        let order = &new.order;
        let mut tx = self.begin_write().await?;
        if let Some(key) = &new.idempotency_key {
            let earlier = sqlx::query(&sql::<D>(
                "SELECT number, fingerprint FROM orders WHERE idempotency_key = ?",
            ))
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(earlier) = earlier {
                let fingerprint: String = Self::get(&earlier, "fingerprint")?;
                verdict::check_replay(new, &fingerprint)?;
                let number: String = Self::get(&earlier, "number")?;
                let order = Self::load_order(&mut tx, &number, false)
                    .await?
                    .ok_or_else(|| Error::not_found(Entity::Order, &number))?;
                return Ok(Placement::Replayed(order));
            }
            // With a key, a violation on the insert may be the key's (a racing retry, which
            // the next attempt answers as a replay): the number is checked here instead.
            let taken = sqlx::query(&sql::<D>("SELECT 1 FROM orders WHERE number = ?"))
                .bind(order.number.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if taken {
                return Err(verdict::order_number_taken().into());
            }
        }

        // The order row first: it claims the number and the idempotency key, so a racing retry
        // with the same key waits here (holding no stock) and then sees this order.
        Self::insert_order_row(&mut tx, new).await?;
        Self::check_open_orders(&mut tx, new).await?;
        if let Some(refusal) = Self::reserve_stock(&mut tx, order).await? {
            return Err(refusal.into());
        }
        Self::insert_lines_timeline_and_tallies(&mut tx, order).await?;
        tx.commit().await?;
        Ok(Placement::Placed(order.clone()))
    }

    async fn insert_order_row(conn: &mut Conn<D>, new: &NewOrder) -> DbResult<(), D> {
        let order = &new.order;
        let currency = order.total.currency();
        let mut amounts = vec![order.subtotal, order.delivery_fee];
        for line in &order.lines {
            amounts.extend([line.unit_price, line.line_total]);
        }
        if let Some(flag) = order.payment_flag {
            amounts.extend([flag.expected, flag.received]);
        }
        Self::same_currency(currency, &amounts)?;
        let flag = order.payment_flag;
        sqlx::query(&sql::<D>(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             notes, currency, subtotal, delivery_fee, total, flag_kind, flag_expected, \
             flag_received, idempotency_key, fingerprint, created_at, updated_at, paid_at, \
             placed_from, language) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .bind(Self::stored(order.subtotal))
        .bind(Self::stored(order.delivery_fee))
        .bind(Self::stored(order.total))
        .bind(flag.map(|f| rows::flag_kind_name(f.kind)))
        .bind(flag.map(|f| Self::stored(f.expected)))
        .bind(flag.map(|f| Self::stored(f.received)))
        .bind(new.idempotency_key.as_ref().map(|k| k.as_str()))
        .bind(&new.fingerprint)
        .bind(D::time(order.created_at))
        .bind(D::time(order.updated_at))
        .bind(order.paid_at.map(D::time))
        .bind(new.placed_from.as_ref().map(|n| n.as_str()))
        .bind(order.language.as_str())
        .execute(&mut *conn)
        .await
        .map_err(|err| {
            let err = DbError::from(err);
            // Without an idempotency key the only unique key an order can violate is its
            // number: taken (one round trip fewer than asking first, on every order). With a
            // key, the number was checked above; a violation of the number's key (where the
            // database names it) is a racing order that took it. Elsewhere the retry sees the
            // number taken or the key's order.
            if err.constraint() == Some("orders_pkey")
                || (new.idempotency_key.is_none() && err.is_unique_violation())
            {
                DbError::Core(verdict::order_number_taken())
            } else {
                err
            }
        })?;
        Ok(())
    }

    /// The order's lines, its timeline, its outbox event and its tallies: one statement where the dialect has
    /// data-modifying CTEs. The stock locks are held from the reservation to the commit, so
    /// every round trip in between counts.
    async fn insert_lines_timeline_and_tallies(
        conn: &mut Conn<D>,
        order: &Order,
    ) -> DbResult<(), D> {
        let mut inserts = Inserts::<D>::new();
        let mut position = 0i32;
        inserts.push(
            "INSERT INTO order_lines (order_number, position, product_id, name, currency, \
             unit_price, quantity, line_total) ",
            order.lines.iter(),
            |mut row, line| {
                row.push_bind(order.number.as_str())
                    .push_bind(position)
                    .push_bind(D::id(line.product_id.as_uuid()))
                    .push_bind(&line.name)
                    .push_bind(line.unit_price.currency().code())
                    .push_bind(Self::stored(line.unit_price))
                    .push_bind(i64::from(line.quantity))
                    .push_bind(Self::stored(line.line_total));
                position += 1;
            },
            "",
        );
        let mut entries = Vec::with_capacity(order.timeline.len());
        for (position, entry) in order.timeline.iter().enumerate() {
            let position = i32::try_from(position).map_err(|e| corrupt("timeline position", e))?;
            entries.push((position, entry));
        }
        inserts.push(
            "INSERT INTO order_timeline (order_number, position, at, status, note, actor_kind, \
             actor_name, for_customer) ",
            entries.into_iter(),
            |mut row, (position, entry)| {
                let (actor_kind, actor_name) = rows::actor_parts(&entry.actor);
                row.push_bind(order.number.as_str())
                    .push_bind(position)
                    .push_bind(D::time(entry.at))
                    .push_bind(entry.status.as_str())
                    .push_bind(&entry.note)
                    .push_bind(actor_kind)
                    .push_bind(actor_name)
                    .push_bind(entry.for_customer);
            },
            "",
        );
        inserts.push_events(&[OutboxEvent::placed(order)])?;
        // Last, after the product locks (see `tallies`).
        let mut changes = TallyChanges::default();
        changes.placed(order);
        inserts.push_tallies(&changes);
        inserts.run(conn).await
    }

    /// Takes the units of every product of `order` with a conditional update (enough left,
    /// still active), in product-id order. Returns why the order cannot be placed, as the
    /// in-memory store would say it: the first refused product in the order's own order.
    async fn reserve_stock(conn: &mut Conn<D>, order: &Order) -> DbResult<Option<Error>, D> {
        let units = order.units_by_product();
        let mut in_lock_order: Vec<(usize, &StockUnits)> = units.iter().enumerate().collect();
        in_lock_order.sort_by_key(|(_, unit)| unit.product_id);
        let mut refusals: Vec<(usize, Error)> = Vec::new();
        for (index, unit) in in_lock_order {
            if let Some(refusal) = Self::reserve_units(conn, order, unit).await? {
                refusals.push((index, refusal));
            }
        }
        Ok(verdict::first_refusal(refusals))
    }

    async fn reserve_units(
        conn: &mut Conn<D>,
        order: &Order,
        unit: &StockUnits,
    ) -> DbResult<Option<Error>, D> {
        let id = D::id(unit.product_id.as_uuid());
        let quantity = i64::from(unit.quantity);
        let take = sql::<D>(
            "UPDATE products SET stock = stock - ? \
             WHERE id = ? AND active = TRUE AND (stock IS NULL OR stock >= ?)",
        );
        let take = || {
            sqlx::query(&take)
                .bind(quantity)
                .bind(id.clone())
                .bind(quantity)
        };
        if D::rows_affected(&take().execute(&mut *conn).await?) == 1 {
            return Ok(None);
        }
        // Refused: lock the row to say why with the numbers as they are now.
        let row = sqlx::query(&sql::<D>(&format!(
            "SELECT active, stock FROM products WHERE id = ?{}",
            for_update::<D>()
        )))
        .bind(id.clone())
        .fetch_optional(&mut *conn)
        .await?;
        let found = match &row {
            Some(row) => Some(ProductStock {
                active: Self::get::<bool>(row, "active")?,
                stock: Self::get::<Option<i64>>(row, "stock")?
                    .map(Self::count)
                    .transpose()?,
            }),
            None => None,
        };
        match verdict::check_stock(order, unit, found) {
            Err(refusal) => Ok(Some(refusal)),
            // Units came back between the update and the lock: take them now, under the lock.
            Ok(()) if D::rows_affected(&take().execute(&mut *conn).await?) == 1 => Ok(None),
            _ => Err(corrupt(
                "stock",
                "a locked product refused a reservation it can hold",
            )),
        }
    }
}
