//! The storefront and the admin dashboard in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`, see `scripts/ensure-browser`) driven over WebDriver,
//! against a fresh shop per test (SQLite, simulated M-Pesa, demo products).
//!
//! Every wait is on a page condition (an element shown, a text, a URL), never a fixed sleep.
//! A screenshot of each page visited goes to `$CARGO_TARGET_DIR/browser-screenshots/` (or the
//! workspace's `target/browser-screenshots/`). Without Chromium the tests skip with a reason,
//! except in CI, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

mod browser_support;

use browser_support::{Page, with_shop, with_shop_configured, with_shop_in_languages};
use serde_json::Value;

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (360, 740);

/// A 24 × 24 PNG (a green and yellow check), as a shop owner's product photo.
const PHOTO_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x18, 0x08, 0x02, 0x00, 0x00, 0x00, 0x6f, 0x15, 0xaa,
    0xaf, 0x00, 0x00, 0x00, 0x2e, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0x70, 0xc2, 0x06,
    0x0d, 0x71, 0x57, 0xd9, 0xa1, 0x21, 0x62, 0xd4, 0x30, 0x8c, 0x1a, 0x44, 0x47, 0x83, 0xc8, 0xd3,
    0x86, 0xa9, 0x66, 0xd4, 0x20, 0x7a, 0x1a, 0x34, 0x9a, 0xb2, 0x47, 0xf3, 0xda, 0xa8, 0x41, 0x74,
    0x31, 0x08, 0x00, 0xaf, 0x44, 0x0e, 0x0e, 0xd1, 0x04, 0x76, 0x31, 0x00, 0x00, 0x00, 0x00, 0x49,
    0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Puts the first product in the cart from the shop page, fills the checkout with `phone` and
/// places the order.
async fn add_first_product_and_check_out(page: &Page, phone: &str) {
    add_first_product_and_fill_the_checkout(page, phone).await;
    page.click("#place-order").await;
}

/// Puts the first product in the cart from the shop page and fills the checkout with `phone`.
async fn add_first_product_and_fill_the_checkout(page: &Page, phone: &str) {
    page.open("/").await;
    page.click(".product .add-to-cart:not([disabled])").await;
    page.text_in("[data-cart-count]", "1").await;
    page.click(".cart-link").await;
    page.at("/checkout").await;
    page.fill("#name", "Wanjiru Kamau").await;
    page.fill("#phone", phone).await;
    page.choose("#county", "Nairobi").await;
    page.fill("#area", "Westlands").await;
    page.fill("#address", "Mpaka Road, blue gate").await;
}

/// Waits for the payment page's simulated phone, then plays the customer's `outcome`.
async fn customer_answers(page: &Page, outcome: &str) {
    page.text_in("#push-title", "Check your phone").await;
    page.click(&format!("#simulator [data-outcome=\"{outcome}\"]"))
        .await;
}

/// Buys the first product and pays it; returns the order number from the confirmation page.
async fn buy_and_pay(page: &Page) -> String {
    add_first_product_and_check_out(page, "0712 345 678").await;
    page.at("/pay").await;
    customer_answers(page, "paid").await;
    page.at("/confirmation").await;
    page.shown("#order-number").await.text().await.unwrap()
}

/// Logs in to the admin dashboard with the generated admin account.
async fn log_in(page: &Page) {
    page.open("/admin").await;
    page.fill("#login-user", &page.admin.0).await;
    page.fill("#login-password", &page.admin.1).await;
    page.click("#login-submit").await;
    page.shown("#dashboard").await;
}

