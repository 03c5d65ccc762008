//! MySQL and MariaDB: `mariadb-dump` (or `mysqldump`) `--single-transaction` (one consistent
//! snapshot, no locks), one `INSERT` a row (`--skip-extended-insert`) so the rows the dump
//! holds can be counted from its lines, binary ids in hex; gzip-compressed in process. The
//! dump's snapshot is not one the server can share, so the check is that it holds at least
//! the rows counted just before it began (the shop never deletes orders, their lines,
//! timelines or payments). Restore pipes the dump into `mariadb` (or `mysql`), creating the
//! database first when it does not exist and the user may.
//!
//! The tools get host, port, user and database as arguments and the password in their
//! environment (`MYSQL_PWD`); never on a command line, never in a file.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
};

use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use pochi_store_mysql::sqlx::{
    self, Connection, MySqlConnection,
    mysql::{MySqlConnectOptions, MySqlDatabaseError},
};

use super::{
    BackupError, Dumped, IfShopExists, RowCounts,
    tools::{self, Address},
};

const BACKEND: &str = "mysql";
/// The dump's name in a backup.
pub(super) const DUMP_FILE: &str = "database.sql.gz";
/// Tables rows are never deleted from: the dump must hold at least what was counted before.
const APPEND_ONLY: &[&str] = &[
    "orders",
    "order_lines",
    "order_timeline",
    "payments",
    "payment_reviews",
    "stock_adjustments",
];

/// Rows of the counted tables, or `None` when the shop's tables are missing.
async fn rows(
    conn: &mut MySqlConnection,
    address: &Address,
) -> Result<Option<RowCounts>, BackupError> {
    let names = super::SHOP_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let tables: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name IN ({names})"
    ))
    .fetch_one(&mut *conn)
    .await
    .map_err(address.failed("looking for the shop's tables"))?;
    if usize::try_from(tables).ok() != Some(super::SHOP_TABLES.len()) {
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

/// A MySQL client tool with the connection's arguments; the password goes in its environment
/// (`MYSQL_PWD`, as `PGPASSWORD` for PostgreSQL's tools): never on the command line, and no
/// file that a killed run could leave behind.
fn command(program: &Path, address: &Address) -> Command {
    let mut command = Command::new(program);
    command.arg("--protocol=TCP");
    command.arg(format!(
        "--host={}",
        address.host.as_deref().unwrap_or("localhost")
    ));
    command.arg(format!("--port={}", address.port.unwrap_or(3306)));
    if let Some(user) = &address.user {
        command.arg(format!("--user={user}"));
    }
    command.arg("--default-character-set=utf8mb4");
    match &address.password {
        Some(password) => command.env("MYSQL_PWD", password),
        None => command.env_remove("MYSQL_PWD"),
    };
    command
}

/// Dumps the database into `dir` (gzip) and checks the dump holds the shop's rows.
pub(super) async fn dump(url: &str, dir: &Path) -> Result<Dumped, BackupError> {
    let address = Address::parse(url, BACKEND)?;
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| address.unreachable(&e))?;
    let (tool, program) = tools::find(&["mariadb-dump", "mysqldump"])?;
    let mut conn = tools::connect(&options)
        .await
        .map_err(|e| address.unreachable(&e))?;
    let before = rows(&mut conn, &address).await?;
    let _ = conn.close().await;
    let Some(before) = before else {
        return Err(BackupError::Empty {
            backend: BACKEND,
            detail: format!(
                "database {} has no products, orders or payments table",
                address.database
            ),
        });
    };

    let dir = dir.to_owned();
    let in_dump = tokio::task::spawn_blocking(move || {
        let raw = dir.join("database.sql");
        let mut dump = command(&program, &address);
        dump.args([
            "--single-transaction",
            "--skip-extended-insert",
            "--hex-blob",
            "--no-tablespaces",
            "--skip-lock-tables",
        ])
        .arg(format!("--result-file={}", raw.display()))
        .arg(&address.database);
        tools::run(tool, dump, &address)?;
        let counted = compress_counting(&raw, &dir.join(DUMP_FILE));
        let _ = std::fs::remove_file(&raw);
        counted
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool,
        message: e.to_string(),
    })??;

    let short: Vec<String> = APPEND_ONLY
        .iter()
        .filter_map(|table| {
            let counted = before.get(*table).copied().unwrap_or(0);
            let dumped = in_dump.get(*table).copied().unwrap_or(0);
            (dumped < counted).then(|| format!("{table}: {dumped} rows, {counted} before the dump"))
        })
        .collect();
    if !short.is_empty() {
        return Err(BackupError::Verify {
            what: "backup",
            detail: short.join(", "),
        });
    }
    Ok(Dumped {
        file: DUMP_FILE,
        rows: in_dump,
    })
}

