//! Backups that restore: `pochi-server backup` and `pochi-server restore`, reading the same
//! configuration as the server ([`Settings`]), so a backup is always of the shop the server
//! runs.
//!
//! A backup is one directory, `POCHI_BACKUP_DIR/pochi-YYYYMMDDTHHMMSSZ`, holding:
//!
//! - the database: a SQLite copy made with `VACUUM INTO` (a consistent snapshot while the
//!   server writes) and checked with `PRAGMA integrity_check`; a `pg_dump --format=custom`
//!   made in a snapshot the rows were counted in; or a `mariadb-dump`/`mysqldump
//!   --single-transaction` (gzip), one `INSERT` a row;
//! - `files.tar.gz`: the media directory (product images) and the few files the server keeps
//!   in its data directory (the generated admin's hash, the callback token, the demo mark);
//! - `manifest.json`: when, which backend, which Pochi version, and the rows of each table
//!   the dump was checked to hold.
//!
//! It is written under a temporary name and renamed once checked, so a directory named
//! `pochi-*` with a manifest is a complete backup. Retention removes complete backups older
//! than `POCHI_BACKUP_KEEP_DAYS`, never the newest, and runs only after a backup succeeded.
//!
//! Passwords never reach a command line: PostgreSQL's tools get `PGPASSWORD`, MySQL's
//! `MYSQL_PWD` (no file a killed run could leave behind). Errors never repeat the database URL or its
//! password.
//!
//! A database without the shop's tables (most often a wrong `POCHI_DATABASE_URL`), a SQLite
//! file that does not exist (it is never created) and an unreachable server are errors: the
//! backup fails loudly instead of saving an empty shop.

mod files;
mod mysql;
mod postgres;
mod sqlite;
mod tools;

use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime},
};

use pochi_store_sqlite::sqlx;
use rand::Rng;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

use crate::settings::{Database, Settings};

/// The tables whose rows a backup counts, checks in its dump and checks again after a restore.
pub const COUNTED_TABLES: &[&str] = &[
    "products",
    "orders",
    "order_lines",
    "order_timeline",
    "payments",
    "payment_reviews",
    "stock_adjustments",
    "outbox_events",
    "deliveries",
    "notification_opt_outs",
    "refunds",
];

/// The tables without which a database is not a Pochi shop.
const SHOP_TABLES: &[&str] = &["products", "orders", "payments"];

/// The manifest's file name in a backup.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The archive of media and data files in a backup.
const FILES_ARCHIVE: &str = "files.tar.gz";
/// The manifest format this version writes and reads.
const FORMAT: u32 = 1;

/// Rows per table.
pub type RowCounts = BTreeMap<String, u64>;

