//! Property-based fuzzing of every parser of what Daraja (or anyone posing as it) sends: STK
//! callbacks, C2B validations and confirmations, STK query and push answers, register-URL and
//! OAuth answers, error envelopes, timestamps, payer numbers and result codes.
//!
//! Inputs are arbitrary bytes and text, and the test vectors in `tests/fixtures/` with one value
//! (anywhere in the document) replaced by arbitrary JSON or removed. Each property asserts no
//! panic and a typed outcome: a notice the shop can trust, or `InvalidInput` on `body`; a
//! gateway answer, or a `GatewayError`. Cases are bounded (`PROPTEST_CASES` raises them); a
//! failure is saved beside this file in `fuzz_tests.regressions` and replayed first.

use pochi_core::{Error, Notice, PaymentStatus, Receipt};
use proptest::{prelude::*, test_runner::FileFailurePersistence};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{
    codes::ResultCode,
    error::GatewayError,
    notify::{C2bNotice, RegisterUrlAnswer, StkCallback, StkPushAccepted, StkQueryAnswer},
    payer::Payer,
    timestamp::{EAST_AFRICA_TIME, Timestamp},
    token::AccessToken,
    transform,
};

/// `cases` per property unless `PROPTEST_CASES` says otherwise; failures saved beside this file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every JSON pointer into `value` (the root included).
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                pointers(inner, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                pointers(inner, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Any text: arbitrary Unicode, or mostly digits, signs and the letters Daraja uses.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,20}",
        "-?[0-9]{0,30}(\\.[0-9]{0,30})?([eE][+-]?[0-9]{1,3})?",
        "[ A-Z0-9*.:-]{0,70}",
        "[0-9a-fA-F]{64}",
    ]
}

/// Any JSON value, nested a little, with huge and fractional numbers.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
        "[1-9][0-9]{19,39}".prop_map(|n| serde_json::from_str(&n).unwrap()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A fixture with one value replaced by arbitrary JSON, or removed from its object or array.
fn near(fixture_name: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let document = fixture(fixture_name);
    let mut all = Vec::new();
    pointers(&document, String::new(), &mut all);
    (prop::sample::select(all), json_value(), any::<bool>()).prop_map(
        move |(pointer, value, remove)| {
            let mut doc = document.clone();
            let parent = pointer
                .rsplit_once('/')
                .map(|(parent, key)| (parent.to_owned(), key.to_owned()));
            match (remove, parent) {
                (true, Some((parent, key))) => match doc.pointer_mut(&parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&key);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>() {
                            items.remove(i);
                        }
                    }
                    _ => {}
                },
                _ => *doc.pointer_mut(&pointer).unwrap() = value,
            }
            serde_json::to_vec(&doc).unwrap()
        },
    )
}

/// Any body: arbitrary bytes, arbitrary JSON, or a fixture mutated.
fn body(fixtures: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let near_any = prop::sample::select(fixtures).prop_flat_map(near);
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        6 => near_any,
    ]
}

fn is_body_error(err: &Error) -> bool {
    matches!(err, Error::InvalidInput { field, .. } if field == "body")
}

/// A received amount the shop can count: whole, positive KES.
fn is_whole_positive(amount: Decimal) -> bool {
    amount > Decimal::ZERO && amount.fract().is_zero()
}

fn check_gateway_error(err: &GatewayError) -> Result<(), TestCaseError> {
    if let GatewayError::Unparseable { body, .. } = err {
        prop_assert!(body.chars().count() <= 512);
    }
    // Every error converts to a core kind with a stable code.
    let core: Error = err.clone().into();
    prop_assert!(!core.code().is_empty());
    Ok(())
}

