use pochi_core::CallbackToken;
use time::macros::datetime;

use super::*;
use crate::{
    business::{Business, ShortCode},
    config::{Environment, MpesaConfigBuilder},
    notify::StkCallback,
    timestamp::EAST_AFRICA_TIME,
};

const TOKEN: &str = "test-callback-token-01";

fn builder() -> MpesaConfigBuilder {
    MpesaConfig::builder()
        .with_environment(Environment::Sandbox)
        .with_public_sandbox_paybill()
        .with_credentials("key", "secret")
        .with_callback_base_url("https://duka.example.co.ke")
        .with_callback_token(&CallbackToken::parse(TOKEN).unwrap())
}

fn push() -> StkPush {
    StkPush::new(
        Msisdn::parse("0708374149").unwrap(),
        Money::parse("1500", Currency::Kes).unwrap(),
        "7K3M9QXA2B",
        "Order payment",
    )
    .unwrap()
}

fn timestamp() -> Timestamp {
    Timestamp::at(datetime!(2021-06-28 06:24:08 UTC), EAST_AFRICA_TIME)
}

fn json(body: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(body).unwrap()
}

#[test]
fn stk_push_body_for_a_paybill() {
    let config = builder().build().unwrap();
    let body = json(&stk_push_body(&config, &push(), &timestamp()));
    // The golden password: one timestamp for Password and Timestamp.
    assert_eq!(
        body["Password"],
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
    );
    insta::assert_json_snapshot!(body, { ".Password" => "[password]" });
}

#[test]
fn stk_push_body_for_a_till_buys_goods_from_the_store_number() {
    let config = builder()
        .with_till(
            ShortCode::parse("300300").unwrap(),
            ShortCode::parse("5123456").unwrap(),
        )
        .build()
        .unwrap();
    let body = json(&stk_push_body(&config, &push(), &timestamp()));
    insta::assert_json_snapshot!(body, { ".Password" => "[password]" });
}

#[test]
fn stk_push_body_can_send_phone_numbers_as_strings() {
    let config = builder()
        .with_phone_format(PhoneFormat::String)
        .build()
        .unwrap();
    let body = json(&stk_push_body(&config, &push(), &timestamp()));
    assert_eq!(body["PartyA"], "254708374149");
    assert_eq!(body["PhoneNumber"], "254708374149");
}

#[test]
fn stk_push_timestamp_follows_the_configured_zone() {
    let config = builder()
        .with_timestamp_offset(time::UtcOffset::UTC)
        .build()
        .unwrap();
    let ts = Timestamp::at(
        datetime!(2021-06-28 06:24:08 UTC),
        config.timestamp_offset(),
    );
    let body = json(&stk_push_body(&config, &push(), &ts));
    assert_eq!(body["Timestamp"], "20210628062408");
}

#[test]
fn stk_query_body_uses_one_timestamp_for_password_and_body() {
    let config = builder().build().unwrap();
    let ts = Timestamp::parse("20160216165627").unwrap();
    let body = json(&stk_query_body(&config, "ws_CO_260520211133524545", &ts));
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/stk_query_request.json")).unwrap();
    assert_eq!(body["Password"], vector["Password"]);
    insta::assert_json_snapshot!(body, { ".Password" => "[password]" });
}

#[test]
fn register_url_body_names_both_callback_urls() {
    let config = builder().build().unwrap();
    insta::assert_json_snapshot!(json(&register_url_body(&config)));
}

#[test]
fn amounts_must_be_whole_shillings_from_1_to_250000() {
    let phone = Msisdn::parse("0708374149").unwrap();
    for (amount, ok) in [
        ("1", true),
        ("250000", true),
        ("0", false),
        ("250001", false),
        ("100.50", false),
    ] {
        let result = StkPush::new(
            phone.clone(),
            Money::parse(amount, Currency::Kes).unwrap(),
            "REF",
            "Order payment",
        );
        match (ok, result) {
            (true, Ok(push)) => assert_eq!(push.amount.to_string(), amount),
            (false, Err(err)) => assert_eq!(err.field(), Some("amount"), "{amount}"),
            (ok, result) => panic!("{amount}: expected ok={ok}, got {result:?}"),
        }
    }
}

