//! The owner's dashboard: revenue per day, the order search and the CSV export.

use axum::http::StatusCode;
use pochi_core::Product;
use serde_json::{Value, json};

use crate::support::*;

/// Places an order for `name` (with `area`) through the API and, when `receipt` is given, pays
/// it by push with that M-Pesa receipt; its number.
async fn order_by(
    app: &TestApp,
    kikoi: &Product,
    name: &str,
    area: &str,
    receipt: Option<&str>,
) -> String {
    let mut body = checkout(kikoi, 1);
    body["name"] = json!(name);
    body["area"] = json!(area);
    let placed = post("/api/orders", body).send(&app.router).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.json());
    let number = placed.json()["number"].as_str().unwrap().to_owned();
    if let Some(receipt) = receipt {
        let started = post(
            "/api/payments",
            json!({"orderNumber": number, "method": "push"}),
        )
        .send(&app.router)
        .await;
        let id = started.json()["id"].as_str().unwrap().to_owned();
        let settled = post(
            &format!("/api/pay/callbacks/stk/{TOKEN}"),
            json!({"reference": format!("ws_CO_{id}"), "resultCode": "0", "receipt": receipt, "amount": kikoi.price.amount().to_string()}),
        )
        .send(&app.router)
        .await;
        assert!(settled.status.is_success(), "{:?}", settled.status);
    }
    number
}

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn stats_give_revenue_and_paid_orders_for_each_of_the_last_30_days() {
    // Given one paid order today (2 March, EAT) and one unpaid
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    order_by(&app, &kikoi, "Wanjiru", "Westlands", Some("NLJ7RT61SV")).await;
    order_by(&app, &kikoi, "Otieno", "Westlands", None).await;

    // When the owner reads the statistics
    let stats = get("/api/admin/stats")
        .admin()
        .send(&app.router)
        .await
        .json();

    // Then there are 30 days, today last with the paid order, every other day zeros
    let daily = stats["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    assert_eq!(
        daily[0],
        json!({"date": "2026-02-01", "revenue": {"amount": "0.00", "currency": "KES"}, "orders": 0})
    );
    assert_eq!(
        daily[29],
        json!({"date": "2026-03-02", "revenue": {"amount": "1500.00", "currency": "KES"}, "orders": 1})
    );
}

#[tokio::test]
async fn orders_are_found_by_customer_name_or_part_of_the_number_with_the_filters() {
    // Given three orders, the first two paid
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    let wanjiru = order_by(
        &app,
        &kikoi,
        "Wanjiru Kamau",
        "Westlands",
        Some("NLJ7RT61SV"),
    )
    .await;
    let otieno = order_by(&app, &kikoi, "Otieno", "Westlands", Some("NLJ7RT61SW")).await;
    let unpaid = order_by(&app, &kikoi, "wanjiru", "Westlands", None).await;
    let find = |query: String| {
        let router = app.router.clone();
        async move {
            let reply = get(&format!("/api/admin/orders?{query}"))
                .admin()
                .send(&router)
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
            reply.json()
        }
    };

    // By name in any case, newest first
    assert_eq!(
        numbers(&find("q=WANJIRU".into()).await),
        vec![unpaid.clone(), wanjiru.clone()]
    );
    // By part of the order number, and by the whole number in lower case
    let part = &otieno[otieno.len() - 6..];
    assert_eq!(
        numbers(&find(format!("q={part}")).await),
        vec![otieno.clone()]
    );
    let whole = otieno.to_lowercase();
    assert_eq!(numbers(&find(format!("q={whole}")).await), vec![otieno]);
    // With the status filter
    assert_eq!(
        numbers(&find("q=wanjiru&status=paid".into()).await),
        vec![wanjiru.clone()]
    );
    // A page at a time
    let first = find("q=wanjiru&limit=1".into()).await;
    assert_eq!(numbers(&first), vec![unpaid]);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let second = find(format!("q=wanjiru&limit=1&cursor={cursor}")).await;
    assert_eq!(numbers(&second), vec![wanjiru]);
    assert_eq!(second["nextCursor"], Value::Null);
    // An empty search is no search
    assert_eq!(numbers(&find("q=".into()).await).len(), 3);
}

#[tokio::test]
async fn a_search_too_long_or_with_control_characters_is_422_on_q() {
    let app = app();
    for path in ["/api/admin/orders", "/api/admin/orders/export.csv"] {
        for q in [
            "a".repeat(101),
            "wan%07jiru".to_owned(),
            "wanjiru%0A".to_owned(),
        ] {
            let reply = get(&format!("{path}?q={q}"))
                .admin()
                .send(&app.router)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?q={q}"
            );
            assert_eq!(reply.code(), "invalid_input");
            assert_eq!(reply.field().as_deref(), Some("q"));
        }
    }
}