#[tokio::test]
async fn a_customer_fixes_a_bad_phone_pays_and_tracks_the_paid_order() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        // Browse: the demo products, one into the cart, kept across a reload.
        page.open("/").await;
        page.shown(".product").await;
        page.shot("shop").await;
        page.click(".product .add-to-cart:not([disabled])").await;
        page.text_in("[data-cart-count]", "1").await;
        page.client.refresh().await.unwrap();
        page.shown(".product").await;
        page.text_in("[data-cart-count]", "1").await;
        page.text_in("#cart-bar", "1 in your cart").await;

        // Checkout with a phone number M-Pesa cannot take: the API's error beside the field.
        page.click("#cart-bar-go").await;
        page.at("/checkout").await;
        page.shown("#lines .line").await;
        page.fill("#name", "Wanjiru Kamau").await;
        page.fill("#phone", "12345").await;
        page.choose("#county", "Nairobi").await;
        page.fill("#area", "Westlands").await;
        page.fill("#address", "Mpaka Road, blue gate").await;
        page.click("#place-order").await;
        let error = page.shown("#phone-error").await;
        assert!(!error.text().await.unwrap().trim().is_empty());
        let phone = page.shown("#phone").await;
        assert_eq!(
            phone.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true")
        );
        assert_eq!(page.at("/checkout").await.path(), "/checkout");
        page.shot("checkout-phone-error").await;

        // Fixed, the order is placed and the payment page prompts the phone.
        page.fill("#phone", "0712 345 678").await;
        page.click("#place-order").await;
        page.at("/pay?order=").await;
        page.text_in("#push-title", "Check your phone").await;
        page.shown("#simulator").await;
        page.shot("pay").await;
        customer_answers(&page, "paid").await;

        // Confirmation: the summary and what happens next; the cart is empty again.
        page.at("/confirmation?order=").await;
        let number = page.shown("#order-number").await.text().await.unwrap();
        assert!(number.starts_with("POCHI"), "{number}");
        page.text_in("#order-status", "Paid").await;
        page.shown("#next-steps").await;
        page.text_in("[data-cart-count]", "0").await;
        page.shot("confirmation").await;

        // The M-Pesa receipt shows on the confirmation.
        let receipt = page
            .shown("#receipts .receipt-code")
            .await
            .text()
            .await
            .unwrap();
        assert!(receipt.len() >= 8, "{receipt}");

        // Track: paid, with the timeline and the receipt.
        page.click("#track-link").await;
        page.at("/track?order=").await;
        page.shown("#order-status [data-status=\"paid\"]").await;
        page.shown("#timeline li[data-status=\"paid\"]").await;
        page.text_in("#receipts", &receipt).await;
        page.shot("track").await;

        // The printable receipt: the shop, the order, its lines, totals and M-Pesa receipt.
        page.click("#receipt-link").await;
        page.at("/receipt?order=").await;
        page.text_in("#order-number", &number).await;
        page.text_in("#mpesa-receipts", &receipt).await;
        page.text_in("#shop-name", "Pochi Shop").await;
        page.text_in("#receipt .totals", "Total").await;
        page.shown("#receipt .lines .line").await;
        page.shot("receipt").await;
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_payment_can_be_retried_and_then_succeeds() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        add_first_product_and_check_out(&page, "0712 345 678").await;
        page.at("/pay").await;
        customer_answers(&page, "cancelled").await;
        page.text_in("#push-title", "Payment cancelled").await;
        page.shown("#retry").await;
        page.shot("pay-cancelled").await;

        page.click("#retry").await;
        customer_answers(&page, "paid").await;
        page.at("/confirmation").await;
        page.text_in("#order-status", "Paid").await;
    })
    .await;
}

#[tokio::test]
async fn an_admin_dispatches_an_order_and_the_track_page_shows_it() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        let number = buy_and_pay(&page).await;

        // A wrong password is refused on the login form.
        page.open("/admin").await;
        page.fill("#login-user", &page.admin.0).await;
        page.fill("#login-password", "not the password").await;
        page.click("#login-submit").await;
        page.text_in("[data-error-for=\"login\"]", "Wrong user name or password")
            .await;
        page.shot("admin-login").await;

        log_in(&page).await;
        // The shop runs simulated M-Pesa: the dashboard says so.
        page.text_in("#simulated-banner", "Simulated M-Pesa").await;
        let card = format!(".order[data-order-number=\"{number}\"]");
        page.shown(&format!("{card}[data-status=\"paid\"]")).await;
        page.shot("admin-orders").await;

        // The first move's note is the admin's own; the second is marked for the customer.
        for (next, note, share) in [
            ("processing", "Call the rider before noon", false),
            ("dispatched", "Rider Juma is on his way", true),
        ] {
            page.choose(&format!("{card} select.move-status"), next)
                .await;
            page.fill(&format!("{card} input.move-note"), note).await;
            if share {
                page.click(&format!("{card} input.note-for-customer")).await;
            }
            page.click(&format!("{card} button.move-order")).await;
            page.shown(&format!("{card}[data-status=\"{next}\"]")).await;
        }
        page.text_in("#status", "On its way").await;

        // Its details: the timeline and the M-Pesa payment with its receipt.
        page.click(&format!("{card} .order-details-toggle")).await;
        page.text_in(&format!("{card} .order-details"), "Payments")
            .await;
        // The admin reads the private note, marked as such.
        page.text_in(
            &format!("{card} .order-details .timeline"),
            "Call the rider before noon",
        )
        .await;
        page.shown(&format!("{card} .order-details .timeline .status-private"))
            .await;
        page.shown(&format!(
            "{card} .order-details [data-status=\"succeeded\"]"
        ))
        .await;
        // made through the simulator, and marked so.
        page.text_in(
            &format!("{card} .order-details .status-simulated"),
            "simulated",
        )
        .await;
        page.eval("document.querySelector('.order-details [data-payment-id]').scrollIntoView();")
            .await;
        page.shot("admin-order-details").await;

        // The filters find it by status.
        page.choose("#filter-status", "dispatched").await;
        page.click("#order-filters button[type=\"submit\"]").await;
        page.shown(&format!("{card}[data-status=\"dispatched\"]"))
            .await;

        // The other tabs show the sale.
        page.click("[data-tab=\"stats\"]").await;
        page.text_in("#stats", "Best sellers").await;
        page.shot("admin-stats").await;
        page.click("[data-tab=\"customers\"]").await;
        page.text_in("#customers", "Wanjiru Kamau").await;
        page.shot("admin-customers").await;
        page.click("[data-tab=\"settings\"]").await;
        page.shown("#set-store-name").await;
        page.shot("admin-settings").await;

        // Logging out lands on the logged-out page, and the dashboard asks for the login again.
        page.click("#logout").await;
        page.at("/logged-out").await;
        page.text_in("#logged-out h1", "You are logged out").await;
        page.shot("logged-out").await;
        let kept = page
            .eval("return sessionStorage.getItem('pochi.admin.v1');")
            .await;
        assert_eq!(kept, Value::Null, "the login is forgotten");
        page.click("#log-in-again").await;
        page.at("/admin").await;
        page.shown("#login").await;
        assert!(!page.shown("#login").await.text().await.unwrap().is_empty());
        log_in(&page).await;

        page.open(&format!("/track?order={number}")).await;
        page.shown("#order-status [data-status=\"dispatched\"]")
            .await;
        page.text_in("#order-status", "On its way").await;
        page.shown("#timeline li[data-status=\"dispatched\"]").await;
        page.text_in("#timeline", "Rider Juma is on his way").await;
        page.text_in("#timeline", "Order is being prepared").await;
        let shown = page.eval("return document.body.innerText;").await;
        assert!(
            !shown.as_str().unwrap().contains("Call the rider"),
            "a private note reached the tracking page:\n{shown}"
        );
        page.shot("track-dispatched").await;
    })
    .await;
}

