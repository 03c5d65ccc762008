//! Property-based fuzzing of every parser in the core that reads outside input: phone numbers,
//! counties, order numbers and prefixes, ids, idempotency keys, M-Pesa codes, money, quantities,
//! free text, list limits and cursors, the checkout and htpasswd lines.
//!
//! Each property feeds arbitrary input (any Unicode, huge numbers) and near-valid input (valid
//! values mutated or decorated) and asserts the parser neither panics nor returns anything but
//! a well-formed value or its typed error. Cases per property are bounded (`PROPTEST_CASES`
//! raises them); a failure is saved beside this file in `fuzz.regressions` and replayed first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pochi_core::{
    AdminUsers, Checkout, CheckoutInput, CheckoutItemInput, County, Currency, Error,
    IdempotencyKey, Limit, Money, Msisdn, OrderKey, OrderNumber, OrderPrefix, PasswordHash,
    ProductId, Quantity, Receipt,
    ids::{ORDER_CODE_ALPHABET, ORDER_CODE_LEN},
    page::{CursorKey, ReviewKey},
    product::ProductKey,
    text::bounded_text,
};
use proptest::{prelude::*, test_runner::FileFailurePersistence};
use time::OffsetDateTime;
use uuid::Uuid;

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

/// Any text: arbitrary Unicode, or mostly the characters the parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        prop::collection::vec(
            prop_oneof![
                4 => prop::char::range('0', '9'),
                2 => prop::sample::select(vec![
                    ' ', '-', '.', '+', '(', ')', '#', '\t', '\n', '|', ':', '*', '$', '٣', '੭',
                    'é', 'İ', 'ß', '\u{0}', '\u{200b}', '\u{feff}'
                ]),
                2 => prop::char::range('A', 'Z'),
                1 => prop::char::range('a', 'z'),
                1 => any::<char>(),
            ],
            0..70
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

