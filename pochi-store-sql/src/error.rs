//! How database failures become `pochi_core::Error` kinds, and the retry of transactions that
//! lost a race.

use std::{future::Future, marker::PhantomData, time::Duration};

use pochi_core::{ConflictReason, Error, Result};
use rand::Rng;
use sqlx::error::ErrorKind;

use crate::dialect::{Dialect, Failure};

/// Transactions that deadlock, fail to serialize or hit a unique key another transaction just
/// took are run again from the start this many times in all.
const ATTEMPTS: u32 = 8;

/// A failure inside one attempt of a store method on `D`.
#[derive(Debug)]
pub(crate) enum DbError<D> {
    /// The database said no (or could not be reached).
    Sqlx(sqlx::Error, PhantomData<D>),
    /// A decision of the shop (not found, conflict, out of stock …), final.
    Core(Error),
}

pub(crate) type DbResult<T, D> = std::result::Result<T, DbError<D>>;

impl<D> From<sqlx::Error> for DbError<D> {
    fn from(err: sqlx::Error) -> Self {
        DbError::Sqlx(err, PhantomData)
    }
}

impl<D> From<Error> for DbError<D> {
    fn from(err: Error) -> Self {
        DbError::Core(err)
    }
}

impl<D: Dialect> DbError<D> {
    fn database(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(db), _) => Some(db.as_ref()),
            _ => None,
        }
    }

    /// A deadlock, serialization failure or lock wait timeout: running the transaction again
    /// may succeed.
    fn is_lost_race(&self) -> bool {
        self.database()
            .is_some_and(|db| D::failure(db) == Some(Failure::LostRace))
    }

    /// A unique key another transaction took between our check and our write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        self.database()
            .is_some_and(|db| db.kind() == ErrorKind::UniqueViolation)
    }

    /// The name of the violated constraint, when the database reports it (PostgreSQL does;
    /// MySQL does not).
    pub(crate) fn constraint(&self) -> Option<&str> {
        self.database().and_then(|db| db.constraint())
    }

    pub(crate) fn into_core(self) -> Error {
        match self {
            DbError::Core(err) => err,
            DbError::Sqlx(err, _) => from_sqlx::<D>(err),
        }
    }
}

impl<D: Dialect> From<DbError<D>> for Error {
    fn from(err: DbError<D>) -> Self {
        err.into_core()
    }
}

/// Maps a driver error to the kind the shop acts on. Messages never carry the database URL.
pub(crate) fn from_sqlx<D: Dialect>(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => {
            Error::unavailable(format!("the {} database is unreachable", D::DATABASE), err)
        }
        sqlx::Error::Database(db) => match D::failure(db.as_ref()) {
            Some(Failure::LostRace) => Error::unavailable(
                format!("the {} database is too busy; try again", D::DATABASE),
                db,
            ),
            Some(Failure::Unreachable) => {
                Error::unavailable(format!("the {} database is unavailable", D::DATABASE), db)
            }
            Some(Failure::StorageFull) => Error::storage_full(
                format!("the disk of the {} database is full", D::DATABASE),
                db,
            ),
            None if db.kind() == ErrorKind::UniqueViolation => {
                // Never reported as success: whatever key it was, the write did not happen.
                Error::conflict(
                    ConflictReason::AlreadyExists,
                    "a record with the same identity exists",
                )
            }
            None => Error::backend(D::CONTEXT, db),
        },
        other => Error::backend(D::CONTEXT, other),
    }
}

/// Runs `attempt` (one whole transaction) until it succeeds, fails for a reason of the shop's,
/// or has lost a race [`ATTEMPTS`] times.
///
/// A unique-key violation is retried too: every method checks its keys inside the transaction
/// first, so the next attempt sees the row that won and answers as the contract says (a
/// replay, a duplicate, a conflict).
pub(crate) async fn retrying<D, T, F, Fut>(mut attempt: F) -> Result<T>
where
    D: Dialect,
    F: FnMut() -> Fut,
    Fut: Future<Output = DbResult<T, D>>,
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
pub(crate) fn corrupt<D: Dialect>(
    what: &'static str,
    detail: impl std::fmt::Display,
) -> DbError<D> {
    DbError::Core(Error::backend(
        D::CONTEXT,
        format!("unreadable {what} in the database: {detail}"),
    ))
}
