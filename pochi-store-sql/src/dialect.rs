//! What differs between the databases the core runs on: a backend crate implements
//! [`Dialect`] once, and every statement, transaction and row of the core is written against it.

use std::{borrow::Cow, fmt, future::Future, pin::Pin};

use pochi_core::Currency;
use rust_decimal::Decimal;
use sqlx::{
    Connection, Database, Decode, Encode, Pool, QueryBuilder, Type, error::DatabaseError,
    migrate::MigrateError, pool::PoolOptions,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// The connect options of a dialect's database.
pub type ConnectOptions<D> = <<<D as Dialect>::Db as Database>::Connection as Connection>::Options;

/// A row of a dialect's database.
pub type Row<D> = <<D as Dialect>::Db as Database>::Row;

/// The result of a statement that writes, in a dialect's database.
pub type QueryResult<D> = <<D as Dialect>::Db as Database>::QueryResult;

/// A connection of a dialect's database.
pub type Conn<D> = <<D as Dialect>::Db as Database>::Connection;

/// A boxed future that can be sent between threads, as sqlx's executors return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a database failure that is not a unique violation should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A deadlock, serialization failure or lock wait timeout: running the transaction again
    /// may succeed.
    LostRace,
    /// The server is going away or refuses connections.
    Unreachable,
    /// The disk holding the database is full.
    StorageFull,
}

/// How a placeholder is written in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?` (MySQL, SQLite): the statements are written this way.
    Question,
    /// `$1`, `$2`, … (PostgreSQL).
    Numbered,
}

