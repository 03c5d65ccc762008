//! The wire shapes of pochi-core's types, for the OpenAPI document.
//!
//! pochi-core knows nothing of OpenAPI (it must not depend on utoipa), so its serde shapes are
//! described here, once. Tests compare real responses with these descriptions
//! (`tests/api/openapi.rs`), so a change on either side that is not made on the other fails.
#![allow(dead_code)]

mod admin;
mod statuses;

use serde_json::Value;
use utoipa::ToSchema;

pub(crate) use self::{admin::*, statuses::add_layer_statuses};

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

/// A product as an admin submits it: a new one (no `id`), or an update of the one `id`
/// names. Prices are decimal strings.
#[derive(ToSchema)]
#[serde(untagged)]
pub(crate) enum ProductInput {
    New(NewProductInput),
    Update(ProductUpdateInput),
}

/// A new product as an admin submits it, with its starting stock.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct NewProductInput {
    /// 1 to 200 characters, one line; spaces around it are dropped.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 200
    )]
    name: String,
    /// Up to 5,000 characters; empty or absent for none.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 5000
    )]
    description: Option<String>,
    /// A whole amount from 1 to 10,000,000 (cents are accepted too, up to two decimals, when
    /// the shop's `wholeUnitsOnly` setting is off).
    #[schema(example = "1500", pattern = r"^([1-9][0-9]{0,6}|10000000)$")]
    price: String,
    /// Units in stock (absent: not counted). Afterwards stock changes by stock adjustments.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: Option<i64>,
    /// At most this many units in one order; absent: the shop's default.
    #[schema(minimum = 1, maximum = 999)]
    max_per_order: Option<i64>,
    active: Option<bool>,
}

/// An update of a product: never its stock (stock changes by stock adjustments).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ProductUpdateInput {
    /// The product to update.
    #[schema(format = Uuid)]
    id: String,
    /// 1 to 200 characters, one line; spaces around it are dropped.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 200
    )]
    name: String,
    /// Up to 5,000 characters; empty or absent for none.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 5000
    )]
    description: Option<String>,
    /// As for a new product.
    #[schema(example = "1500", pattern = r"^([1-9][0-9]{0,6}|10000000)$")]
    price: String,
    /// At most this many units in one order; absent: the shop's default.
    #[schema(minimum = 1, maximum = 999)]
    max_per_order: Option<i64>,
    active: Option<bool>,
}

/// A change of a product's stock, as an admin sends it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StockAdjustmentInput {
    /// Units to add (positive) or take away (negative); not zero.
    #[schema(example = -2, minimum = -1_000_000_000, maximum = 1_000_000_000)]
    delta: i64,
    /// Why, 1 to 200 characters, one line; spaces around it are dropped.
    #[schema(
        example = "2 damaged in transit",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 200
    )]
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

/// A guest checkout. Text is trimmed; lengths count characters.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CheckoutInput {
    /// 1 to 100 characters, one line.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 100
    )]
    #[schema(example = "Wanjiru Kamau")]
    name: String,
    /// A Kenyan mobile number: `0712345678`, `712345678`, `254712345678` or `+254712345678`
    /// (the server also forgives spaces, dashes, dots and brackets).
    #[schema(pattern = r"^(\+?254|0)?[17][0-9]{8}$", example = "0712345678")]
    phone: String,
    /// One of Kenya's 47 counties (the server also forgives case and punctuation, and takes
    /// `Nairobi City`).
    #[schema(value_type = County, example = "Nairobi")]
    county: String,
    /// 1 to 100 characters, one line.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 100
    )]
    area: String,
    /// 1 to 500 characters; line breaks and tabs allowed.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
    address: String,
    /// Up to 500 characters; empty or absent for none.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
    notes: Option<String>,
    /// 1 to 50 lines; the units of one product, over all its lines, are at most 999 and at
    /// most the product's (or the shop's) cap per order, else 422.
    #[schema(min_items = 1, max_items = 50)]
    items: Vec<CheckoutItemInput>,
    /// The language of the shop's text messages about this order; English when absent. Not
    /// part of what an idempotent retry must repeat.
    language: Option<Language>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CheckoutItemInput {
    #[schema(format = Uuid)]
    product_id: String,
    #[schema(minimum = 1, maximum = 999)]
    quantity: i64,
}

/// One of Kenya's 47 counties.
pub(crate) struct County;

