//! PostgreSQL: the rows are counted in a repeatable-read transaction whose snapshot is
//! exported, and `pg_dump --format=custom --snapshot` dumps that same snapshot; the dump is
//! then read back (`pg_restore --data-only`) and must hold exactly the rows counted. Restore
//! is `pg_restore --clean --if-exists --no-owner --no-privileges` in one transaction, into
//! the configured database (created first when it does not exist and the user may).
//!
//! The tools get host, port, user and database as arguments and the password in
//! `PGPASSWORD`, never on their command line.

use std::{io::BufRead, path::Path, process::Command};

use pochi_store_postgres::sqlx::{self, Connection, PgConnection, postgres::PgConnectOptions};

use super::{
    BackupError, Dumped, IfShopExists, RowCounts,
    tools::{self, Address},
};

const BACKEND: &str = "postgres";
/// The dump's name in a backup.
pub(super) const DUMP_FILE: &str = "database.pgdump";

/// Rows of the counted tables, or `None` when the shop's tables are missing.
async fn rows(
    conn: &mut PgConnection,
    address: &Address,
) -> Result<Option<RowCounts>, BackupError> {
    let checks: Vec<String> = super::SHOP_TABLES
        .iter()
        .map(|t| format!("to_regclass('{t}') IS NOT NULL"))
        .collect();
    let present: bool = sqlx::query_scalar(&format!("SELECT {}", checks.join(" AND ")))
        .fetch_one(&mut *conn)
        .await
        .map_err(address.failed("looking for the shop's tables"))?;
    if !present {
        return Ok(None);
    }
    let row = sqlx::query(&super::count_query())
        .fetch_one(&mut *conn)
        .await
        .map_err(address.failed("counting rows"))?;
    super::row_counts(&row)
        .map(Some)
        .map_err(address.failed("counting rows"))
}

/// A PostgreSQL tool with the connection in arguments and the password in its environment.
fn command(program: &Path, address: &Address) -> Command {
    let mut command = Command::new(program);
    if let Some(host) = &address.host {
        command.arg(format!("--host={host}"));
    }
    if let Some(port) = address.port {
        command.arg(format!("--port={port}"));
    }
    if let Some(user) = &address.user {
        command.arg(format!("--username={user}"));
    }
    command.arg("--no-password");
    command.env_remove("PGPASSWORD");
    if let Some(password) = &address.password {
        command.env("PGPASSWORD", password);
    }
    command.env("PGCONNECT_TIMEOUT", "15");
    if let Some(mode) = &address.sslmode {
        command.env("PGSSLMODE", mode);
    }
    command
}

/// Dumps the database into `dir` and checks the dump holds the rows counted in its snapshot.
pub(super) async fn dump(url: &str, dir: &Path) -> Result<Dumped, BackupError> {
    let address = Address::parse(url, BACKEND)?;
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| address.unreachable(&e))?;
    let (_, pg_dump) = tools::find(&["pg_dump"])?;
    let (_, pg_restore) = tools::find(&["pg_restore"])?;
    let mut conn = tools::connect(&options)
        .await
        .map_err(|e| address.unreachable(&e))?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut conn)
        .await
        .map_err(address.failed("starting a snapshot"))?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await
        .map_err(address.failed("exporting a snapshot"))?;
    let Some(counted) = rows(&mut conn, &address).await? else {
        let _ = conn.close().await;
        return Err(BackupError::Empty {
            backend: BACKEND,
            detail: format!(
                "database {} has no products, orders or payments table",
                address.database
            ),
        });
    };

    let file = dir.join(DUMP_FILE);
    let mut dump = command(&pg_dump, &address);
    dump.arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", file.display()))
        .arg(format!("--dbname={}", address.database));
    // The transaction holding the snapshot stays open while pg_dump runs.
    let dumped = tokio::task::spawn_blocking({
        let address = address.clone();
        move || tools::run("pg_dump", dump, &address).map(drop)
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool: "pg_dump",
        message: e.to_string(),
    })?;
    let _ = sqlx::query("COMMIT").execute(&mut conn).await;
    let _ = conn.close().await;
    dumped?;

    // Read the dump back: every counted row must be in it.
    let script = dir.join("verify.sql");
    let mut list = command(&pg_restore, &address);
    list.arg("--data-only")
        .arg(format!("--file={}", script.display()))
        .arg(&file);
    let in_dump = tokio::task::spawn_blocking({
        let address = address.clone();
        let script = script.clone();
        move || {
            tools::run("pg_restore", list, &address)?;
            copy_rows(&script)
        }
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool: "pg_restore",
        message: e.to_string(),
    })?;
    let _ = std::fs::remove_file(&script);
    let in_dump = in_dump?;
    super::check_rows("backup", &counted, &in_dump)?;
    Ok(Dumped {
        file: DUMP_FILE,
        rows: in_dump,
    })
}