/// `valid` with one character inserted, removed or replaced at an arbitrary place.
fn mutated(valid: String) -> impl Strategy<Value = String> {
    let len = valid.chars().count();
    (0..=len, 0..3u8, any::<char>(), prop::char::range('0', 'Z')).prop_map(
        move |(at, how, wild, near)| {
            let mut chars: Vec<char> = valid.chars().collect();
            let c = if at % 2 == 0 { near } else { wild };
            match how {
                0 => chars.insert(at, c),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        },
    )
}

/// A valid national number: 9 digits starting 7 or 1.
fn national() -> impl Strategy<Value = String> {
    "[71][0-9]{8}"
}

fn is_canonical_phone(text: &str) -> bool {
    text.len() == 12
        && (text.starts_with("2547") || text.starts_with("2541"))
        && text.bytes().all(|b| b.is_ascii_digit())
}

fn check_phone(input: &str) -> Result<(), TestCaseError> {
    match Msisdn::parse(input) {
        Ok(phone) => {
            prop_assert!(is_canonical_phone(phone.as_str()), "{:?}", phone.as_str());
            prop_assert_eq!(Msisdn::parse(phone.as_str()), Ok(phone.clone()));
            prop_assert_eq!(phone.masked().len(), 12);
        }
        Err(err) => {
            // The message is one of two fixed hints and never echoes what was typed.
            prop_assert!(err.message().starts_with("must be a Kenyan mobile number"));
        }
    }
    // Deserialising is the same parser.
    let json = serde_json::to_string(input).unwrap();
    prop_assert_eq!(
        serde_json::from_str::<Msisdn>(&json).ok(),
        Msisdn::parse(input).ok()
    );
    Ok(())
}

fn check_order_number(input: &str) -> Result<(), TestCaseError> {
    match OrderNumber::parse(input) {
        Ok(number) => {
            let (prefix, code) = number.as_str().split_once('-').unwrap();
            prop_assert!((1..=8).contains(&prefix.len()));
            prop_assert!(prefix.bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert_eq!(code.len(), ORDER_CODE_LEN);
            prop_assert!(code.bytes().all(|b| ORDER_CODE_ALPHABET.contains(&b)));
            prop_assert_eq!((number.prefix(), number.code()), (prefix, code));
            prop_assert_eq!(OrderNumber::parse(number.as_str()), Ok(number.clone()));
        }
        Err(err) => prop_assert!(err.message().starts_with("must be an order number")),
    }
    if let Some(found) = OrderNumber::from_account_reference(input, &OrderPrefix::default()) {
        prop_assert_eq!(OrderNumber::parse(found.as_str()), Ok(found));
    }
    Ok(())
}

/// The fields a checkout error may name.
fn is_checkout_field(field: &str) -> bool {
    let item_field = |f: &str| {
        f.strip_prefix("items[")
            .and_then(|rest| rest.split_once("]."))
            .is_some_and(|(index, name)| {
                index.parse::<usize>().is_ok() && matches!(name, "productId" | "quantity")
            })
    };
    matches!(
        field,
        "name" | "phone" | "county" | "area" | "address" | "notes" | "items"
    ) || item_field(field)
}

fn check_checkout(input: &CheckoutInput) -> Result<(), TestCaseError> {
    match Checkout::parse(input) {
        Ok(checkout) => {
            prop_assert!(is_canonical_phone(checkout.customer.phone.as_str()));
            prop_assert_eq!(
                County::parse(checkout.delivery.county.name()),
                Ok(checkout.delivery.county)
            );
            let name = &checkout.customer.name;
            prop_assert!(!name.is_empty() && name.trim() == name && name.chars().count() <= 100);
            prop_assert!((1..=pochi_core::checkout::MAX_LINES).contains(&checkout.items.len()));
            for item in &checkout.items {
                prop_assert!((1..=Quantity::MAX).contains(&item.quantity.get()));
            }
            prop_assert_eq!(checkout.fingerprint().len(), 64);
            // The per-product cap never panics on what parse accepted, and a cap of 999 per
            // product (one line's maximum) never refuses.
            prop_assert!(
                checkout
                    .check_units_per_product(input, |_| Some(Quantity::MAX))
                    .is_ok()
            );
            if let Err(err) = checkout.check_units_per_product(input, |_| Some(1)) {
                prop_assert!(err.field().is_some_and(is_checkout_field), "{err:?}");
            }
        }
        Err(Error::InvalidInput { field, .. }) => {
            prop_assert!(is_checkout_field(&field), "unexpected field {field:?}");
        }
        Err(other) => prop_assert!(false, "not an invalid-input error: {other:?}"),
    }
    Ok(())
}

fn valid_checkout() -> CheckoutInput {
    CheckoutInput {
        name: "Wanjiru Kamau".into(),
        phone: "0712 345 678".into(),
        county: "Nairobi".into(),
        area: "Westlands".into(),
        address: "Mpaka Road, blue gate".into(),
        notes: Some("Call at the gate".into()),
        items: vec![CheckoutItemInput {
            product_id: "00000000-0000-0000-0000-000000000001".into(),
            quantity: 2,
        }],
        language: None,
    }
}

fn items() -> impl Strategy<Value = Vec<CheckoutItemInput>> {
    let product_id = prop_oneof![
        any::<u128>().prop_map(|n| Uuid::from_u128(n % 4).to_string()),
        any::<u128>().prop_map(|n| Uuid::from_u128(n).hyphenated().to_string()),
        text(),
    ];
    let quantity = prop_oneof![
        0..1_100i64,
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN),
        Just(i64::from(u32::MAX) + 1),
    ];
    prop::collection::vec(
        (product_id, quantity).prop_map(|(product_id, quantity)| CheckoutItemInput {
            product_id,
            quantity,
        }),
        0..60,
    )
}

/// An instant anywhere in the range `time` represents.
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    let min = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT).unix_timestamp_nanos();
    let max = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT).unix_timestamp_nanos();
    prop_oneof![
        min..=max,
        -4_000_000_000_000_000_000i128..4_000_000_000_000_000_000
    ]
    .prop_map(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap())
}

fn order_number() -> impl Strategy<Value = OrderNumber> {
    (
        "[A-Z]{1,8}",
        prop::collection::vec(0..32usize, ORDER_CODE_LEN),
    )
        .prop_map(|(prefix, code)| {
            let code: String = code
                .into_iter()
                .map(|i| char::from(ORDER_CODE_ALPHABET[i]))
                .collect();
            OrderNumber::new(&OrderPrefix::parse(&prefix).unwrap(), &code).unwrap()
        })
}

/// A cursor-shaped input: arbitrary text, or base64 of `|`-joined parts (some valid, some not).
fn cursor_text() -> impl Strategy<Value = String> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let part = prop_oneof![
        prop::sample::select(vec!["p", "o", "c", "r", ""]).prop_map(str::to_owned),
        any::<i128>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        "POCHI-[2-9A-Z]{10}",
        "07[0-9]{8}",
        text(),
    ];
    prop_oneof![
        text(),
        "[A-Za-z0-9_-]{0,300}",
        prop::collection::vec(part, 0..5).prop_map(|parts| URL_SAFE_NO_PAD.encode(parts.join("|"))),
        prop::collection::vec(any::<u8>(), 0..120).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
    ]
}

