//! The wire shapes of the admin side: statistics, customers, settings, health.
#![allow(dead_code)]

use utoipa::ToSchema;

use super::{Currency, Money, OrderStatus};

/// Revenue and totals.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Stats {
    /// Net of refunds: a cancelled order's money counts nowhere, an over payment's excess
    /// never counted.
    revenue: Revenue,
    /// Money owed back to customers, and paid back.
    refunds: RefundFigures,
    orders_by_status: Vec<StatusCount>,
    total_orders: u64,
    paid_orders: u64,
    average_order_value: Money,
    top_products: Vec<TopProduct>,
    /// The last 30 days in the shop's time zone, oldest first, today last.
    daily: Vec<DailyFigures>,
    #[schema(format = DateTime)]
    generated_at: String,
}

/// Revenue and paid orders on one day: the orders counting as revenue, by the day they were
/// paid; zeros on a day without sales.
#[derive(ToSchema)]
pub(crate) struct DailyFigures {
    #[schema(format = Date)]
    date: String,
    revenue: Money,
    orders: u64,
}

#[derive(ToSchema)]
pub(crate) struct RefundFigures {
    /// Still owed (owed, being sent, or a send that failed).
    owed: Money,
    /// Paid back.
    refunded: Money,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Revenue {
    all_time: Money,
    today: Money,
    last_7_days: Money,
    last_30_days: Money,
}

#[derive(ToSchema)]
pub(crate) struct StatusCount {
    status: OrderStatus,
    count: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct TopProduct {
    #[schema(format = Uuid)]
    product_id: String,
    name: String,
    quantity: u64,
    revenue: Money,
}

/// Everything ordered under one phone number.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CustomerSummary {
    phone: String,
    name: String,
    orders: u64,
    total_spent: Money,
    #[schema(format = DateTime)]
    first_order_at: String,
    #[schema(format = DateTime)]
    last_order_at: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct CustomerPage {
    items: Vec<CustomerSummary>,
    next_cursor: Option<String>,
}

/// The shop's settings.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct StoreSettings {
    store_name: String,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    delivery: DeliveryFees,
    payment_instructions: Option<String>,
    whole_units_only: bool,
    /// The owner's own message texts; the defaults for the others.
    notification_templates: Vec<TemplateOverride>,
    mpesa_account: Option<MpesaAccount>,
}

/// The M-Pesa account customers pay by hand (manual payments): shown on the payment page; a
/// pasted confirmation SMS must name it (by name, or for a phone by number).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct MpesaAccount {
    kind: MpesaAccountKind,
    /// Digits only: the till or paybill number, or the phone as typed (`0722000111`).
    number: String,
    /// The name M-Pesa prints as the recipient.
    name: String,
}

/// `till` (Buy Goods), `paybill` (the customer types the order number as the account) or
/// `phone` (Send Money, Pochi la Biashara).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum MpesaAccountKind {
    Till,
    Paybill,
    Phone,
}

/// The M-Pesa account paid by hand, as submitted. A till or paybill number has 5 to 7 digits,
/// a phone 9 to 12 (else 422 on `mpesaAccount.number`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct MpesaAccountInput {
    kind: MpesaAccountKind,
    #[schema(pattern = r"^ *\+?( *[0-9]){5,12} *$", example = "123456")]
    number: String,
    /// 1 to 100 characters, one line: the name exactly as M-Pesa shows it to customers.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 100,
        example = "DUKA LA MAMA WANJIKU"
    )]
    name: String,
}

/// Which message a template is for.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub(crate) enum TemplateName {
    OrderPlaced,
    PaymentSucceeded,
    PaymentFailed,
    OrderDispatched,
    OrderDelivered,
    OrderCancelled,
    RefundSent,
    OwnerPaymentSucceeded,
}

/// The owner's own text for one message in one language. The text may use the placeholders
/// `{shop}`, `{name}`, `{order}`, `{total}`, `{amount}`, `{receipt}`, `{status}` and `{link}`;
/// any other `{...}`, a `{` left open, a text of only spaces or one with control characters
/// other than line breaks is a 422 naming `notificationTemplates[i].text`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct TemplateOverride {
    name: TemplateName,
    language: super::Language,
    /// 1 to 1,000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    text: String,
}

