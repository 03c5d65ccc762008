//! The limits on unpaid orders and payment requests: a lock row per counted subject, then a
//! count of what that subject has, for the core's verdict.
//!
//! The lock is an upsert of the row of the subject's bucket in `limit_locks`: it creates the
//! row or updates it, and either way holds it to the end of the transaction (on SQLite the one writer holds
//! everything already). A racing transaction for the same subject waits there, and its count
//! (READ COMMITTED: each statement sees what committed before it) includes what the first one
//! wrote. Both run after the new row is written, so a racing retry with the same idempotency
//! key meets that row's unique key first and replays rather than being counted.

use pochi_core::{
    OrderStatus, Payment, PaymentKind,
    store::{NewOrder, PushLimit, verdict},
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Type};
use time::Date;

use crate::{
    SqlStore,
    dialect::{Dialect, Set, sql},
    error::DbResult,
    orders::Conn,
};

/// How many lock rows a scope has at most.
const BUCKETS: u64 = 4096;

/// The bucket of `subject`: FNV-1a, stable across processes and versions (the lock must be
/// the same row for every server sharing the database).
fn bucket(subject: &str) -> u64 {
    let hash = subject
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    hash % BUCKETS
}

/// The subjects a lock row stands for.
const OPEN_ORDERS_PHONE: &str = "orders:phone";
const OPEN_ORDERS_NETWORK: &str = "orders:network";
const PUSHES_PHONE: &str = "pushes:phone";

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
    /// Holds the lock row of `subject`'s bucket in `scope` until the transaction ends. The
    /// row names a bucket (a hash of the subject), not the phone or address itself: the table
    /// keeps no personal data and at most [`BUCKETS`] rows per scope; two subjects that share
    /// a bucket only wait for each other.
    async fn lock_subject(conn: &mut Conn<D>, scope: &str, subject: &str) -> DbResult<(), D> {
        let statement = sql::<D>(&format!(
            "INSERT INTO limit_locks (scope, subject, taken) VALUES (?, ?, ?){}",
            D::upsert(
                "limit_locks",
                &["scope", "subject"],
                &[Set::Replace("taken")]
            )
        ))
        .into_owned();
        sqlx::query(&statement)
            .bind(scope)
            .bind(bucket(subject).to_string())
            .bind(1i64)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Refuses `new` when its phone or client network already has as many unpaid orders as
    /// its limits allow (its own row, written already, not counted).
    pub(crate) async fn check_open_orders(conn: &mut Conn<D>, new: &NewOrder) -> DbResult<(), D> {
        let limits = &new.limits;
        let order = &new.order;
        let network = new
            .placed_from
            .as_ref()
            .filter(|_| limits.per_client.is_some());
        if !Self::limits_open_orders(new) {
            return Ok(());
        }
        let phone = order.customer.phone.as_str();
        let mut for_phone = 0;
        if limits.per_phone.is_some() {
            Self::lock_subject(conn, OPEN_ORDERS_PHONE, phone).await?;
            for_phone = Self::open_orders(conn, "phone", phone, order.number.as_str()).await?;
        }
        let mut from_client = None;
        if let Some(network) = network {
            Self::lock_subject(conn, OPEN_ORDERS_NETWORK, network.as_str()).await?;
            from_client = Some(
                Self::open_orders(conn, "placed_from", network.as_str(), order.number.as_str())
                    .await?,
            );
        }
        verdict::check_open_orders(limits, for_phone, from_client)?;
        Ok(())
    }

    /// Whether [`Self::check_open_orders`] has anything to check for `new` (a limit on its
    /// phone, or on its client network where the order names one).
    pub(crate) fn limits_open_orders(new: &NewOrder) -> bool {
        let limits = &new.limits;
        limits.per_phone.is_some() || (limits.per_client.is_some() && new.placed_from.is_some())
    }

    async fn open_orders(
        conn: &mut Conn<D>,
        column: &str,
        value: &str,
        except: &str,
    ) -> DbResult<u64, D> {
        let statement = sql::<D>(&format!(
            "SELECT COUNT(*) AS n FROM orders WHERE {column} = ? AND status = ? AND number <> ?"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(value)
            .bind(OrderStatus::PendingPayment.as_str())
            .bind(except)
            .fetch_one(&mut *conn)
            .await?;
        Self::tally(Self::get::<i64>(&row, "n")?)
    }

    /// Refuses `payment`, a new push attempt already written, when its phone has had as many
    /// pushes in `limit`'s window (itself not counted).
    pub(crate) async fn check_pushes(
        conn: &mut Conn<D>,
        payment: &Payment,
        limit: Option<PushLimit>,
    ) -> DbResult<(), D> {
        let (Some(limit), Some(phone), PaymentKind::StkPush) =
            (limit, &payment.phone, payment.kind)
        else {
            return Ok(());
        };
        Self::lock_subject(conn, PUSHES_PHONE, phone.as_str()).await?;
        // The kind is written out, not bound, so PostgreSQL and SQLite use the partial index.
        let statement = sql::<D>(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM payments \
             WHERE phone = ? AND kind = 'stk_push' AND created_at > ? AND id <> ?",
        )
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(phone.as_str())
            .bind(D::time(limit.since))
            .bind(D::id(payment.id.as_uuid()))
            .fetch_one(&mut *conn)
            .await?;
        let recent = Self::tally(Self::get::<i64>(&row, "n")?)?;
        let oldest = Self::opt_time_at(&row, "oldest")?;
        verdict::check_payment_requests(&limit, recent, oldest)?;
        Ok(())
    }

    fn tally(count: i64) -> DbResult<u64, D> {
        u64::try_from(count).map_err(|e| crate::error::corrupt("count", e))
    }
}
