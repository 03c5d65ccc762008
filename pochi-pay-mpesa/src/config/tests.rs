use std::collections::HashMap;

use super::*;

const TOKEN: &str = "k3J9x-Q2mP7vL0aZ4tYw";

fn token() -> CallbackToken {
    CallbackToken::parse(TOKEN).unwrap()
}

fn production() -> MpesaConfigBuilder {
    MpesaConfig::builder()
        .with_environment(Environment::Production)
        .with_paybill(ShortCode::parse("888880").unwrap())
        .with_passkey("live-passkey-0123456789abcdef")
        .with_credentials("live-consumer-key", "live-consumer-secret")
        .with_callback_base_url("https://duka.example.co.ke/")
        .with_callback_token(&token())
}

fn refused(builder: MpesaConfigBuilder) -> ConfigError {
    builder.build().expect_err("the configuration was accepted")
}

#[test]
fn a_complete_production_configuration_builds_with_documented_defaults() {
    let config = production().build().unwrap();
    assert!(config.environment().is_production());
    assert_eq!(config.timestamp_offset(), EAST_AFRICA_TIME);
    assert_eq!(config.c2b_version(), C2bVersion::V2);
    assert_eq!(config.phone_format(), PhoneFormat::Number);
    assert_eq!(
        config.callback_url(CallbackChannel::Stk),
        format!("https://duka.example.co.ke/api/pay/callbacks/stk/{TOKEN}")
    );
    assert_eq!(
        config.callback_url(CallbackChannel::C2bConfirmation),
        format!("https://duka.example.co.ke/api/pay/callbacks/c2b-confirmation/{TOKEN}")
    );
}

#[test]
fn production_without_real_credentials_is_refused() {
    let mut no_passkey = production();
    no_passkey.passkey = None;
    assert_eq!(refused(no_passkey).field, "passkey");

    let mut no_secret = production();
    no_secret.consumer_secret = Some(SecretString::from("  "));
    assert_eq!(refused(no_secret).field, "consumer_secret");

    let mut no_key = production();
    no_key.consumer_key = None;
    assert_eq!(refused(no_key).field, "consumer_key");

    let sandbox_values = production().with_public_sandbox_paybill();
    let err = refused(sandbox_values);
    assert_eq!(err.field, "business");
    assert!(err.message.contains("174379"), "{err}");

    let sandbox_passkey = production().with_passkey(SANDBOX_PASSKEY);
    assert_eq!(refused(sandbox_passkey).field, "passkey");
}

#[test]
fn nothing_defaults_to_the_sandbox() {
    let mut no_environment = production();
    no_environment.environment = None;
    assert_eq!(refused(no_environment).field, "environment");
    let mut no_business = production();
    no_business.business = None;
    assert_eq!(refused(no_business).field, "business");
}

#[test]
fn a_callback_url_that_is_not_https_is_refused_in_production_only() {
    let err = refused(production().with_callback_base_url("http://duka.example.co.ke"));
    assert_eq!(err.field, "callback_base_url");
    assert!(err.message.contains("HTTPS"), "{err}");

    let sandbox = production()
        .with_environment(Environment::Sandbox)
        .with_public_sandbox_paybill()
        .with_callback_base_url("http://127.0.0.1:8080");
    assert!(sandbox.build().is_ok());
}

#[test]
fn local_and_tunnel_hosts_are_refused_in_production() {
    for url in [
        "https://localhost:8443",
        "https://127.0.0.1",
        "https://192.168.1.10",
        "https://abc123.ngrok.io",
    ] {
        let err = refused(production().with_callback_base_url(url));
        assert_eq!(err.field, "callback_base_url", "{url}");
    }
}

#[test]
fn a_callback_url_with_a_word_safaricom_refuses_is_refused_anywhere() {
    for url in [
        "https://mpesa.duka.co.ke",
        "https://duka.co.ke/M-Pesa",
        "https://safaricom-shop.co.ke",
        "https://duka.co.ke/cgi/exec",
        "https://duka.co.ke/SQL",
        "https://duka.co.ke/query",
    ] {
        let err = refused(production().with_callback_base_url(url));
        assert_eq!(err.field, "callback_base_url", "{url}");
        assert!(err.message.contains("Safaricom refuses"), "{url}: {err}");
        let sandbox = production()
            .with_environment(Environment::Sandbox)
            .with_callback_base_url(url);
        assert_eq!(refused(sandbox).field, "callback_base_url", "{url}");
    }
}

