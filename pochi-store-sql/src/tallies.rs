//! The pre-aggregated figures behind the statistics (`order_tallies`, `product_tallies`,
//! `paid_tallies`; see each backend's `migrations/0002_tallies.sql`), changed in the
//! transaction that places or moves an order.
//!
//! A transaction collects its changes in a [`TallyChanges`] and writes them last, after its
//! order, payment and product rows, the tables in one fixed order and each table's rows in key
//! order: every transaction takes tally row locks in the same order (and after the product
//! locks), so none deadlocks on them. Where the dialect has data-modifying CTEs, the tallies
//! (and a new order's lines and timeline) are one statement: one round trip while the order
//! holds the lock on a product's stock, instead of four.

use pochi_core::Result;
use sqlx::{
    Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type, query_builder::Separated,
};
use time::Date;

use crate::{
    SqlStore,
    dialect::{Dialect, Set},
    error::{DbResult, corrupt, from_sqlx},
    orders::Conn,
    tally::TallyChanges,
};

/// A dialect whose store can recompute its tallies from the orders.
pub trait Recount: Dialect {
    /// The statements that recompute every tally, run in order in one transaction; the first
    /// holds off writes to orders until the transaction ends.
    const RECOUNT: &'static [&'static str];
}

/// Inserts that run as one statement of data-modifying CTEs where the dialect has them, as
/// one query of `;`-separated statements where it can run that, and otherwise as one statement
/// each, in the order they were pushed.
pub(crate) struct Inserts<'args, D: Dialect> {
    statements: Vec<QueryBuilder<'args, D::Db>>,
    inserts: usize,
    /// A condition every insert's rows are subject to (see [`Inserts::guarded`]).
    guard: Option<&'static str>,
}