/// Compresses the dump at `raw` into `gz`, counting the rows of each counted table (lines
/// ``INSERT INTO `table` VALUES``).
fn compress_counting(raw: &Path, gz: &Path) -> Result<RowCounts, BackupError> {
    let input = std::fs::File::open(raw).map_err(BackupError::io("reading the dump", raw))?;
    let output = std::fs::File::create(gz).map_err(BackupError::io("writing the dump", gz))?;
    let mut encoder = GzEncoder::new(std::io::BufWriter::new(output), Compression::default());
    let mut rows = InsertCounter::new();
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(BackupError::io("reading the dump", raw))?;
        if read == 0 {
            break;
        }
        rows.line(&line);
        encoder
            .write_all(&line)
            .map_err(BackupError::io("writing the dump", gz))?;
    }
    let file = encoder
        .finish()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(BackupError::io("writing the dump", gz))?;
    file.sync_all()
        .map_err(BackupError::io("writing the dump", gz))?;
    Ok(rows.counts)
}

/// Counts the rows of each counted table in a dump's lines (``INSERT INTO `table` VALUES``,
/// one a row with `--skip-extended-insert`).
struct InsertCounter {
    prefixes: Vec<(String, &'static str)>,
    counts: RowCounts,
}

impl InsertCounter {
    fn new() -> Self {
        InsertCounter {
            prefixes: super::COUNTED_TABLES
                .iter()
                .map(|t| (format!("INSERT INTO `{t}` VALUES "), *t))
                .collect(),
            counts: super::COUNTED_TABLES
                .iter()
                .map(|t| ((*t).to_owned(), 0))
                .collect(),
        }
    }

    fn line(&mut self, line: &[u8]) {
        if let Some((_, table)) = self
            .prefixes
            .iter()
            .find(|(p, _)| line.starts_with(p.as_bytes()))
            && let Some(n) = self.counts.get_mut(*table)
        {
            *n += 1;
        }
    }
}

/// Restores the dump into the configured database; returns the rows it then holds. The whole
/// dump is read first (it must end with the dump tool's completion line and hold the
/// `expected` rows), before the database is touched: the client applies each table's `DROP`
/// as it reads it.
pub(super) async fn restore(
    url: &str,
    dump: &Path,
    if_exists: IfShopExists,
    expected: &RowCounts,
) -> Result<RowCounts, BackupError> {
    let address = Address::parse(url, BACKEND)?;
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| address.unreachable(&e))?;
    let (tool, program) = tools::find(&["mariadb", "mysql"])?;
    let in_dump = {
        let dump = dump.to_owned();
        tokio::task::spawn_blocking(move || count_dump(&dump))
            .await
            .map_err(|e| BackupError::Tool {
                tool,
                message: e.to_string(),
            })??
    };
    super::check_rows("backup's dump", expected, &in_dump)?;
    let mut conn = match tools::connect(&options).await {
        Ok(conn) => conn,
        Err(e) if is_missing_database(&e) => {
            create_database(&address, url).await?;
            tools::connect(&options)
                .await
                .map_err(|e| address.unreachable(&e))?
        }
        Err(e) => return Err(address.unreachable(&e)),
    };
    if let Some(existing) = rows(&mut conn, &address).await? {
        super::refuse_unless_replacing(BACKEND, &existing, if_exists)?;
    }