/// One column of an upsert's update when the key is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set<'a> {
    /// The column takes the new row's value.
    Replace(&'a str),
    /// The new row's value is added to the column.
    Add(&'a str),
}

/// A type a column of database `Db` holds: bound as a parameter and read back as it is.
pub trait Column<Db: Database>:
    for<'q> Encode<'q, Db> + for<'r> Decode<'r, Db> + Type<Db> + Clone + Send + Sync + 'static
{
}

impl<Db: Database, T> Column<Db> for T where
    T: for<'q> Encode<'q, Db> + for<'r> Decode<'r, Db> + Type<Db> + Clone + Send + Sync + 'static
{
}

/// What a database does its own way. Statements of the core are written in the SQL that
/// PostgreSQL, MySQL and SQLite all accept; this trait carries the rest.
///
/// # Implementing
///
/// A backend crate implements it on a unit struct and exposes `SqlStore<ItsDialect>` as its
/// store type. The constants are SQL fragments or switches, the functions small hooks; none
/// holds a rule of the shop.
pub trait Dialect: Send + Sync + Sized + 'static {
    /// The sqlx driver.
    type Db: Database;

    /// How an amount of money is kept: `Decimal` where the database has exact decimals, minor
    /// units where it does not. The currency is always in a column of its own beside it.
    type Amount: Column<Self::Db>;
    /// How a point in time is kept.
    type Time: Column<Self::Db>;
    /// How an id (a UUID) is kept. Stored ids must sort as the UUIDs' bytes do.
    type Id: Column<Self::Db>;

    /// The database's name in messages: `"PostgreSQL"`.
    const DATABASE: &'static str;
    /// Where errors of this store come from, in `Error::Backend`: `"postgres store"`.
    const CONTEXT: &'static str;
    /// The store type's name in its `Debug` output: `"PostgresStore"`.
    const STORE: &'static str;
    /// The URL schemes `connect` accepts, with `://`.
    const URL_SCHEMES: &'static [&'static str];
    /// How placeholders are written.
    const PLACEHOLDERS: Placeholders;
    /// Whether keyset conditions are written as row values, `(a, b) > (x, y)`, which this
    /// database reads from an index; otherwise as `a > x OR (a = x AND b > y)`.
    const ROW_VALUES: bool;
    /// Whether several inserts can run as one statement of data-modifying CTEs (`WITH a AS
    /// (INSERT …), b AS (INSERT …) SELECT 1`); otherwise each is its own statement.
    const DATA_MODIFYING_CTES: bool;
    /// Whether several statements, separated by `;`, can run as one query with their
    /// parameters bound in order (SQLite's driver does): then inserts that cannot be one
    /// statement of data-modifying CTEs are still one round trip.
    const STATEMENTS_IN_ONE_QUERY: bool = false;
    /// The statement that begins a write transaction (READ COMMITTED), or `None` when the
    /// driver's plain `BEGIN` is that already.
    const BEGIN_WRITE: Option<&'static str>;
    /// The statement that begins a multi-statement read: one consistent snapshot, no locks.
    const BEGIN_READ_SNAPSHOT: &'static str;
    /// The type of a signed 64-bit integer in `CAST(… AS …)`.
    const BIGINT: &'static str;
    /// What follows a placeholder bound to a JSON column (`"::jsonb"`), if anything.
    const JSON_PARAMETER: &'static str;
    /// What follows a JSON column read as text (`"::text"`), if anything.
    const JSON_AS_TEXT: &'static str;

    /// The function that takes the least of its arguments: `LEAST`, or SQLite's `MIN`.
    const LEAST: &'static str = "LEAST";
    /// Whether the database lets one transaction write at a time (SQLite): then writers of
    /// one process take turns on a lock of the store before they begin, rather than in the
    /// database's busy handler, and `FOR UPDATE` is neither needed nor understood.
    const ONE_WRITER: bool = false;
    /// How many times a transaction that lost a race (see [`Failure::LostRace`]) is run in
    /// all.
    const ATTEMPTS: u32 = 8;

    /// `amount` (at `currency`'s scale) as this database keeps it.
    fn amount(amount: Decimal, currency: Currency) -> Self::Amount;

    /// A kept amount of `currency` back as a decimal; why not when it cannot be one.
    fn decimal(stored: Self::Amount, currency: Currency) -> Result<Decimal, String>;

    /// `at` as this database keeps it.
    fn time(at: OffsetDateTime) -> Self::Time;

    /// A kept time back; why not when it is not a time.
    fn offset_date_time(stored: Self::Time) -> Result<OffsetDateTime, String>;

    /// `id` as this database keeps it.
    fn id(id: Uuid) -> Self::Id;

    /// A kept id back; why not when it is not a UUID.
    fn uuid(stored: Self::Id) -> Result<Uuid, String>;

    /// Classifies a database error that is not a unique violation, by its code.
    fn failure(error: &dyn DatabaseError) -> Option<Failure>;

    /// A column's value.
    fn get<'r, T>(row: &'r Row<Self>, column: &str) -> Result<T, sqlx::Error>
    where
        T: Decode<'r, Self::Db> + Type<Self::Db>;

    /// Runs a statement built with sqlx's `QueryBuilder` on `conn` and returns its rows. Write
    /// it with [`built_statements!`](crate::built_statements): the body is
    /// `query.build().fetch_all(conn)`, which compiles only where the database is known (there
    /// the arguments' lifetime may shorten to the borrow's, as SQLite's need).
    fn fetch_all<'e>(
        query: &'e mut QueryBuilder<'_, Self::Db>,
        conn: &'e mut Conn<Self>,
    ) -> BoxFuture<'e, Result<Vec<Row<Self>>, sqlx::Error>>;

    /// Runs a statement built with sqlx's `QueryBuilder` on `conn`: see [`Dialect::fetch_all`].
    fn execute<'e>(
        query: &'e mut QueryBuilder<'_, Self::Db>,
        conn: &'e mut Conn<Self>,
    ) -> BoxFuture<'e, Result<QueryResult<Self>, sqlx::Error>>;

    /// How many rows a statement changed.
    fn rows_affected(result: &QueryResult<Self>) -> u64;

    /// Appends a condition that `column` is one of `values` (false for none).
    fn push_one_of_texts(query: &mut QueryBuilder<'_, Self::Db>, column: &str, values: Vec<String>);

    /// Appends a condition that `column` is one of `values` (false for none).
    fn push_one_of_ids(query: &mut QueryBuilder<'_, Self::Db>, column: &str, values: Vec<Uuid>);

    /// What follows `INSERT INTO table (…) VALUES …` so that a row whose `key` is taken
    /// updates the existing one as `set` says.
    fn upsert(table: &str, key: &[&str], set: &[Set<'_>]) -> String;

    /// The connect options of `url`, with what this store needs set on them; `None` when it is
    /// not a URL of this database.
    fn connect_options(url: &str) -> Option<ConnectOptions<Self>>;

    /// The pool [`SqlStore::connect`](crate::SqlStore::connect) opens for `options`, from the
    /// core's settings in `pool`: a database in memory needs one connection that never
    /// closes, for one.
    fn pool_options(
        options: &ConnectOptions<Self>,
        pool: PoolOptions<Self::Db>,
    ) -> PoolOptions<Self::Db> {
        let _ = options;
        pool
    }

    /// The error of a connection that could not be opened (by default, the general mapping
    /// of driver errors).
    fn connect_error(err: sqlx::Error) -> pochi_core::Error {
        crate::error::from_sqlx::<Self>(err)
    }

    /// Brings the schema up to date with the backend's embedded migrations.
    fn migrate(pool: &Pool<Self::Db>) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Adds where the pool points (never the password) to a `Debug` output.
    fn describe(options: &ConnectOptions<Self>, out: &mut fmt::DebugStruct<'_, '_>);
}

/// The [`Dialect`] items of a database that keeps money as `Decimal`, times as
/// `OffsetDateTime` and ids as `Uuid` natively (PostgreSQL, MySQL): written inside an
/// `impl Dialect for …` block.
#[macro_export]
macro_rules! native_columns {
    () => {
        type Amount = $crate::__private::Decimal;
        type Time = $crate::__private::OffsetDateTime;
        type Id = $crate::__private::Uuid;

        fn amount(
            amount: $crate::__private::Decimal,
            _: $crate::__private::Currency,
        ) -> $crate::__private::Decimal {
            amount
        }

        fn decimal(
            stored: $crate::__private::Decimal,
            _: $crate::__private::Currency,
        ) -> ::std::result::Result<$crate::__private::Decimal, ::std::string::String> {
            Ok(stored)
        }

        fn time(at: $crate::__private::OffsetDateTime) -> $crate::__private::OffsetDateTime {
            at
        }

        fn offset_date_time(
            stored: $crate::__private::OffsetDateTime,
        ) -> ::std::result::Result<$crate::__private::OffsetDateTime, ::std::string::String> {
            Ok(stored)
        }

        fn id(id: $crate::__private::Uuid) -> $crate::__private::Uuid {
            id
        }

        fn uuid(
            stored: $crate::__private::Uuid,
        ) -> ::std::result::Result<$crate::__private::Uuid, ::std::string::String> {
            Ok(stored)
        }
    };
}

/// [`Dialect::fetch_all`], [`Dialect::execute`] and [`Dialect::rows_affected`], whose bodies
/// are the same text for every sqlx driver: written inside an `impl Dialect for …` block.
#[macro_export]
macro_rules! built_statements {
    () => {
        fn fetch_all<'e>(
            query: &'e mut ::sqlx::QueryBuilder<'_, Self::Db>,
            conn: &'e mut $crate::Conn<Self>,
        ) -> $crate::BoxFuture<
            'e,
            ::std::result::Result<::std::vec::Vec<$crate::Row<Self>>, ::sqlx::Error>,
        > {
            ::std::boxed::Box::pin(query.build().fetch_all(conn))
        }

        fn execute<'e>(
            query: &'e mut ::sqlx::QueryBuilder<'_, Self::Db>,
            conn: &'e mut $crate::Conn<Self>,
        ) -> $crate::BoxFuture<'e, ::std::result::Result<$crate::QueryResult<Self>, ::sqlx::Error>>
        {
            ::std::boxed::Box::pin(query.build().execute(conn))
        }

        fn rows_affected(result: &$crate::QueryResult<Self>) -> u64 {
            result.rows_affected()
        }
    };
}

/// Appends `column IN (?, ?, …)` with `values` bound, or `FALSE` for none: how a dialect
/// without array parameters writes [`Dialect::push_one_of_texts`] and
/// [`Dialect::push_one_of_ids`].
pub fn push_in<'a, Db, T>(query: &mut QueryBuilder<'a, Db>, column: &str, values: Vec<T>)
where
    Db: Database,
    T: Encode<'a, Db> + Type<Db> + Send + 'a,
{
    if values.is_empty() {
        query.push("FALSE");
        return;
    }
    query.push(column).push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    query.push(")");
}