#[tokio::test]
async fn an_owner_sees_sales_per_day_searches_orders_and_exports_them_on_a_phone() {
    with_shop(PHONE.0, PHONE.1, |page| async move {
        let number = buy_and_pay(&page).await;
        log_in(&page).await;

        // Stats: a bar for today (in East Africa Time) that is not empty, with its tooltip,
        // and the chart fits the phone.
        page.click("[data-tab=\"stats\"]").await;
        page.shown("#stats .chart svg").await;
        let today = page
            .eval(
                "const today = new Date(Date.now() + 3 * 3600 * 1000).toISOString().slice(0, 10); \
                 const bar = document.querySelector(`#stats rect.bar[data-date=\"${today}\"]`); \
                 const title = bar && bar.parentNode.querySelector('title'); \
                 return { bars: document.querySelectorAll('#stats rect.bar').length, \
                   height: bar ? Number(bar.getAttribute('height')) : 0, \
                   last: bar === [...document.querySelectorAll('#stats rect.bar')].pop(), \
                   title: title ? title.textContent : '' };",
            )
            .await;
        assert_eq!(today["bars"], 30, "{today}");
        assert!(today["height"].as_f64().is_some_and(|h| h > 0.0), "{today}");
        assert_eq!(today["last"], true, "{today}");
        assert!(
            today["title"]
                .as_str()
                .is_some_and(|t| t.contains("1 order")),
            "{today}"
        );
        let overflow = page
            .eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;")
            .await;
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "the stats scroll sideways at 360 px"
        );
        page.shot("admin-stats-chart-360px").await;

        // Orders: found by the customer's name and by part of the number, in lower case;
        // a search that matches nothing says so.
        page.click("[data-tab=\"orders\"]").await;
        let card = format!(".order[data-order-number=\"{number}\"]");
        let part = number[number.len() - 6..].to_lowercase();
        for search in ["wanjiru", part.as_str()] {
            page.fill("#filter-q", "nobody like this").await;
            page.click("#order-filters button[type=\"submit\"]").await;
            page.shown("#orders-empty").await;
            page.fill("#filter-q", search).await;
            page.click("#order-filters button[type=\"submit\"]").await;
            page.shown(&card).await;
        }
        let overflow = page
            .eval("const d = document.documentElement; return d.scrollWidth - d.clientWidth;")
            .await;
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "the orders scroll sideways at 360 px"
        );
        page.shot("admin-orders-search-360px").await;

        // Export: the button hands over a CSV file of the searched orders, with the order.
        page.eval(
            "window.exported = null; const make = URL.createObjectURL; \
             URL.createObjectURL = (blob) => { window.exported = blob; return make(blob); }; \
             return true;",
        )
        .await;
        page.click("#orders-export").await;
        let csv = page
            .until("the export is handed over", || async {
                let text = page
                    .eval("return window.exported ? window.exported.text() : null;")
                    .await;
                text.as_str().map(str::to_owned)
            })
            .await;
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 2, "{csv}");
        assert!(
            rows[0].starts_with("Placed at (EAT),Order number,"),
            "{csv}"
        );
        assert!(rows[1].contains(&number), "{csv}");
        assert!(rows[1].contains("Wanjiru Kamau"), "{csv}");
        assert!(rows[1].contains(",paid,"), "{csv}");
    })
    .await;
}