fn check_cursor<K: CursorKey + PartialEq + std::fmt::Debug>(
    cursor: &str,
) -> Result<(), TestCaseError> {
    match K::decode(cursor) {
        Ok(key) => prop_assert_eq!(K::decode(&key.encode()), Ok(key)),
        Err(err) => prop_assert_eq!(err.message(), "is not a cursor this list returned"),
    }
    Ok(())
}

/// A bcrypt hash (cost 4) and an argon2id hash, both of the password `secret-password`.
const BCRYPT: &str = "$2y$04$R4j8Dj9z1i5QbiXh4c6vBOUyqkvo2M0Xo5OeC2ILjQHGLwmTfcV2q";
const ARGON2: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$OR3nh4E6Vp63bGuw6VQDUR9JyB26dOm4Yzo1Z8Zr8tU";

fn htpasswd_line() -> impl Strategy<Value = String> {
    let user = prop_oneof!["[a-z]{1,10}", "[!-~]{0,70}", text()];
    let hash = prop_oneof![
        Just(BCRYPT.to_owned()),
        Just(ARGON2.to_owned()),
        mutated(BCRYPT.to_owned()),
        mutated(ARGON2.to_owned()),
        "\\$(2[abxy]|argon2(id|i|d)|apr1|1)\\$[!-~]{0,70}",
        text(),
    ];
    prop_oneof![
        8 => (user, prop::sample::select(vec![":", "::", " : ", ""]), hash)
            .prop_map(|(user, colon, hash)| format!("{user}{colon}{hash}")),
        1 => Just(String::new()),
        1 => text().prop_map(|t| format!("#{t}")),
        1 => text(),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn any_text_is_a_canonical_phone_or_the_phone_error(input in text()) {
        check_phone(&input)?;
    }

    #[test]
    fn every_written_form_of_a_number_parses_to_its_canonical_form(
        national in national(),
        form in 0..4u8,
        separators in prop::collection::vec(
            prop::sample::select(vec!["", "", " ", "-", ".", "(", ")"]), 13),
    ) {
        let digits = match form {
            0 => format!("0{national}"),
            1 => format!("254{national}"),
            2 => format!("+254{national}"),
            _ => national.clone(),
        };
        // Separators between digits (never before a leading `+`).
        let mut written = String::new();
        for (i, c) in digits.chars().enumerate() {
            if c != '+' {
                written.push_str(separators[i]);
            }
            written.push(c);
        }
        let phone = Msisdn::parse(&format!(" {written} ")).unwrap();
        prop_assert_eq!(phone.as_str(), format!("254{national}"));
    }

    #[test]
    fn a_mutated_number_is_still_canonical_or_refused(
        input in national().prop_flat_map(|n| mutated(format!("0{n}")))
    ) {
        check_phone(&input)?;
    }

    #[test]
    fn any_text_is_a_county_that_reparses_to_itself_or_the_county_error(input in text()) {
        match County::parse(&input) {
            Ok(county) => {
                prop_assert_eq!(County::parse(county.name()), Ok(county));
                prop_assert!((1..=47).contains(&county.code()));
            }
            Err(err) => prop_assert_eq!(err.message(), "must be one of Kenya's 47 counties"),
        }
    }

    #[test]
    fn a_county_name_in_any_case_and_spacing_is_that_county(
        index in 0..47usize,
        upper in prop::collection::vec(any::<bool>(), 20),
        separators in prop::collection::vec(
            prop::sample::select(vec!["", "", "", " ", "-", "'", "/"]), 20),
    ) {
        let county = County::all().nth(index).unwrap();
        let written: String = county
            .name()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .enumerate()
            .map(|(i, c)| {
                let c = if upper[i % 20] { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
                format!("{}{c}", separators[i % 20])
            })
            .collect();
        prop_assert_eq!(County::parse(&written), Ok(county));
    }

    #[test]
    fn a_mutated_county_name_is_a_county_or_refused(
        input in (0..47usize).prop_flat_map(|i| mutated(County::all().nth(i).unwrap().name().to_owned()))
    ) {
        if let Ok(county) = County::parse(&input) {
            prop_assert_eq!(County::parse(county.name()), Ok(county));
        }
    }

    #[test]
    fn any_text_is_a_well_formed_order_number_or_the_order_number_error(input in text()) {
        check_order_number(&input)?;
    }

    #[test]
    fn an_order_number_as_a_person_types_it_parses_back(
        number in order_number(),
        lower in prop::collection::vec(any::<bool>(), 20),
        separators in prop::collection::vec(
            prop::sample::select(vec!["", "", "", " ", "-", "#", "\t"]), 20),
    ) {
        let typed: String = number
            .as_str()
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let c = if lower[i] { c.to_ascii_lowercase() } else { c };
                format!("{}{c}", separators[i])
            })
            .collect();
        prop_assert_eq!(OrderNumber::parse(&typed), Ok(number.clone()));
        let reference = format!("{} {}", number.prefix(), number.code().to_ascii_lowercase());
        prop_assert_eq!(
            OrderNumber::from_account_reference(&reference, &OrderPrefix::default()),
            Some(number.clone())
        );
    }

    #[test]
    fn a_mutated_order_number_is_well_formed_or_refused(
        input in order_number().prop_flat_map(|n| mutated(n.as_str().to_owned()))
    ) {
        check_order_number(&input)?;
    }

    #[test]
    fn short_identifiers_parse_to_their_invariants_or_their_error(input in text()) {
        match OrderPrefix::parse(&input) {
            Ok(prefix) => {
                prop_assert!((1..=8).contains(&prefix.as_str().len()));
                prop_assert!(prefix.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            }
            Err(err) => prop_assert_eq!(err.message(), "must be 1 to 8 letters A-Z"),
        }
        match IdempotencyKey::parse(&input) {
            Ok(key) => {
                prop_assert!((1..=100).contains(&key.as_str().len()));
                prop_assert_eq!(IdempotencyKey::parse(key.as_str()), Ok(key.clone()));
            }
            Err(err) => prop_assert!(err.message().starts_with("must be 1 to 100")),
        }
        // The manual M-Pesa confirmation code.
        match Receipt::parse(&input) {
            Ok(code) => {
                prop_assert!((4..=40).contains(&code.as_str().len()));
                prop_assert!(code.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert_eq!(Receipt::parse(code.as_str()), Ok(code.clone()));
            }
            Err(err) => prop_assert!(err.message().starts_with("must be a transaction code")),
        }
        match ProductId::parse(&input) {
            Ok(id) => prop_assert_eq!(ProductId::parse(&id.to_string()), Ok(id)),
            Err(err) => prop_assert!(err.message().contains("(a UUID)")),
        }
    }

    #[test]
    fn any_amount_text_is_money_within_bounds_or_the_money_error(
        input in prop_oneof![
            text(),
            "-?[0-9]{0,40}(\\.[0-9]{0,40})?",
            "-?[0-9]{1,30}[eE][+-]?[0-9]{1,4}",
            "[0-9]{0,3}(,[0-9]{3}){0,8}(\\.[0-9]{0,3})?",
        ],
        currency in prop::sample::select(vec![Currency::Kes, Currency::Ugx, Currency::Usd]),
    ) {
        match Money::parse(&input, currency) {
            Ok(money) => {
                prop_assert!(money.amount() >= rust_decimal::Decimal::ZERO);
                prop_assert!(money.amount() <= Money::MAX);
                prop_assert_eq!(money.amount().scale(), currency.minor_units());
                prop_assert_eq!(Money::parse(&money.amount().to_string(), currency), Ok(money));
                prop_assert_eq!(Money::from_minor(money.to_minor(), currency), Ok(money));
            }
            Err(err) => prop_assert!(!err.message().is_empty()),
        }
    }

    #[test]
    fn any_count_is_a_quantity_or_a_limit_within_bounds_or_their_error(n in prop_oneof![any::<i64>(), -5..1_200i64]) {
        match Quantity::from_i64(n) {
            Ok(q) => prop_assert!((1..=Quantity::MAX).contains(&q.get()) && i64::from(q.get()) == n),
            Err(err) => prop_assert!(err.message().starts_with("must be at")),
        }
        match Limit::new(Some(n)) {
            Ok(limit) => prop_assert!((1..=Limit::MAX).contains(&limit.get())),
            Err(err) => prop_assert_eq!(err.message(), "must be at least 1"),
        }
    }

    #[test]
    fn any_text_is_bounded_clean_text_or_the_text_error(
        input in text(),
        max in 1..50usize,
        multiline in any::<bool>(),
    ) {
        match bounded_text(&input, max, multiline) {
            Ok(out) => {
                prop_assert!(!out.is_empty() && out.trim() == out && out.chars().count() <= max);
                prop_assert!(out.chars().all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'))));
                prop_assert!(input.contains(&out));
            }
            Err(err) => prop_assert!(err.message().starts_with("must ")),
        }
    }

    #[test]
    fn any_cursor_decodes_to_a_key_that_encodes_back_or_the_cursor_error(cursor in cursor_text()) {
        check_cursor::<ProductKey>(&cursor)?;
        check_cursor::<OrderKey>(&cursor)?;
        check_cursor::<Msisdn>(&cursor)?;
        check_cursor::<ReviewKey>(&cursor)?;
    }

    #[test]
    fn every_key_round_trips_through_its_cursor(
        at in instant(),
        id in any::<u128>(),
        number in order_number(),
        phone in national(),
    ) {
        let product = ProductKey { created_at: at, id: ProductId::from_uuid(Uuid::from_u128(id)) };
        prop_assert_eq!(ProductKey::decode(&product.encode()), Ok(product));
        let order = OrderKey { created_at: at, number };
        prop_assert_eq!(OrderKey::decode(&order.encode()), Ok(order.clone()));
        let review = ReviewKey { at, id: pochi_core::ReviewId::from_uuid(Uuid::from_u128(id)) };
        prop_assert_eq!(ReviewKey::decode(&review.encode()), Ok(review));
        let phone = Msisdn::parse(&phone).unwrap();
        prop_assert_eq!(Msisdn::decode(&phone.encode()), Ok(phone));
        // A key of one list is never a cursor of another.
        prop_assert!(ProductKey::decode(&order.encode()).is_err());
    }
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn any_checkout_is_typed_or_names_a_checkout_field(
        name in text(),
        phone in text(),
        county in text(),
        area in text(),
        address in text(),
        notes in prop::option::of(text()),
        items in items(),
    ) {
        check_checkout(&CheckoutInput { name, phone, county, area, address, notes, items, language: None })?;
    }

    #[test]
    fn a_valid_checkout_with_one_field_replaced_is_typed_or_names_a_checkout_field(
        field in 0..7u8,
        value in text(),
        items in items(),
    ) {
        let mut input = valid_checkout();
        match field {
            0 => input.name = value,
            1 => input.phone = value,
            2 => input.county = value,
            3 => input.area = value,
            4 => input.address = value,
            5 => input.notes = Some(value),
            _ => input.items = items,
        }
        check_checkout(&input)?;
    }

    #[test]
    fn a_checkout_json_with_one_value_replaced_is_a_checkout_or_a_serde_error(
        pointer in prop::sample::select(vec![
            "/name", "/phone", "/county", "/area", "/address", "/notes", "/items",
            "/items/0", "/items/0/productId", "/items/0/quantity",
        ]),
        value in json_value(),
    ) {
        let mut json = serde_json::to_value(valid_checkout()).unwrap();
        *json.pointer_mut(pointer).unwrap() = value;
        if let Ok(input) = serde_json::from_value::<CheckoutInput>(json) {
            check_checkout(&input)?;
        }
    }

    #[test]
    fn any_htpasswd_file_is_users_or_an_error_naming_its_line_without_the_hash(
        lines in prop::collection::vec(htpasswd_line(), 0..6),
    ) {
        let file = lines.join("\n");
        match AdminUsers::from_htpasswd(&file) {
            Ok(users) => prop_assert!(users.len() <= lines.len()),
            Err(Error::InvalidInput { field, message }) => {
                let line: usize = field
                    .strip_prefix("line ")
                    .and_then(|n| n.parse().ok())
                    .expect("the field names a line");
                prop_assert!((1..=file.lines().count()).contains(&line), "{field}");
                let bad = file.lines().nth(line - 1).unwrap();
                if let Some((_, hash)) = bad.split_once(':') {
                    let hash = hash.trim();
                    prop_assert!(hash.len() < 8 || !message.contains(hash), "{message}");
                }
            }
            Err(other) => prop_assert!(false, "not an invalid-input error: {other:?}"),
        }
    }

    #[test]
    fn any_stored_hash_is_argon2_or_bcrypt_or_the_hash_error(
        input in prop_oneof![text(), mutated(BCRYPT.to_owned()), mutated(ARGON2.to_owned())]
    ) {
        match PasswordHash::parse(&input) {
            Ok(hash) => {
                prop_assert!(hash.as_str().starts_with("$argon2") || hash.as_str().starts_with("$2"));
                let debug = format!("{:?}", hash);
                prop_assert!(!debug.contains(hash.as_str()));
            }
            Err(err) => prop_assert!(err.message().contains("hash")),
        }
    }
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
