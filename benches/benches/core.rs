//! Criterion benchmarks of pochi-core's hot paths, each beside a ceiling measured in the same
//! run: the same work without Pochi's rules, so the ratio is the price of the rules.
//!
//! `cargo bench -p pochi-benches --bench core` (criterion's options after `--`, e.g.
//! `-- --quick`). Under `cargo test` (`test = true` in `Cargo.toml`) every benchmark runs once,
//! so none can rot. With `POCHI_CORE_BENCH_OUT=FILE` the Markdown table of
//! [`pochi_benches::core_report`] is written there after the run.
//!
//! | group | Pochi | ceiling |
//! |---|---|---|
//! | `checkout` | the JSON body to a [`Checkout`] (serde, then [`Checkout::parse`]) | serde alone, to [`CheckoutInput`] |
//! | `pricing-N` | [`pricing::price`] of an order of N lines (1, 10, 100) | Σ unit price × quantity over the same lines, unchecked |
//! | `order-json` | `serde_json::to_vec` of an [`Order`] (3 lines, 3 timeline entries) | the same document as a prebuilt `serde_json::Value` |
//! | `settle-payment` | [`Store::settle_payment`] on a [`MemoryStore`]: an STK success that pays the order | a map lookup and update of the attempt and the order under one mutex |
//!
//! `pricing` goes past the 50 lines a checkout may have ([`pochi_core::checkout::MAX_LINES`]):
//! the issue asks for 100, and the function itself has no limit.

use std::{collections::HashMap, hint::black_box, path::PathBuf, sync::Mutex};

use criterion::{BatchSize, Criterion};
use pochi_benches::core_report;
use pochi_core::{
    CheckoutInput, Currency, MemoryStore, Order, OrderStatus, Payment, PaymentStatus, Product,
    Settled, Store, checkout::Checkout, pricing, settings::StoreSettings,
};
use pochi_testkit::fixtures::{
    T0, by_reference, checkout, new_order, order_number, place, product, started_attempt,
    stock_shelves, success,
};
use rust_decimal::Decimal;
use serde_json::Value;

/// What a storefront posts to `POST /api/orders`: three items.
const CHECKOUT_BODY: &str = r#"{
  "name": "Wanjiru Kamau",
  "phone": "0712 345 678",
  "county": "nairobi",
  "area": "Westlands",
  "address": "Mpaka Road, blue gate, 2nd floor",
  "notes": "Call when at the gate",
  "items": [
    {"productId": "0b6a2f84-5a55-4a52-9d0e-8f4c3e2d1a01", "quantity": 2},
    {"productId": "0b6a2f84-5a55-4a52-9d0e-8f4c3e2d1a02", "quantity": 1},
    {"productId": "0b6a2f84-5a55-4a52-9d0e-8f4c3e2d1a03", "quantity": 5}
  ]
}"#;

fn main() {
    let mut criterion = Criterion::default()
        .output_directory(&output_directory())
        .configure_from_args();
    checkout_parsing(&mut criterion);
    pricing_lines(&mut criterion);
    order_json(&mut criterion);
    settle_payment(&mut criterion);
    criterion.final_summary();

    if let Some(out) = std::env::var_os("POCHI_CORE_BENCH_OUT") {
        let written = core_report::table(&output_directory())
            .and_then(|table| Ok(std::fs::write(&out, table)?));
        if let Err(err) = written {
            eprintln!("core bench: cannot write the table: {err}");
            std::process::exit(1);
        }
    }
}

/// Where criterion keeps its results: `POCHI_CRITERION_DIR`, or `target/criterion` of the
/// workspace.
fn output_directory() -> PathBuf {
    std::env::var_os("POCHI_CRITERION_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/criterion")),
        PathBuf::from,
    )
}