#[tokio::test]
async fn an_admin_adds_a_product_with_a_photo_and_it_appears_in_the_shop() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        let photo_dir = tempfile::tempdir().unwrap();
        let photo = photo_dir.path().join("sufuria.png");
        std::fs::write(&photo, PHOTO_PNG).unwrap();

        log_in(&page).await;
        page.click("[data-tab=\"products\"]").await;
        page.shown("#products tr").await;
        page.fill("#product-name", "Sufuria ya shaba").await;
        page.fill("#product-description", "A copper cooking pot")
            .await;
        page.fill("#product-price", "2750").await;
        page.fill("#product-stock", "4").await;
        page.shown("#product-image")
            .await
            .send_keys(photo.to_str().unwrap())
            .await
            .unwrap();
        page.click("#product-save").await;
        page.text_in("#status", "Sufuria ya shaba saved").await;
        let row = "#products tr[data-product-name=\"Sufuria ya shaba\"]";
        page.shown(&format!("{row} img.thumb")).await;
        page.eval(&format!(
            "document.querySelector('{}').scrollIntoView();",
            row.replace('\'', "\\'")
        ))
        .await;
        page.shot("admin-products").await;

        page.open("/").await;
        let card = ".product[data-product-name=\"Sufuria ya shaba\"]";
        page.text_in(card, "KES 2,750").await;
        let image = format!("{card} img.picture");
        page.shown(&image).await;
        page.until("the product photo has loaded", || async {
            let loaded = page
                .eval(&format!(
                    "const img = document.querySelector('{}'); \
                     return img !== null && img.complete && img.naturalWidth === 24;",
                    image.replace('\'', "\\'")
                ))
                .await;
            (loaded == Value::Bool(true)).then_some(())
        })
        .await;
        page.eval("document.querySelector('.product:last-child').scrollIntoView();")
            .await;
        page.shot("shop-new-product").await;
    })
    .await;
}

#[tokio::test]
async fn the_pages_fit_a_360_px_wide_phone_without_sideways_scrolling() {
    with_shop(PHONE.0, PHONE.1, |page| async move {
        page.open("/").await;
        page.shown(".product").await;
        page.click(".product .add-to-cart:not([disabled])").await;
        page.shown("#cart-bar").await;
        let width = page.eval("return window.innerWidth;").await;
        assert!(
            width.as_u64().is_some_and(|w| w <= 360),
            "the window is {width} px wide, not a phone's 360"
        );
        page.shot("shop-360px").await;
        for (path, ready) in [
            ("/", ".product"),
            ("/checkout", "#lines .line"),
            ("/track", "#order"),
            ("/admin", "#login-user"),
        ] {
            page.open(path).await;
            page.shown(ready).await;
            let overflow = page
                .eval(
                    "const d = document.documentElement; \
                     return d.scrollWidth - d.clientWidth;",
                )
                .await;
            assert_eq!(
                overflow.as_i64(),
                Some(0),
                "{path} scrolls sideways at 360 px"
            );
        }
        page.open("/checkout").await;
        page.shown("#lines .line").await;
        page.shot("checkout-360px").await;
    })
    .await;
}

#[tokio::test]
async fn a_demo_shows_the_texts_a_kiswahili_customer_would_get_in_the_dashboard() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        // The customer reads Kiswahili: they choose it at checkout.
        page.open("/").await;
        page.click(".product .add-to-cart:not([disabled])").await;
        page.text_in("[data-cart-count]", "1").await;
        page.click(".cart-link").await;
        page.at("/checkout").await;
        page.fill("#name", "Wanjiru Kamau").await;
        page.fill("#phone", "0712 345 678").await;
        page.choose("#county", "Nairobi").await;
        page.fill("#area", "Westlands").await;
        page.fill("#address", "Mpaka Road, blue gate").await;
        page.choose("#language", "sw").await;
        page.click("#place-order").await;
        page.at("/pay").await;
        customer_answers(&page, "paid").await;
        page.at("/confirmation").await;
        let number = page.shown("#order-number").await.text().await.unwrap();

        // The simulated shop sent nothing: its Messages tab shows what would have gone.
        log_in(&page).await;
        page.click("[data-tab=\"messages\"]").await;
        let row = |template: &str| {
            format!(
                "#messages tr[data-order-number=\"{number}\"][data-template=\"{template}\"][data-state=\"sent\"]"
            )
        };
        // The dispatcher runs every 2 s and the tab refreshes itself every 5 s.
        page.shown(&row("order_placed")).await;
        page.shown(&row("payment_succeeded")).await;
        page.text_in(&row("order_placed"), "Asante").await;
        page.text_in(&row("order_placed"), &number).await;
        page.text_in(&row("payment_succeeded"), &number).await;
        page.shot("admin-messages").await;

        // The owner edits the Kiswahili text in Settings: the counter follows as they type
        // (a curly quote makes each SMS hold 70 characters), and the text is kept.
        page.click("[data-tab=\"settings\"]").await;
        let editor = "#template-order_placed-sw";
        page.shown(editor).await;
        page.text_in(&format!("{editor} + .sms-length"), "1 SMS").await;
        page.fill(
            editor,
            "{shop}: “Asante sana” {name}! Oda {order} ya {total} imepokelewa. Lipa: {link}",
        )
        .await;
        page.text_in(&format!("{editor} + .sms-length"), "special characters")
            .await;
        // Longer than one UCS-2 SMS: the counter warns.
        page.shown(&format!("{editor} + .sms-length.warning")).await;
        page.shot("admin-template-editor").await;
        page.click("#settings-save").await;
        page.text_in("#status", "Settings saved").await;
        page.open("/admin#settings").await;
        page.shown(editor).await;
        let kept = page
            .eval(&format!("return document.querySelector('{editor}').value;"))
            .await;
        assert!(kept.as_str().unwrap().contains("Asante sana"), "{kept}");
    })
    .await;
}

