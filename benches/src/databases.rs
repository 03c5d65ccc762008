//! The database servers the stores bench uses, and the dedicated database it creates on each
//! and drops when done.
//!
//! The servers are the tests' (`POCHI_TEST_POSTGRES_URL`, `POCHI_TEST_MYSQL_URL`, with the
//! same defaults; `scripts/ensure-databases` starts them). The bench works in a database of
//! its own, `pochi_bench_<pid>`, created fresh and dropped at the end; one a killed run left
//! behind is dropped by the next run once its process is gone. A server that cannot be reached
//! is skipped with the reason printed, unless `CI` is set: then the bench fails, as the store
//! tests do.

use std::time::Duration;

use pochi_store_mysql::sqlx::{
    self as mysqlx, MySqlPool,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
};
use pochi_store_postgres::sqlx::{
    self as pgx, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use url::Url;

use crate::BenchError;

/// Where the bench finds PostgreSQL without `POCHI_TEST_POSTGRES_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://pochi:pochi@127.0.0.1:5432/postgres";
/// Where the bench finds MySQL or MariaDB without `POCHI_TEST_MYSQL_URL`.
pub const DEFAULT_MYSQL_URL: &str = "mysql://pochi:pochi@127.0.0.1:3306/pochi";

const PREFIX: &str = "pochi_bench_";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `CI` is set (to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A server that could not be reached: skipped on a developer's machine, a failure in CI.
pub fn unreachable(server: &str, reason: &str) -> Result<(), BenchError> {
    if in_ci() {
        Err(format!("{server} is required in CI: {reason}").into())
    } else {
        eprintln!("skipping {server}: {reason} (run scripts/ensure-databases)");
        Ok(())
    }
}

/// A dedicated database on a server: its URL for the store, and how to drop it.
#[derive(Debug)]
pub struct BenchDatabase {
    /// The URL of the dedicated database (with the server's credentials).
    pub url: String,
    name: String,
    server: Server,
}

#[derive(Debug, Clone, Copy)]
enum Server {
    Postgres,
    MySql,
}

impl BenchDatabase {
    /// Creates `pochi_bench_<pid>` on the PostgreSQL server at `POCHI_TEST_POSTGRES_URL`.
    /// `Ok(None)`: the server cannot be reached (already reported by [`unreachable()`]).
    pub async fn postgres() -> Result<Option<Self>, BenchError> {
        let base = env_url("POCHI_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL);
        let options: PgConnectOptions = base.parse()?;
        let admin = match PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
        {
            Ok(pool) => pool,
            Err(err) => {
                unreachable("PostgreSQL", &err.to_string())?;
                return Ok(None);
            }
        };
        let existing: Vec<String> = pgx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
        )
        .bind(PREFIX)
        .fetch_all(&admin)
        .await?;
        let name = own_name();
        for stale in existing.iter().filter(|n| left_behind(n) || **n == name) {
            pg_drop(&admin, stale).await?;
        }
        pgx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(Some(BenchDatabase {
            url: with_database(&base, &name)?,
            name,
            server: Server::Postgres,
        }))
    }

    /// Creates `pochi_bench_<pid>` (utf8mb4, binary collation, as the store's tests do) on the
    /// MySQL server at `POCHI_TEST_MYSQL_URL`. `Ok(None)`: the server cannot be reached.
    pub async fn mysql() -> Result<Option<Self>, BenchError> {
        let base = env_url("POCHI_TEST_MYSQL_URL", DEFAULT_MYSQL_URL);
        let options: MySqlConnectOptions = base.parse()?;
        let admin = match MySqlPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
        {
            Ok(pool) => pool,
            Err(err) => {
                unreachable("MySQL", &err.to_string())?;
                return Ok(None);
            }
        };
        let existing: Vec<Vec<u8>> = mysqlx::query_scalar(
            "SELECT CAST(schema_name AS BINARY) FROM information_schema.schemata \
             WHERE schema_name LIKE 'pochi\\_bench\\_%'",
        )
        .fetch_all(&admin)
        .await?;
        let name = own_name();
        for stale in existing
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
        {
            if left_behind(&stale) || stale == name {
                mysql_drop(&admin, &stale).await?;
            }
        }
        mysqlx::query(&format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .execute(&admin)
        .await?;
        admin.close().await;
        Ok(Some(BenchDatabase {
            url: with_database(&base, &name)?,
            name,
            server: Server::MySql,
        }))
    }

    /// The database's name (`pochi_bench_<pid>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database. Close the pools on it first.
    pub async fn drop_database(self) -> Result<(), BenchError> {
        match self.server {
            Server::Postgres => {
                // Connect to the server's own database, not the one being dropped.
                let base = env_url("POCHI_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL);
                let admin = PgPool::connect_with(base.parse()?).await?;
                pg_drop(&admin, &self.name).await?;
                admin.close().await;
            }
            Server::MySql => {
                let base = env_url("POCHI_TEST_MYSQL_URL", DEFAULT_MYSQL_URL);
                let admin = MySqlPool::connect_with(base.parse()?).await?;
                mysql_drop(&admin, &self.name).await?;
                admin.close().await;
            }
        }
        Ok(())
    }
}

/// The URL of the database `name` on the PostgreSQL server at `POCHI_TEST_POSTGRES_URL`, with
/// its credentials: for another process of the run to reach a bench database by name.
pub fn postgres_url(name: &str) -> Result<String, BenchError> {
    with_database(
        &env_url("POCHI_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        name,
    )
}

/// The URL of the database `name` on the MySQL server at `POCHI_TEST_MYSQL_URL`.
pub fn mysql_url(name: &str) -> Result<String, BenchError> {
    with_database(&env_url("POCHI_TEST_MYSQL_URL", DEFAULT_MYSQL_URL), name)
}

fn env_url(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

fn own_name() -> String {
    format!("{PREFIX}{}", std::process::id())
}

/// Whether `name` is a bench database whose process is gone (Linux: no `/proc/<pid>`).
fn left_behind(name: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(PREFIX)
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn pg_drop(admin: &PgPool, name: &str) -> Result<(), BenchError> {
    pgx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin)
        .await?;
    Ok(())
}

async fn mysql_drop(admin: &MySqlPool, name: &str) -> Result<(), BenchError> {
    mysqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .execute(admin)
        .await?;
    Ok(())
}

/// `base` with its database (the URL's path) replaced by `name`.
fn with_database(base: &str, name: &str) -> Result<String, BenchError> {
    let mut url = Url::parse(base)?;
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_database_replaces_the_path_and_keeps_credentials_and_options() {
        let url = with_database(
            "postgres://pochi:pochi@127.0.0.1:5432/postgres?sslmode=disable",
            "pochi_bench_7",
        )
        .unwrap();

        assert_eq!(
            url,
            "postgres://pochi:pochi@127.0.0.1:5432/pochi_bench_7?sslmode=disable"
        );
    }

    #[test]
    fn only_bench_databases_of_finished_processes_are_left_behind() {
        assert!(!left_behind(&own_name()));
        assert!(!left_behind("pochi_test"));
        assert!(!left_behind("pochi_bench_notapid"));
        assert!(left_behind(&format!("{PREFIX}{}", u32::MAX)));
    }
}