/// Why a backup or restore failed. Messages are one line and never hold the database URL or
/// its password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A server runs on the data directory the restore would replace.
    #[error(
        "a pochi-server is running on {} (it holds {}): stop it first (systemctl stop pochi.socket pochi)",
        data_dir.display(), lock.display()
    )]
    ServerRunning {
        /// The data directory.
        data_dir: PathBuf,
        /// The lock file the server holds.
        lock: PathBuf,
    },
    /// The backup directory is inside the data or media directory.
    #[error(
        "POCHI_BACKUP_DIR ({}) is inside the {what} directory ({}): a backup must survive the loss of the data it saves; choose a directory outside it",
        backup_dir.display(), inside.display()
    )]
    InsideDataDir {
        /// The backup directory.
        backup_dir: PathBuf,
        /// `data` or `media`.
        what: &'static str,
        /// The directory it is inside.
        inside: PathBuf,
    },
    /// The database lives in memory: there is nothing on disk to save or replace.
    #[error(
        "POCHI_DATABASE_URL names an in-memory SQLite database: there is nothing to back up or restore"
    )]
    InMemory,
    /// The database server could not be reached or refused the login.
    #[error(
        "the {backend} database cannot be reached (check POCHI_DATABASE_URL and that the server runs): {reason}"
    )]
    Unreachable {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// What the connection attempt said.
        reason: String,
    },
    /// The database holds no shop: most likely POCHI_DATABASE_URL names another database.
    #[error(
        "the {backend} database holds no Pochi shop ({detail}): is POCHI_DATABASE_URL the server's? Nothing was backed up"
    )]
    Empty {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// What is missing.
        detail: String,
    },
    /// A dump or restore tool is missing or failed.
    #[error("{tool} failed: {message}")]
    Tool {
        /// The tool (`pg_dump`, `mariadb-dump`, …).
        tool: &'static str,
        /// Its last words (scrubbed of the password).
        message: String,
    },
    /// A check of the dump, copy or restored database failed.
    #[error("the {what} does not hold what it should: {detail}")]
    Verify {
        /// What was checked (`backup`, `restored database`, …).
        what: &'static str,
        /// The difference.
        detail: String,
    },
    /// The database answered a query with an error.
    #[error("the {backend} database failed while {context}: {reason}")]
    Database {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// What was being done.
        context: &'static str,
        /// What the database said.
        reason: String,
    },
    /// The path given to restore is not a backup this version can read.
    #[error("{} is not a Pochi backup: {reason}", path.display())]
    NotABackup {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The backup is of another kind of database than the one configured.
    #[error("the backup is of a {backup} database but POCHI_DATABASE_URL names a {target} one")]
    OtherBackend {
        /// The backup's backend.
        backup: String,
        /// The configured backend.
        target: &'static str,
    },
    /// The target database already holds a shop and `--force` was not given.
    #[error(
        "the {backend} database already holds a shop ({products} products, {orders} orders, {payments} payments); stop the server and run `pochi-server restore --force BACKUP` to replace it"
    )]
    TargetHoldsShop {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// Its products.
        products: u64,
        /// Its orders.
        orders: u64,
        /// Its payments.
        payments: u64,
    },
    /// A backup was written but old ones could not be removed.
    #[error("the backup {} was written, but old backups could not be removed: {source}", written.display())]
    Retention {
        /// The backup just written.
        written: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file could not be read or written.
    #[error("{context} ({}): {source}", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl BackupError {
    pub(crate) fn io(
        context: &'static str,
        path: &Path,
    ) -> impl FnOnce(io::Error) -> BackupError + use<> {
        let path = path.to_owned();
        move |source| BackupError::Io {
            context,
            path,
            source,
        }
    }
}

/// What a backup holds, written beside it as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// The manifest's format (1).
    pub format: u32,
    /// The version of Pochi that wrote it.
    pub pochi_version: String,
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: String,
    /// When the backup was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The database dump's file name in the backup.
    pub database_file: String,
    /// Rows of each of [`COUNTED_TABLES`] the dump holds.
    pub rows: RowCounts,
    /// The archive of media and data files.
    pub files_archive: String,
    /// Media files (product images) in the archive.
    pub media_files: u64,
    /// Their bytes.
    pub media_bytes: u64,
}

impl Manifest {
    /// Reads the manifest of the backup in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, BackupError> {
        let path = dir.join(MANIFEST_FILE);
        let not_a_backup = |reason: String| BackupError::NotABackup {
            path: dir.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| not_a_backup(format!("cannot read {MANIFEST_FILE}: {e}")))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| not_a_backup(format!("{MANIFEST_FILE}: {e}")))?;
        if manifest.format != FORMAT {
            return Err(not_a_backup(format!(
                "manifest format {} (this version reads {FORMAT})",
                manifest.format
            )));
        }
        Ok(manifest)
    }

    fn created(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.created_at, &Rfc3339).ok()
    }
}

/// A backup written.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackupReport {
    /// Its directory.
    pub path: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
    /// Older backups removed by retention.
    pub removed: Vec<PathBuf>,
    /// How long it took.
    pub took: Duration,
}

/// A restore done.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RestoreReport {
    /// The backup's manifest (its rows are what the restored database was checked to hold).
    pub manifest: Manifest,
    /// How long it took.
    pub took: Duration,
}

/// What restore does when the target database already holds a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IfShopExists {
    /// Refuse ([`BackupError::TargetHoldsShop`]): the default.
    Refuse,
    /// Replace it (`--force`).
    Replace,
}

/// A dumped database: its file in the backup and the rows it was checked to hold.
struct Dumped {
    file: &'static str,
    rows: RowCounts,
}