/// A Buy Goods confirmation SMS as a customer pastes it: line breaks, no full stop before "on".
fn till_sms(code: &str, amount: &str, to: &str) -> String {
    let today = eat_today();
    format!(
        "{code} Confirmed. Ksh{amount} paid to {to}\non {today} at 7:25 PM New M-PESA balance \
         is Ksh3,240.50. Transaction cost, Ksh0.00.\nPIN YAKO SIRI YAKO"
    )
}

#[tokio::test]
async fn a_till_shop_without_api_access_verifies_a_pasted_sms_and_tracking_shows_paid() {
    let vars = [
        ("POCHI_MPESA_MODE", "manual"),
        ("POCHI_DEMO_PRODUCTS", "on"),
    ];
    with_shop_configured(DESKTOP.0, DESKTOP.1, &vars, |page| async move {
        // The dashboard asks where customers pay; the owner sets the till, with the name
        // M-Pesa shows them, and the question goes away.
        log_in(&page).await;
        page.text_in("#account-banner", "Where do customers pay?")
            .await;
        page.click("[data-tab=\"settings\"]").await;
        page.choose("#set-mpesa-kind", "till").await;
        page.fill("#set-mpesa-number", "123456").await;
        page.fill("#set-mpesa-name", "Duka la Mama Wanjiku").await;
        page.click("#settings-save").await;
        page.text_in("#status", "Settings saved").await;
        let banner_hidden = page
            .eval("return document.getElementById('account-banner').hidden;")
            .await;
        assert_eq!(banner_hidden, Value::Bool(true));

        // The customer buys; the payment page says where to pay and how much, no prompt.
        add_first_product_and_check_out(&page, "0712 345 678").await;
        page.at("/pay?order=").await;
        page.text_in("#pay-to", "Till number: 123456").await;
        page.text_in("#pay-to", "Duka la Mama Wanjiku").await;
        assert!(
            !page
                .shown("#manual-panel")
                .await
                .text()
                .await
                .unwrap()
                .is_empty()
        );
        page.shot("pay-manual").await;
        let number = page.shown("#order-number").await.text().await.unwrap();
        let total = page
            .eval(&format!(
                "return fetch('api/track/{number}').then(r => r.json()).then(o => o.total.amount);"
            ))
            .await;
        let total = total.as_str().unwrap().to_owned();

        // A message paid to another till, or for another amount, is refused, saying which.
        page.fill("#code", &till_sms("TKT4FVBL1Z", &total, "DUKA LA BABA"))
            .await;
        page.click("#send-code").await;
        page.text_in(
            "[data-error-for=\"code\"]",
            "not to the shop's till 123456, Duka la Mama Wanjiku",
        )
        .await;
        page.fill(
            "#code",
            &till_sms("TKT4FVBL1Z", "1.00", "DUKA LA MAMA WANJIKU"),
        )
        .await;
        page.click("#send-code").await;
        page.text_in("[data-error-for=\"code\"]", "but the order needs")
            .await;
        page.fill("#code", "Sent you the money, thanks").await;
        page.click("#send-code").await;
        page.text_in("[data-error-for=\"code\"]", "not an M-Pesa confirmation")
            .await;
        page.shot("pay-manual-refused").await;

        // The real one waits for the shop.
        let sms = till_sms("TKT4FVBL1Z", &total, "DUKA LA MAMA WANJIKU");
        page.fill("#code", &sms).await;
        page.click("#send-code").await;
        page.text_in("#push-title", "Code received").await;
        page.open(&format!("/track?order={number}")).await;
        page.shown("#order-status [data-status=\"pending_payment\"]")
            .await;
        page.text_in("#verifying", "the shop is checking the payment")
            .await;
        // No "Pay now" while the code is being checked.
        let pay_now_hidden = page
            .eval("return document.getElementById('pay-now').hidden;")
            .await;
        assert_eq!(pay_now_hidden, Value::Bool(true));

        // The admin confirms the code from the order's payments.
        page.open("/admin").await;
        page.shown("#dashboard").await;
        let card = format!(".order[data-order-number=\"{number}\"]");
        page.click(&format!("{card} .order-details-toggle")).await;
        page.text_in(
            &format!("{card} .order-details [data-status=\"pending_verification\"]"),
            "pending verification",
        )
        .await;
        page.text_in(&format!("{card} .order-details"), "manual code")
            .await;
        page.shot("admin-verify-code").await;
        page.click(&format!("{card} .order-details button.verify-code"))
            .await;
        page.text_in("#status", "Payment confirmed").await;
        page.shown(&format!("{card}[data-status=\"paid\"]")).await;

        // Tracking shows it paid.
        page.open(&format!("/track?order={number}")).await;
        page.shown("#order-status [data-status=\"paid\"]").await;
        page.shown("#timeline li[data-status=\"paid\"]").await;
        page.text_in("#receipts", "TKT4FVBL1Z").await;
        page.shot("track-manual-paid").await;

        // The same SMS for another order is refused: a code counts once.
        add_first_product_and_check_out(&page, "0712 345 678").await;
        page.at("/pay?order=").await;
        page.shown("#code").await;
        page.fill("#code", &sms).await;
        page.click("#send-code").await;
        page.text_in("[data-error-for=\"code\"]", "already submitted")
            .await;
    })
    .await;
}

