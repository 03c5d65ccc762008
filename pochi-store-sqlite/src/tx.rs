//! The two kinds of transaction every store method runs in.
//!
//! They are macros rather than functions taking a closure: a closure that borrows the
//! connection and the method's arguments cannot be proven `Send` for every lifetime, which
//! `async_trait` requires of the method's future.

use std::time::Duration;

use sqlx::{Sqlite, Transaction};

use crate::error::Failure;

/// How many times a transaction is tried when other writers keep the database locked.
pub(crate) const ATTEMPTS: u32 = 3;

/// Runs `$body`, an expression of type `impl Future<Output = Result<T, Failure>>` that uses
/// `$conn: &mut SqliteConnection`, in a write transaction of `$store`.
///
/// Writers of this process take turns on the store's lock; each turn begins with
/// `BEGIN IMMEDIATE` (taking SQLite's write lock up front, waiting up to `busy_timeout` for
/// other processes), commits if `$body` succeeds and rolls back if it fails. A transaction
/// that found the database locked is run again, [`ATTEMPTS`] times in all. Evaluates to
/// `pochi_core::Result<T>`.
macro_rules! write_tx {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let store: &$crate::SqliteStore = $store;
        run_tx!(
            Some(store.writers.lock().await),
            store.pool.begin_with("BEGIN IMMEDIATE"),
            |$conn| $body
        )
    }};
}

/// Runs `$body` (as in [`write_tx!`]) in a read transaction: every statement sees one
/// snapshot, and in WAL mode it never waits for writers.
macro_rules! read_tx {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let store: &$crate::SqliteStore = $store;
        run_tx!(None::<()>, store.pool.begin(), |$conn| $body)
    }};
}

/// The loop of both: holding `$turn`, begins with `$begin`, runs `$body`, finishes; runs it
/// all again while the database was locked.
macro_rules! run_tx {
    ($turn:expr, $begin:expr, |$conn:ident| $body:expr) => {{
        let mut attempt = 1;
        loop {
            let outcome = {
                let _turn = $turn;
                match $begin.await {
                    Ok(mut tx) => {
                        let outcome = {
                            let $conn: &mut ::sqlx::SqliteConnection = &mut tx;
                            $body.await
                        };
                        $crate::tx::finish(tx, outcome).await
                    }
                    Err(err) => Err($crate::error::Failure::from(err)),
                }
            };
            match outcome {
                Err(failure) if failure.is_busy() && attempt < $crate::tx::ATTEMPTS => {
                    attempt += 1;
                    $crate::tx::back_off(attempt).await;
                }
                outcome => break outcome.map_err(::pochi_core::Error::from),
            }
        }
    }};
}

/// Commits when `outcome` is a success, rolls back when it is a failure.
pub(crate) async fn finish<T>(
    tx: Transaction<'static, Sqlite>,
    outcome: Result<T, Failure>,
) -> Result<T, Failure> {
    match outcome {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(failure) => {
            // Roll back now, before the next writer's turn. Should this fail, dropping the
            // transaction rolls back when the connection is next used.
            let _ = tx.rollback().await;
            Err(failure)
        }
    }
}

/// A short pause before trying a locked-out transaction again.
pub(crate) async fn back_off(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(25 * u64::from(attempt))).await;
}
