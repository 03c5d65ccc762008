//! Admin use cases: statistics, customers, settings.

use time::Duration;

use super::Shop;
use crate::{
    county::County,
    error::{Error, Result},
    money::Money,
    order::OrderStatus,
    page::{CursorKey, Limit, Page},
    phone::Msisdn,
    refund::RefundStatus,
    settings::{PublicSettings, SettingsInput, StoreSettings},
    stats::{
        CustomerQuery, CustomerSummary, DailyFigures, RefundFigures, Revenue, Stats, StatsQuery,
        StatusCount,
    },
};

/// How many best sellers the statistics list.
const TOP_PRODUCTS: usize = 5;

impl Shop {
    /// Revenue (all time, today in the shop's time zone, the last 7 and 30 days), orders by
    /// status, average order value and best sellers.
    pub async fn stats(&self) -> Result<Stats> {
        let now = self.now();
        let local = now.to_offset(self.inner.config.utc_offset);
        let today = local
            .replace_time(time::Time::MIDNIGHT)
            .to_offset(time::UtcOffset::UTC);
        let windows = vec![today, now - Duration::days(7), now - Duration::days(30)];
        // Day boundaries at local midnights: the last `DAYS` days, today included, then the
        // coming midnight. A fixed offset (East Africa Time has no DST) makes each 24 hours.
        let first_day = local.date() - Duration::days(i64::from(Stats::DAYS) - 1);
        let days: Vec<_> = (0..=i64::from(Stats::DAYS))
            .map(|i| today + Duration::days(i - i64::from(Stats::DAYS) + 1))
            .collect();
        let currency = self.inner.config.currency;
        let figures = self
            .inner
            .store
            .stats(&StatsQuery {
                currency,
                revenue_statuses: OrderStatus::REVENUE.to_vec(),
                windows,
                top_products: TOP_PRODUCTS,
                days,
            })
            .await?;
        let since = |i: usize| {
            figures
                .revenue_since
                .get(i)
                .copied()
                .ok_or_else(|| Error::backend("stats", "the store returned too few windows"))
        };
        let orders_by_status: Vec<StatusCount> = OrderStatus::ALL
            .into_iter()
            .map(|status| StatusCount {
                status,
                count: figures
                    .orders_by_status
                    .iter()
                    .filter(|(s, _)| *s == status)
                    .map(|(_, n)| n)
                    .sum(),
            })
            .collect();
        let mut refunds = RefundFigures {
            owed: Money::zero(currency),
            refunded: Money::zero(currency),
        };
        for (status, amount) in self.inner.store.refund_totals().await? {
            if amount.currency() != currency {
                continue;
            }
            let total = if status == RefundStatus::Refunded {
                &mut refunds.refunded
            } else {
                &mut refunds.owed
            };
            *total = total
                .checked_add(amount)
                .map_err(|e| Error::backend("stats", e))?;
        }
        if figures.daily.len() != usize::from(Stats::DAYS) {
            return Err(Error::backend(
                "stats",
                "the store returned the wrong number of days",
            ));
        }
        Ok(Stats {
            revenue: Revenue {
                all_time: figures.revenue,
                today: since(0)?,
                last_7_days: since(1)?,
                last_30_days: since(2)?,
            },
            refunds,
            total_orders: orders_by_status.iter().map(|s| s.count).sum(),
            orders_by_status,
            paid_orders: figures.revenue_orders,
            average_order_value: figures
                .revenue
                .divided_by(figures.revenue_orders)
                .unwrap_or_else(|| Money::zero(currency)),
            top_products: figures.top_products,
            daily: figures
                .daily
                .iter()
                .zip(0..)
                .map(|(day, i)| DailyFigures {
                    date: first_day + Duration::days(i),
                    revenue: day.revenue,
                    orders: day.orders,
                })
                .collect(),
            generated_at: now,
        })
    }

    /// Customers, one per phone number, ascending by phone, a page at a time.
    pub async fn customers(
        &self,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<Page<CustomerSummary>> {
        let after = cursor
            .map(Msisdn::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .customers(&CustomerQuery {
                currency: self.inner.config.currency,
                revenue_statuses: OrderStatus::REVENUE.to_vec(),
                after,
                limit: limit.get() + 1,
            })
            .await?;
        Ok(Page::from_overfetch(items, limit, |c| c.phone.clone()))
    }

    /// Validates and saves new settings.
    pub async fn update_settings(&self, input: &SettingsInput) -> Result<StoreSettings> {
        let mut settings = input.parse(self.inner.config.currency)?;
        if input.notification_templates.is_none() || input.mpesa_account.is_none() {
            let saved = self.settings().await?;
            if input.notification_templates.is_none() {
                settings.notification_templates = saved.notification_templates;
            }
            if input.mpesa_account.is_none() {
                settings.mpesa_account = saved.mpesa_account;
            }
        }
        // Forgotten before and after: an order placed while the save runs reads the fees
        // again, and none caches what it read before the save ended.
        self.forget_fees();
        let saved = self.inner.store.save_settings(&settings).await;
        self.forget_fees();
        saved?;
        Ok(settings)
    }

    /// The part of the settings a checkout page needs.
    pub async fn public_settings(&self) -> Result<PublicSettings> {
        let settings = self.settings().await?;
        Ok(PublicSettings {
            store_name: settings.store_name,
            currency: self.inner.config.currency,
            contact_phone: settings.contact_phone,
            contact_email: settings.contact_email,
            delivery: settings.delivery,
            counties: County::all().map(County::name).collect(),
            payment_instructions: settings.payment_instructions,
            mpesa_account: settings.mpesa_account,
            payment_methods: self
                .inner
                .providers
                .iter()
                .map(|p| p.name().to_owned())
                .collect(),
        })
    }
}