/// Backs up the shop `settings` configure into a new directory under `POCHI_BACKUP_DIR`,
/// checks it, then removes backups older than `POCHI_BACKUP_KEEP_DAYS` (never the newest).
pub async fn backup(settings: &Settings) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let dest = destination(settings)?;
    let now = OffsetDateTime::now_utc();
    let stamp = now
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| BackupError::Io {
            context: "formatting the time",
            path: dest.clone(),
            source: io::Error::other(e),
        })?;
    let partial = dest.join(format!(".partial-pochi-{stamp}-{}", random_suffix()));
    create_private_dir(&partial)?;
    let written = write_backup(settings, &partial, now).await;
    let manifest = match written.and_then(|manifest| {
        fewer_rows_than_before(&dest, &manifest)?;
        Ok(manifest)
    }) {
        Ok(manifest) => manifest,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(err);
        }
    };
    let mut path = dest.join(format!("pochi-{stamp}"));
    if path.exists() {
        path = dest.join(format!("pochi-{stamp}-{}", random_suffix()));
    }
    std::fs::rename(&partial, &path).map_err(BackupError::io("completing the backup", &path))?;
    sync_dir(&dest);
    let removed = prune(&dest, settings.backup_keep_days, SystemTime::now()).map_err(|source| {
        BackupError::Retention {
            written: path.clone(),
            source,
        }
    })?;
    Ok(BackupReport {
        path,
        manifest,
        removed,
        took: started.elapsed(),
    })
}

async fn write_backup(
    settings: &Settings,
    partial: &Path,
    now: OffsetDateTime,
) -> Result<Manifest, BackupError> {
    let dumped = match &settings.database {
        Database::DefaultSqlite | Database::Sqlite(_) => {
            let source = sqlite::file(&settings.database, &settings.data_dir)?;
            sqlite::dump(&source, partial).await?
        }
        Database::Postgres(url) => postgres::dump(url, partial).await?,
        Database::MySql(url) => mysql::dump(url, partial).await?,
    };
    let archive = partial.join(FILES_ARCHIVE);
    let (media_dir, data_dir) = (settings.media_dir.clone(), settings.data_dir.clone());
    let media = blocking(move || files::archive(&media_dir, &data_dir, &archive)).await?;
    let manifest = Manifest {
        format: FORMAT,
        pochi_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: settings.database.kind().to_owned(),
        created_at: now.format(&Rfc3339).map_err(|e| BackupError::Io {
            context: "formatting the time",
            path: partial.to_owned(),
            source: io::Error::other(e),
        })?,
        database_file: dumped.file.to_owned(),
        rows: dumped.rows,
        files_archive: FILES_ARCHIVE.to_owned(),
        media_files: media.files,
        media_bytes: media.bytes,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| BackupError::Io {
        context: "writing the manifest",
        path: partial.to_owned(),
        source: io::Error::other(e),
    })?;
    tools::write_synced(&partial.join(MANIFEST_FILE), text.as_bytes())?;
    sync_dir(partial);
    Ok(manifest)
}

