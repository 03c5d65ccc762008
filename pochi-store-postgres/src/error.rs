//! How database failures become `pochi_core::Error` kinds, and the retry of transactions that
//! lost a race.

use std::{future::Future, time::Duration};

use pochi_core::{ConflictReason, Error, Result};
use rand::Rng;
use sqlx::error::ErrorKind;

/// Where errors of this store come from, in `Error::Backend`.
pub(crate) const CONTEXT: &str = "postgres store";

/// Transactions that deadlock, fail to serialize or hit a unique key another transaction just
/// took are run again from the start this many times in all.
const ATTEMPTS: u32 = 8;

/// A failure inside one attempt of a store method.
#[derive(Debug)]
pub(crate) enum DbError {
    /// The database said no (or could not be reached).
    Sqlx(sqlx::Error),
    /// A decision of the shop (not found, conflict, out of stock …), final.
    Core(Error),
}

pub(crate) type DbResult<T> = std::result::Result<T, DbError>;

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        DbError::Sqlx(err)
    }
}

impl From<Error> for DbError {
    fn from(err: Error) -> Self {
        DbError::Core(err)
    }
}

/// SQLSTATEs of a lost race: `deadlock_detected`, `serialization_failure`.
const RACE_STATES: [&str; 2] = ["40P01", "40001"];

/// SQLSTATE classes and codes that mean the server is going away or refusing connections:
/// connection exceptions (08), operator intervention (57P01-57P03), too many connections
/// (53300), out of resources (53xxx).
fn is_unreachable_state(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
}

impl DbError {
    fn database(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(db)) => Some(db.as_ref()),
            _ => None,
        }
    }

    fn sqlstate(&self) -> Option<String> {
        self.database()
            .and_then(|db| db.code().map(|code| code.into_owned()))
    }

    /// A deadlock or serialization failure: running the transaction again may succeed.
    fn is_lost_race(&self) -> bool {
        self.sqlstate()
            .is_some_and(|code| RACE_STATES.contains(&code.as_str()))
    }

    /// A unique key another transaction took between our check and our write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        self.database()
            .is_some_and(|db| db.kind() == ErrorKind::UniqueViolation)
    }

    /// The name of the violated constraint, when the database reports it.
    pub(crate) fn constraint(&self) -> Option<&str> {
        self.database().and_then(|db| db.constraint())
    }

    pub(crate) fn into_core(self) -> Error {
        match self {
            DbError::Core(err) => err,
            DbError::Sqlx(err) => from_sqlx(err),
        }
    }
}

impl From<DbError> for Error {
    fn from(err: DbError) -> Self {
        err.into_core()
    }
}

/// Maps a driver error to the kind the shop acts on. Messages never carry the database URL.
pub(crate) fn from_sqlx(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => {
            Error::unavailable("the PostgreSQL database is unreachable", err)
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if RACE_STATES.contains(&code.as_str()) {
                Error::unavailable("the PostgreSQL database is too busy; try again", db)
            } else if is_unreachable_state(&code) {
                Error::unavailable("the PostgreSQL database is unavailable", db)
            } else if db.kind() == ErrorKind::UniqueViolation {
                // Never reported as success: whatever key it was, the write did not happen.
                Error::conflict(
                    ConflictReason::AlreadyExists,
                    "a record with the same identity exists",
                )
            } else {
                Error::backend(CONTEXT, db)
            }
        }
        other => Error::backend(CONTEXT, other),
    }
}

/// Runs `attempt` (one whole transaction) until it succeeds, fails for a reason of the shop's,
/// or has lost a race [`ATTEMPTS`] times.
///
/// A unique-key violation is retried too: every method checks its keys inside the transaction
/// first, so the next attempt sees the row that won and answers as the contract says (a
/// replay, a duplicate, a conflict).
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = DbResult<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) if tries < ATTEMPTS && (err.is_lost_race() || err.is_unique_violation()) => {
                tries += 1;
                // Spread the retries so the same racers do not collide again.
                let millis = rand::thread_rng().gen_range(1..=10 * u64::from(tries));
                tokio::time::sleep(Duration::from_millis(millis)).await;
            }
            Err(err) => return Err(err.into_core()),
        }
    }
}

/// Turns a value read from the database that the domain refuses into a backend error (the
/// database holds something this version of Pochi did not write).
pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> DbError {
    DbError::Core(Error::backend(
        CONTEXT,
        format!("unreadable {what} in the database: {detail}"),
    ))
}
