//! SQLite: `VACUUM INTO` a copy (one read transaction: a consistent snapshot while the server
//! keeps writing in WAL mode), then open the copy, run `PRAGMA integrity_check` and count its
//! rows. Restore puts a checked copy in place of the file.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

use pochi_store_sqlite::sqlx::{self, Connection, SqliteConnection, sqlite::SqliteConnectOptions};

use super::{BackupError, Dumped, IfShopExists, RowCounts};
use crate::{database::DEFAULT_SQLITE_FILE, settings::Database};

const BACKEND: &str = "sqlite";
/// The copy's name in a backup.
pub(super) const DUMP_FILE: &str = "database.sqlite";

/// The database file the server uses.
pub(super) fn file(database: &Database, data_dir: &Path) -> Result<PathBuf, BackupError> {
    match database {
        Database::Sqlite(url) => {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(BackupError::InMemory);
            }
            let options =
                SqliteConnectOptions::from_str(url).map_err(|e| BackupError::Unreachable {
                    backend: BACKEND,
                    reason: e.to_string(),
                })?;
            Ok(options.get_filename().to_owned())
        }
        _ => Ok(data_dir.join(DEFAULT_SQLITE_FILE)),
    }
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection, BackupError> {
    // Never create a file: a missing database is an error, not an empty shop.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| BackupError::Unreachable {
            backend: BACKEND,
            reason: format!("{}: {e}", path.display()),
        })
}

fn failed(context: &'static str) -> impl FnOnce(sqlx::Error) -> BackupError {
    move |e| BackupError::Database {
        backend: BACKEND,
        context,
        reason: e.to_string(),
    }
}

/// Rows of the counted tables, or `None` when the shop's tables are missing.
async fn rows(conn: &mut SqliteConnection) -> Result<Option<RowCounts>, BackupError> {
    let names = super::SHOP_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let tables: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({names})"
    ))
    .fetch_one(&mut *conn)
    .await
    .map_err(failed("looking for the shop's tables"))?;
    if usize::try_from(tables).ok() != Some(super::SHOP_TABLES.len()) {
        return Ok(None);
    }
    let row = sqlx::query(&super::count_query())
        .fetch_one(&mut *conn)
        .await
        .map_err(failed("counting rows"))?;
    super::row_counts(&row)
        .map(Some)
        .map_err(failed("counting rows"))
}

async fn integrity(conn: &mut SqliteConnection, what: &'static str) -> Result<(), BackupError> {
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut *conn)
        .await
        .map_err(failed("checking integrity"))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(BackupError::Verify {
            what,
            detail: format!("PRAGMA integrity_check: {verdict}"),
        })
    }
}

/// Copies the database at `source` into `dir`, checks the copy and counts its rows.
pub(super) async fn dump(source: &Path, dir: &Path) -> Result<Dumped, BackupError> {
    if !source.is_file() {
        return Err(BackupError::Empty {
            backend: BACKEND,
            detail: format!("no database file at {}", source.display()),
        });
    }
    let mut conn = open(source, false).await?;
    if rows(&mut conn).await?.is_none() {
        let _ = conn.close().await;
        return Err(BackupError::Empty {
            backend: BACKEND,
            detail: format!(
                "{} has no products, orders or payments table",
                source.display()
            ),
        });
    }
    let copy = dir.join(DUMP_FILE);
    let copy_name = copy.to_str().ok_or_else(|| BackupError::Io {
        context: "naming the copy",
        path: copy.clone(),
        source: std::io::Error::other("the backup directory's path is not UTF-8"),
    })?;
    sqlx::query("VACUUM INTO ?")
        .bind(copy_name)
        .execute(&mut conn)
        .await
        .map_err(failed("copying the database (VACUUM INTO)"))?;
    let _ = conn.close().await;

    let mut copied = open(&copy, true).await?;
    integrity(&mut copied, "backup").await?;
    let counts = rows(&mut copied)
        .await?
        .ok_or_else(|| BackupError::Verify {
            what: "backup",
            detail: "the copy has no shop tables".to_owned(),
        })?;
    let _ = copied.close().await;
    Ok(Dumped {
        file: DUMP_FILE,
        rows: counts,
    })
}

/// Puts a copy of the backup's database at `target` (refusing to replace a shop unless
/// asked), and returns the rows the restored file holds. The copy is checked (integrity and
/// `expected` rows) before it replaces anything.
pub(super) async fn restore(
    dump: &Path,
    target: &Path,
    if_exists: IfShopExists,
    expected: &RowCounts,
) -> Result<RowCounts, BackupError> {
    if target.is_file() {
        let mut conn = open(target, false).await?;
        let existing = rows(&mut conn).await?;
        let _ = conn.close().await;
        if let Some(existing) = existing {
            super::refuse_unless_replacing(BACKEND, &existing, if_exists)?;
        }
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::create_private_dir(parent)?;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| DEFAULT_SQLITE_FILE.to_owned());
    let staged = target.with_file_name(format!(".{name}.restoring-{}", super::random_suffix()));
    std::fs::copy(dump, &staged).map_err(BackupError::io("copying the database", &staged))?;
    let checked = async {
        let mut conn = open(&staged, false).await?;
        integrity(&mut conn, "backup's database").await?;
        let held = rows(&mut conn).await?.unwrap_or_default();
        conn.close().await.map_err(failed("closing the copy"))?;
        super::check_rows("backup's database", expected, &held)
    }
    .await;
    if let Err(err) = checked {
        let _ = std::fs::remove_file(&staged);
        return Err(err);
    }
    // The old file's write-ahead log must not be replayed onto the restored one.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(BackupError::io("removing the old write-ahead log", &side)(
                    e,
                ));
            }
            _ => {}
        }
    }
    std::fs::rename(&staged, target).map_err(BackupError::io("replacing the database", target))?;
    let mut conn = open(target, false).await?;
    let restored = rows(&mut conn).await?.unwrap_or_default();
    let _ = conn.close().await;
    Ok(restored)
}