#[test]
fn a_callback_token_with_a_refused_word_is_refused() {
    let mut builder = production();
    builder.callback_token = Some(SecretString::from("my-secret-query-token-1"));
    let err = refused(builder);
    assert_eq!(err.field, "callback_token");
    assert!(err.message.contains("query"), "{err}");
}

#[test]
fn debug_output_hides_every_secret() {
    let config = production().build().unwrap();
    for shown in [format!("{config:?}"), format!("{:?}", production())] {
        assert!(!shown.contains("live-passkey"), "{shown}");
        assert!(!shown.contains("live-consumer-secret"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("live-consumer-key"), "{shown}");
    }
}

#[test]
fn the_timestamp_zone_is_configurable() {
    let utc = production()
        .with_timestamp_offset(UtcOffset::UTC)
        .build()
        .unwrap();
    assert_eq!(utc.timestamp_offset(), UtcOffset::UTC);
    let mut builder = production();
    builder.timestamp_utc_offset = Some("+03:00".into());
    assert_eq!(
        builder.build().unwrap().timestamp_offset(),
        EAST_AFRICA_TIME
    );
    let mut bad = production();
    bad.timestamp_utc_offset = Some("EAT".into());
    assert_eq!(refused(bad).field, "timestamp_utc_offset");
}

#[test]
fn environment_variables_describe_a_till() {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("MPESA_ENVIRONMENT", "production"),
        ("MPESA_SHORTCODE", "300300"),
        ("MPESA_TILL_NUMBER", "5123456"),
        ("MPESA_PASSKEY", "live-passkey-0123456789abcdef"),
        ("MPESA_CONSUMER_KEY", "key"),
        ("MPESA_CONSUMER_SECRET", "secret"),
        ("MPESA_CALLBACK_BASE_URL", "https://duka.example.co.ke"),
        ("MPESA_CALLBACK_TOKEN", TOKEN),
        ("MPESA_C2B_VERSION", "v1"),
        ("MPESA_PHONE_FORMAT", "string"),
    ]);
    let config = MpesaConfigBuilder::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned()))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        config.business(),
        &Business::Till {
            store_number: ShortCode::parse("300300").unwrap(),
            till_number: ShortCode::parse("5123456").unwrap(),
        }
    );
    assert_eq!(config.c2b_version(), C2bVersion::V1);
    assert_eq!(config.phone_format(), PhoneFormat::String);

    let bad = MpesaConfigBuilder::from_lookup(|k| {
        (k == "MPESA_ENVIRONMENT").then(|| "staging".to_owned())
    });
    assert_eq!(bad.unwrap_err().field, "environment");
}

#[test]
fn deserialising_a_configuration_checks_it() {
    let json = serde_json::json!({
        "environment": "sandbox",
        "business": {"type": "pay_bill", "shortcode": "174379"},
        "passkey": SANDBOX_PASSKEY,
        "consumer_key": "k",
        "consumer_secret": "s",
        "callback_base_url": "https://duka.example.co.ke",
        "callback_token": TOKEN,
    });
    let config: MpesaConfig = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(config.environment(), &Environment::Sandbox);
    let mut bad = json;
    bad["callback_base_url"] = "https://duka.example.co.ke/mpesa".into();
    let err = serde_json::from_value::<MpesaConfig>(bad).unwrap_err();
    assert!(err.to_string().contains("callback_base_url"), "{err}");
}

#[test]
fn a_base_url_replaces_the_host_but_not_the_environments_rules() {
    let proxied = production()
        .with_base_url("http://daraja-proxy.internal:8443/")
        .build()
        .unwrap();
    assert_eq!(proxied.base_url(), "http://daraja-proxy.internal:8443");
    assert!(proxied.environment().is_production());
    assert_eq!(
        production().build().unwrap().base_url(),
        "https://api.safaricom.co.ke"
    );
    // Production behind a proxy is still production: sandbox values are refused.
    let err = refused(
        production()
            .with_base_url("http://daraja-proxy.internal:8443")
            .with_public_sandbox_paybill(),
    );
    assert_eq!(err.field, "business");
    for bad in [
        "daraja-proxy.internal",
        "ftp://proxy",
        "http://",
        "https://p/?x=1",
    ] {
        let err = refused(production().with_base_url(bad));
        assert_eq!(err.field, "base_url", "{bad}");
        assert!(!err.message.contains(bad), "the URL is not repeated: {err}");
    }
    let from_env = MpesaConfigBuilder::from_lookup(|name| {
        (name == "MPESA_BASE_URL").then(|| "https://proxy.example".to_owned())
    })
    .unwrap();
    assert_eq!(from_env.base_url.as_deref(), Some("https://proxy.example"));
}

