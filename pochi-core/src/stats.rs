//! Shop statistics and customer summaries for the admin.

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    ids::ProductId,
    money::{Currency, Money},
    order::OrderStatus,
    phone::Msisdn,
};

/// What a store is asked to add up. The shop decides which statuses count as revenue and the
/// windows; stores only aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// The shop's currency (for zero amounts).
    pub currency: Currency,
    /// Orders in these statuses count as revenue.
    pub revenue_statuses: Vec<OrderStatus>,
    /// For each time, the revenue of orders paid at or after it.
    pub windows: Vec<OffsetDateTime>,
    /// How many top products to return.
    pub top_products: usize,
}

/// The sums a store returns for a [`StatsQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsFigures {
    /// Orders per status (statuses with no orders may be absent).
    pub orders_by_status: Vec<(OrderStatus, u64)>,
    /// Total of revenue orders.
    pub revenue: Money,
    /// How many orders count as revenue.
    pub revenue_orders: u64,
    /// Revenue of orders paid at or after each window start, in the query's order.
    pub revenue_since: Vec<Money>,
    /// Best sellers in revenue orders: most units first, ties by product id.
    pub top_products: Vec<TopProduct>,
}

/// A best-selling product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopProduct {
    /// The product.
    pub product_id: ProductId,
    /// Its current name.
    pub name: String,
    /// Units sold.
    pub quantity: u64,
    /// Σ line totals.
    pub revenue: Money,
}

/// The admin's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Revenue from paid orders.
    pub revenue: Revenue,
    /// Orders per status (every status present).
    pub orders_by_status: Vec<StatusCount>,
    /// All orders.
    pub total_orders: u64,
    /// Orders that count as revenue.
    pub paid_orders: u64,
    /// Revenue ÷ paid orders, zero when there are none.
    pub average_order_value: Money,
    /// Best sellers.
    pub top_products: Vec<TopProduct>,
    /// When these figures were computed.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

/// Revenue over several periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revenue {
    /// All time.
    pub all_time: Money,
    /// Since midnight in the shop's time zone.
    pub today: Money,
    /// The last 7 × 24 hours.
    pub last_7_days: Money,
    /// The last 30 × 24 hours.
    pub last_30_days: Money,
}

/// Orders in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCount {
    /// The status.
    pub status: OrderStatus,
    /// How many orders have it.
    pub count: u64,
}

/// Which customers to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    /// The shop's currency (for zero amounts).
    pub currency: Currency,
    /// Orders in these statuses count towards `total_spent`.
    pub revenue_statuses: Vec<OrderStatus>,
    /// Start after this phone number (keyset pagination, ascending by phone).
    pub after: Option<Msisdn>,
    /// How many to return.
    pub limit: usize,
}

/// One customer: everything ordered under one phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummary {
    /// The phone number.
    pub phone: Msisdn,
    /// The name on the most recent order.
    pub name: String,
    /// How many orders.
    pub orders: u64,
    /// Σ totals of orders that count as revenue.
    pub total_spent: Money,
    /// When the first order was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub first_order_at: OffsetDateTime,
    /// When the last order was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_order_at: OffsetDateTime,
}
