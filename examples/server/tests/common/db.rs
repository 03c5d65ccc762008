//! A database of its own for each test, on the PostgreSQL or MariaDB test server.
//!
//! PostgreSQL and MariaDB come from `POCHI_TEST_POSTGRES_URL` / `POCHI_TEST_MYSQL_URL` (the
//! user `scripts/ensure-databases` creates, by default). Without a server a test skips with a
//! message, unless `CI` is set: then it fails.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::SystemTime,
};

use pochi_store_mysql::sqlx::{Connection as _, MySqlConnection};
use pochi_store_postgres::sqlx::{self, PgConnection};

pub(crate) const POSTGRES_URL: &str = "postgres://pochi:pochi@127.0.0.1:5432/postgres";
pub(crate) const MYSQL_URL: &str = "mysql://pochi:pochi@127.0.0.1:3306/pochi";

pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A database name of this run (MariaDB's test user may create `pochi*` only).
pub(crate) fn fresh_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "pochi_bk_{secs}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

pub(crate) fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A server database made for one test, dropped by [`Db::drop_database`].
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite,
    Postgres { server: String, name: String },
    MySql { server: String, name: String },
}

impl Db {
    /// A fresh empty database on the test server, or `None` (after saying why) when the
    /// server is not reachable and CI is not set.
    pub(crate) async fn fresh(kind: &str) -> Option<Db> {
        let name = fresh_name();
        let made = match kind {
            "postgres" => {
                let server = std::env::var("POCHI_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| POSTGRES_URL.to_owned());
                let db = Db::Postgres {
                    server: server.clone(),
                    name: name.clone(),
                };
                db.execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .map(|()| db)
            }
            _ => {
                let server =
                    std::env::var("POCHI_TEST_MYSQL_URL").unwrap_or_else(|_| MYSQL_URL.to_owned());
                let db = Db::MySql {
                    server: server.clone(),
                    name: name.clone(),
                };
                db.execute(&format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                ))
                .await
                .map(|()| db)
            }
        };
        match made {
            Ok(db) => {
                db.sweep_stale().await;
                Some(db)
            }
            Err(reason) if in_ci() => panic!("{kind} is needed under CI: {reason}"),
            Err(reason) => {
                eprintln!("skipped: no {kind} server for the backup test ({reason})");
                None
            }
        }
    }

    /// The shop's `POCHI_DATABASE_URL`, if not the default SQLite file.
    pub(crate) fn url(&self) -> Option<String> {
        match self {
            Db::Sqlite => None,
            Db::Postgres { server, name } | Db::MySql { server, name } => {
                Some(with_database(server, name))
            }
        }
    }

    /// Runs `sql` on the server (not in the test's database).
    pub(crate) async fn execute(&self, sql: &str) -> Result<(), String> {
        match self {
            Db::Sqlite => Ok(()),
            Db::Postgres { server, .. } => {
                let mut conn = PgConnection::connect(server)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            }
            Db::MySql { server, .. } => {
                let mut conn = MySqlConnection::connect(server)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            }
        }
    }

    /// Drops the test databases of runs that began more than an hour ago (a failed test
    /// leaves its database behind to be looked at).
    pub(crate) async fn sweep_stale(&self) {
        let list = match self {
            Db::Sqlite => return,
            Db::Postgres { .. } => {
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'pochi\\_bk\\_%'"
            }
            Db::MySql { .. } => {
                "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                 WHERE schema_name LIKE 'pochi\\_bk\\_%'"
            }
        };
        let names: Vec<String> = match self {
            Db::Postgres { server, .. } => {
                let mut conn = PgConnection::connect(server).await.unwrap();
                sqlx::query_scalar(list).fetch_all(&mut conn).await.unwrap()
            }
            Db::MySql { server, .. } => {
                let mut conn = MySqlConnection::connect(server).await.unwrap();
                sqlx::query_scalar(list).fetch_all(&mut conn).await.unwrap()
            }
            Db::Sqlite => return,
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for name in names {
            let began = name
                .strip_prefix("pochi_bk_")
                .and_then(|rest| rest.split('_').next())
                .and_then(|secs| secs.parse::<u64>().ok());
            if began.is_some_and(|secs| secs + 3600 < now) {
                let stale = match self {
                    Db::Postgres { server, .. } => Db::Postgres {
                        server: server.clone(),
                        name,
                    },
                    Db::MySql { server, .. } => Db::MySql {
                        server: server.clone(),
                        name,
                    },
                    Db::Sqlite => return,
                };
                stale.drop_database().await;
            }
        }
    }

    pub(crate) async fn drop_database(&self) {
        let sql = match self {
            Db::Sqlite => return,
            Db::Postgres { name, .. } => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Db::MySql { name, .. } => format!("DROP DATABASE IF EXISTS {name}"),
        };
        self.execute(&sql).await.unwrap();
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres { .. } => "postgres",
            Db::MySql { .. } => "mysql",
        }
    }
}