const TEST_CERT: &str = include_str!("../../tests/fixtures/initiator/test_initiator_cert.pem");

fn cert_path() -> String {
    format!(
        "{}/tests/fixtures/initiator/test_initiator_cert.pem",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn initiator_credentials_are_optional_and_give_result_urls() {
    let without = production().build().unwrap();
    assert_eq!(without.initiator_name(), None);

    let with = production()
        .with_initiator("pochiapi", "Initiator-pass-1")
        .with_initiator_certificate(cert_path())
        .build()
        .unwrap();
    assert_eq!(with.initiator_name(), Some("pochiapi"));
    assert_eq!(
        with.result_url(InitiatorChannel::ReversalResult),
        format!("https://duka.example.co.ke/api/pay/callbacks/reversal-result/{TOKEN}")
    );
    assert_eq!(
        with.result_url(InitiatorChannel::B2cTimeout),
        format!("https://duka.example.co.ke/api/pay/callbacks/b2c-timeout/{TOKEN}")
    );
    let pem = production()
        .with_initiator("pochiapi", "Initiator-pass-1")
        .with_initiator_certificate_pem(TEST_CERT)
        .build()
        .unwrap();
    assert_eq!(pem.initiator_name(), Some("pochiapi"));
}

#[test]
fn a_partial_initiator_is_refused_naming_what_is_missing() {
    let no_cert = refused(production().with_initiator("pochiapi", "Initiator-pass-1"));
    assert_eq!(no_cert.field, "initiator");
    assert!(
        no_cert.message.ends_with("missing: initiator_certificate"),
        "{no_cert}"
    );
    let only_cert = refused(production().with_initiator_certificate(cert_path()));
    assert!(
        only_cert
            .message
            .ends_with("missing: initiator_name, initiator_password"),
        "{only_cert}"
    );
    let not_a_cert = refused(
        production()
            .with_initiator("pochiapi", "Initiator-pass-1")
            .with_initiator_certificate_pem("not a certificate"),
    );
    assert_eq!(not_a_cert.field, "initiator_certificate");
}

#[test]
fn the_initiator_password_never_shows() {
    let builder = production()
        .with_initiator("pochiapi", "Initiator-pass-1")
        .with_initiator_certificate(cert_path());
    assert!(!format!("{builder:?}").contains("Initiator-pass-1"));
    let config = builder.build().unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("Initiator-pass-1"), "{shown}");
    assert!(shown.contains("pochiapi"));
}

#[test]
fn initiator_settings_come_from_the_environment() {
    let vars: HashMap<&str, String> = [
        ("MPESA_ENVIRONMENT", "production".to_owned()),
        ("MPESA_SHORTCODE", "888880".to_owned()),
        ("MPESA_PASSKEY", "live-passkey-0123456789abcdef".to_owned()),
        ("MPESA_CONSUMER_KEY", "k".to_owned()),
        ("MPESA_CONSUMER_SECRET", "s".to_owned()),
        (
            "MPESA_CALLBACK_BASE_URL",
            "https://duka.example.co.ke".to_owned(),
        ),
        ("MPESA_CALLBACK_TOKEN", TOKEN.to_owned()),
        ("MPESA_INITIATOR_NAME", "pochiapi".to_owned()),
        ("MPESA_INITIATOR_PASSWORD", "Initiator-pass-1".to_owned()),
        ("MPESA_INITIATOR_CERTIFICATE", cert_path()),
    ]
    .into_iter()
    .collect();
    let config = MpesaConfigBuilder::from_lookup(|n| vars.get(n).cloned())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(config.initiator_name(), Some("pochiapi"));
    let partial = MpesaConfigBuilder::from_lookup(|n| {
        (n != "MPESA_INITIATOR_CERTIFICATE")
            .then(|| vars.get(n).cloned())
            .flatten()
    })
    .unwrap();
    assert_eq!(refused(partial).field, "initiator");
}

#[test]
fn a_shop_without_stk_pushes_needs_no_passkey_and_one_with_them_does() {
    let mut without_passkey = production();
    without_passkey.passkey = None;
    assert_eq!(refused(without_passkey.clone()).field, "passkey");
    let config = without_passkey.with_stk_push(false).build().unwrap();
    assert!(!config.stk_push);
}
