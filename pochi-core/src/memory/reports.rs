//! The memory store's statistics and customer list, computed from the orders on each call
//! (a SQL store reads pre-aggregated tallies instead).

use std::collections::HashMap;

use super::State;
use crate::{
    error::{Error, Result},
    money::Money,
    order::{Order, OrderStatus},
    stats::{CustomerQuery, CustomerSummary, DayFigures, StatsFigures, StatsQuery, TopProduct},
};

pub(super) fn stats(state: &State, query: &StatsQuery) -> Result<StatsFigures> {
    let sum = |amounts: Vec<Money>| {
        Money::sum(query.currency, amounts).map_err(|e| Error::backend("memory store", e))
    };
    let mut orders_by_status: Vec<(OrderStatus, u64)> = Vec::new();
    for order in state.orders.values() {
        match orders_by_status
            .iter_mut()
            .find(|(s, _)| *s == order.status)
        {
            Some((_, n)) => *n += 1,
            None => orders_by_status.push((order.status, 1)),
        }
    }
    orders_by_status.sort();
    let revenue_orders: Vec<&Order> = state
        .orders
        .values()
        .filter(|o| query.revenue_statuses.contains(&o.status))
        .collect();
    let revenue = sum(revenue_orders.iter().map(|o| o.total).collect())?;
    let revenue_since = query
        .windows
        .iter()
        .map(|since| {
            sum(revenue_orders
                .iter()
                .filter(|o| o.paid_at.is_some_and(|paid| paid >= *since))
                .map(|o| o.total)
                .collect())
        })
        .collect::<Result<Vec<_>>>()?;
    let mut daily = vec![
        DayFigures {
            revenue: Money::zero(query.currency),
            orders: 0,
        };
        query.day_count()
    ];
    for order in &revenue_orders {
        if let Some(day) = order
            .paid_at
            .and_then(|paid| query.day_of(paid))
            .and_then(|i| daily.get_mut(i))
        {
            day.revenue = sum(vec![day.revenue, order.total])?;
            day.orders += 1;
        }
    }
    let mut top: Vec<TopProduct> = Vec::new();
    for line in revenue_orders.iter().flat_map(|o| &o.lines) {
        match top.iter_mut().find(|t| t.product_id == line.product_id) {
            Some(t) => {
                t.quantity += u64::from(line.quantity);
                t.revenue = t
                    .revenue
                    .checked_add(line.line_total)
                    .map_err(|e| Error::backend("memory store", e))?;
            }
            None => top.push(TopProduct {
                product_id: line.product_id,
                name: state
                    .products
                    .get(&line.product_id)
                    .map_or_else(|| line.name.clone(), |p| p.name.clone()),
                quantity: u64::from(line.quantity),
                revenue: line.line_total,
            }),
        }
    }
    top.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then(a.product_id.cmp(&b.product_id))
    });
    top.truncate(query.top_products);
    Ok(StatsFigures {
        orders_by_status,
        revenue,
        revenue_orders: revenue_orders.len() as u64,
        revenue_since,
        top_products: top,
        daily,
    })
}

pub(super) fn customers(state: &State, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
    let mut by_phone: HashMap<&crate::phone::Msisdn, Vec<&Order>> = HashMap::new();
    for order in state.orders.values() {
        if query
            .after
            .as_ref()
            .is_none_or(|after| &order.customer.phone > after)
        {
            by_phone
                .entry(&order.customer.phone)
                .or_default()
                .push(order);
        }
    }
    let mut customers = by_phone
        .into_iter()
        .map(|(phone, mut orders)| {
            orders.sort_by_key(|o| (o.created_at, o.number.clone()));
            let total_spent = Money::sum(
                query.currency,
                orders
                    .iter()
                    .filter(|o| query.revenue_statuses.contains(&o.status))
                    .map(|o| o.total),
            )
            .map_err(|e| Error::backend("memory store", e))?;
            let (first, last) = match (orders.first(), orders.last()) {
                (Some(first), Some(last)) => (first, last),
                _ => return Err(Error::backend("memory store", "customer without orders")),
            };
            Ok(CustomerSummary {
                phone: phone.clone(),
                name: last.customer.name.clone(),
                orders: orders.len() as u64,
                total_spent,
                first_order_at: first.created_at,
                last_order_at: last.created_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    customers.sort_by(|a, b| a.phone.cmp(&b.phone));
    customers.truncate(query.limit);
    Ok(customers)
}