/// Restores the backup in `from` into the database and directories `settings` configure,
/// then checks the database holds the rows the manifest lists. Run it with the server
/// stopped.
pub async fn restore(
    settings: &Settings,
    from: &Path,
    if_exists: IfShopExists,
) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    create_private_dir(&settings.data_dir)?;
    let _lock = crate::datadir::lock(&settings.data_dir, true)
        .map_err(BackupError::io(
            "locking the data directory",
            &settings.data_dir,
        ))?
        .ok_or_else(|| BackupError::ServerRunning {
            data_dir: settings.data_dir.clone(),
            lock: settings.data_dir.join(crate::datadir::LOCK_FILE),
        })?;
    let manifest = Manifest::read(from)?;
    let target = settings.database.kind();
    if manifest.backend != target {
        return Err(BackupError::OtherBackend {
            backup: manifest.backend,
            target,
        });
    }
    // The manifest names its files; only the names a backup of this kind writes are taken (a
    // path elsewhere would make restore read any file as the dump).
    let dump_file = match &settings.database {
        Database::DefaultSqlite | Database::Sqlite(_) => sqlite::DUMP_FILE,
        Database::Postgres(_) => postgres::DUMP_FILE,
        Database::MySql(_) => mysql::DUMP_FILE,
    };
    if manifest.database_file != dump_file || manifest.files_archive != FILES_ARCHIVE {
        return Err(BackupError::NotABackup {
            path: from.to_owned(),
            reason: format!("its manifest names files other than {dump_file} and {FILES_ARCHIVE}"),
        });
    }
    let dump = from.join(dump_file);
    let archive = from.join(FILES_ARCHIVE);
    for file in [&dump, &archive] {
        if !file.is_file() {
            return Err(BackupError::NotABackup {
                path: from.to_owned(),
                reason: format!("{} is missing", file.display()),
            });
        }
    }
    // The files first, unpacked and counted aside: nothing live changes unless they and the
    // database's dump hold what the manifest lists.
    let staged = {
        let (archive, media_dir) = (archive.clone(), settings.media_dir.clone());
        blocking(move || files::stage(&archive, &media_dir)).await?
    };
    if (staged.media.files, staged.media.bytes) != (manifest.media_files, manifest.media_bytes) {
        return Err(BackupError::Verify {
            what: "backup's media",
            detail: format!(
                "{} files of {} bytes, the manifest lists {} files of {} bytes",
                staged.media.files, staged.media.bytes, manifest.media_files, manifest.media_bytes
            ),
        });
    }
    let rows = match &settings.database {
        Database::DefaultSqlite | Database::Sqlite(_) => {
            let file = sqlite::file(&settings.database, &settings.data_dir)?;
            sqlite::restore(&dump, &file, if_exists, &manifest.rows).await?
        }
        Database::Postgres(url) => postgres::restore(url, &dump, if_exists, &manifest.rows).await?,
        Database::MySql(url) => mysql::restore(url, &dump, if_exists, &manifest.rows).await?,
    };
    check_rows("restored database", &manifest.rows, &rows)?;
    let (media_dir, data_dir) = (settings.media_dir.clone(), settings.data_dir.clone());
    let media = blocking(move || {
        files::install(&staged, &media_dir, &data_dir)?;
        drop(staged);
        files::tally(&media_dir)
    })
    .await?;
    if (media.files, media.bytes) != (manifest.media_files, manifest.media_bytes) {
        return Err(BackupError::Verify {
            what: "restored media",
            detail: format!(
                "{} files of {} bytes, the manifest lists {} files of {} bytes",
                media.files, media.bytes, manifest.media_files, manifest.media_bytes
            ),
        });
    }
    Ok(RestoreReport {
        manifest,
        took: started.elapsed(),
    })
}

