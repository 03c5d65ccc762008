//! The parsers on every Daraja test vector in `tests/fixtures/` (copied from the shared
//! reference) and on the variations real traffic shows.

use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use time::macros::datetime;

use crate::{
    codes::ResultCode,
    config::SANDBOX_PASSKEY,
    error::GatewayError,
    notify::{C2bNotice, RegisterUrlAnswer, StkCallback, StkPushAccepted, StkQueryAnswer},
    payer::Payer,
    timestamp::{EAST_AFRICA_TIME, Timestamp, password},
    token::AccessToken,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn every_fixture_is_read_by_its_parser() {
    let names: Vec<String> =
        std::fs::read_dir(format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json"))
            .collect();
    for name in &names {
        let body = fixture(name);
        let read = match name.as_str() {
            n if n.starts_with("stk_callback_") => {
                StkCallback::parse(body.as_bytes(), EAST_AFRICA_TIME).is_ok()
            }
            "c2b_confirmation.json" => C2bNotice::parse(body.as_bytes(), EAST_AFRICA_TIME).is_ok(),
            "c2b_register_response.json" => RegisterUrlAnswer::parse(200, &body).is_ok(),
            "oauth_response.json" => AccessToken::parse(200, &body).is_ok(),
            "stk_push_response_ok.json" => StkPushAccepted::parse(200, &body).is_ok(),
            "stk_query_response_paid.json" => StkQueryAnswer::parse(200, &body).is_ok(),
            n if n.starts_with("error_") => !matches!(
                GatewayError::from_response(400, &body),
                GatewayError::Unparseable { .. }
            ),
            // Requests we send: checked against our bodies in the transformer tests.
            "stk_push_request.json" | "stk_query_request.json" | "c2b_register_request.json" => {
                true
            }
            other => panic!("fixture {other} has no parser test"),
        };
        assert!(read, "{name} was not read");
    }
    assert_eq!(names.len(), 13);
}

#[test]
fn stk_success_callback_items_are_found_by_name() {
    let callback = StkCallback::parse(
        fixture("stk_callback_success.json").as_bytes(),
        EAST_AFRICA_TIME,
    )
    .unwrap();
    assert_eq!(callback.checkout_request_id, "ws_CO_191220191020363925");
    assert_eq!(callback.merchant_request_id, "29115-34620561-1");
    assert_eq!(callback.result_code, ResultCode::Success);
    let meta = callback.metadata.unwrap();
    assert_eq!(meta.amount, Some(dec("1")));
    assert_eq!(meta.receipt.as_deref(), Some("NLJ7RT61SV"));
    assert_eq!(
        meta.transaction_date,
        Some(datetime!(2019-12-19 07:21:15 UTC))
    );
    assert_eq!(meta.phone, Payer::parse("254708374149"));
    assert_eq!(meta.balance, None);
}

#[test]
fn stk_callback_variants_are_read_leniently() {
    // Items reordered, a valueless Balance, ResultCode as a string, a string amount, and
    // Balance in the "{Amount={...}}" string form.
    let body = br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1",
        "ResultCode":"0","ResultDesc":"ok","CallbackMetadata":{"Item":[
        {"Name":"PhoneNumber","Value":"254708374149"},
        {"Name":"Balance"},
        {"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},
        {"Name":"Amount","Value":"1500.00"},
        {"Name":"TransactionDate","Value":"20231210133416"}]}}}}"#;
    let callback = StkCallback::parse(body, EAST_AFRICA_TIME).unwrap();
    assert_eq!(callback.result_code, ResultCode::Success);
    let meta = callback.metadata.unwrap();
    assert_eq!(meta.amount, Some(dec("1500")));
    assert_eq!(meta.balance, None);
    assert_eq!(
        meta.transaction_date,
        Some(datetime!(2023-12-10 10:34:16 UTC))
    );

    let body = br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1",
        "ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[
        {"Name":"Amount","Value":1.00},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},
        {"Name":"Balance","Value":"{Amount={CurrencyCode=KES, MinimumAmount=0, BasicAmount=0.00}}"}]}}}}"#;
    let meta = StkCallback::parse(body, EAST_AFRICA_TIME)
        .unwrap()
        .metadata
        .unwrap();
    assert_eq!(meta.amount, Some(dec("1")));
    assert_eq!(meta.balance, None);
    assert_eq!(meta.phone, None);
}