/// `ON CONFLICT (key) DO UPDATE SET …`: [`Dialect::upsert`] as PostgreSQL and SQLite write it.
pub fn on_conflict_update(table: &str, key: &[&str], set: &[Set<'_>]) -> String {
    let set: Vec<String> = set
        .iter()
        .map(|set| match set {
            Set::Replace(column) => format!("{column} = excluded.{column}"),
            Set::Add(column) => format!("{column} = {table}.{column} + excluded.{column}"),
        })
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        set.join(", ")
    )
}

/// What follows a `SELECT` whose rows the transaction goes on to change: `FOR UPDATE`, or
/// nothing where the database lets one transaction write at a time (it holds them all).
pub(crate) fn for_update<D: Dialect>() -> &'static str {
    if D::ONE_WRITER { "" } else { " FOR UPDATE" }
}

/// As [`for_update`], passing over rows another transaction holds.
pub(crate) fn for_update_skip_locked<D: Dialect>() -> &'static str {
    if D::ONE_WRITER {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    }
}

/// `text` (written with `?` placeholders) in `D`'s placeholders. The statements of the core
/// hold no `?` other than placeholders.
pub(crate) fn sql<D: Dialect>(text: &str) -> Cow<'_, str> {
    render(D::PLACEHOLDERS, text)
}