/// Rows of the counted tables in a `pg_restore` script: the lines of each table's
/// `COPY … FROM stdin;` block (one line a row in COPY's text format) up to `\.`.
fn copy_rows(script: &Path) -> Result<RowCounts, BackupError> {
    let file =
        std::fs::File::open(script).map_err(BackupError::io("reading the dump back", script))?;
    let mut counts: RowCounts = super::COUNTED_TABLES
        .iter()
        .map(|t| ((*t).to_owned(), 0))
        .collect();
    let mut current: Option<String> = None;
    let mut line = Vec::new();
    let mut reader = std::io::BufReader::new(file);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(BackupError::io("reading the dump back", script))?;
        if read == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        match &current {
            Some(_) if text == "\\." => current = None,
            Some(table) => {
                if let Some(n) = counts.get_mut(table) {
                    *n += 1;
                }
            }
            None => {
                if let Some(rest) = text.strip_prefix("COPY ") {
                    let name = rest.split_whitespace().next().unwrap_or_default();
                    let table = name
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .trim_matches('"');
                    current = Some(table.to_owned());
                }
            }
        }
    }
    Ok(counts)
}

/// Restores the dump into the configured database; returns the rows it then holds. The dump
/// is read back first and must hold the `expected` rows, before the database is touched.
pub(super) async fn restore(
    url: &str,
    dump: &Path,
    if_exists: IfShopExists,
    expected: &RowCounts,
) -> Result<RowCounts, BackupError> {
    let address = Address::parse(url, BACKEND)?;
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| address.unreachable(&e))?;
    let (_, pg_restore) = tools::find(&["pg_restore"])?;
    let mut conn = match tools::connect(&options).await {
        Ok(conn) => conn,
        Err(e) if is_missing_database(&e) => {
            create_database(&options, &address).await?;
            tools::connect(&options)
                .await
                .map_err(|e| address.unreachable(&e))?
        }
        Err(e) => return Err(address.unreachable(&e)),
    };
    if let Some(existing) = rows(&mut conn, &address).await? {
        super::refuse_unless_replacing(BACKEND, &existing, if_exists)?;
    }

    // Read the dump (into a private temporary directory: it holds customers' data) and check
    // its rows before anything is dropped.
    let scratch = std::env::temp_dir().join(format!(".pochi-restore-{}", super::random_suffix()));
    super::create_private_dir(&scratch)?;
    let script = scratch.join("verify.sql");
    let mut list = command(&pg_restore, &address);
    list.arg("--data-only")
        .arg(format!("--file={}", script.display()))
        .arg(dump);
    let in_dump = tokio::task::spawn_blocking({
        let address = address.clone();
        let script = script.clone();
        move || {
            tools::run("pg_restore", list, &address)?;
            copy_rows(&script)
        }
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool: "pg_restore",
        message: e.to_string(),
    });
    let _ = std::fs::remove_dir_all(&scratch);
    super::check_rows("backup's dump", expected, &in_dump??)?;

    let mut restore = command(&pg_restore, &address);
    restore
        .args(["--clean", "--if-exists", "--no-owner", "--no-privileges"])
        .args(["--single-transaction", "--exit-on-error"])
        .arg(format!("--dbname={}", address.database))
        .arg(dump);
    tokio::task::spawn_blocking({
        let address = address.clone();
        move || tools::run("pg_restore", restore, &address).map(drop)
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool: "pg_restore",
        message: e.to_string(),
    })??;
    let restored = rows(&mut conn, &address).await?.unwrap_or_default();
    let _ = conn.close().await;
    Ok(restored)
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "3D000")
}

/// Creates the configured database (empty), connected to the `postgres` database as the
/// same user; says how to do it by hand when the user may not.
async fn create_database(options: &PgConnectOptions, address: &Address) -> Result<(), BackupError> {
    let by_hand = |reason: String| BackupError::Database {
        backend: BACKEND,
        context: "creating the missing database",
        reason: format!(
            "{reason}; create the empty database {} (owned by the shop's user) and run restore again",
            address.database
        ),
    };
    let mut admin: PgConnection = tools::connect(&options.clone().database("postgres"))
        .await
        .map_err(|e| by_hand(address.scrub(&e.to_string())))?;
    let quoted = format!("\"{}\"", address.database.replace('"', "\"\""));
    let created = sqlx::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    created
        .map(drop)
        .map_err(|e| by_hand(address.scrub(&e.to_string())))
}