#[tokio::test]
async fn an_admin_cancels_a_paid_order_records_the_refund_and_the_customer_sees_it() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        let number = buy_and_pay(&page).await;

        // The admin cancels the paid order (and accepts the confirmation).
        log_in(&page).await;
        let card = format!(".order[data-order-number=\"{number}\"]");
        page.shown(&format!("{card}[data-status=\"paid\"]")).await;
        page.eval("window.confirm = () => true; return true;").await;
        page.choose(&format!("{card} select.move-status"), "cancelled")
            .await;
        page.click(&format!("{card} button.move-order")).await;
        page.shown(&format!("{card}[data-status=\"cancelled\"]"))
            .await;

        // The customer's tracking page says the money is owed back.
        page.open(&format!("/track?order={number}")).await;
        page.text_in("#refunds li[data-status=\"owed\"]", "owes you")
            .await;

        // The owner finds it under Refunds and records the M-Pesa code of the money sent back.
        page.open("/admin").await;
        page.shown("#dashboard").await;
        page.click("[data-tab=\"refunds\"]").await;
        let row = format!("#refunds tr[data-order=\"{number}\"]");
        page.text_in(&row, "Order cancelled with money paid on it")
            .await;
        page.shot("admin-refunds").await;
        page.fill(&format!("{row} input[name=\"reference\"]"), "slk4h7q2xz")
            .await;
        page.fill(
            &format!("{row} input[name=\"note\"]"),
            "Sent from the shop phone",
        )
        .await;
        page.click(&format!("{row} button[type=\"submit\"]")).await;
        page.text_in("#status", "recorded").await;
        page.choose("#refund-status", "refunded").await;
        page.text_in(&format!("{row}[data-status=\"refunded\"]"), "SLK4H7Q2XZ")
            .await;
        page.text_in("#refunds", "Sent from the shop phone").await;

        // The customer sees it refunded with the code, not the owner's note.
        page.open(&format!("/track?order={number}")).await;
        page.text_in("#refunds li[data-status=\"refunded\"]", "SLK4H7Q2XZ")
            .await;
        let shown = page
            .eval("return document.body.textContent.includes('Sent from the shop phone');")
            .await;
        assert_eq!(shown, Value::Bool(false));
        page.shot("track-refunded").await;

        // A second paid order, cancelled, is sent back by M-Pesa itself (a reversal at the
        // shop's simulated Daraja), and its result makes it refunded with M-Pesa's code.
        let second = buy_and_pay(&page).await;
        page.open("/admin").await;
        page.shown("#dashboard").await;
        let card = format!(".order[data-order-number=\"{second}\"]");
        page.eval("window.confirm = () => true; return true;").await;
        page.choose(&format!("{card} select.move-status"), "cancelled")
            .await;
        page.click(&format!("{card} button.move-order")).await;
        page.shown(&format!("{card}[data-status=\"cancelled\"]"))
            .await;
        page.click("[data-tab=\"refunds\"]").await;
        let row = format!("#refunds tr[data-order=\"{second}\"]");
        page.click(&format!("{row} button.send-refund")).await;
        page.text_in("#status", "sent to M-Pesa").await;
        page.choose("#refund-status", "refunded").await;
        page.shown(&format!("{row}[data-status=\"refunded\"] .receipt-code"))
            .await;
        page.open(&format!("/track?order={second}")).await;
        page.shown("#refunds li[data-status=\"refunded\"] .receipt-code")
            .await;
    })
    .await;
}

#[tokio::test]
async fn the_reviews_tab_shows_a_forged_payment_callback_in_plain_words() {
    with_shop(DESKTOP.0, DESKTOP.1, |page| async move {
        // Someone posts a payment result to the callback URL with a guessed token.
        page.open("/").await;
        let status = page
            .eval(
                "return fetch('api/pay/callbacks/stk/guessed-token-000000000', {method: 'POST', \
                 headers: {'Content-Type': 'application/json'}, body: '{\"Body\":{}}'}) \
                 .then(r => r.status);",
            )
            .await;
        assert_eq!(status, Value::from(401));

        // The owner finds it under Reviews, said plainly; no order changed.
        log_in(&page).await;
        page.click("[data-tab=\"reviews\"]").await;
        let row = "#reviews tr[data-reason=\"invalid_callback_token\"]";
        page.text_in(row, "wrong secret").await;
        page.shot("admin-reviews").await;

        // Ignoring it needs a note; with one, the decision is kept and shown, once.
        page.choose(&format!("{row} select[name=\"action\"]"), "ignored")
            .await;
        page.click(&format!("{row} button[type=\"submit\"]")).await;
        page.text_in("#status", "why nothing is done").await;
        page.fill(
            &format!("{row} input[name=\"note\"]"),
            "Someone guessing the URL",
        )
        .await;
        page.click(&format!("{row} button[type=\"submit\"]")).await;
        page.text_in("#status", "Decision recorded").await;
        page.text_in(
            &format!("{row}[data-decided=\"ignored\"]"),
            "Someone guessing the URL",
        )
        .await;
        let form_left = page
            .eval(&format!(
                "return document.querySelector('{} form') !== null;",
                row.replace('\'', "\\'")
            ))
            .await;
        assert_eq!(form_left, Value::Bool(false));
    })
    .await;
}