const STK: &[&str] = &[
    "stk_callback_success.json",
    "stk_callback_cancelled.json",
    "stk_callback_unreachable.json",
];

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn any_stk_callback_is_a_trusted_result_or_a_body_error(body in body(STK)) {
        let outcome = match StkCallback::parse(&body, EAST_AFRICA_TIME) {
            Ok(callback) => {
                prop_assert!(!callback.checkout_request_id.is_empty());
                prop_assert_eq!(callback.checkout_request_id.trim(), &callback.checkout_request_id);
                transform::stk_notice(callback, String::from_utf8_lossy(&body).into_owned())
            }
            Err(err) => Err(Error::from(err)),
        };
        match outcome {
            Ok(Notice::AttemptResult { reference, result }) => {
                prop_assert!(!reference.is_empty());
                let status = result.status.expect("a callback result is final");
                prop_assert!(status.is_final());
                if status == PaymentStatus::Succeeded {
                    let amount = result.amount.expect("a success carries its amount");
                    prop_assert!(is_whole_positive(amount.amount()));
                    let receipt = result.receipt.expect("a success carries its receipt");
                    prop_assert_eq!(Receipt::parse(receipt.as_str()), Ok(receipt.clone()));
                }
            }
            Ok(other) => prop_assert!(false, "not an attempt result: {other:?}"),
            Err(err) => prop_assert!(is_body_error(&err), "{err:?}"),
        }
    }

    #[test]
    fn any_c2b_notification_is_a_countable_payment_or_a_body_error(
        body in body(&["c2b_confirmation.json"]),
    ) {
        let outcome = match C2bNotice::parse(&body, EAST_AFRICA_TIME) {
            Ok(notice) => {
                prop_assert!(!notice.trans_id.is_empty());
                // The fixture's shortcode: fuzzed ones differ and are reported, not refused.
                let business = crate::Business::PayBill {
                    shortcode: crate::ShortCode::parse("600966").unwrap(),
                };
                transform::direct_payment(
                    notice,
                    String::from_utf8_lossy(&body).into_owned(),
                    &business,
                )
            }
            Err(err) => Err(Error::from(err)),
        };
        match outcome {
            Ok(payment) => {
                prop_assert!(is_whole_positive(payment.amount.amount()));
                prop_assert_eq!(Receipt::parse(payment.receipt.as_str()), Ok(payment.receipt.clone()));
            }
            Err(err) => prop_assert!(is_body_error(&err), "{err:?}"),
        }
    }

    #[test]
    fn any_stk_query_answer_is_pending_a_final_code_or_a_gateway_error(
        status in prop_oneof![4 => Just(200u16), 1 => any::<u16>(), 1 => 400..600u16],
        body in body(&["stk_query_response_paid.json", "error_invalid_token.json", "error_invalid_shortcode.json"]),
    ) {
        let body = String::from_utf8_lossy(&body);
        match StkQueryAnswer::parse(status, &body) {
            Ok(StkQueryAnswer::Pending) => {}
            Ok(StkQueryAnswer::Final { result_code, .. }) => {
                prop_assert!(result_code.payment_status().is_some_and(PaymentStatus::is_final));
            }
            Err(err) => check_gateway_error(&err)?,
        }
    }

    #[test]
    fn any_push_register_or_token_answer_is_read_or_a_gateway_error(
        status in prop_oneof![4 => Just(200u16), 1 => any::<u16>()],
        body in body(&[
            "stk_push_response_ok.json", "c2b_register_response.json", "oauth_response.json",
            "error_invalid_token.json", "error_invalid_shortcode.json",
        ]),
    ) {
        let body = String::from_utf8_lossy(&body);
        match StkPushAccepted::parse(status, &body) {
            Ok(accepted) => prop_assert!(!accepted.checkout_request_id.is_empty()),
            Err(err) => check_gateway_error(&err)?,
        }
        match RegisterUrlAnswer::parse(status, &body) {
            Ok(answer) => prop_assert_eq!(answer.response_code.trim(), "0"),
            Err(err) => check_gateway_error(&err)?,
        }
        match AccessToken::parse(status, &body) {
            Ok(token) => {
                prop_assert!((1..=86_400).contains(&token.expires_in.as_secs()));
            }
            Err(err) => check_gateway_error(&err)?,
        }
        check_gateway_error(&GatewayError::from_response(status, &body))?;
    }

    #[test]
    fn any_reported_value_is_a_timestamp_payer_or_code_that_reads_back(input in text()) {
        if let Ok(ts) = Timestamp::parse(&input) {
            prop_assert_eq!(ts.as_str(), input.trim());
            let instant = ts.to_instant(EAST_AFRICA_TIME).expect("a parsed timestamp is an instant");
            prop_assert_eq!(Timestamp::at(instant, EAST_AFRICA_TIME), ts);
        }
        match Payer::parse(&input) {
            None => prop_assert!(input.trim().is_empty()),
            Some(Payer::Phone(phone)) => prop_assert_eq!(phone.as_str(), input.trim()),
            Some(payer) => prop_assert!(!payer.as_reported().is_empty()),
        }
        let code = ResultCode::parse(&input);
        prop_assert_eq!(code.as_str(), input.trim());
        prop_assert_eq!(ResultCode::parse(code.as_str()), code);
    }
}
