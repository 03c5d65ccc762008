//! Admin users and password verification.
//!
//! New hashes are argon2id; bcrypt hashes (`$2y$`, `$2b$`, `$2a$`) are accepted so an existing
//! Apache `.htpasswd` keeps working. Verification is constant-time in the password and does the
//! same work for unknown user names. Passwords and hashes never appear in `Debug` output or
//! errors.

use std::fmt;

use argon2::{
    Argon2,
    password_hash::{PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString},
};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::error::{Error, InvalidValue, Result};

/// A stored password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(HashKind);

#[derive(Clone, PartialEq, Eq)]
enum HashKind {
    Argon2(String),
    Bcrypt(String),
}

impl PasswordHash {
    /// Parses a stored hash: an argon2 PHC string (`$argon2id$…`) or bcrypt (`$2y$…`, `$2b$…`,
    /// `$2a$…`). Other htpasswd formats (MD5 `$apr1$`, `{SHA}`, crypt) are refused because they
    /// are too weak to keep.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if text.starts_with("$argon2") {
            PhcHash::new(text).map_err(|_| InvalidValue::new("is not a valid argon2 hash"))?;
            Ok(PasswordHash(HashKind::Argon2(text.to_owned())))
        } else if ["$2y$", "$2b$", "$2a$"].iter().any(|p| text.starts_with(p)) {
            if text.len() != 60 {
                return Err(InvalidValue::new("is not a valid bcrypt hash"));
            }
            Ok(PasswordHash(HashKind::Bcrypt(text.to_owned())))
        } else {
            Err(InvalidValue::new(
                "must be an argon2 or bcrypt hash (re-create it with `htpasswd -B` or `pochi-server hash-password`)",
            ))
        }
    }

    /// Hashes a new password with argon2id and a random salt.
    pub fn create(password: &str) -> Result<Self> {
        if password.len() < 8 {
            return Err(Error::invalid("password", "must be at least 8 characters"));
        }
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| Error::backend("password hashing", e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::backend("password hashing", e.to_string()))?;
        Ok(PasswordHash(HashKind::Argon2(hash.to_string())))
    }

    /// Whether `password` matches. Takes tens of milliseconds by design: call it off the
    /// async executor (e.g. in `spawn_blocking`).
    pub fn verify(&self, password: &str) -> bool {
        match &self.0 {
            HashKind::Argon2(phc) => PhcHash::new(phc).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            }),
            HashKind::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
        }
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            HashKind::Argon2(s) | HashKind::Bcrypt(s) => s,
        }
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            HashKind::Argon2(_) => "PasswordHash(argon2, redacted)",
            HashKind::Bcrypt(_) => "PasswordHash(bcrypt, redacted)",
        })
    }
}

/// An authenticated admin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdminUser {
    /// The user name.
    pub username: String,
}

/// Checks admin credentials.
///
/// Implementations may block for tens of milliseconds (password hashing): call them off the
/// async executor.
pub trait Authenticator: fmt::Debug + Send + Sync + 'static {
    /// The admin these credentials belong to, or `Unauthorized`.
    fn authenticate(&self, username: &str, password: &str) -> Result<AdminUser>;
}

/// A fixed list of admin users, from configuration or an htpasswd file.
#[derive(Debug, Clone, Default)]
pub struct AdminUsers {
    users: Vec<(String, PasswordHash)>,
}

impl AdminUsers {
    /// No users (every login fails).
    pub fn new() -> Self {
        AdminUsers::default()
    }

    /// Adds a user; a name may appear once, 1 to 64 visible characters without `:`.
    pub fn with_user(mut self, username: &str, hash: PasswordHash) -> Result<Self> {
        let valid = (1..=64).contains(&username.len())
            && username.chars().all(|c| c.is_ascii_graphic() && c != ':');
        if !valid {
            return Err(Error::invalid(
                "username",
                "must be 1 to 64 visible ASCII characters without ':'",
            ));
        }
        if self.users.iter().any(|(name, _)| name == username) {
            return Err(Error::invalid(
                "username",
                format!("{username} is listed twice"),
            ));
        }
        self.users.push((username.to_owned(), hash));
        Ok(self)
    }