/// Today in East Africa Time as M-Pesa writes it (`4/12/26`).
fn eat_today() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+3));
    format!(
        "{}/{}/{:02}",
        now.day(),
        u8::from(now.month()),
        now.year() % 100
    )
}

/// A text of the storefront's Kiswahili catalogue, as the shop ships it.
fn sw(key: &str) -> String {
    catalogue_text(include_str!("../assets/i18n/sw.json"), key)
}

/// A text of the English catalogue.
fn en(key: &str) -> String {
    catalogue_text(include_str!("../assets/i18n/en.json"), key)
}

fn catalogue_text(catalogue: &str, key: &str) -> String {
    let catalogue: Value = serde_json::from_str(catalogue).unwrap();
    catalogue[key]
        .as_str()
        .unwrap_or_else(|| panic!("no text {key}"))
        .to_owned()
}

/// The longest stretch of `text` without a placeholder: what a page shows of it whatever
/// fills the placeholders in.
fn fixed_part(text: &str) -> String {
    text.split(['{', '}'])
        .step_by(2)
        .map(str::trim)
        .max_by_key(|part| part.len())
        .unwrap()
        .to_owned()
}

/// The page's `<html lang>`.
async fn page_language(page: &Page) -> String {
    let lang = page.eval("return document.documentElement.lang;").await;
    lang.as_str().unwrap().to_owned()
}

/// Waits until the page has switched to `language` and shows `text` in `css`.
async fn speaks(page: &Page, language: &str, css: &str, text: &str) {
    page.until(&format!("the page speaks {language}"), || async {
        (page_language(page).await == language).then_some(())
    })
    .await;
    page.text_in(css, text).await;
}

#[tokio::test]
async fn a_kiswahili_customer_buys_pays_and_tracks_in_kiswahili_and_can_switch_to_english() {
    let vars = [];
    with_shop_in_languages(
        PHONE.0,
        PHONE.1,
        &vars,
        Some("sw-KE,sw,en"),
        |page| async move {
            // A phone set to Kiswahili: the shop greets in Kiswahili, before any choice.
            page.open("/").await;
            speaks(&page, "sw", "h1", &sw("shop.heading")).await;
            page.text_in(".product .add-to-cart", &sw("shop.add")).await;
            page.text_in("footer", &sw("footer.pay")).await;
            let chosen = page.shown("[data-language-switch]").await;
            assert_eq!(chosen.prop("value").await.unwrap().as_deref(), Some("sw"));
            page.click(".product .add-to-cart:not([disabled])").await;
            page.text_in("#status", &fixed_part(&sw("shop.added")))
                .await;
            page.text_in("#cart-bar", &sw("shop.in_your_cart")).await;
            page.shot("shop-sw").await;

            // Checkout in Kiswahili; its messages will come in Kiswahili too, unless changed.
            page.click(".cart-link").await;
            page.at("/checkout").await;
            page.text_in("h1", &sw("checkout.heading")).await;
            page.text_in("#cart-title", &sw("checkout.your_cart")).await;
            page.text_in("label[for=\"phone\"]", &sw("checkout.phone"))
                .await;
            let sms_language = page.shown("#language").await;
            assert_eq!(
                sms_language.prop("value").await.unwrap().as_deref(),
                Some("sw")
            );
            // A number M-Pesa cannot take: the catalogue's words, not the API's English.
            page.fill("#name", "Wanjiru Kamau").await;
            page.fill("#phone", "12345").await;
            page.choose("#county", "Nairobi").await;
            page.fill("#area", "Westlands").await;
            page.fill("#address", "Mpaka Road, lango la bluu").await;
            page.click("#place-order").await;
            page.text_in("#phone-error", &sw("field.phone")).await;
            page.shot("checkout-sw-phone-error").await;
            page.fill("#phone", "0712 345 678").await;
            page.click("#place-order").await;

            // Pay: the prompt, the simulated customer pays.
            page.at("/pay?order=").await;
            page.text_in("#push-title", &sw("pay.check_phone")).await;
            page.text_in("#push-text", &fixed_part(&sw("pay.enter_pin")))
                .await;
            page.shot("pay-sw").await;
            page.click("#simulator [data-outcome=\"paid\"]").await;
            page.at("/confirmation?order=").await;
            page.text_in("#thanks", "Asante, Wanjiru!").await;
            page.text_in("#order-status", &sw("status.paid")).await;
            page.text_in("#next-steps", &sw("confirmation.step_prepare"))
                .await;
            page.shot("confirmation-sw").await;

            // Track: the paid order, its timeline and totals in Kiswahili.
            page.click("#track-link").await;
            page.at("/track?order=").await;
            page.text_in("h1", &sw("track.heading")).await;
            page.shown("#order-status [data-status=\"paid\"]").await;
            page.text_in("#order-status", &sw("status.paid")).await;
            page.text_in(
                "#timeline li[data-status=\"pending_payment\"]",
                &sw("timeline.placed"),
            )
            .await;
            page.text_in(
                "#timeline li[data-status=\"paid\"]",
                &fixed_part(&sw("timeline.paid_receipt")),
            )
            .await;
            page.text_in("#summary .totals", &sw("totals.total")).await;
            page.text_in("#summary", &fixed_part(&sw("order.receipt")))
                .await;
            let shown = page.eval("return document.body.innerText;").await;
            for english in [
                en("status.paid"),
                en("timeline.placed"),
                en("track.timeline"),
            ] {
                assert!(
                    !shown.as_str().unwrap().contains(&english),
                    "English {english:?} on the Kiswahili page:\n{shown}"
                );
            }
            page.shot("track-sw").await;

            // The switch: English at once, and still English after a reload.
            page.choose("[data-language-switch]", "en").await;
            speaks(&page, "en", "#order-status", &en("status.paid")).await;
            page.text_in("h1", &en("track.heading")).await;
            page.text_in("#timeline", &en("timeline.placed")).await;
            page.client.refresh().await.unwrap();
            speaks(&page, "en", "#order-status", &en("status.paid")).await;
            page.open("/").await;
            speaks(&page, "en", "h1", &en("shop.heading")).await;
            page.shot("shop-en-after-switch").await;

            // And back: the choice is kept across pages and reloads.
            page.choose("[data-language-switch]", "sw").await;
            speaks(&page, "sw", "h1", &sw("shop.heading")).await;
            page.client.refresh().await.unwrap();
            speaks(&page, "sw", "h1", &sw("shop.heading")).await;
            let kept = page
                .eval("return localStorage.getItem('pochi.language.v1');")
                .await;
            assert_eq!(kept, Value::from("sw"));
        },
    )
    .await;
}