#[tokio::test]
async fn the_export_is_refused_without_an_admin_login() {
    let app = app();
    let reply = get("/api/admin/orders/export.csv").send(&app.router).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthorized");
    assert_eq!(reply.header("content-disposition"), None);
    // and an admin gets the file (a header row when there are no orders)
    let reply = get("/api/admin/orders/export.csv")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(String::from_utf8(reply.body).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn the_export_is_quoted_csv_with_formulas_neutralised() {
    // Given a paid order by a customer whose name is a formula, to an area with a comma and
    // quotes, and an unpaid order
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    let formula = order_by(
        &app,
        &kikoi,
        "=HYPERLINK(\"http://x.example\",\"pay\")",
        "Westlands, \"Blue\" gate",
        Some("NLJ7RT61SV"),
    )
    .await;
    app.clock.advance(std::time::Duration::from_secs(5 * 60));
    let plain = order_by(&app, &kikoi, "Otieno", "-Kilimani", None).await;

    // When the owner exports the orders
    let reply = get("/api/admin/orders/export.csv")
        .admin()
        .send(&app.router)
        .await;

    // Then it is an attachment of RFC 4180 CSV, newest first, times in EAT
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"orders-2026-03-02.csv\"")
    );
    let csv = String::from_utf8(reply.body.clone()).unwrap();
    assert_eq!(
        csv,
        format!(
            "Placed at (EAT),Order number,Status,Customer,Phone,County,Area,Lines,Subtotal,\
             Delivery fee,Total,M-Pesa receipts,Refunded,Refund owed,Refund references\r\n\
             2026-03-02 12:05,{plain},pending_payment,Otieno,254712345678,Nairobi,'-Kilimani,\
             1 × Kikoi,1500.00,0.00,1500.00,,0.00,0.00,\r\n\
             2026-03-02 12:00,{formula},paid,\"'=HYPERLINK(\"\"http://x.example\"\",\"\"pay\"\")\",\
             254712345678,Nairobi,\"Westlands, \"\"Blue\"\" gate\",1 × Kikoi,1500.00,0.00,1500.00,\
             NLJ7RT61SV,0.00,0.00,\r\n"
        )
    );

    // and it takes the list's filters
    let paid = get("/api/admin/orders/export.csv?status=paid&q=hyperlink")
        .admin()
        .send(&app.router)
        .await;
    let paid = String::from_utf8(paid.body).unwrap();
    assert_eq!(paid.lines().count(), 2);
    assert!(paid.contains(&formula));
    let nobody = get("/api/admin/orders/export.csv?q=nobody")
        .admin()
        .send(&app.router)
        .await;
    assert_eq!(String::from_utf8(nobody.body).unwrap().lines().count(), 1);
}

/// Cancels paid order `number` as the admin; the id of the refund it owes.
async fn cancel_paid(app: &TestApp, number: &str) -> String {
    let cancelled = put(
        &format!("/api/orders/{number}/status"),
        json!({"status": "cancelled"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.json());
    let owed = get("/api/admin/refunds?status=owed")
        .admin()
        .send(&app.router)
        .await
        .json();
    owed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["orderNumber"] == json!(number))
        .and_then(|r| r["id"].as_str())
        .expect("a refund owed")
        .to_owned()
}

#[tokio::test]
async fn the_export_shows_the_money_each_order_sent_back_and_still_owes_back() {
    // Given two paid orders cancelled by the shop: one's money sent back by hand, the other's
    // still owed
    let app = app();
    let kikoi = product(&app.shop, "Kikoi", "1500", None).await;
    let sent = order_by(&app, &kikoi, "Wanjiru", "Westlands", Some("NLJ7RT61SV")).await;
    app.clock.advance(std::time::Duration::from_secs(5 * 60));
    let owing = order_by(&app, &kikoi, "Otieno", "Kilimani", Some("NLJ7RT61SW")).await;
    let refund = cancel_paid(&app, &sent).await;
    cancel_paid(&app, &owing).await;
    let paid_back = post(
        &format!("/api/admin/refunds/{refund}/refunded"),
        json!({"reference": "SLK4H7Q2XZ"}),
    )
    .admin()
    .send(&app.router)
    .await;
    assert_eq!(paid_back.status, StatusCode::OK, "{}", paid_back.json());

    // When the owner exports the orders
    let reply = get("/api/admin/orders/export.csv")
        .admin()
        .send(&app.router)
        .await;

    // Then each row says what was sent back, with its M-Pesa reference, and what is owed
    assert_eq!(reply.status, StatusCode::OK);
    let csv = String::from_utf8(reply.body).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].ends_with(",M-Pesa receipts,Refunded,Refund owed,Refund references"),
        "{}",
        rows[0]
    );
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].contains(&owing), "{csv}");
    assert!(
        rows[1].ends_with(
            ",cancelled,Otieno,254712345678,Nairobi,Kilimani,1 × Kikoi,1500.00,0.00,1500.00,\
             NLJ7RT61SW,0.00,1500.00,"
        ),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains(&sent), "{csv}");
    assert!(
        rows[2].ends_with(",1500.00,0.00,1500.00,NLJ7RT61SV,1500.00,0.00,SLK4H7Q2XZ"),
        "{}",
        rows[2]
    );
}