impl<'args, D: Dialect> Inserts<'args, D>
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
    pub(crate) fn new() -> Self {
        Inserts {
            statements: Vec::new(),
            inserts: 0,
            guard: None,
        }
    }

    /// Inserts that follow the CTEs `prelude` opened (`WITH name AS (…), …`, without a
    /// trailing comma) in one statement, each inserting its rows only where `guard` (a
    /// condition on those CTEs) holds. Only where the dialect has data-modifying CTEs.
    pub(crate) fn guarded(prelude: QueryBuilder<'args, D::Db>, guard: &'static str) -> Self {
        debug_assert!(D::DATA_MODIFYING_CTES);
        Inserts {
            statements: vec![prelude],
            inserts: 0,
            guard: Some(guard),
        }
    }

    /// Appends `INSERT INTO …` (`head`), one `VALUES` tuple per row (bound by `bind`) and
    /// `tail`; nothing when there are no rows.
    pub(crate) fn push<T>(
        &mut self,
        head: &str,
        rows: impl Iterator<Item = T>,
        bind: impl FnMut(Separated<'_, 'args, D::Db, &'static str>, T),
        tail: &str,
    ) {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return;
        }
        match self.statements.last_mut() {
            Some(query) if D::DATA_MODIFYING_CTES => {
                query.push(", ");
            }
            Some(query) if D::STATEMENTS_IN_ONE_QUERY => {
                query.push("; ");
            }
            None if D::DATA_MODIFYING_CTES => self.statements.push(QueryBuilder::new("WITH ")),
            _ => self.statements.push(QueryBuilder::new("")),
        }
        self.inserts += 1;
        let Some(query) = self.statements.last_mut() else {
            return;
        };
        if D::DATA_MODIFYING_CTES {
            query.push(format!("insert_{} AS (", self.inserts));
        }
        query.push(head);
        match self.guard {
            Some(guard) => {
                query.push("SELECT * FROM (");
                query.push_values(rows, bind);
                query.push(") AS v WHERE ");
                query.push(guard);
            }
            None => {
                query.push_values(rows, bind);
            }
        }
        query.push(tail);
        if D::DATA_MODIFYING_CTES {
            query.push(")");
        }
    }

    /// Appends the upserts of `changes`: `order_tallies`, `product_tallies`, `paid_tallies`,
    /// always in that order, each with its rows in key order. Every statement that changes
    /// tallies is built here, so all take their tally row locks in the same order.
    pub(crate) fn push_tallies(&mut self, changes: &TallyChanges) {
        self.push(
            "INSERT INTO order_tallies (status, currency, slot, orders, total) ",
            changes.order_rows(),
            |mut row, (key, delta)| {
                row.push_bind(key.status.as_str())
                    .push_bind(key.currency.code())
                    .push_bind(i16::from(key.slot))
                    .push_bind(delta.count)
                    .push_bind(D::amount(delta.amount, key.currency));
            },
            &D::upsert(
                "order_tallies",
                &["status", "currency", "slot"],
                &[Set::Add("orders"), Set::Add("total")],
            ),
        );
        self.push(
            "INSERT INTO product_tallies (product_id, status, currency, quantity, revenue) ",
            changes.product_rows(),
            |mut row, (key, delta)| {
                row.push_bind(D::id(key.product.as_uuid()))
                    .push_bind(key.status.as_str())
                    .push_bind(key.currency.code())
                    .push_bind(delta.count)
                    .push_bind(D::amount(delta.amount, key.currency));
            },
            &D::upsert(
                "product_tallies",
                &["product_id", "status", "currency"],
                &[Set::Add("quantity"), Set::Add("revenue")],
            ),
        );
        self.push(
            "INSERT INTO paid_tallies (day, status, currency, slot, orders, total) ",
            changes.paid_rows(),
            |mut row, (key, delta)| {
                row.push_bind(key.day)
                    .push_bind(key.status.as_str())
                    .push_bind(key.currency.code())
                    .push_bind(i16::from(key.slot))
                    .push_bind(delta.count)
                    .push_bind(D::amount(delta.amount, key.currency));
            },
            &D::upsert(
                "paid_tallies",
                &["day", "status", "currency", "slot"],
                &[Set::Add("orders"), Set::Add("total")],
            ),
        );
    }

    /// Runs guarded inserts as one statement; its answer is whether the guard held (and so
    /// whether the rows went in).
    pub(crate) async fn run_guarded(self, conn: &mut Conn<D>) -> DbResult<bool, D> {
        let (Some(guard), Some(mut query)) = (self.guard, self.statements.into_iter().next())
        else {
            return Err(corrupt(
                "a guarded statement",
                "it has no guard or no prelude",
            ));
        };
        query.push(" SELECT ");
        query.push(guard);
        query.push(" AS answer");
        let rows = D::fetch_all(&mut query, &mut *conn).await?;
        match rows.first() {
            Some(row) => Ok(D::get::<bool>(row, "answer")?),
            None => Err(corrupt("a guarded statement", "it answered no row")),
        }
    }

    /// Runs the inserts; nothing when there are none.
    pub(crate) async fn run(self, conn: &mut Conn<D>) -> DbResult<(), D> {
        for mut query in self.statements {
            if D::DATA_MODIFYING_CTES {
                query.push(" SELECT 1");
            }
            D::execute(&mut query, &mut *conn).await?;
        }
        Ok(())
    }
}

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
    /// Writes `changes` (see [`Inserts::push_tallies`]); nothing when there are none.
    pub(crate) async fn write_tallies(
        conn: &mut Conn<D>,
        changes: &TallyChanges,
    ) -> DbResult<(), D> {
        let mut inserts = Inserts::<D>::new();
        inserts.push_tallies(changes);
        inserts.run(conn).await
    }
}

impl<D: Recount> SqlStore<D>
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
    /// Recomputes the pre-aggregated figures the statistics read from the orders, holding off
    /// order writes while it runs. Placing and moving orders through the store keeps them
    /// exact; this is for a database whose orders were written or edited by hand in SQL.
    pub async fn recount_statistics(&self) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(from_sqlx::<D>)?;
        for statement in D::RECOUNT {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx::<D>)?;
        }
        tx.commit().await.map_err(from_sqlx::<D>)
    }
}
