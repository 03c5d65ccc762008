//! The wire shapes of pochi-core's types, for the OpenAPI document.
//!
//! pochi-core knows nothing of OpenAPI (it must not depend on utoipa), so its serde shapes are
//! described here, once. Tests compare real responses with these descriptions
//! (`tests/api/openapi.rs`), so a change on either side that is not made on the other fails.
#![allow(dead_code)]

mod admin;

use serde_json::Value;
use utoipa::ToSchema;

pub(crate) use self::admin::*;

/// An amount of money. The amount is a decimal string so no JSON reader makes it a float.
#[derive(ToSchema)]
pub(crate) struct Money {
    #[schema(example = "1500.00")]
    amount: String,
    #[schema(example = "KES")]
    currency: Currency,
}

#[derive(ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub(crate) enum Currency {
    Kes,
    Ugx,
    Tzs,
    Usd,
}

/// A product in the catalogue.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Product {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    description: String,
    price: Money,
    /// Units in stock; null when stock is not tracked.
    stock: Option<u32>,
    /// At most this many units in one order; null: the shop's default.
    #[schema(minimum = 1, maximum = 999)]
    max_per_order: Option<u32>,
    /// A media key; the file is served at `/api/media/{key}`.
    image: Option<String>,
    active: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The revision of what an admin edits (not the stock): one more with each edit. The
    /// admin product routes send it as the ETag; send it back in `If-Match` to edit.
    #[schema(minimum = 1)]
    version: u64,
}

/// A page of products.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ProductPage {
    items: Vec<Product>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// A product as an admin submits it. Prices are decimal strings.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ProductInput {
    /// The product to update; absent to create one.
    id: Option<String>,
    name: String,
    description: Option<String>,
    #[schema(example = "1500")]
    price: String,
    /// Units in stock of a new product (absent: not counted). Refused on an update: stock
    /// changes by stock adjustments.
    stock: Option<i64>,
    /// At most this many units in one order; absent: the shop's default.
    #[schema(minimum = 1, maximum = 999)]
    max_per_order: Option<i64>,
    active: Option<bool>,
}

/// A change of a product's stock, as an admin sends it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StockAdjustmentInput {
    /// Units to add (positive) or take away (negative); not zero.
    #[schema(example = -2, minimum = -1_000_000_000, maximum = 1_000_000_000)]
    delta: i64,
    /// Why, 1 to 200 characters.
    #[schema(example = "2 damaged in transit")]
    reason: String,
}

/// One adjustment in a product's stock history.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StockAdjustment {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    product_id: String,
    /// Units added (positive) or taken away (negative).
    delta: i64,
    reason: String,
    /// The stock right after it.
    stock_after: u32,
    /// The admin who made it.
    by: String,
    #[schema(format = DateTime)]
    at: String,
    /// The `Idempotency-Key` it was sent with; absent without one.
    idempotency_key: Option<String>,
}

/// A page of a product's stock adjustments, newest first.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StockAdjustmentPage {
    items: Vec<StockAdjustment>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// What removing a product did.
#[derive(ToSchema)]
pub(crate) struct Removal {
    result: RemovalResult,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum RemovalResult {
    Deleted,
    Archived,
}

/// A guest checkout.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CheckoutInput {
    #[schema(example = "Wanjiru Kamau")]
    name: String,
    #[schema(example = "0712 345 678")]
    phone: String,
    #[schema(example = "Nairobi")]
    county: String,
    area: String,
    address: String,
    notes: Option<String>,
    items: Vec<CheckoutItemInput>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CheckoutItemInput {
    #[schema(format = Uuid)]
    product_id: String,
    #[schema(minimum = 1)]
    quantity: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum OrderStatus {
    PendingPayment,
    Paid,
    Processing,
    Dispatched,
    Delivered,
    Cancelled,
}

/// An order, with everything (for its customer right after checkout, and for admins).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Order {
    #[schema(example = "POCHI-7K3M9QXA2B")]
    number: String,
    status: OrderStatus,
    customer: Customer,
    delivery: Delivery,
    lines: Vec<OrderLine>,
    subtotal: Money,
    delivery_fee: Money,
    total: Money,
    payment_flag: Option<PaymentFlag>,
    timeline: Vec<TimelineEntry>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime)]
    paid_at: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Customer {
    name: String,
    /// Normalised: `2547XXXXXXXX`.
    phone: String,
}

