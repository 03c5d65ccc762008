//! The store the database URL picks: SQLite (a file in the data directory by default),
//! PostgreSQL or MySQL, connected and migrated.
//!
//! For a SQLite file the server keeps the store's pool (`SqliteStore::pool`), so that
//! shutdown can close it: closing the last connection checkpoints the WAL into the database
//! file, which then stands alone (for backups and copies). The server stores' pools close when
//! the last handle is dropped.

use std::{path::Path, sync::Arc};

use pochi_core::{Error, Store};
use pochi_store_mysql::MySqlStore;
use pochi_store_postgres::PostgresStore;
use pochi_store_sqlite::{
    SqliteStore,
    sqlx::{SqlitePool, query as sqlx_query},
};

use crate::{StartError, settings::Database};

/// The SQLite file used when no database URL is set.
pub(crate) const DEFAULT_SQLITE_FILE: &str = "pochi.db";

/// An open, migrated store, and what closes it on shutdown.
#[derive(Debug)]
pub(crate) struct OpenStore {
    pub(crate) store: Arc<dyn Store>,
    sqlite_pool: Option<SqlitePool>,
}

impl OpenStore {
    /// Closes the connections (waits for those in use to be returned). A SQLite file's
    /// write-ahead log is first checkpointed into the database file and truncated, so the
    /// file stands alone even if a connection's close races the last one.
    pub(crate) async fn close(self) {
        if let Some(pool) = self.sqlite_pool {
            if let Err(err) = sqlx_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %err, "could not checkpoint the SQLite write-ahead log");
            }
            pool.close().await;
        }
    }
}

/// Connects to the store and brings its schema up to date (safe on every start).
pub(crate) async fn open(database: &Database, data_dir: &Path) -> Result<OpenStore, StartError> {
    let failed = |source| StartError::Database {
        backend: database.kind(),
        source,
    };
    let mut sqlite_pool = None;
    let store: Arc<dyn Store> = match database {
        Database::DefaultSqlite => {
            let store = SqliteStore::open(data_dir.join(DEFAULT_SQLITE_FILE))
                .await
                .map_err(failed)?;
            sqlite_pool = Some(store.pool().clone());
            migrated_sqlite(store).await.map_err(failed)?
        }
        Database::Sqlite(url) => {
            let store = SqliteStore::connect(url).await.map_err(failed)?;
            if !is_memory(url) {
                sqlite_pool = Some(store.pool().clone());
            }
            migrated_sqlite(store).await.map_err(failed)?
        }
        Database::Postgres(url) => {
            let store = PostgresStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Arc::new(store)
        }
        Database::MySql(url) => {
            let store = MySqlStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Arc::new(store)
        }
    };
    Ok(OpenStore { store, sqlite_pool })
}

async fn migrated_sqlite(store: SqliteStore) -> Result<Arc<dyn Store>, Error> {
    store.migrate().await?;
    Ok(Arc::new(store))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