#[test]
fn account_reference_and_description_follow_daraja_limits() {
    let phone = Msisdn::parse("0708374149").unwrap();
    let amount = Money::parse("10", Currency::Kes).unwrap();
    let field = |reference: &str, description: &str| {
        StkPush::new(phone.clone(), amount, reference, description)
            .err()
            .and_then(|e| e.field().map(str::to_owned))
    };
    assert_eq!(field("ABCDEFGHIJKL", "1234567890123"), None);
    assert_eq!(
        field("ABCDEFGHIJKLM", "Order"),
        Some("account_reference".into())
    );
    assert_eq!(field("ORDER-1", "Order"), Some("account_reference".into()));
    assert_eq!(field("", "Order"), Some("account_reference".into()));
    assert_eq!(field("REF", "12345678901234"), Some("description".into()));
    assert_eq!(field("REF", "  "), Some("description".into()));
}

fn callback(fixture: &str) -> StkCallback {
    StkCallback::parse(fixture.as_bytes(), EAST_AFRICA_TIME).unwrap()
}

#[test]
fn a_success_callback_becomes_a_succeeded_result_with_receipt_amount_and_payer() {
    let raw = include_str!("../../tests/fixtures/stk_callback_success.json");
    let Notice::AttemptResult { reference, result } =
        stk_notice(callback(raw), raw.into()).unwrap()
    else {
        panic!("expected an attempt result");
    };
    assert_eq!(reference, "ws_CO_191220191020363925");
    assert_eq!(result.status, Some(PaymentStatus::Succeeded));
    assert_eq!(
        result.amount,
        Some(Money::parse("1", Currency::Kes).unwrap())
    );
    assert_eq!(
        result.receipt.as_ref().map(Receipt::as_str),
        Some("NLJ7RT61SV")
    );
    assert_eq!(result.payer.as_deref(), Some("254708374149"));
    assert_eq!(result.result_code.as_deref(), Some("0"));
    assert_eq!(result.raw_payload.as_deref(), Some(raw));
}

#[test]
fn failure_callbacks_map_to_cancelled_timed_out_and_failed() {
    for (raw, status, code) in [
        (
            include_str!("../../tests/fixtures/stk_callback_cancelled.json"),
            PaymentStatus::Cancelled,
            "1032",
        ),
        (
            include_str!("../../tests/fixtures/stk_callback_unreachable.json"),
            PaymentStatus::TimedOut,
            "1037",
        ),
        (
            r#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1","ResultCode":1019,"ResultDesc":"Transaction has expired"}}}"#,
            PaymentStatus::TimedOut,
            "1019",
        ),
        (
            r#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1","ResultCode":"2001","ResultDesc":"The initiator information is invalid."}}}"#,
            PaymentStatus::Failed,
            "2001",
        ),
    ] {
        let Notice::AttemptResult { result, .. } = stk_notice(callback(raw), raw.into()).unwrap()
        else {
            panic!("expected an attempt result");
        };
        assert_eq!(result.status, Some(status), "{code}");
        assert_eq!(result.result_code.as_deref(), Some(code));
        assert_eq!(result.receipt, None);
        assert_eq!(result.amount, None);
    }
}

#[test]
fn a_success_without_amount_or_receipt_or_with_cents_is_refused() {
    for raw in [
        r#"{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok"}}}"#,
        r#"{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[{"Name":"Amount","Value":10}]}}}}"#,
        r#"{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[{"Name":"Amount","Value":10.5},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}]}}}}"#,
    ] {
        let err = stk_notice(callback(raw), raw.into()).unwrap_err();
        assert_eq!(err.field(), Some("body"), "{raw}");
    }
}

#[test]
fn a_c2b_confirmation_becomes_a_direct_payment_with_an_opaque_payer() {
    let raw = include_str!("../../tests/fixtures/c2b_confirmation.json");
    let notice = C2bNotice::parse(raw.as_bytes(), EAST_AFRICA_TIME).unwrap();
    let paybill = Business::PayBill {
        shortcode: ShortCode::parse("600966").unwrap(),
    };
    let payment = direct_payment(notice.clone(), raw.into(), &paybill).unwrap();
    assert_eq!(payment.other_shortcode, None);
    assert_eq!(payment.receipt.as_str(), "RKL51ZDR4F");
    assert_eq!(payment.amount, Money::parse("5", Currency::Kes).unwrap());
    assert_eq!(payment.account_reference, "Sample Transaction");
    assert_eq!(payment.payer.as_deref(), Some("2547 ***** 126"));
}

