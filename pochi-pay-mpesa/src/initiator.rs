//! The initiator: the API operator (created on the M-Pesa organisation portal) in whose name
//! Reversal, B2C and Transaction Status requests are made, and its `SecurityCredential`.
//!
//! The credential is `base64(RSA PKCS#1 v1.5 encrypt(initiator password))` under the public key
//! of the X.509 certificate Safaricom issues (one for the sandbox, one for production). The
//! padding is random, so every request carries a fresh credential; only Safaricom (or the fake,
//! which holds the test key) can read it.

use std::{fmt, path::Path};

use base64::{Engine, engine::general_purpose::STANDARD};
use rsa::{Pkcs1v15Encrypt, RsaPublicKey, pkcs8::der::Decode};
use secrecy::{ExposeSecret, SecretString};
use x509_cert::{
    Certificate,
    der::{DecodePem, referenced::OwnedToRef},
};

use crate::config::ConfigError;

/// The OID of `rsaEncryption`, the only key type Daraja's credential uses.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// The initiator's name, password and Safaricom's public key, checked.
#[derive(Clone)]
pub(crate) struct Initiator {
    pub(crate) name: String,
    password: SecretString,
    public_key: RsaPublicKey,
}

impl fmt::Debug for Initiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initiator")
            .field("name", &self.name)
            .field("password", &"(redacted)")
            .finish_non_exhaustive()
    }
}

/// Where the certificate comes from.
#[derive(Clone)]
pub(crate) enum CertificateSource {
    /// A PEM or DER file.
    File(String),
    /// PEM text.
    Pem(String),
}

impl Initiator {
    /// Checks the three settings together: the name and password must be non-empty, and the
    /// certificate must be a readable X.509 certificate with an RSA public key.
    pub(crate) fn new(
        name: &str,
        password: SecretString,
        certificate: &CertificateSource,
    ) -> Result<Self, ConfigError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ConfigError::new("initiator_name", "must not be empty"));
        }
        if password.expose_secret().is_empty() {
            return Err(ConfigError::new("initiator_password", "must not be empty"));
        }
        let public_key = match certificate {
            CertificateSource::File(path) => {
                // The error names the setting, never the file's content.
                let bytes = std::fs::read(Path::new(path)).map_err(|e| {
                    ConfigError::new(
                        "initiator_certificate",
                        format!("cannot read the certificate file: {e}"),
                    )
                })?;
                public_key(&bytes)?
            }
            CertificateSource::Pem(pem) => public_key(pem.as_bytes())?,
        };
        Ok(Initiator {
            name: name.to_owned(),
            password,
            public_key,
        })
    }

    /// A fresh `SecurityCredential`.
    pub(crate) fn security_credential(&self) -> Result<SecretString, CredentialError> {
        let encrypted = self
            .public_key
            .encrypt(
                &mut rand::rngs::OsRng,
                Pkcs1v15Encrypt,
                self.password.expose_secret().as_bytes(),
            )
            .map_err(|_| CredentialError)?;
        Ok(SecretString::from(STANDARD.encode(encrypted)))
    }
}

/// The password could not be encrypted (it is longer than the key allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CredentialError;

/// The RSA public key of a PEM or DER X.509 certificate.
fn public_key(bytes: &[u8]) -> Result<RsaPublicKey, ConfigError> {
    const FIELD: &str = "initiator_certificate";
    let certificate = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        Certificate::from_pem(bytes)
    } else {
        Certificate::from_der(bytes)
    }
    .map_err(|_| {
        ConfigError::new(
            FIELD,
            "is not an X.509 certificate (PEM or DER): use the .cer file Safaricom issues",
        )
    })?;
    let info = &certificate.tbs_certificate.subject_public_key_info;
    if info.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return Err(ConfigError::new(
            FIELD,
            "does not hold an RSA public key: Daraja's SecurityCredential is RSA-encrypted",
        ));
    }
    RsaPublicKey::try_from(info.owned_to_ref())
        .map_err(|_| ConfigError::new(FIELD, "holds an RSA public key that cannot be read"))
}

#[cfg(test)]
mod tests {
    use rsa::{RsaPrivateKey, pkcs8::DecodePrivateKey};

    use super::*;

    const CERT: &str = include_str!("../tests/fixtures/initiator/test_initiator_cert.pem");
    const KEY: &str = include_str!("../tests/fixtures/initiator/test_initiator_key.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/initiator/test_ec_cert.pem");

    fn initiator(password: &str) -> Initiator {
        Initiator::new(
            "testapi",
            SecretString::from(password),
            &CertificateSource::Pem(CERT.to_owned()),
        )
        .unwrap()
    }

    #[test]
    fn the_matching_private_key_decrypts_the_credential_to_the_password() {
        // given an initiator whose certificate is the test one
        let initiator = initiator("Safaricom999!*!");

        // when a credential is made twice
        let first = initiator.security_credential().unwrap();
        let second = initiator.security_credential().unwrap();

        // then each decrypts (PKCS#1 v1.5) to the password, and the padding differs
        let key = RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
        for credential in [&first, &second] {
            let bytes = STANDARD.decode(credential.expose_secret()).unwrap();
            assert_eq!(bytes.len(), 256);
            let plain = key.decrypt(Pkcs1v15Encrypt, &bytes).unwrap();
            assert_eq!(plain, b"Safaricom999!*!");
        }
        assert_ne!(first.expose_secret(), second.expose_secret());
    }

    #[test]
    fn a_der_certificate_file_is_read_too() {
        let der = Certificate::from_pem(CERT.as_bytes()).unwrap();
        let bytes = x509_cert::der::Encode::to_der(&der).unwrap();
        let dir = std::env::temp_dir().join(format!("pochi-initiator-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cert.cer");
        std::fs::write(&path, bytes).unwrap();
        let source = CertificateSource::File(path.to_string_lossy().into_owned());
        assert!(Initiator::new("testapi", SecretString::from("pw"), &source).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_certificate_that_is_not_rsa_or_not_x509_or_missing_is_refused() {
        let refused = |source: CertificateSource| {
            Initiator::new("testapi", SecretString::from("pw"), &source).unwrap_err()
        };
        let ec = refused(CertificateSource::Pem(EC_CERT.to_owned()));
        assert_eq!(ec.field, "initiator_certificate");
        assert!(ec.message.contains("RSA"), "{ec}");
        let key_not_cert = refused(CertificateSource::Pem(KEY.to_owned()));
        assert_eq!(key_not_cert.field, "initiator_certificate");
        assert!(key_not_cert.message.contains("X.509"), "{key_not_cert}");
        // The error does not quote the file: it could be a private key.
        assert!(!key_not_cert.to_string().contains("PRIVATE"));
        let missing = refused(CertificateSource::File(
            "/nonexistent/pochi/cert.cer".to_owned(),
        ));
        assert_eq!(missing.field, "initiator_certificate");
        assert!(missing.message.contains("cannot read"), "{missing}");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", initiator("s3cr3t-pass"));
        assert!(!shown.contains("s3cr3t-pass"), "{shown}");
        assert!(shown.contains("testapi"));
    }
}