#[test]
fn failure_callbacks_have_no_metadata() {
    for (name, code) in [
        ("stk_callback_cancelled.json", ResultCode::CancelledByUser),
        ("stk_callback_unreachable.json", ResultCode::Unreachable),
    ] {
        let callback = StkCallback::parse(fixture(name).as_bytes(), EAST_AFRICA_TIME).unwrap();
        assert_eq!(callback.result_code, code);
        assert_eq!(callback.metadata, None);
    }
    let odd = br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1","ResultCode":"SFC_IC0003","ResultDesc":"The operator does not exist"}}}"#;
    let callback = StkCallback::parse(odd, EAST_AFRICA_TIME).unwrap();
    assert_eq!(callback.result_code, ResultCode::OperatorDoesNotExist);
}

#[test]
fn unreadable_callbacks_are_errors() {
    for body in [
        &b"not json"[..],
        br#"{"Body":{}}"#,
        br#"{"Body":{"stkCallback":{"CheckoutRequestID":"","ResultCode":0}}}"#,
        br#"{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1"}}}"#,
    ] {
        assert!(
            StkCallback::parse(body, EAST_AFRICA_TIME).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn c2b_confirmation_keeps_the_typed_account_and_an_opaque_payer() {
    let notice = C2bNotice::parse(
        fixture("c2b_confirmation.json").as_bytes(),
        EAST_AFRICA_TIME,
    )
    .unwrap();
    assert_eq!(notice.trans_id, "RKL51ZDR4F");
    assert_eq!(notice.amount, dec("5"));
    assert_eq!(notice.bill_ref_number, "Sample Transaction");
    assert_eq!(notice.org_account_balance, Some(dec("25")));
    assert_eq!(notice.trans_time, Some(datetime!(2023-11-21 09:13:25 UTC)));
    assert_eq!(notice.payer, Some(Payer::Masked("2547 ***** 126".into())));
    assert_eq!(notice.transaction_type, "Pay Bill");
}

#[test]
fn c2b_variants_hashed_msisdn_numeric_amount_and_blank_balance() {
    let hash = "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92";
    let body = format!(
        r#"{{"TransactionType":"Buy Goods","TransID":"RKL51ZDR4G","TransTime":"20231121121325",
        "TransAmount":1500,"BusinessShortCode":"5123456","BillRefNumber":"","InvoiceNumber":null,
        "OrgAccountBalance":"","ThirdPartyTransID":"","MSISDN":"{hash}","FirstName":"ANN"}}"#
    );
    let notice = C2bNotice::parse(body.as_bytes(), EAST_AFRICA_TIME).unwrap();
    assert_eq!(notice.amount, dec("1500"));
    assert_eq!(notice.org_account_balance, None);
    assert_eq!(notice.invoice_number, "");
    assert_eq!(notice.payer, Some(Payer::Hashed(hash.into())));
    assert!(notice.payer.unwrap().phone().is_none());

    let masked = br#"{"TransID":"RKL51ZDR4H","TransAmount":"10.00","MSISDN":"25470****149"}"#;
    let notice = C2bNotice::parse(masked, EAST_AFRICA_TIME).unwrap();
    assert_eq!(notice.payer, Some(Payer::Masked("25470****149".into())));

    let no_amount = br#"{"TransID":"RKL51ZDR4H","TransAmount":"ten"}"#;
    assert!(C2bNotice::parse(no_amount, EAST_AFRICA_TIME).is_err());
}

#[test]
fn stk_query_answers_pending_and_final() {
    assert_eq!(
        StkQueryAnswer::parse(200, &fixture("stk_query_response_paid.json")).unwrap(),
        StkQueryAnswer::Final {
            result_code: ResultCode::Success,
            result_description: "The service request is processed successfully.".into(),
        }
    );
    let processing = r#"{"requestId":"x","errorCode":"500.001.1001","errorMessage":"The transaction is being processed"}"#;
    assert_eq!(
        StkQueryAnswer::parse(500, processing).unwrap(),
        StkQueryAnswer::Pending
    );
    let empty =
        r#"{"ResponseCode":"0","ResponseDescription":"ok","ResultCode":"","ResultDesc":""}"#;
    assert_eq!(
        StkQueryAnswer::parse(200, empty).unwrap(),
        StkQueryAnswer::Pending
    );
    let missing = r#"{"ResponseCode":"0","ResponseDescription":"ok"}"#;
    assert_eq!(
        StkQueryAnswer::parse(200, missing).unwrap(),
        StkQueryAnswer::Pending
    );
    let still = r#"{"ResponseCode":"0","ResultCode":"4999","ResultDesc":"still under processing"}"#;
    assert_eq!(
        StkQueryAnswer::parse(200, still).unwrap(),
        StkQueryAnswer::Pending
    );
    let numeric =
        r#"{"ResponseCode":"0","ResultCode":1032,"ResultDesc":"Request cancelled by user"}"#;
    assert!(matches!(
        StkQueryAnswer::parse(200, numeric).unwrap(),
        StkQueryAnswer::Final {
            result_code: ResultCode::CancelledByUser,
            ..
        }
    ));
    let token = fixture("error_invalid_token.json");
    assert_eq!(
        StkQueryAnswer::parse(404, &token).unwrap_err(),
        GatewayError::InvalidToken {
            code: "404.001.03".into()
        }
    );
}

#[test]
fn stk_push_answers() {
    let accepted = StkPushAccepted::parse(200, &fixture("stk_push_response_ok.json")).unwrap();
    assert_eq!(
        accepted.checkout_request_id,
        "ws_CO_1007202409152617172396192"
    );
    assert_eq!(
        accepted.merchant_request_id,
        "2654-4b64-97ff-b827b542881d3130"
    );
    assert_eq!(
        StkPushAccepted::parse(400, &fixture("error_invalid_shortcode.json")).unwrap_err(),
        GatewayError::BadRequest {
            field: "BusinessShortCode".into(),
            code: "400.002.02".into()
        }
    );
    assert_eq!(
        StkPushAccepted::parse(200, "<html>ok</html>").unwrap_err(),
        GatewayError::Unparseable {
            status: 200,
            body: "<html>ok</html>".into()
        }
    );
}

#[test]
fn the_register_answer_accepts_daraja_spelling_and_the_correct_one() {
    let answer = RegisterUrlAnswer::parse(200, &fixture("c2b_register_response.json")).unwrap();
    assert_eq!(
        answer.originator_conversation_id,
        "6e86-45dd-91ac-fd5d4178ab523408729"
    );
    let correct =
        r#"{"OriginatorConversationID":"abc","ResponseCode":"0","ResponseDescription":"Success"}"#;
    assert_eq!(
        RegisterUrlAnswer::parse(200, correct)
            .unwrap()
            .originator_conversation_id,
        "abc"
    );
    let taken = r#"{"requestId":"x","errorCode":"500.003.1001","errorMessage":"Urls are already registered"}"#;
    assert!(matches!(
        RegisterUrlAnswer::parse(500, taken),
        Err(GatewayError::Rejected { .. })
    ));
}

#[test]
fn passwords_match_the_request_vectors() {
    let passkey = SecretString::from(SANDBOX_PASSKEY);
    for name in ["stk_push_request.json", "stk_query_request.json"] {
        let vector = json(name);
        let timestamp = Timestamp::parse(vector["Timestamp"].as_str().unwrap()).unwrap();
        let derived = password("174379", &passkey, &timestamp);
        assert_eq!(
            derived.expose_secret(),
            vector["Password"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn the_oauth_vector_and_its_string_variant() {
    let token = AccessToken::parse(200, &fixture("oauth_response.json")).unwrap();
    assert_eq!(token.expires_in.as_secs(), 3599);
    let string = AccessToken::parse(200, r#"{"access_token":"x","expires_in":"3599"}"#).unwrap();
    assert_eq!(string.expires_in.as_secs(), 3599);
}