/// A message template as the owner edits it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct MessageTemplate {
    name: TemplateName,
    language: super::Language,
    /// `customer` or `owner`.
    audience: String,
    /// The text the shop uses.
    text: String,
    default_text: String,
    /// Whether the owner changed it.
    overridden: bool,
    /// A message made from it for a sample order.
    sample: String,
    /// How long the sample is as SMS.
    sms: super::SmsLength,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct DeliveryFees {
    default_fee: Money,
    counties: Vec<CountyFee>,
    free_delivery_over: Option<Money>,
}

#[derive(ToSchema)]
pub(crate) struct CountyFee {
    county: String,
    fee: Money,
    areas: Vec<AreaFee>,
}

#[derive(ToSchema)]
pub(crate) struct AreaFee {
    area: String,
    fee: Money,
}

/// Settings as an admin submits them; amounts are decimal strings of whole units from 0 to
/// 10,000,000 (cents are accepted too when `wholeUnitsOnly` is false). A county, or an area
/// within a county, listed twice is a 422.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(rename_all = "camelCase")]
pub(crate) struct SettingsInput {
    /// 1 to 100 characters, one line.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 100
    )]
    store_name: String,
    /// Up to 40 characters, one line.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 40)]
    contact_phone: Option<String>,
    /// An e-mail address (`name@example.co.ke`: something, `@`, a domain with a dot, no
    /// spaces), up to 200 characters; empty or absent for none.
    #[schema(
        pattern = r"^[ \t\n\r]*([^@\s\x00-\x1f\x7f-\x9f]+@[^\s\x00-\x1f\x7f-\x9f]*\.[^\s\x00-\x1f\x7f-\x9f]*)?[ \t\n\r]*$",
        max_length = 200
    )]
    contact_email: Option<String>,
    #[schema(
        pattern = r"^[ \t\n\r]*(0|[1-9][0-9]{0,6}|10000000)[ \t\n\r]*$",
        example = "200"
    )]
    default_delivery_fee: String,
    /// At most 500 county and area fees in all.
    #[serde(default)]
    #[schema(max_items = 500)]
    county_fees: Vec<CountyFeeInput>,
    #[schema(
        pattern = r"^[ \t\n\r]*(0|[1-9][0-9]{0,6}|10000000)?[ \t\n\r]*$",
        example = "5000"
    )]
    free_delivery_over: Option<String>,
    /// Up to 1,000 characters; line breaks and tabs allowed.
    #[schema(
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        max_length = 1000
    )]
    payment_instructions: Option<String>,
    /// Whether prices must be whole units; true when absent.
    whole_units_only: Option<bool>,
    /// The owner's own message texts, each template and language at most once (else 422);
    /// absent keeps those saved, an empty list goes back to the defaults.
    #[schema(max_items = 14)]
    notification_templates: Option<Vec<TemplateOverride>>,
    /// The M-Pesa account customers pay by hand; absent keeps the one saved, `null` removes it.
    #[schema(nullable)]
    mpesa_account: Option<MpesaAccountInput>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountyFeeInput {
    #[schema(value_type = super::County)]
    county: String,
    #[schema(
        pattern = r"^[ \t\n\r]*(0|[1-9][0-9]{0,6}|10000000)[ \t\n\r]*$",
        example = "200"
    )]
    fee: String,
    #[serde(default)]
    areas: Vec<AreaFeeInput>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AreaFeeInput {
    /// 1 to 100 characters, one line.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        max_length = 100
    )]
    area: String,
    #[schema(
        pattern = r"^[ \t\n\r]*(0|[1-9][0-9]{0,6}|10000000)[ \t\n\r]*$",
        example = "200"
    )]
    fee: String,
}

/// What a checkout page needs.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PublicSettings {
    store_name: String,
    currency: Currency,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    delivery: DeliveryFees,
    counties: Vec<String>,
    payment_instructions: Option<String>,
    payment_methods: Vec<String>,
    mpesa_account: Option<MpesaAccount>,
}

/// The service's health.
#[derive(ToSchema)]
pub(crate) struct Health {
    /// `healthy`, or `unhealthy` (with status 503) when the database is unreachable.
    #[schema(example = "healthy")]
    status: String,
    #[schema(format = DateTime)]
    timestamp: String,
    /// Seconds since the router was built.
    uptime: u64,
    /// `connected` or `disconnected`.
    #[schema(example = "connected")]
    database: String,
    version: String,
}
