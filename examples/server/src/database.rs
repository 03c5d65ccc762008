//! The store the database URL picks: SQLite (a file in the data directory by default),
//! PostgreSQL or MySQL, connected and migrated.

use std::{path::Path, sync::Arc};

use pochi_core::Store;
use pochi_store_mysql::MySqlStore;
use pochi_store_postgres::PostgresStore;
use pochi_store_sqlite::SqliteStore;

use crate::{StartError, settings::Database};

/// The SQLite file used when no database URL is set.
pub(crate) const DEFAULT_SQLITE_FILE: &str = "pochi.db";

/// Connects to the store and brings its schema up to date (safe on every start).
pub(crate) async fn open(
    database: &Database,
    data_dir: &Path,
) -> Result<Arc<dyn Store>, StartError> {
    let failed = |source| StartError::Database {
        backend: database.kind(),
        source,
    };
    let store: Arc<dyn Store> = match database {
        Database::DefaultSqlite => {
            let store = SqliteStore::open(data_dir.join(DEFAULT_SQLITE_FILE))
                .await
                .map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Arc::new(store)
        }
        Database::Sqlite(url) => {
            let store = SqliteStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Arc::new(store)
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
    Ok(store)
}