impl utoipa::PartialSchema for County {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("One of Kenya's 47 counties"))
            .enum_values(Some(
                pochi_core::County::all().map(pochi_core::County::name),
            ))
            .into()
    }
}

impl ToSchema for County {}

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

/// A language the shop writes to its customers in: `en` (English) or `sw` (Kiswahili).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum Language {
    En,
    Sw,
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
    /// The language the customer checked out in; the shop's messages to them use it.
    language: Language,
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
#[schema(rename_all = "camelCase")]
pub(crate) struct TimelineEntry {
    #[schema(format = DateTime)]
    at: String,
    status: OrderStatus,
    note: String,
    actor: Actor,
    /// Whether the customer's tracking page shows `note` (else the status's plain description).
    for_customer: bool,
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
    /// The M-Pesa receipts of the payments that went through, oldest first.
    #[schema(example = json!(["SLK4H7Q2XZ"]))]
    receipts: Vec<String>,
    /// Whether a payment waits for the shop to check it (a manual M-Pesa code).
    awaiting_verification: bool,
    /// Whether the customer pays when the order arrives (pay on delivery).
    paying_on_delivery: bool,
    /// Money the shop owes back or paid back, oldest first (`failed` shows as `owed`).
    refunds: Vec<TrackedRefund>,
}

/// A refund as the tracking page shows it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct TrackedRefund {
    amount: Money,
    status: RefundStatus,
    /// The M-Pesa code of the money sent back, once refunded.
    reference: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

/// Where a refund stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum RefundStatus {
    Owed,
    Sending,
    Refunded,
    Failed,
}

/// Why money is owed back.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum RefundReason {
    OrderCancelled,
    OverPayment,
    PaidAfterCancellation,
}

/// Money owed back to a customer.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Refund {
    #[schema(format = Uuid)]
    id: String,
    order_number: String,
    /// The payment it pays back.
    #[schema(format = Uuid)]
    payment_id: String,
    reason: RefundReason,
    amount: Money,
    status: RefundStatus,
    /// The M-Pesa code of the money sent back, once refunded.
    reference: Option<String>,
    /// The provider's id of a request sending it, while it is sent.
    provider_request: Option<String>,
    /// An admin's note, or the provider's words on a failure.
    note: Option<String>,
    /// Who last moved it.
    actor: Option<Actor>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct RefundPage {
    items: Vec<Refund>,
    next_cursor: Option<String>,
}

/// The money of a refund was sent back by hand.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundedInput {
    /// The M-Pesa code of the money sent back (4 to 40 letters and digits; not the code of
    /// the customer's own payment).
    #[schema(pattern = r"^\s*[A-Za-z0-9]{4,40}\s*$", example = "SLK4H7Q2XZ")]
    reference: String,
    /// Up to 500 characters; empty or absent for none. Never shown to the customer.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
    note: Option<String>,
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
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StatusMove {
    status: OrderStatus,
    /// Up to 500 characters; empty or absent for none.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
    note: Option<String>,
    /// Whether the customer's tracking page shows the note (default false: an admin's note is
    /// private, and tracking shows the status's plain description instead).
    note_for_customer: Option<bool>,
}

/// A request to pay for an order.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PaymentInput {
    /// The order number (`orderId` is accepted too).
    #[schema(
        pattern = r"^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$",
        example = "POCHI-7K3M9QXA2B"
    )]
    order_number: String,
    /// A payment method from `GET /api/settings`; the shop's default when absent.
    method: Option<String>,
    /// The phone to prompt (a Kenyan mobile number); the order's phone when absent.
    #[schema(pattern = r"^(\+?254|0)?[17][0-9]{8}$", example = "0712345678")]
    phone: Option<String>,
    /// For manual payments: the M-Pesa confirmation code, or the whole confirmation SMS pasted
    /// (up to 2,000 characters). A message is read for its code, amount, recipient and
    /// account: one that is not an M-Pesa confirmation is 422 on `code`; one paid to another
    /// recipient than the shop's M-Pesa account, for another amount, (paybill) for another
    /// account, or dated more than a day before the order is 409 (`payment_to_other_recipient`,
    /// `payment_amount_mismatch`, `payment_account_mismatch`, `payment_before_order`).
    #[schema(max_length = 2000)]
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
#[serde(deny_unknown_fields)]
pub(crate) struct ManualVerdict {
    approve: bool,
    /// Up to 500 characters; empty or absent for none.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
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
    /// `{"kind": "unknown_attempt" | "amount_mismatch" | "other_shortcode" | ...}`; an amount
    /// mismatch adds `expected` and `received`, another shortcode adds `shortcode`.
    #[schema(value_type = Object)]
    reason: Value,
    payment_id: Option<String>,
    order_number: Option<String>,
    reference: Option<String>,
    receipt: Option<String>,
    amount: Option<Money>,
    account_reference: Option<String>,
    raw_payload: Option<String>,
    /// What an admin decided, once decided.
    resolution: Option<ReviewResolution>,
}

