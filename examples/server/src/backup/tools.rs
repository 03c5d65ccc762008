//! Running the databases' own dump and restore tools without putting a secret on their
//! command line: where a server database is (host, port, user, database name, as arguments)
//! and its password (apart, for the tool's environment).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

use pochi_store_sqlite::sqlx::{self, Connection};

use super::BackupError;

/// How long reaching a database server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects, giving up after [`CONNECT_TIMEOUT`].
pub(super) async fn connect<C: Connection>(options: &C::Options) -> Result<C, sqlx::Error> {
    tokio::time::timeout(CONNECT_TIMEOUT, C::connect_with(options))
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

/// A server database's address, from its URL. The password is kept apart and never shown.
#[derive(Clone)]
pub(super) struct Address {
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) database: String,
    /// PostgreSQL's `sslmode` from the URL's query, for the tools' `PGSSLMODE`.
    pub(super) sslmode: Option<String>,
    /// `postgres` or `mysql`.
    pub(super) backend: &'static str,
    /// The whole URL, to scrub from messages.
    url: String,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Address")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Address {
    /// Parses `postgres://user:password@host:port/database` and the like (percent-decoded).
    /// Errors say what is missing, never repeat the URL.
    pub(super) fn parse(url: &str, backend: &'static str) -> Result<Address, BackupError> {
        let bad = |detail: &str| BackupError::Unreachable {
            backend,
            reason: format!("POCHI_DATABASE_URL {detail}"),
        };
        let parsed = url::Url::parse(url).map_err(|_| bad("is not a URL"))?;
        let decode = |text: &str| {
            percent_decode(text).ok_or_else(|| bad("holds a badly percent-encoded part"))
        };
        let database = decode(parsed.path().trim_start_matches('/'))?;
        if database.is_empty() {
            return Err(bad("names no database"));
        }
        Ok(Address {
            host: parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned()),
            port: parsed.port(),
            user: match parsed.username() {
                "" => None,
                user => Some(decode(user)?),
            },
            password: parsed.password().map(decode).transpose()?,
            database,
            sslmode: parsed
                .query_pairs()
                .find(|(key, _)| key == "sslmode")
                .map(|(_, mode)| mode.into_owned()),
            backend,
            url: url.to_owned(),
        })
    }

    /// Removes the password (and the URL) from a message before it is shown.
    pub(super) fn scrub(&self, message: &str) -> String {
        let mut text = message.replace(&self.url, "[database URL]");
        if let Some(password) = self.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(password, "[password]");
        }
        text
    }

    /// The error for a failed query while doing `context`.
    pub(super) fn failed(&self, context: &'static str) -> impl FnOnce(sqlx::Error) -> BackupError {
        let (backend, scrubbed) = (self.backend, self.clone());
        move |e| BackupError::Database {
            backend,
            context,
            reason: scrubbed.scrub(&e.to_string()),
        }
    }

    /// The error for a server that cannot be reached or refused the login.
    pub(super) fn unreachable(&self, e: &sqlx::Error) -> BackupError {
        BackupError::Unreachable {
            backend: self.backend,
            reason: self.scrub(&e.to_string()),
        }
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The first of `names` found in `PATH` (or `/usr/bin`, `/usr/local/bin`).
pub(super) fn find(names: &[&'static str]) -> Result<(&'static str, PathBuf), BackupError> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")]);
    for name in names {
        if let Some(path) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
            return Ok((name, path));
        }
    }
    Err(BackupError::Tool {
        tool: names.first().copied().unwrap_or("tool"),
        message: format!(
            "none of {} is installed (Debian: postgresql-client or mariadb-client)",
            names.join(", ")
        ),
    })
}

/// Runs `command` to its end; fails with its last lines of stderr (scrubbed) unless it exits 0.
pub(super) fn run(
    tool: &'static str,
    mut command: Command,
    address: &Address,
) -> Result<Output, BackupError> {
    command.stdin(Stdio::null());
    let output = command.output().map_err(|e| BackupError::Tool {
        tool,
        message: format!("cannot run it: {e}"),
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(failed(tool, &output, address))
    }
}

/// The error for a tool that exited with a failure: its status and last stderr lines.
pub(super) fn failed(tool: &'static str, output: &Output, address: &Address) -> BackupError {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = last[last.len().saturating_sub(3)..].join(" / ");
    BackupError::Tool {
        tool,
        message: address.scrub(&format!("{} ({})", tail, output.status)),
    }
}

/// Writes `bytes` to a new file at `path` and syncs it.
pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let mut file = std::fs::File::create(path).map_err(BackupError::io("writing a file", path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(BackupError::io("writing a file", path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_address_keeps_the_password_apart_and_scrubs_it_from_messages() {
        let url = "postgres://shop%40duka:p%40ss%3Aword@db.example:6543/duka%5Fmain";
        let address = Address::parse(url, "postgres").unwrap();
        assert_eq!(address.host.as_deref(), Some("db.example"));
        assert_eq!(address.port, Some(6543));
        assert_eq!(address.user.as_deref(), Some("shop@duka"));
        assert_eq!(address.password.as_deref(), Some("p@ss:word"));
        assert_eq!(address.database, "duka_main");
        assert!(!format!("{address:?}").contains("p@ss"));
        let scrubbed = address.scrub(&format!("failed for {url} with p@ss:word"));
        assert!(!scrubbed.contains("p@ss"), "{scrubbed}");
        assert!(!scrubbed.contains("p%40ss"), "{scrubbed}");
    }

    #[test]
    fn a_url_without_a_database_is_refused_without_repeating_it() {
        let err = Address::parse("mysql://pochi:s3cret@127.0.0.1:3306", "mysql").unwrap_err();
        assert!(err.to_string().contains("names no database"), "{err}");
        assert!(!err.to_string().contains("s3cret"));
    }
}