#[tokio::test]
async fn a_customer_pays_on_delivery_and_the_admin_records_the_cash_after_delivering() {
    let vars = [("POCHI_PAY_ON_DELIVERY", "true")];
    with_shop_configured(DESKTOP.0, DESKTOP.1, &vars, |page| async move {
        // The checkout offers pay on delivery beside M-Pesa; the customer chooses it.
        add_first_product_and_fill_the_checkout(&page, "0712 345 678").await;
        page.text_in("#pay-choice", "On delivery").await;
        page.click("#pay-choice input[value=\"pay_on_delivery\"]")
            .await;
        page.text_in("#place-order", "pay on delivery").await;
        page.shot("checkout-pay-on-delivery").await;
        page.click("#place-order").await;

        // No prompt: the payment page says to have the money ready for the rider.
        page.at("/pay?order=").await;
        page.text_in("#push-title", "Pay on delivery").await;
        page.text_in("#push-text", "ready for the rider").await;
        page.shot("pay-on-delivery").await;
        let number = page.shown("#order-number").await.text().await.unwrap();

        // The tracking page says the same, not that an M-Pesa code is being checked.
        page.open(&format!("/track?order={number}")).await;
        page.text_in("#on-delivery", "ready for the rider").await;
        let hidden = page
            .eval(
                "return [document.getElementById('verifying').hidden, \
                 document.getElementById('pay-now').hidden];",
            )
            .await;
        assert_eq!(hidden, serde_json::json!([true, true]));

        // The admin prepares, dispatches and delivers it before the cash is in.
        log_in(&page).await;
        let card = format!(".order[data-order-number=\"{number}\"]");
        page.shown(&format!("{card}[data-status=\"pending_payment\"]"))
            .await;
        page.click(&format!("{card} .order-details-toggle")).await;
        page.text_in(&format!("{card} .order-details"), "pay on delivery")
            .await;
        page.shown(&format!(
            "{card} select.move-status option[value=\"processing\"]"
        ))
        .await;
        for next in ["processing", "dispatched", "delivered"] {
            page.choose(&format!("{card} select.move-status"), next)
                .await;
            page.click(&format!("{card} button.move-order")).await;
            page.shown(&format!("{card}[data-status=\"{next}\"]")).await;
        }

        // Then records the cash collected: the order stays delivered, now paid.
        page.click(&format!("{card} .order-details-toggle")).await;
        page.text_in(
            &format!("{card} .order-details button.verify-code"),
            "Record cash collected",
        )
        .await;
        page.shot("admin-record-cash").await;
        page.click(&format!("{card} .order-details button.verify-code"))
            .await;
        page.text_in("#status", "Cash collected recorded").await;
        page.shown(&format!("{card}[data-status=\"delivered\"]"))
            .await;
        page.click(&format!("{card} .order-details-toggle")).await;
        page.shown(&format!(
            "{card} .order-details [data-status=\"succeeded\"]"
        ))
        .await;

        page.open(&format!("/track?order={number}")).await;
        page.shown("#order-status [data-status=\"delivered\"]")
            .await;
        page.text_in("#timeline", "Payment received").await;
        page.shot("track-paid-on-delivery").await;
    })
    .await;
}
