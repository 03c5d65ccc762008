//! What differs between the databases the core runs on: a backend crate implements
//! [`Dialect`] once, and every statement, transaction and row of the core is written against it.

use std::{borrow::Cow, fmt, future::Future};

use sqlx::{
    Connection, Database, Decode, Pool, QueryBuilder, Type, error::DatabaseError,
    migrate::MigrateError,
};
use uuid::Uuid;

/// The connect options of a dialect's database.
pub type ConnectOptions<D> = <<<D as Dialect>::Db as Database>::Connection as Connection>::Options;

/// A row of a dialect's database.
pub type Row<D> = <<D as Dialect>::Db as Database>::Row;

/// The result of a statement that writes, in a dialect's database.
pub type QueryResult<D> = <<D as Dialect>::Db as Database>::QueryResult;

/// How a database failure that is not a unique violation should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A deadlock, serialization failure or lock wait timeout: running the transaction again
    /// may succeed.
    LostRace,
    /// The server is going away or refuses connections.
    Unreachable,
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

/// What a database does its own way. Statements of the core are written in the SQL both
/// PostgreSQL and MySQL accept; this trait carries the rest.
///
/// # Implementing
///
/// A backend crate implements it on a unit struct and exposes `SqlStore<ItsDialect>` as its
/// store type. The constants are SQL fragments or switches, the functions small hooks; none
/// holds a rule of the shop.
pub trait Dialect: Send + Sync + Sized + 'static {
    /// The sqlx driver.
    type Db: Database;

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

    /// Classifies a database error that is not a unique violation, by its code.
    fn failure(error: &dyn DatabaseError) -> Option<Failure>;

    /// A column's value.
    fn get<'r, T>(row: &'r Row<Self>, column: &str) -> Result<T, sqlx::Error>
    where
        T: Decode<'r, Self::Db> + Type<Self::Db>;

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

    /// Brings the schema up to date with the backend's embedded migrations.
    fn migrate(pool: &Pool<Self::Db>) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Adds where the pool points (never the password) to a `Debug` output.
    fn describe(options: &ConnectOptions<Self>, out: &mut fmt::DebugStruct<'_, '_>);
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