fn render(style: Placeholders, text: &str) -> Cow<'_, str> {
    match style {
        Placeholders::Question => Cow::Borrowed(text),
        Placeholders::Numbered => {
            // Every `?` is a parameter: one inside a quoted literal would shift the numbering,
            // so statements hold none (nor PostgreSQL's jsonb `?` operators); tests check it.
            debug_assert!(
                !question_mark_in_quotes(text),
                "a '?' inside a quoted literal cannot be renumbered: {text}"
            );
            let mut out = String::with_capacity(text.len() + 16);
            for (n, piece) in text.split('?').enumerate() {
                if n > 0 {
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                out.push_str(piece);
            }
            Cow::Owned(out)
        }
    }
}

/// Whether `text` has a `?` inside a single- or double-quoted part.
fn question_mark_in_quotes(text: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (Some(_), '?') => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_mark_inside_quotes_is_found_and_one_outside_is_not() {
        assert!(question_mark_in_quotes("SELECT 1 WHERE a = 'x?y'"));
        assert!(question_mark_in_quotes("SELECT \"odd?\" FROM t"));
        assert!(!question_mark_in_quotes(
            "UPDATE t SET a = 'QK1' WHERE id = ?"
        ));
    }

    #[test]
    fn question_marks_become_numbered_placeholders_in_order() {
        assert_eq!(
            render(
                Placeholders::Numbered,
                "UPDATE t SET a = ?, b = ? WHERE id = ?"
            ),
            "UPDATE t SET a = $1, b = $2 WHERE id = $3"
        );
        assert_eq!(render(Placeholders::Numbered, "SELECT 1"), "SELECT 1");
        assert_eq!(render(Placeholders::Question, "SELECT ?, ?"), "SELECT ?, ?");
    }
}