#[test]
fn a_c2b_payment_to_another_shortcode_is_reported_as_such() {
    let raw = include_str!("../../tests/fixtures/c2b_confirmation.json");
    let notice = C2bNotice::parse(raw.as_bytes(), EAST_AFRICA_TIME).unwrap();
    let code = |text: &str| ShortCode::parse(text).unwrap();
    // The vector is paid to 600966: another paybill's money
    let other = Business::PayBill {
        shortcode: code("174379"),
    };
    let payment = direct_payment(notice.clone(), raw.into(), &other).unwrap();
    assert_eq!(payment.other_shortcode.as_deref(), Some("600966"));
    // A till's payments may name its store number or the till itself
    for (store_number, till_number) in [("600966", "5123456"), ("300300", "600966")] {
        let till = Business::Till {
            store_number: code(store_number),
            till_number: code(till_number),
        };
        let payment = direct_payment(notice.clone(), raw.into(), &till).unwrap();
        assert_eq!(
            payment.other_shortcode, None,
            "{store_number}/{till_number}"
        );
    }
    // A body that names no shortcode is not the shop's either
    let blank = raw.replace("\"600966\"", "\"\"");
    let notice = C2bNotice::parse(blank.as_bytes(), EAST_AFRICA_TIME).unwrap();
    let payment = direct_payment(notice, blank.clone(), &other).unwrap();
    assert_eq!(payment.other_shortcode.as_deref(), Some(""));
}

/// A Transaction Status result as Daraja posts it, with `params` as its `ResultParameters`.
fn status_result(code: &str, occasion: Option<&str>, params: &[(&str, &str)]) -> InitiatorResult {
    let items: Vec<serde_json::Value> = params
        .iter()
        .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
        .collect();
    let reference = match occasion {
        Some(o) => serde_json::json!({"Key": "Occasion", "Value": o}),
        None => serde_json::json!({"Key": "Occasion"}),
    };
    let body = serde_json::json!({"Result": {
        "ResultType": 0, "ResultCode": code, "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "1234-1", "ConversationID": "AG_20261204_01",
        "TransactionID": "UL00000000",
        "ReferenceData": {"ReferenceItem": reference},
        "ResultParameters": {"ResultParameter": items},
    }});
    crate::parse_initiator_result("status-result", body.to_string().as_bytes()).unwrap()
}

const PAYMENT: &str = "0192c1d2-0000-7000-8000-000000000001";

fn sandbox_paybill() -> Business {
    builder().build().unwrap().business
}

#[test]
fn a_completed_transaction_to_the_shop_confirms_the_payment_named_by_its_occasion() {
    let params = [
        ("DebitPartyName", "254708374149 - John Doe"),
        ("CreditPartyName", "174379 - Duka"),
        ("TransactionStatus", "Completed"),
        ("Amount", "1500"),
        ("ReceiptNo", "UL1AB2CD3E"),
        ("FinalisedTime", "20261204101500"),
    ];
    let Notice::TransactionStatus {
        payment_id,
        request,
        outcome,
    } = status_notice(
        status_result("0", Some(PAYMENT), &params),
        &sandbox_paybill(),
    )
    else {
        panic!("a status notice");
    };
    assert_eq!(payment_id.unwrap().to_string(), PAYMENT);
    assert_eq!(request, "AG_20261204_01");
    let facts = outcome.unwrap();
    assert_eq!(facts.receipt.as_str(), "UL1AB2CD3E");
    assert_eq!(facts.completed_at, Some(datetime!(2026-12-04 07:15 UTC)));
    assert_eq!(
        facts.amount.unwrap().to_string(),
        Money::parse("1500", Currency::Kes).unwrap().to_string()
    );
}

#[test]
fn a_status_answer_that_cannot_confirm_says_why() {
    let words = |result: InitiatorResult| match status_notice(result, &sandbox_paybill()) {
        Notice::TransactionStatus { outcome, .. } => outcome.unwrap_err(),
        other => panic!("{other:?}"),
    };
    let base = [("ReceiptNo", "UL1AB2CD3E"), ("Amount", "1500")];

    let elsewhere = [base[0], base[1], ("CreditPartyName", "600000 - Other Shop")];
    assert!(words(status_result("0", Some(PAYMENT), &elsewhere)).contains("600000"));
    let reversed = [base[0], base[1], ("TransactionStatus", "Reversed")];
    assert!(words(status_result("0", Some(PAYMENT), &reversed)).contains("Reversed"));
    let failed = status_result("R000002", Some(PAYMENT), &[]);
    assert!(words(failed).contains("R000002"));
    assert!(words(status_result("0", None, &[("Amount", "1500")])).contains("no transaction"));
}
