//! Orders: reading and listing them, moving them along the lifecycle and expiring unpaid
//! ones. (Placing them is `placing`.)

use std::collections::{BTreeMap, HashMap};

use pochi_core::{
    Actor, Entity, Error, Order, OrderFilter, OrderKey, OrderNumber, OrderStatus, PaymentStatus,
    ProductId, Result, StatusChange, TimelineEntry, Trigger,
    notify::OutboxEvent,
    order::StockUnits,
    product::MAX_STOCK,
    store::{ExpiryCutoff, OrderUpdate},
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::Date;

use crate::{
    SqlStore,
    catalogue::push_after,
    dialect::{Dialect, for_update, for_update_skip_locked, sql},
    error::{DbResult, corrupt, from_sqlx, retrying},
    rows::{self, LINE_COLUMNS, ORDER_COLUMNS, TIMELINE_COLUMNS},
    tally::TallyChanges,
};

pub(crate) use crate::dialect::Conn;

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
    // ----- reading -----

    /// Fills in the lines and timelines of `orders`, with one query for each.
    pub(crate) async fn attach_items(conn: &mut Conn<D>, orders: &mut [Order]) -> DbResult<(), D> {
        if orders.is_empty() {
            return Ok(());
        }
        let numbers: Vec<String> = orders.iter().map(|o| o.number.to_string()).collect();
        let mut lines: HashMap<String, Vec<_>> = HashMap::new();
        let mut query =
            QueryBuilder::<D::Db>::new(format!("SELECT {LINE_COLUMNS} FROM order_lines WHERE "));
        D::push_one_of_texts(&mut query, "order_number", numbers.clone());
        query.push(" ORDER BY order_number, position");
        for row in &D::fetch_all(&mut query, &mut *conn).await? {
            let (number, line) = Self::line_row(row)?;
            lines.entry(number).or_default().push(line);
        }
        let mut timelines: HashMap<String, Vec<_>> = HashMap::new();
        let mut query = QueryBuilder::<D::Db>::new(format!(
            "SELECT {TIMELINE_COLUMNS} FROM order_timeline WHERE "
        ));
        D::push_one_of_texts(&mut query, "order_number", numbers);
        query.push(" ORDER BY order_number, position");
        for row in &D::fetch_all(&mut query, &mut *conn).await? {
            let (number, entry) = Self::timeline_row(row)?;
            timelines.entry(number).or_default().push(entry);
        }
        for order in orders {
            order.lines = lines.remove(order.number.as_str()).unwrap_or_default();
            order.timeline = timelines.remove(order.number.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    /// An order with its lines and timeline; locked until the end of the transaction when
    /// `lock`.
    pub(crate) async fn load_order(
        conn: &mut Conn<D>,
        number: &str,
        lock: bool,
    ) -> DbResult<Option<Order>, D> {
        let lock = if lock { for_update::<D>() } else { "" };
        let statement = sql::<D>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = ?{lock}"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut order = [Self::order_row(&row)?];
        Self::attach_items(conn, &mut order).await?;
        let [order] = order;
        Ok(Some(order))
    }

    pub(crate) async fn order(&self, number: &OrderNumber) -> Result<Option<Order>> {
        let mut tx = self.begin_read().await?;
        let order = Self::load_order(&mut tx, number.as_str(), false).await?;
        tx.commit().await.map_err(from_sqlx::<D>)?;
        Ok(order)
    }

    pub(crate) async fn list_orders(
        &self,
        filter: &OrderFilter,
        after: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<Order>> {
        let mut query =
            QueryBuilder::<D::Db>::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1"));
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(phone) = &filter.phone {
            query
                .push(" AND phone = ")
                .push_bind(phone.as_str().to_owned());
        }
        if let Some(from) = filter.placed_from {
            query.push(" AND created_at >= ").push_bind(D::time(from));
        }
        if let Some(before) = filter.placed_before {
            query.push(" AND created_at < ").push_bind(D::time(before));
        }
        if let Some(search) = &filter.search {
            // `!` escapes the wildcards (see `OrderSearch`).
            query
                .push(" AND (number LIKE ")
                .push_bind(search.number_pattern())
                .push(" ESCAPE '!' OR LOWER(customer_name) LIKE ")
                .push_bind(search.name_pattern())
                .push(" ESCAPE '!')");
        }
        if let Some(after) = after {
            push_after::<D, _, _>(
                &mut query,
                ("created_at", "number"),
                "<",
                D::time(after.created_at),
                after.number.to_string(),
            );
        }
        query
            .push(" ORDER BY created_at DESC, number DESC LIMIT ")
            .push_bind(rows::limit(limit));

        let mut tx = self.begin_read().await?;
        let found = D::fetch_all(&mut query, &mut *tx)
            .await
            .map_err(from_sqlx::<D>)?;
        let mut orders = found
            .iter()
            .map(Self::order_row)
            .collect::<DbResult<Vec<_>, D>>()?;
        Self::attach_items(&mut tx, &mut orders).await?;
        tx.commit().await.map_err(from_sqlx::<D>)?;
        Ok(orders)
    }

    // ----- writing -----

    pub(crate) async fn insert_timeline_entry(
        conn: &mut Conn<D>,
        number: &str,
        position: usize,
        entry: &TimelineEntry,
    ) -> DbResult<(), D> {
        let (actor_kind, actor_name) = rows::actor_parts(&entry.actor);
        let position = i32::try_from(position).map_err(|e| corrupt("timeline position", e))?;
        sqlx::query(&sql::<D>(
            "INSERT INTO order_timeline (order_number, position, at, status, note, actor_kind, \
             actor_name, for_customer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(number)
        .bind(position)
        .bind(D::time(entry.at))
        .bind(entry.status.as_str())
        .bind(&entry.note)
        .bind(actor_kind)
        .bind(actor_name)
        .bind(entry.for_customer)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Writes what a status move or a settlement decided for the locked `order` and applies
    /// it to `order`: its row and timeline, the stock it gives back, then the tallies (the
    /// order every transaction takes its locks in).
    pub(crate) async fn write_move(
        conn: &mut Conn<D>,
        order: &mut Order,
        update: &OrderUpdate,
    ) -> DbResult<(), D> {
        let paid_at_before = order.paid_at;
        Self::write_update(conn, order, update).await?;
        Self::release_stock(conn, &update.releases).await?;
        let mut changes = TallyChanges::default();
        changes.moved(update.from, paid_at_before, order);
        Self::write_tallies(conn, &changes).await
    }

    /// Writes the status, flag and timeline entry of `update` and applies it to `order`.
    /// Stock releases are written by [`Self::release_stock`], the tallies by the caller.
    async fn write_update(
        conn: &mut Conn<D>,
        order: &mut Order,
        update: &OrderUpdate,
    ) -> DbResult<(), D> {
        let currency = order.total.currency();
        let flag = update.payment_flag;
        if let Some(flag) = flag {
            Self::same_currency(currency, &[flag.expected, flag.received])?;
        }
        sqlx::query(&sql::<D>(
            "UPDATE orders SET status = ?, updated_at = ?, paid_at = COALESCE(?, paid_at), \
             flag_kind = ?, flag_expected = ?, flag_received = ?, \
             placed_from = CASE WHEN ? THEN placed_from END WHERE number = ?",
        ))
        .bind(update.to.as_str())
        .bind(D::time(update.entry.at))
        .bind(update.paid_at.map(D::time))
        .bind(flag.map(|f| rows::flag_kind_name(f.kind)))
        .bind(flag.map(|f| Self::stored(f.expected)))
        .bind(flag.map(|f| Self::stored(f.received)))
        // The client network is kept only to count unpaid orders.
        .bind(update.to == OrderStatus::PendingPayment)
        .bind(order.number.as_str())
        .execute(&mut *conn)
        .await?;
        Self::insert_timeline_entry(
            conn,
            order.number.as_str(),
            order.timeline.len(),
            &update.entry,
        )
        .await?;
        order.apply(update);
        Ok(())
    }

    /// Gives units back to tracked products, one update per product in id order (the order
    /// every transaction locks products in, so none deadlocks on them).
    async fn release_stock<'a>(
        conn: &mut Conn<D>,
        releases: impl IntoIterator<Item = &'a StockUnits>,
    ) -> DbResult<(), D> {
        let mut by_product: BTreeMap<ProductId, i64> = BTreeMap::new();
        for release in releases {
            *by_product.entry(release.product_id).or_default() += i64::from(release.quantity);
        }
        for (product, quantity) in by_product {
            sqlx::query(&sql::<D>(&format!(
                "UPDATE products SET stock = {}(stock + ?, ?) \
                 WHERE id = ? AND stock IS NOT NULL",
                D::LEAST
            )))
            .bind(quantity)
            .bind(i64::from(MAX_STOCK))
            .bind(D::id(product.as_uuid()))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    // ----- moving -----

    pub(crate) async fn move_order(
        &self,
        number: &OrderNumber,
        change: &StatusChange,
    ) -> Result<Order> {
        retrying(|| self.try_move_order(number, change)).await
    }

    async fn try_move_order(
        &self,
        number: &OrderNumber,
        change: &StatusChange,
    ) -> DbResult<Order, D> {
        let mut tx = self.begin_write().await?;
        let mut order = Self::load_order(&mut tx, number.as_str(), true)
            .await?
            .ok_or_else(|| Error::not_found(Entity::Order, number))?;
        let cash_awaited = order.status == OrderStatus::PendingPayment
            && Self::cash_awaited(&mut tx, number.as_str()).await?;
        let update = order.plan_move_paying(change, cash_awaited)?;
        Self::write_move(&mut tx, &mut order, &update).await?;
        if update.to == OrderStatus::Cancelled {
            Self::owe_refunds(&mut tx, &order, None, change.at).await?;
        }
        if let Some(event) = OutboxEvent::moved(&order, &update) {
            Self::write_events(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        Ok(order)
    }

    /// Whether order `number` has a pay-on-delivery attempt waiting for its cash
    /// ([`pochi_core::on_delivery::awaits_cash`]).
    async fn cash_awaited(conn: &mut Conn<D>, number: &str) -> DbResult<bool, D> {
        let statement = sql::<D>(&format!(
            "SELECT 1 AS found FROM ({}) c",
            awaits_cash_sql("?")
        ))
        .into_owned();
        let (provider, status) = awaits_cash_binds();
        let found = sqlx::query(&statement)
            .bind(number)
            .bind(provider)
            .bind(status)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(found.is_some())
    }

    pub(crate) async fn expire_orders(
        &self,
        cutoff: &ExpiryCutoff,
        limit: usize,
    ) -> Result<Vec<Order>> {
        retrying(|| self.try_expire_orders(cutoff, limit)).await
    }

    async fn try_expire_orders(
        &self,
        cutoff: &ExpiryCutoff,
        limit: usize,
    ) -> DbResult<Vec<Order>, D> {
        let mut tx = self.begin_write().await?;
        // `verdict::expires` as a condition: with no attempt, placed before the short hold's
        // cutoff; with attempts that all ended, placed before the cutoff or the last attempt
        // changed before the short hold's cutoff; with one in flight, before the hard bound.
        // The first condition (the latest of the three) reads the status index. Orders another sweeper (or a payment) holds are skipped, not waited for: that
        // transaction settles them.
        // An order whose pay-on-delivery attempt waits for its cash never expires.
        // "In flight" is the domain's own: every status that is not final.
        let in_flight: Vec<&'static str> = PaymentStatus::ALL
            .into_iter()
            .filter(|status| !status.is_final())
            .map(PaymentStatus::as_str)
            .collect();
        let in_flight_list = vec!["?"; in_flight.len()].join(", ");
        let statement = sql::<D>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status = ? AND created_at < ? \
             AND NOT EXISTS ({}) AND ( \
             (created_at < ? AND NOT EXISTS (SELECT 1 FROM payments p \
              WHERE p.order_number = orders.number)) \
             OR (EXISTS (SELECT 1 FROM payments p \
              WHERE p.order_number = orders.number) \
              AND NOT EXISTS (SELECT 1 FROM payments p \
              WHERE p.order_number = orders.number AND p.status IN ({in_flight_list})) \
              AND (created_at < ? OR NOT EXISTS (SELECT 1 FROM payments p \
              WHERE p.order_number = orders.number AND p.updated_at >= ?))) \
             OR (created_at < ? AND EXISTS (SELECT 1 FROM payments p \
              WHERE p.order_number = orders.number AND p.status IN ({in_flight_list})))) \
             ORDER BY created_at, number LIMIT ?{}",
            awaits_cash_sql("orders.number"),
            for_update_skip_locked::<D>()
        ))
        .into_owned();
        let latest = cutoff
            .unstarted_placed_before
            .max(cutoff.placed_before)
            .max(cutoff.in_flight_placed_before);
        let mut due = sqlx::query(&statement)
            .bind(OrderStatus::PendingPayment.as_str())
            .bind(D::time(latest))
            .bind(awaits_cash_binds().0)
            .bind(awaits_cash_binds().1)
            .bind(D::time(cutoff.unstarted_placed_before));
        for status in &in_flight {
            due = due.bind(*status);
        }
        due = due
            .bind(D::time(cutoff.placed_before))
            .bind(D::time(cutoff.unstarted_placed_before))
            .bind(D::time(cutoff.in_flight_placed_before));
        for status in &in_flight {
            due = due.bind(*status);
        }
        let due = due.bind(rows::limit(limit)).fetch_all(&mut *tx).await?;
        let mut orders = due
            .iter()
            .map(Self::order_row)
            .collect::<DbResult<Vec<_>, D>>()?;
        Self::attach_items(&mut tx, &mut orders).await?;
        let change = StatusChange {
            to: OrderStatus::Cancelled,
            trigger: Trigger::Expiry,
            actor: Actor::System,
            note: None,
            note_for_customer: true,
            at: cutoff.at,
        };
        let mut releases = Vec::new();
        let mut changes = TallyChanges::default();
        let mut expired = Vec::with_capacity(orders.len());
        let mut events = Vec::with_capacity(orders.len());
        for mut order in orders {
            let update = order.plan_move(&change)?;
            let paid_at_before = order.paid_at;
            Self::write_update(&mut tx, &mut order, &update).await?;
            Self::owe_refunds(&mut tx, &order, None, cutoff.at).await?;
            changes.moved(update.from, paid_at_before, &order);
            events.extend(OutboxEvent::moved(&order, &update));
            releases.extend(update.releases);
            expired.push(order);
        }
        // All releases of the batch at once, in product order, then the tallies.
        Self::release_stock(&mut tx, &releases).await?;
        Self::write_tallies(&mut tx, &changes).await?;
        Self::write_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(expired)
    }
}

/// The payments of order `number` (a placeholder or a column) that wait for their cash at the
/// door: [`pochi_core::on_delivery::awaits_cash`] as a query, with two placeholders bound to
/// [`awaits_cash_binds`]. The one place the SQL stores write that rule.
fn awaits_cash_sql(number: &str) -> String {
    format!(
        "SELECT 1 FROM payments p WHERE p.order_number = {number} \
         AND p.provider = ? AND p.status = ?"
    )
}

/// The values of [`awaits_cash_sql`]'s placeholders: the provider and the status.
fn awaits_cash_binds() -> (&'static str, &'static str) {
    (
        pochi_core::PayOnDelivery::NAME,
        PaymentStatus::PendingVerification.as_str(),
    )
}