#[derive(ToSchema)]
pub(crate) struct Delivery {
    county: String,
    area: String,
    address: String,
    notes: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct OrderLine {
    #[schema(format = Uuid)]
    product_id: String,
    name: String,
    unit_price: Money,
    quantity: u32,
    line_total: Money,
}

/// A payment problem an admin must look at.
#[derive(ToSchema)]
pub(crate) struct PaymentFlag {
    /// `short_payment`, `over_payment` or `paid_after_cancellation`.
    kind: String,
    expected: Money,
    received: Money,
}

#[derive(ToSchema)]
pub(crate) struct TimelineEntry {
    #[schema(format = DateTime)]
    at: String,
    status: OrderStatus,
    note: String,
    actor: Actor,
}

/// Who did it: `{"kind": "customer" | "system"}` or `{"kind": "admin" | "provider", "name"}`.
#[derive(ToSchema)]
pub(crate) struct Actor {
    kind: String,
    name: Option<String>,
}

/// A page of orders.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct OrderPage {
    items: Vec<Order>,
    next_cursor: Option<String>,
}

/// An order as the public tracking page shows it: personal data masked.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct TrackedOrder {
    number: String,
    status: OrderStatus,
    #[schema(example = "Wanjiru K.")]
    customer_name: String,
    #[schema(example = "2547*****678")]
    customer_phone: String,
    county: String,
    area: String,
    items: Vec<TrackedItem>,
    subtotal: Money,
    delivery_fee: Money,
    total: Money,
    timeline: Vec<TrackedEvent>,
    #[schema(format = DateTime)]
    placed_at: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct TrackedItem {
    name: String,
    quantity: u32,
    unit_price: Money,
    line_total: Money,
}

#[derive(ToSchema)]
pub(crate) struct TrackedEvent {
    #[schema(format = DateTime)]
    at: String,
    status: OrderStatus,
    note: String,
}

/// An admin's status move.
#[derive(ToSchema)]
pub(crate) struct StatusMove {
    status: OrderStatus,
    note: Option<String>,
}

/// A request to pay for an order.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PaymentInput {
    /// The order number (`orderId` is accepted too).
    order_number: String,
    /// A payment method from `GET /api/settings`; the shop's default when absent.
    method: Option<String>,
    /// The phone to prompt; the order's phone when absent.
    phone: Option<String>,
    /// The M-Pesa confirmation code, for manual payments.
    code: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum PaymentStatus {
    Pending,
    PendingVerification,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum PaymentKind {
    StkPush,
    C2b,
    Manual,
}

/// What the payment page may show about an attempt.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PaymentView {
    #[schema(format = Uuid)]
    id: String,
    order_number: String,
    provider: String,
    kind: PaymentKind,
    amount: Money,
    status: PaymentStatus,
    receipt: Option<String>,
    message: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

/// A payment attempt with everything, for admins.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Payment {
    #[schema(format = Uuid)]
    id: String,
    order_number: String,
    provider: String,
    kind: PaymentKind,
    amount: Money,
    phone: Option<String>,
    status: PaymentStatus,
    provider_reference: Option<String>,
    receipt: Option<String>,
    payer: Option<String>,
    result_code: Option<String>,
    result_description: Option<String>,
    raw_payload: Option<String>,
    idempotency_key: Option<String>,
    checks: u32,
    #[schema(format = DateTime)]
    next_check_at: Option<String>,
    needs_review: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

/// An admin's decision on a manual confirmation code.
#[derive(ToSchema)]
pub(crate) struct ManualVerdict {
    approve: bool,
    note: Option<String>,
}

/// A payment notice kept for an admin.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PaymentReview {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    at: String,
    provider: String,
    /// `{"kind": "unknown_attempt" | "amount_mismatch" | ...}`; an amount mismatch adds
    /// `expected` and `received`.
    #[schema(value_type = Object)]
    reason: Value,
    payment_id: Option<String>,
    order_number: Option<String>,
    reference: Option<String>,
    receipt: Option<String>,
    amount: Option<Money>,
    account_reference: Option<String>,
    raw_payload: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ReviewPage {
    items: Vec<PaymentReview>,
    next_cursor: Option<String>,
}

/// An image upload.
#[derive(ToSchema)]
pub(crate) struct ImageUpload {
    /// A JPEG, PNG, WebP or GIF file.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
}
