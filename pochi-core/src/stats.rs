//! Shop statistics and customer summaries for the admin.

use serde::{Serialize, Serializer};
use time::{Date, OffsetDateTime};

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
    /// The boundaries of the days to add up revenue for, ascending: `n + 1` instants give
    /// `n` days, day `i` running from `days[i]` (inclusive) to `days[i + 1]` (exclusive).
    /// The shop computes them in its time zone; empty for no days.
    pub days: Vec<OffsetDateTime>,
}

impl StatsQuery {
    /// Which of [`StatsQuery::days`] an order paid at `paid_at` falls in, if any.
    pub fn day_of(&self, paid_at: OffsetDateTime) -> Option<usize> {
        let after = self.days.partition_point(|start| *start <= paid_at);
        (after > 0 && after < self.days.len()).then(|| after - 1)
    }

    /// How many days [`StatsQuery::days`] describes.
    pub fn day_count(&self) -> usize {
        self.days.len().saturating_sub(1)
    }
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
    /// One entry per day of [`StatsQuery::days`], in order (zeros for a day without sales).
    pub daily: Vec<DayFigures>,
}

/// What a store adds up for one day: the revenue orders paid in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFigures {
    /// Σ totals.
    pub revenue: Money,
    /// How many orders.
    pub orders: u64,
}

/// Revenue and paid orders on one day in the shop's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyFigures {
    /// The day (`2026-12-04`), in the shop's time zone.
    #[serde(serialize_with = "iso_date")]
    pub date: Date,
    /// Σ totals of the orders paid that day that count as revenue.
    pub revenue: Money,
    /// How many orders counting as revenue were paid that day.
    pub orders: u64,
}

fn iso_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
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
    /// Revenue from paid orders, net of refunds: a cancelled order's money counts nowhere,
    /// and an over payment's excess never counted (orders count at their total).
    pub revenue: Revenue,
    /// Money owed back to customers, and paid back.
    pub refunds: RefundFigures,
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
    /// Revenue and paid orders per day for the last [`Stats::DAYS`] days in the shop's time
    /// zone, oldest first, today last; a day without sales is zeros.
    pub daily: Vec<DailyFigures>,
    /// When these figures were computed.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

impl Stats {
    /// How many days [`Stats::daily`] covers.
    pub const DAYS: u8 = 30;
}

/// What refunds add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundFigures {
    /// Still owed (owed, being sent, or a send that failed).
    pub owed: Money,
    /// Paid back.
    pub refunded: Money,
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
