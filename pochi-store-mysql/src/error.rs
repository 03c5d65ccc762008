//! How database failures become `pochi_core::Error` kinds, and the retry of transactions that
//! lost a race.

use std::{future::Future, time::Duration};

use pochi_core::{ConflictReason, Error, Result};
use rand::Rng;
use sqlx::{error::ErrorKind, mysql::MySqlDatabaseError};

/// Where errors of this store come from, in `Error::Backend`.
pub(crate) const CONTEXT: &str = "mysql store";

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

/// Server errors of a lost race: `ER_LOCK_DEADLOCK`, `ER_LOCK_WAIT_TIMEOUT`.
const RACE_ERRORS: [u16; 2] = [1213, 1205];

/// Server errors that mean it is going away or refusing connections: too many connections,
/// shutdown in progress, connection killed (MariaDB).
const UNREACHABLE_ERRORS: [u16; 3] = [1040, 1053, 1927];

fn error_number(db: &dyn sqlx::error::DatabaseError) -> Option<u16> {
    db.try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

impl DbError {
    fn database(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(db)) => Some(db.as_ref()),
            _ => None,
        }
    }

    /// A deadlock or lock wait timeout: running the transaction again may succeed.
    fn is_lost_race(&self) -> bool {
        self.database()
            .and_then(error_number)
            .is_some_and(|n| RACE_ERRORS.contains(&n))
    }

    /// A unique key another transaction took between our check and our write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        self.database()
            .is_some_and(|db| db.kind() == ErrorKind::UniqueViolation)
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
            Error::unavailable("the MySQL database is unreachable", err)
        }
        sqlx::Error::Database(db) => {
            let number = error_number(db.as_ref());
            if number.is_some_and(|n| RACE_ERRORS.contains(&n)) {
                Error::unavailable("the MySQL database is too busy; try again", db)
            } else if number.is_some_and(|n| UNREACHABLE_ERRORS.contains(&n)) {
                Error::unavailable("the MySQL database is unavailable", db)
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
