//! The wire shapes of the admin side: statistics, customers, settings, health.
#![allow(dead_code)]

use utoipa::ToSchema;

use super::{Currency, Money, OrderStatus};

/// Revenue and totals.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct Stats {
    revenue: Revenue,
    orders_by_status: Vec<StatusCount>,
    total_orders: u64,
    paid_orders: u64,
    average_order_value: Money,
    top_products: Vec<TopProduct>,
    #[schema(format = DateTime)]
    generated_at: String,
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

/// Settings as an admin submits them; amounts are decimal strings.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct SettingsInput {
    store_name: String,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    default_delivery_fee: String,
    county_fees: Option<Vec<CountyFeeInput>>,
    free_delivery_over: Option<String>,
    payment_instructions: Option<String>,
    whole_units_only: Option<bool>,
}

#[derive(ToSchema)]
pub(crate) struct CountyFeeInput {
    county: String,
    fee: String,
    areas: Option<Vec<AreaFeeInput>>,
}

#[derive(ToSchema)]
pub(crate) struct AreaFeeInput {
    area: String,
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