fn checkout_parsing(c: &mut Criterion) {
    // The bench measures a checkout that passes: three items, the phone normalised.
    let parsed = serde_json::from_str::<CheckoutInput>(CHECKOUT_BODY)
        .map_err(|e| e.to_string())
        .and_then(|input| Checkout::parse(&input).map_err(|e| e.to_string()));
    match parsed {
        Ok(checkout) => {
            assert_eq!(checkout.items.len(), 3);
            assert_eq!(checkout.customer.phone.as_str(), "254712345678");
        }
        Err(err) => panic!("the bench checkout is refused: {err}"),
    }
    let mut group = c.benchmark_group("checkout");
    group.bench_function(core_report::CEILING, |b| {
        b.iter(|| serde_json::from_str::<CheckoutInput>(black_box(CHECKOUT_BODY)))
    });
    group.bench_function(core_report::POCHI, |b| {
        b.iter(|| {
            serde_json::from_str::<CheckoutInput>(black_box(CHECKOUT_BODY))
                .map_err(|e| e.to_string())
                .and_then(|input| Checkout::parse(&input).map_err(|e| e.to_string()))
        })
    });
    group.finish();
}

/// `lines` products (stock tracked) and a checkout of each, one unit more per line.
fn catalogue_and_checkout(lines: usize) -> (Vec<Product>, Checkout) {
    let catalogue: Vec<Product> = (0..lines)
        .map(|i| {
            product(
                &format!("Kikoi {i}"),
                &format!("{}.50", 100 + i),
                Some(1_000),
            )
        })
        .collect();
    let mut input = checkout(&[]);
    input.items = catalogue
        .iter()
        .zip(1..)
        .map(|(p, quantity)| pochi_core::CheckoutItemInput {
            product_id: p.id.to_string(),
            quantity,
        })
        .collect();
    // Past MAX_LINES the parser refuses the checkout; the pricing function takes any number.
    let mut parsed = Checkout::parse(&CheckoutInput {
        items: input.items[..1].to_vec(),
        ..input.clone()
    })
    .unwrap_or_else(|e| panic!("the bench checkout is valid: {e}"));
    parsed.items = input
        .items
        .iter()
        .zip(&catalogue)
        .map(|(item, product)| pochi_core::checkout::CheckoutItem {
            product_id: product.id,
            quantity: pochi_core::Quantity::from_i64(item.quantity)
                .unwrap_or_else(|e| panic!("the bench quantities are valid: {e}")),
        })
        .collect();
    (catalogue, parsed)
}

fn pricing_lines(c: &mut Criterion) {
    let fees = StoreSettings::defaults(Currency::Kes).delivery;
    for lines in [1, 10, 100] {
        let (catalogue, checkout) = catalogue_and_checkout(lines);
        let pairs: Vec<(Decimal, Decimal)> = checkout
            .items
            .iter()
            .zip(&catalogue)
            .map(|(item, p)| (p.price.amount(), Decimal::from(item.quantity.get())))
            .collect();
        // Both sides add up the same subtotal.
        let ceiling = pairs.iter().fold(Decimal::ZERO, |sum, (price, quantity)| {
            sum + price * quantity
        });
        match pricing::price(&checkout, &catalogue, &fees, Currency::Kes) {
            Ok(priced) => assert_eq!(priced.subtotal.amount(), ceiling),
            Err(err) => panic!("the bench order of {lines} lines is refused: {err}"),
        }
        let mut group = c.benchmark_group(format!("pricing-{lines}"));
        group.bench_function(core_report::CEILING, |b| {
            b.iter(|| {
                black_box(&pairs)
                    .iter()
                    .fold(Decimal::ZERO, |sum, (price, quantity)| {
                        sum + price * quantity
                    })
            })
        });
        group.bench_function(core_report::POCHI, |b| {
            b.iter(|| {
                pricing::price(
                    black_box(&checkout),
                    black_box(&catalogue),
                    &fees,
                    Currency::Kes,
                )
            })
        });
        group.finish();
    }
}

