//! Webhook signatures as a receiver checks them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::time::Duration;

use pochi_notify::webhook::{SignatureError, sign, signature_header, verify_signature};

const SECRET: &[u8] = b"whsec_0123456789abcdef";
const BODY: &[u8] = br#"{"type":"payment_succeeded","orderNumber":"POCHI-2222222222"}"#;
const NOW: i64 = 1_796_000_000;
const FIVE_MINUTES: Duration = Duration::from_secs(300);

#[test]
fn a_signature_is_the_hmac_of_time_and_body() {
    // Computed independently (Python's hmac module).
    assert_eq!(
        sign(b"key", 1, b"x"),
        "fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
    );
    let header = signature_header(SECRET, NOW, BODY);
    assert!(header.starts_with(&format!("t={NOW},v1=")));
    assert_eq!(header.len(), format!("t={NOW},v1=").len() + 64);
    assert_eq!(
        verify_signature(SECRET, &header, BODY, NOW + 10, FIVE_MINUTES),
        Ok(())
    );
}

#[test]
fn a_tampered_body_another_secret_or_an_old_time_is_refused() {
    let header = signature_header(SECRET, NOW, BODY);
    let tampered = br#"{"type":"payment_succeeded","orderNumber":"POCHI-3333333333"}"#;
    assert_eq!(
        verify_signature(SECRET, &header, tampered, NOW, FIVE_MINUTES),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(b"another", &header, BODY, NOW, FIVE_MINUTES),
        Err(SignatureError::Mismatch)
    );
    // A replay ten minutes later.
    assert_eq!(
        verify_signature(SECRET, &header, BODY, NOW + 600, FIVE_MINUTES),
        Err(SignatureError::Stale)
    );
    // The time is signed too: moving it forward breaks the signature.
    let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 600));
    assert_eq!(
        verify_signature(SECRET, &moved, BODY, NOW + 600, FIVE_MINUTES),
        Err(SignatureError::Mismatch)
    );
    for bad in ["", "v1=abc", "t=now,v1=abc", &format!("t={NOW}")] {
        assert_eq!(
            verify_signature(SECRET, bad, BODY, NOW, FIVE_MINUTES),
            Err(SignatureError::Malformed),
            "{bad:?}"
        );
    }
}