    /// Reads `user:hash` lines (an htpasswd file); blank lines and `#` comments are skipped.
    /// Errors name the line, never its hash.
    pub fn from_htpasswd(text: &str) -> Result<Self> {
        let mut users = AdminUsers::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let field = format!("line {}", index + 1);
            let (name, hash) = line
                .split_once(':')
                .ok_or_else(|| Error::invalid(field.clone(), "must be user:hash"))?;
            let hash = PasswordHash::parse(hash).map_err(|e| e.at(field.clone()))?;
            users = users.with_user(name, hash).map_err(|e| match e {
                Error::InvalidInput { message, .. } => Error::invalid(field.clone(), message),
                other => other,
            })?;
        }
        Ok(users)
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl Authenticator for AdminUsers {
    fn authenticate(&self, username: &str, password: &str) -> Result<AdminUser> {
        // Compare every name so the time taken does not tell which names exist.
        let mut found: Option<&(String, PasswordHash)> = None;
        for user in &self.users {
            if bool::from(user.0.as_bytes().ct_eq(username.as_bytes())) {
                found = Some(user);
            }
        }
        match found {
            Some((name, hash)) if hash.verify(password) => Ok(AdminUser {
                username: name.clone(),
            }),
            Some(_) => Err(Error::Unauthorized("wrong user name or password".into())),
            None => {
                // Do the same hashing work as for a real user.
                if let Some((_, hash)) = self.users.first() {
                    let _ = hash.verify(password);
                }
                Err(Error::Unauthorized("wrong user name or password".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bcrypt hash written the way Apache's `htpasswd -B` writes it (`$2y$`).
    fn apache_bcrypt(password: &str) -> String {
        bcrypt::hash(password, 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1)
    }

    #[test]
    fn new_hashes_are_argon2id_and_verify() {
        let hash = PasswordHash::create("correct horse").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horsE"));
        assert!(
            PasswordHash::parse(hash.as_str())
                .unwrap()
                .verify("correct horse")
        );
    }

    #[test]
    fn apache_bcrypt_hashes_are_accepted() {
        let apache_style = apache_bcrypt("s3cret-pass");
        assert!(apache_style.starts_with("$2y$04$"));
        let parsed = PasswordHash::parse(&apache_style).unwrap();
        assert!(parsed.verify("s3cret-pass"));
        assert!(!parsed.verify("s3cret-pas"));
    }

    #[test]
    fn a_real_htpasswd_line_authenticates() {
        let file = format!("# admins\n\nadmin:{}\n", apache_bcrypt("s3cret-pass"));
        let users = AdminUsers::from_htpasswd(&file).unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(
            users.authenticate("admin", "s3cret-pass").unwrap().username,
            "admin"
        );
        assert_eq!(
            users.authenticate("admin", "wrong").unwrap_err().code(),
            "unauthorized"
        );
        let err = users.authenticate("nobody", "x").unwrap_err();
        assert_eq!(err.code(), "unauthorized");
    }

    #[test]
    fn weak_or_broken_hashes_are_refused_by_line() {
        let err = AdminUsers::from_htpasswd("ok:$apr1$abc$def\n").unwrap_err();
        assert_eq!(err.field(), Some("line 1"));
        let err = AdminUsers::from_htpasswd("\nbroken line\n").unwrap_err();
        assert_eq!(err.field(), Some("line 2"));
        assert!(!err.to_string().contains("$apr1$"));
    }

    #[test]
    fn debug_output_hides_hashes() {
        let hash = PasswordHash::create("correct horse").unwrap();
        let users = AdminUsers::new().with_user("admin", hash.clone()).unwrap();
        assert!(!format!("{users:?}").contains(hash.as_str()));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(
            PasswordHash::create("short").unwrap_err().field(),
            Some("password")
        );
    }
}