    let restored = tokio::task::spawn_blocking({
        let (address, dump) = (address.clone(), dump.to_owned());
        move || pipe_into(tool, &program, &dump, &address)
    })
    .await
    .map_err(|e| BackupError::Tool {
        tool,
        message: e.to_string(),
    })?;
    restored?;
    let rows = rows(&mut conn, &address).await?.unwrap_or_default();
    let _ = conn.close().await;
    Ok(rows)
}

/// The rows of the counted tables in a gzip dump; fails unless it reads to the end and its last
/// line is the dump tool's `-- Dump completed` (a truncated or damaged dump).
fn count_dump(gz: &Path) -> Result<RowCounts, BackupError> {
    let file = std::fs::File::open(gz).map_err(BackupError::io("reading the dump", gz))?;
    let mut reader = BufReader::new(GzDecoder::new(BufReader::new(file)));
    let mut rows = InsertCounter::new();
    let mut line = Vec::new();
    let mut completed = false;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(BackupError::io("reading the dump", gz))?;
        if read == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        completed = line.starts_with(b"-- Dump completed");
        rows.line(&line);
    }
    if !completed {
        return Err(BackupError::Verify {
            what: "backup's dump",
            detail: "it does not end with the dump tool's completion line (truncated?)".to_owned(),
        });
    }
    Ok(rows.counts)
}

/// Runs the client on the database with the decompressed dump on its standard input.
fn pipe_into(
    tool: &'static str,
    program: &Path,
    dump: &Path,
    address: &Address,
) -> Result<(), BackupError> {
    let file = std::fs::File::open(dump).map_err(BackupError::io("reading the dump", dump))?;
    let mut client = command(program, address);
    client
        .arg(&address.database)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = client.spawn().map_err(|e| BackupError::Tool {
        tool,
        message: format!("cannot run it: {e}"),
    })?;
    let fed = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            std::io::copy(&mut GzDecoder::new(BufReader::new(file)), &mut stdin)
        })
    });
    let output = child.wait_with_output().map_err(|e| BackupError::Tool {
        tool,
        message: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(tools::failed(tool, &output, address));
    }
    match fed.map(std::thread::JoinHandle::join) {
        Some(Ok(Ok(_))) => Ok(()),
        Some(Ok(Err(e))) => Err(BackupError::io("reading the dump", dump)(e)),
        _ => Err(BackupError::Tool {
            tool,
            message: "the dump could not be fed to it".to_owned(),
        }),
    }
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    // ER_BAD_DB_ERROR: Unknown database.
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|d| d.number() == 1049)
}

/// Creates the configured database (empty, utf8mb4_bin as the shop's migrations expect); says
/// how to do it by hand when the user may not.
async fn create_database(address: &Address, url: &str) -> Result<(), BackupError> {
    let by_hand = |reason: String| BackupError::Database {
        backend: BACKEND,
        context: "creating the missing database",
        reason: format!(
            "{reason}; create the empty database {} (CHARACTER SET utf8mb4 COLLATE utf8mb4_bin) and run restore again",
            address.database
        ),
    };
    // The same URL without its database: sqlx then selects none.
    let mut server_url = url::Url::parse(url).map_err(|_| by_hand("not a URL".to_owned()))?;
    server_url.set_path("/");
    let without_database: MySqlConnectOptions = server_url
        .as_str()
        .parse()
        .map_err(|e: sqlx::Error| by_hand(address.scrub(&e.to_string())))?;
    let mut admin: MySqlConnection = tools::connect(&without_database)
        .await
        .map_err(|e| by_hand(address.scrub(&e.to_string())))?;
    let quoted = format!("`{}`", address.database.replace('`', "``"));
    let created = sqlx::query(&format!(
        "CREATE DATABASE {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .execute(&mut admin)
    .await;
    let _ = admin.close().await;
    created
        .map(drop)
        .map_err(|e| by_hand(address.scrub(&e.to_string())))
}
