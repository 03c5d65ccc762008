//! Pricing: totals computed by the shop from catalogue prices, never taken from a client.

use crate::{
    checkout::Checkout,
    error::{Error, Result},
    money::{Currency, Money},
    order::OrderLine,
    product::Product,
    settings::DeliveryFees,
};

/// The priced lines and totals of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// One line per product, with the name and unit price as sold.
    pub lines: Vec<OrderLine>,
    /// Σ unit price × quantity.
    pub subtotal: Money,
    /// The delivery fee for the destination and subtotal.
    pub delivery_fee: Money,
    /// `subtotal + delivery_fee`.
    pub total: Money,
}

/// Prices `checkout` from `catalogue` (the current products it names, in any order) and the
/// delivery `fees`.
///
/// Every item must name an active product priced in `currency`; an unknown or archived product
/// is an invalid-input error naming the item.
pub fn price(
    checkout: &Checkout,
    catalogue: &[Product],
    fees: &DeliveryFees,
    currency: Currency,
) -> Result<Priced> {
    let mut lines = Vec::with_capacity(checkout.items.len());
    for (i, item) in checkout.items.iter().enumerate() {
        let field = || format!("items[{i}].productId");
        let product = catalogue
            .iter()
            .find(|p| p.id == item.product_id)
            .ok_or_else(|| Error::invalid(field(), "no such product"))?;
        if !product.active {
            return Err(crate::store::verdict::product_not_sold(i));
        }
        if product.price.currency() != currency {
            return Err(Error::invalid(
                field(),
                format!("is priced in {}, not {currency}", product.price.currency()),
            ));
        }
        let quantity = item.quantity.get();
        let line_total = product
            .price
            .checked_mul(quantity)
            .map_err(|e| Error::invalid(format!("items[{i}].quantity"), format!("total {e}")))?;
        lines.push(OrderLine {
            product_id: product.id,
            name: product.name.clone(),
            unit_price: product.price,
            quantity,
            line_total,
        });
    }
    let subtotal = Money::sum(currency, lines.iter().map(|l| l.line_total))
        .map_err(|e| Error::invalid("items", format!("order total {e}")))?;
    let delivery_fee = fees.fee_for(checkout.delivery.county, &checkout.delivery.area, subtotal);
    let total = subtotal
        .checked_add(delivery_fee)
        .map_err(|e| Error::invalid("items", format!("order total {e}")))?;
    Ok(Priced {
        lines,
        subtotal,
        delivery_fee,
        total,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::{
        checkout::{CheckoutInput, CheckoutItemInput},
        ids::ProductId,
        product::MAX_UNIT_PRICE,
        settings::StoreSettings,
    };

    fn kes(amount: Decimal) -> Money {
        Money::new(amount, Currency::Kes).unwrap()
    }

    fn product(n: u128, price: Decimal) -> Product {
        Product {
            id: ProductId::from_uuid(Uuid::from_u128(n)),
            name: format!("Product {n}"),
            description: String::new(),
            price: kes(price),
            stock: Some(10),
            max_per_order: None,
            image: None,
            active: true,
            created_at: datetime!(2026-01-01 00:00 UTC),
            updated_at: datetime!(2026-01-01 00:00 UTC),
            version: 1,
        }
    }

    fn checkout(items: &[(u128, i64)]) -> Checkout {
        Checkout::parse(&CheckoutInput {
            name: "Achieng".into(),
            phone: "0712345678".into(),
            county: "Kisumu".into(),
            area: "Milimani".into(),
            address: "Plot 4".into(),
            notes: None,
            items: items
                .iter()
                .map(|(n, q)| CheckoutItemInput {
                    product_id: Uuid::from_u128(*n).to_string(),
                    quantity: *q,
                })
                .collect(),
            language: None,
        })
        .unwrap()
    }

    fn fees(default: Decimal) -> DeliveryFees {
        let mut fees = StoreSettings::defaults(Currency::Kes).delivery;
        fees.default_fee = kes(default);
        fees
    }

    #[test]
    fn totals_come_from_catalogue_prices() {
        let catalogue = [product(1, dec!(199.99)), product(2, dec!(1500))];
        let priced = price(
            &checkout(&[(1, 3), (2, 1)]),
            &catalogue,
            &fees(dec!(250)),
            Currency::Kes,
        )
        .unwrap();
        assert_eq!(priced.lines[0].line_total, kes(dec!(599.97)));
        assert_eq!(priced.subtotal, kes(dec!(2099.97)));
        assert_eq!(priced.delivery_fee, kes(dec!(250)));
        assert_eq!(priced.total, kes(dec!(2349.97)));
    }

    #[test]
    fn unknown_and_archived_products_are_named() {
        let mut archived = product(2, dec!(10));
        archived.active = false;
        let catalogue = [product(1, dec!(10)), archived];
        let err = price(
            &checkout(&[(1, 1), (3, 1)]),
            &catalogue,
            &fees(dec!(0)),
            Currency::Kes,
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("items[1].productId"));
        let err = price(
            &checkout(&[(2, 1)]),
            &catalogue,
            &fees(dec!(0)),
            Currency::Kes,
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("items[0].productId"));
    }

    #[test]
    fn the_largest_possible_order_is_exact() {
        let max_price = Decimal::from(MAX_UNIT_PRICE) - dec!(0.01);
        let catalogue: Vec<Product> = (1..=50).map(|n| product(n, max_price)).collect();
        let items: Vec<(u128, i64)> = (1..=50).map(|n| (n, 999)).collect();
        let priced = price(
            &checkout(&items),
            &catalogue,
            &fees(dec!(0.01)),
            Currency::Kes,
        )
        .unwrap();
        assert_eq!(priced.subtotal, kes(dec!(499_499_999_500.50)));
        assert_eq!(priced.total, kes(dec!(499_499_999_500.51)));
    }
}