/// Refuses a backup holding fewer orders or payments than a complete backup already in `dir`:
/// the shop never deletes either, so the database is most likely not the shop's (a wrong
/// `POCHI_DATABASE_URL`, a fresh empty database), and retention would go on to delete the
/// real backups. The largest counts are taken, not the newest backup's, so a clock that
/// jumped cannot hide one.
fn fewer_rows_than_before(dir: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let complete = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("pochi-"));
        let Some(earlier) = complete.then(|| Manifest::read(&path).ok()).flatten() else {
            continue;
        };
        if earlier.backend != manifest.backend {
            continue;
        }
        for table in APPEND_ONLY_COUNTED {
            let before = earlier.rows.get(table).copied().unwrap_or(0);
            let now = manifest.rows.get(table).copied().unwrap_or(0);
            if now < before {
                return Err(BackupError::Verify {
                    what: "backup",
                    detail: format!(
                        "the database holds {now} {table}, fewer than the {before} of {}: the shop \
                         never deletes {table}, so POCHI_DATABASE_URL most likely names another \
                         database. Nothing was written or pruned; to back this database up \
                         anyway, move the older backups out of {}",
                        path.display(),
                        dir.display()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Tables the shop only ever adds rows to.
const APPEND_ONLY_COUNTED: [&str; 2] = ["orders", "payments"];

/// Removes the complete backups in `dir` taken more than `keep_days` days before `now`,
/// except the newest complete one, and leftovers of interrupted backups (`.partial-*`) older
/// than a day. Directories without a readable manifest are not backups: they are neither
/// counted nor removed. Returns what was removed.
pub fn prune(dir: &Path, keep_days: u32, now: SystemTime) -> io::Result<Vec<PathBuf>> {
    let now = OffsetDateTime::from(now);
    let cutoff = now - time::Duration::days(i64::from(keep_days));
    let mut complete = Vec::new();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            continue;
        }
        if name.starts_with(".partial-pochi-") {
            let modified = entry.metadata()?.modified()?;
            if OffsetDateTime::from(modified) < now - time::Duration::days(1) {
                std::fs::remove_dir_all(&path)?;
                removed.push(path);
            }
        } else if name.starts_with("pochi-") {
            if let Some(created) = Manifest::read(&path).ok().and_then(|m| m.created()) {
                complete.push((created, path));
            }
        }
    }
    complete.sort();
    // The newest complete backup stays, however old: it may be the last good one.
    complete.pop();
    for (created, path) in complete {
        if created < cutoff {
            std::fs::remove_dir_all(&path)?;
            removed.push(path);
        }
    }
    sync_dir(dir);
    Ok(removed)
}

/// The backup directory, created (mode 0700), refused inside the data or media directory.
fn destination(settings: &Settings) -> Result<PathBuf, BackupError> {
    let backup_dir = resolved(&settings.backup_dir);
    for (what, dir) in [("data", &settings.data_dir), ("media", &settings.media_dir)] {
        let inside = resolved(dir);
        if backup_dir.starts_with(&inside) {
            return Err(BackupError::InsideDataDir {
                backup_dir: settings.backup_dir.clone(),
                what,
                inside: dir.clone(),
            });
        }
    }
    if !backup_dir.is_dir() {
        create_private_dir(&backup_dir)?;
    }
    Ok(backup_dir)
}

/// `path` made absolute with symbolic links resolved as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Fails unless `actual` has exactly the rows of `expected`.
pub(crate) fn check_rows(
    what: &'static str,
    expected: &RowCounts,
    actual: &RowCounts,
) -> Result<(), BackupError> {
    let differences: Vec<String> = COUNTED_TABLES
        .iter()
        .filter_map(|table| {
            let want = expected.get(*table).copied().unwrap_or(0);
            let got = actual.get(*table).copied().unwrap_or(0);
            (want != got).then(|| format!("{table}: {got} rows, expected {want}"))
        })
        .collect();
    if differences.is_empty() {
        Ok(())
    } else {
        Err(BackupError::Verify {
            what,
            detail: differences.join(", "),
        })
    }
}

/// The query that counts every table of [`COUNTED_TABLES`] in one statement (one snapshot).
pub(crate) fn count_query() -> String {
    let columns: Vec<String> = COUNTED_TABLES
        .iter()
        .map(|t| format!("(SELECT COUNT(*) FROM {t})"))
        .collect();
    format!("SELECT {}", columns.join(", "))
}

/// The counts of a row answering [`count_query`], by table.
pub(crate) fn row_counts<R>(row: &R) -> Result<RowCounts, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    COUNTED_TABLES
        .iter()
        .enumerate()
        .map(|(i, table)| {
            let n: i64 = row.try_get(i)?;
            Ok(((*table).to_owned(), u64::try_from(n).unwrap_or(0)))
        })
        .collect()
}

/// Refuses to replace a database that holds a shop unless asked to.
pub(crate) fn refuse_unless_replacing(
    backend: &'static str,
    rows: &RowCounts,
    if_exists: IfShopExists,
) -> Result<(), BackupError> {
    let count = |t: &str| rows.get(t).copied().unwrap_or(0);
    let (products, orders, payments) = (count("products"), count("orders"), count("payments"));
    if if_exists == IfShopExists::Refuse && products + orders + payments > 0 {
        return Err(BackupError::TargetHoldsShop {
            backend,
            products,
            orders,
            payments,
        });
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(BackupError::io("creating a directory", dir))
}

/// Makes a rename or removal in `dir` durable (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

fn random_suffix() -> String {
    format!("{:08x}", rand::thread_rng().r#gen::<u32>())
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackupError::Io {
            context: "running a backup step",
            path: PathBuf::new(),
            source: io::Error::other(e),
        })?
}