/// What an admin did with a payment notice.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum ReviewOutcome {
    Assigned,
    Refunded,
    Ignored,
}

/// An admin's decision on a payment notice: what, who, when, why.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ReviewResolution {
    outcome: ReviewOutcome,
    /// The order the money was assigned to.
    order_number: Option<String>,
    /// The M-Pesa code of the money sent back.
    reference: Option<String>,
    note: Option<String>,
    actor: Actor,
    #[schema(format = DateTime)]
    at: String,
}

/// What an admin does with a payment notice.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum ReviewAction {
    Assign,
    Refunded,
    Ignored,
}

/// What to do with a payment notice.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewDecision {
    /// `assign` (needs `orderNumber`), `refunded` (needs `reference`) or `ignored` (needs
    /// `note`).
    action: ReviewAction,
    #[schema(
        pattern = r"^[A-Z]{1,8}-[2-9A-HJ-NP-Z]{10}$",
        example = "POCHI-7K3M9QXA2B"
    )]
    order_number: Option<String>,
    #[schema(pattern = r"^\s*[A-Za-z0-9]{4,40}\s*$", example = "SLK4H7Q2XZ")]
    reference: Option<String>,
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 500
    )]
    note: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ReviewPage {
    items: Vec<PaymentReview>,
    next_cursor: Option<String>,
}

/// An image upload: one field, `image`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImageUpload {
    /// A JPEG, PNG, WebP or GIF file.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
}

/// Where a message stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum MessageState {
    Pending,
    Sent,
    Dead,
    Skipped,
}

/// What a message says, and to whom.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct MessageContent {
    /// A phone in international form (`+254712345678`, or its digits for a message kept for
    /// the dashboard), an e-mail address or a webhook URL.
    to: String,
    language: Language,
    /// The template it was rendered from (the WhatsApp template's name).
    template: String,
    /// The template's values, in order.
    params: Vec<String>,
    subject: Option<String>,
    body: String,
}

/// A message to a customer or to the shop's owner.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Message {
    #[schema(format = Uuid)]
    id: String,
    /// The outbox event it was made from.
    #[schema(format = Uuid)]
    event: String,
    order_number: String,
    /// `order_placed`, `payment_succeeded`, `payment_failed`, `status_changed` or
    /// `refund_sent`.
    kind: String,
    /// `sms`, `whatsapp`, `email`, `webhook` or `log`.
    channel: String,
    /// `customer` or `owner`.
    audience: String,
    message: MessageContent,
    state: MessageState,
    attempts: u32,
    #[schema(format = DateTime)]
    next_attempt_at: String,
    /// The last error's code and description, or why it was skipped.
    last_error: Option<String>,
    /// The service's id for the sent message.
    provider_ref: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    sent_at: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct MessagePage {
    items: Vec<Message>,
    next_cursor: Option<String>,
}

/// A text to measure as SMS.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmsText {
    /// Up to 2,000 characters.
    #[schema(max_length = 2000)]
    text: String,
    /// Whether `text` is a message template: its placeholders are filled in for a sample order
    /// (with this shop's name and links) before it is measured. False when absent.
    template: Option<bool>,
}

/// How a text goes as SMS.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct SmsLength {
    /// `gsm7`, or `ucs2` when a character is outside the GSM alphabet.
    encoding: String,
    /// Its length in the encoding's units (GSM septets, an extension character counting 2; or
    /// UTF-16 code units).
    units: u32,
    /// How many SMS it takes.
    segments: u32,
    /// The units one segment holds at this length (160/153 or 70/67).
    per_segment_limit: u32,
    /// Units left in the last segment.
    remaining: u32,
}
