//! The store's private error, and how it becomes a `pochi_core::Error` kind.

use pochi_core::{ConflictReason, Error};
use sqlx::error::ErrorKind;

/// Where errors say they happened.
pub(crate) const CONTEXT: &str = "sqlite store";

/// SQLite's primary result codes for "someone else holds the lock" (extended codes keep these in
/// their low byte).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

/// What can go wrong inside one of the store's transactions.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The database said no.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A shop rule said no (out of stock, not found, a forbidden move …): passed on as it is.
    #[error(transparent)]
    Shop(#[from] Error),
    /// A value does not fit the schema: one read back that does not parse, or one about to be
    /// written that cannot be kept exactly. Names the column, never the value (it may be
    /// personal data).
    #[error("invalid value in column {column}: {problem}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl Failure {
    /// A stored value that does not decode.
    pub(crate) fn corrupt(column: &'static str, problem: impl ToString) -> Self {
        Failure::Corrupt {
            column,
            problem: problem.to_string(),
        }
    }

    /// Whether the transaction failed only because another writer held the database, so running
    /// it again can succeed.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(self, Failure::Database(err) if is_busy(err))
    }
}

fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(err) => err
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
        _ => false,
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Shop(err) => err,
            Failure::Database(err) => database_error(err),
            corrupt @ Failure::Corrupt { .. } => Error::backend(CONTEXT, corrupt),
        }
    }
}

/// Sorts a sqlx error into a kind: unreachable (retryable), a uniqueness conflict, or unexpected.
fn database_error(err: sqlx::Error) -> Error {
    if is_busy(&err) {
        return Error::unavailable("the database stayed locked by other writers", err);
    }
    match err {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => Error::conflict(
            ConflictReason::AlreadyExists,
            "a record with the same identity already exists",
        ),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => {
            Error::unavailable("the SQLite database cannot be reached", err)
        }
        other => Error::backend(CONTEXT, other),
    }
}

/// A migration that failed: a locked or unreachable database is `Unavailable`, anything else
/// `Backend`.
pub(crate) fn migrate_error(err: sqlx::migrate::MigrateError) -> Error {
    match err {
        sqlx::migrate::MigrateError::Execute(err) => database_error(err),
        other => Error::backend(CONTEXT, other),
    }
}