fn order_json(c: &mut Criterion) {
    let catalogue = [
        product("Kikoi", "1500", Some(10)),
        product("Kiondo basket", "2200.50", None),
        product("Maasai shuka", "950", Some(4)),
    ];
    let input = checkout(&[(&catalogue[0], 2), (&catalogue[1], 1), (&catalogue[2], 3)]);
    let mut order: Order = new_order(order_number(), &input, &catalogue, T0).order;
    for (status, note) in [
        (OrderStatus::Paid, "Paid by M-Pesa, receipt SGR4KPLQ8X"),
        (OrderStatus::Processing, "Packing"),
    ] {
        let mut entry = order.timeline[0].clone();
        entry.status = status;
        entry.note = note.to_owned();
        order.timeline.push(entry);
    }
    let value: Value = serde_json::to_value(&order)
        .unwrap_or_else(|e| panic!("an order serializes to a JSON value: {e}"));

    let mut group = c.benchmark_group("order-json");
    group.bench_function(core_report::CEILING, |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)))
    });
    group.bench_function(core_report::POCHI, |b| {
        b.iter(|| serde_json::to_vec(black_box(&order)))
    });
    group.finish();
}

/// The least an in-memory store does to apply a success: find the attempt and its order under
/// one lock, update both, append a timeline note.
#[derive(Debug, Default)]
struct PlainBook {
    attempts: HashMap<String, (String, PaymentStatus, Option<String>)>,
    orders: HashMap<String, (OrderStatus, Vec<String>)>,
}

fn settle_payment(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(err) => panic!("a tokio runtime for the bench: {err}"),
    };
    let store = MemoryStore::new();
    let item = product("Kikoi", "1500", None);
    runtime.block_on(stock_shelves(&store, &[&item]));
    // A pending attempt on a fresh order, for each iteration.
    let pending = |n: u64| -> Payment {
        runtime.block_on(async {
            let new = new_order(
                order_number(),
                &checkout(&[(&item, 1)]),
                std::slice::from_ref(&item),
                T0,
            );
            let order = place(&store, &new).await;
            started_attempt(&store, &order, order.total, &format!("ws_CO_{n}")).await
        })
    };

    // The measured call applies the success and pays the order.
    let payment = pending(0);
    match runtime.block_on(store.settle_payment(
        &by_reference(&payment),
        &success(payment.amount, &receipt(0)),
    )) {
        Ok(Settled::Applied { order, .. }) => assert_eq!(order.status, OrderStatus::Paid),
        other => panic!("the bench payment was not applied: {other:?}"),
    }

    let mut group = c.benchmark_group("settle-payment");
    let book = Mutex::new(PlainBook::default());
    let mut n = 0u64;
    group.bench_function(core_report::CEILING, |b| {
        b.iter_batched(
            || {
                n += 1;
                let reference = format!("ws_CO_plain_{n}");
                let order = format!("POCHI-{n:010}");
                let mut book = book.lock().unwrap_or_else(|e| e.into_inner());
                book.attempts.insert(
                    reference.clone(),
                    (order.clone(), PaymentStatus::Pending, None),
                );
                book.orders
                    .insert(order, (OrderStatus::PendingPayment, Vec::new()));
                (reference, receipt(n))
            },
            |(reference, receipt)| {
                let mut book = book.lock().unwrap_or_else(|e| e.into_inner());
                let book = &mut *book;
                if let Some((order, status, stored)) = book.attempts.get_mut(&reference) {
                    *status = PaymentStatus::Succeeded;
                    *stored = Some(receipt);
                    if let Some((order_status, notes)) = book.orders.get_mut(order) {
                        *order_status = OrderStatus::Paid;
                        notes.push(String::from("Paid by M-Pesa"));
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function(core_report::POCHI, |b| {
        b.iter_batched(
            || {
                n += 1;
                let payment = pending(n);
                (by_reference(&payment), success(payment.amount, &receipt(n)))
            },
            |(target, result)| runtime.block_on(store.settle_payment(&target, &result)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// A distinct valid M-Pesa receipt (10 capital letters and digits) for iteration `n`: `SGR`
/// and `n` in base 36, seven digits (enough for any run).
fn receipt(n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut code = *b"SGR0000000";
    let mut rest = n;
    for slot in code[3..].iter_mut().rev() {
        *slot = DIGITS[usize::try_from(rest % 36).unwrap_or(0)];
        rest /= 36;
    }
    String::from_utf8_lossy(&code).into_owned()
}
