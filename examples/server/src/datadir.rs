//! What the server keeps in its data directory besides the database: the generated admin
//! login (its argon2 hash only), the callback token, and the mark that demo products were
//! offered.
//!
//! Secret files are created with mode 0600, written beside and renamed into place, so a crash
//! never leaves half a file and two servers starting at once agree on one value.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use pochi_core::{AdminUsers, CallbackToken, PasswordHash};
use rand::{Rng, distributions::Uniform};

use crate::StartError;

/// The generated admin's file (htpasswd format: `admin:$argon2id$…`).
pub(crate) const ADMIN_FILE: &str = "admin.htpasswd";
/// The generated admin's user name.
pub(crate) const ADMIN_USER: &str = "admin";
/// The callback token's file.
const TOKEN_FILE: &str = "callback-token";

/// Where a generated admin password is kept for a server that has no terminal to show it on.
pub(crate) const ADMIN_PASSWORD_FILE: &str = "admin-password";
/// Present once demo products were offered.
const DEMO_MARK: &str = "demo-products-added";

/// The server's files in the data directory that a backup keeps (beside the database and media).
pub(crate) const KEPT_FILES: [&str; 3] = [ADMIN_FILE, TOKEN_FILE, DEMO_MARK];

/// Letters and digits that read out unambiguously (no 0/O, 1/l/I).
const READABLE: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// The generated admin login: read from the data directory, or created on first start. The
/// password is returned only when it was just created (it is not stored).
pub(crate) async fn generated_admin(
    dir: &Path,
) -> Result<(AdminUsers, Option<(String, String)>), StartError> {
    let path = dir.join(ADMIN_FILE);
    if let Some(text) = read_existing(&path)? {
        let users = AdminUsers::from_htpasswd(&text).map_err(|source| StartError::DataFile {
            path: path.clone(),
            message: source.to_string(),
        })?;
        return Ok((users, None));
    }
    let password = random_text(20);
    let hashed = {
        let password = password.clone();
        // Argon2 is deliberately slow: keep it off the async workers.
        tokio::task::spawn_blocking(move || PasswordHash::create(&password))
            .await
            .map_err(|e| StartError::Io {
                context: "hashing the admin password",
                source: io::Error::other(e),
            })?
            .map_err(|e| StartError::Io {
                context: "hashing the admin password",
                source: io::Error::other(e.to_string()),
            })?
    };
    let line = format!("{ADMIN_USER}:{}\n", hashed.as_str());
    if !write_new_secret(&path, &line)? {
        // Another server wrote one first: use it (its password was printed there).
        return Box::pin(generated_admin(dir)).await;
    }
    let users = AdminUsers::new()
        .with_user(ADMIN_USER, hashed)
        .map_err(|e| StartError::DataFile {
            path,
            message: e.to_string(),
        })?;
    Ok((users, Some((ADMIN_USER.to_owned(), password))))
}

/// The callback token kept in the data directory, created on first start.
pub(crate) fn callback_token(dir: &Path) -> Result<CallbackToken, StartError> {
    let path = dir.join(TOKEN_FILE);
    loop {
        if let Some(text) = read_existing(&path)? {
            return CallbackToken::parse(&text).map_err(|e| StartError::DataFile {
                path,
                message: e.message().to_owned(),
            });
        }
        // A random token may spell a word Safaricom refuses in URLs: draw again.
        let Ok(token) = CallbackToken::parse(&random_text(32)) else {
            continue;
        };
        write_new_secret(&path, token.expose())?;
    }
}

/// Writes a generated admin login to `DATA_DIR/admin-password` (mode 0600, replacing a file
/// left by an earlier reset); returns its path.
pub(crate) fn save_admin_password(
    dir: &Path,
    user: &str,
    password: &str,
) -> Result<PathBuf, StartError> {
    let path = dir.join(ADMIN_PASSWORD_FILE);
    let text = format!(
        "# The admin login generated on first start. Only its hash is kept (admin.htpasswd).\n\
         # Sign in at /admin, then delete this file.\nuser: {user}\npassword: {password}\n"
    );
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(StartError::DataFile {
                path,
                message: source.to_string(),
            });
        }
    }
    write_new_secret(&path, &text)?;
    Ok(path)
}

/// The lock file in the data directory: a running server holds a shared lock on it, a
/// restore an exclusive one, so that a restore never replaces a database under a server.
pub(crate) const LOCK_FILE: &str = ".pochi.lock";

/// Opens the lock file and takes the lock: shared for a server (several may share a data
/// directory), exclusive for a restore. `Ok(None)` when the other side holds it.
pub(crate) fn lock(dir: &Path, exclusive: bool) -> io::Result<Option<std::fs::File>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))?;
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, flock};
        let operation = if exclusive {
            FlockOperation::NonBlockingLockExclusive
        } else {
            FlockOperation::NonBlockingLockShared
        };
        match flock(&file, operation) {
            Ok(()) => Ok(Some(file)),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = exclusive;
        Ok(Some(file))
    }
}

/// Whether demo products were offered already.
pub(crate) fn demo_offered(dir: &Path) -> bool {
    dir.join(DEMO_MARK).exists()
}

/// Marks that demo products were offered, so later starts never add them again.
pub(crate) fn mark_demo_offered(dir: &Path) -> Result<(), StartError> {
    std::fs::write(
        dir.join(DEMO_MARK),
        "demo products were offered on first start\n",
    )
    .map_err(|source| StartError::Io {
        context: "marking the demo products",
        source,
    })
}

/// Creates the data and media directories (mode 0700 for data).
pub(crate) fn create_dirs(data: &Path, media: &Path) -> Result<(), StartError> {
    for dir in [data, media] {
        std::fs::create_dir_all(dir).map_err(|source| StartError::Io {
            context: "creating the data directory",
            source: io::Error::new(source.kind(), format!("{}: {source}", dir.display())),
        })?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

fn random_text(len: usize) -> String {
    let letters = Uniform::from(0..READABLE.len());
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(READABLE[rng.sample(letters)]))
        .collect()
}

fn read_existing(path: &Path) -> Result<Option<String>, StartError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StartError::DataFile {
            path: path.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// Writes `text` to `path` with mode 0600 unless the file exists; `false` if it did.
fn write_new_secret(path: &Path, text: &str) -> Result<bool, StartError> {
    let io_err = |source: io::Error| StartError::DataFile {
        path: path.to_owned(),
        message: source.to_string(),
    };
    let partial = PathBuf::from(format!("{}.partial-{}", path.display(), random_text(8)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&partial).map_err(io_err)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    drop(file);
    // A hard link fails if the target exists, so the first writer wins and nothing is replaced.
    let linked = match std::fs::hard_link(&partial, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_err(e)),
    };
    let _ = std::fs::remove_file(&partial);
    linked
}
