//! Placing an order: the idempotency check, the order row (with a key; without one it joins the
//! lines where the dialect allows), the stock reservation by
//! conditional updates, then lines, timeline and tallies, in one transaction. Where the dialect
//! has data-modifying CTEs, an order without a key is first tried as one statement that does
//! all of it (`place_at_once`).

use pochi_core::{
    Entity, Error, Order, Placement, Result,
    notify::OutboxEvent,
    store::{
        NewOrder, StockUnits,
        verdict::{self, ProductStock},
    },
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
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
        // Refused by the one statement (or stock came back meanwhile): the statement by
        // statement path below says why, under the locks, or places it.
        if D::DATA_MODIFYING_CTES
            && new.idempotency_key.is_none()
            && self.place_at_once(new).await?
        {
            return Ok(Placement::Placed(new.order.clone()));
        }
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

        // The order row first where a racing retry with the same key must wait on it: it
        // claims the number and the key, so that retry waits here (holding no stock) and then
        // sees this order. Without a key, where the dialect has data-modifying CTEs, the row
        // goes in the one statement with the lines (one round trip fewer on every order).
        let row_first = new.idempotency_key.is_some() || !D::DATA_MODIFYING_CTES;
        if row_first {
            let mut row = Inserts::<D>::new();
            Self::push_order_row(&mut row, new)?;
            Self::run_placing(row, &mut tx, new).await?;
        }
        Self::check_open_orders(&mut tx, new).await?;
        if let Some(refusal) = Self::reserve_stock(&mut tx, order).await? {
            return Err(refusal.into());
        }
        let mut inserts = Inserts::<D>::new();
        if !row_first {
            Self::push_order_row(&mut inserts, new)?;
        }
        Self::push_lines_timeline_and_tallies(&mut inserts, order)?;
        Self::run_placing(inserts, &mut tx, new).await?;
        tx.commit().await?;
        Ok(Placement::Placed(order.clone()))
    }

    /// Places `new` (without an idempotency key) in one statement of data-modifying CTEs:
    /// lock its products in id order, check that each is active with the units left, take
    /// them, and write the order, its lines, timeline, outbox event and tallies only if every
    /// product passed. False, with nothing written, when one did not. Without open-order
    /// limits to check, the statement runs on its own (its own transaction): the product locks
    /// are held for the statement alone, not across round trips to the server, which is what
    /// lets orders for the same products follow each other closely.
    async fn place_at_once(&self, new: &NewOrder) -> DbResult<bool, D> {
        if !Self::limits_open_orders(new) {
            let mut conn = self.pool.acquire().await?;
            return Self::run_at_once(&mut conn, new).await;
        }
        let mut tx = self.begin_write().await?;
        Self::check_open_orders(&mut tx, new).await?;
        let placed = Self::run_at_once(&mut tx, new).await?;
        if placed {
            tx.commit().await?;
        }
        Ok(placed)
    }

    async fn run_at_once(conn: &mut Conn<D>, new: &NewOrder) -> DbResult<bool, D> {
        let order = &new.order;
        let units = order.units_by_product();
        let products = i64::try_from(units.len()).map_err(|e| corrupt("order lines", e))?;
        let mut prelude = QueryBuilder::<D::Db>::new("WITH want (id, quantity) AS (");
        prelude.push_values(units.iter(), |mut row, unit| {
            row.push_bind(D::id(unit.product_id.as_uuid()))
                .push_bind(i64::from(unit.quantity));
        });
        // ORDER BY under FOR UPDATE: the rows are locked in id order, as every placing takes
        // them, so two orders for the same products never deadlock.
        prelude.push(
            "), locked AS (SELECT p.id, p.active, p.stock FROM products p \
             WHERE p.id IN (SELECT id FROM want) ORDER BY p.id FOR UPDATE), \
             passed AS (SELECT COUNT(*) = ",
        );
        prelude.push_bind(products);
        prelude.push(
            " AND COALESCE(BOOL_AND(l.active AND (l.stock IS NULL OR l.stock >= w.quantity)), \
             FALSE) AS ok FROM locked l JOIN want w ON w.id = l.id), \
             take AS (UPDATE products p SET stock = p.stock - w.quantity FROM want w \
             WHERE p.id = w.id AND p.stock IS NOT NULL AND (SELECT ok FROM passed))",
        );
        let mut inserts = Inserts::<D>::guarded(prelude, "(SELECT ok FROM passed)");
        Self::push_order_row(&mut inserts, new)?;
        Self::push_lines_timeline_and_tallies(&mut inserts, order)?;
        inserts
            .run_guarded(conn)
            .await
            .map_err(|err| Self::placing_error(err, new))
    }

    /// Runs `inserts` of a placing: a unique violation without an idempotency key can only be
    /// the order number's (the order row's key, or its lines' and timeline's, which start with
    /// it), so it says the number is taken. With a key, the number was checked above; a
    /// violation of the number's key (where the database names it) is a racing order that
    /// took it. Elsewhere the retry sees the number taken or the key's order.
    async fn run_placing(
        inserts: Inserts<'_, D>,
        conn: &mut Conn<D>,
        new: &NewOrder,
    ) -> DbResult<(), D> {
        inserts
            .run(conn)
            .await
            .map_err(|err| Self::placing_error(err, new))
    }

    /// What an error of a placing's inserts says (see [`Self::run_placing`]).
    fn placing_error(err: DbError<D>, new: &NewOrder) -> DbError<D> {
        if err.constraint() == Some("orders_pkey")
            || (new.idempotency_key.is_none() && err.is_unique_violation())
        {
            DbError::Core(verdict::order_number_taken())
        } else {
            err
        }
    }

    /// Appends the order row of `new`.
    fn push_order_row<'a>(inserts: &mut Inserts<'a, D>, new: &'a NewOrder) -> DbResult<(), D> {
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
        inserts.push(
            "INSERT INTO orders (number, status, customer_name, phone, county, area, address, \
             notes, currency, subtotal, delivery_fee, total, flag_kind, flag_expected, \
             flag_received, idempotency_key, fingerprint, created_at, updated_at, paid_at, \
             placed_from, language) ",
            std::iter::once(new),
            |mut row, new| {
                row.push_bind(order.number.as_str())
                    .push_bind(order.status.as_str())
                    .push_bind(&order.customer.name)
                    .push_bind(order.customer.phone.as_str())
                    .push_bind(order.delivery.county.name())
                    .push_bind(&order.delivery.area)
                    .push_bind(&order.delivery.address)
                    .push_bind(order.delivery.notes.as_deref())
                    .push_bind(currency.code())
                    .push_bind(Self::stored(order.subtotal))
                    .push_bind(Self::stored(order.delivery_fee))
                    .push_bind(Self::stored(order.total))
                    .push_bind(flag.map(|f| rows::flag_kind_name(f.kind)))
                    .push_bind(flag.map(|f| Self::stored(f.expected)))
                    .push_bind(flag.map(|f| Self::stored(f.received)))
                    .push_bind(new.idempotency_key.as_ref().map(|k| k.as_str()))
                    .push_bind(&new.fingerprint)
                    .push_bind(D::time(order.created_at))
                    .push_bind(D::time(order.updated_at))
                    .push_bind(order.paid_at.map(D::time))
                    .push_bind(new.placed_from.as_ref().map(|n| n.as_str()))
                    .push_bind(order.language.as_str());
            },
            "",
        );
        Ok(())
    }

    /// The order's lines, its timeline, its outbox event and its tallies: one statement where the dialect has
    /// data-modifying CTEs. The stock locks are held from the reservation to the commit, so
    /// every round trip in between counts.
    fn push_lines_timeline_and_tallies<'a>(
        inserts: &mut Inserts<'a, D>,
        order: &'a Order,
    ) -> DbResult<(), D> {
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
        Ok(())
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
