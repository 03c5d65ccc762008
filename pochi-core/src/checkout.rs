//! The guest checkout: what a customer submits, parsed once into typed values.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    county::County,
    error::{Error, Result},
    ids::ProductId,
    language::Language,
    order::{Customer, Delivery},
    phone::Msisdn,
    text::{bounded_text, optional_text},
};

/// The most lines one order may have.
pub const MAX_LINES: usize = 50;

/// A checkout as the customer submits it, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutInput {
    /// The customer's name.
    pub name: String,
    /// The customer's phone number, in any common Kenyan form.
    pub phone: String,
    /// County name.
    pub county: String,
    /// Delivery area (town, estate).
    pub area: String,
    /// Street address and directions.
    pub address: String,
    /// Notes for the courier.
    #[serde(default)]
    pub notes: Option<String>,
    /// What to buy.
    pub items: Vec<CheckoutItemInput>,
    /// The language the customer reads the shop's messages in (`en` or `sw`); English when
    /// not given. Not part of what a retry must repeat: it only chooses the messages' words.
    #[serde(default)]
    pub language: Option<Language>,
}

/// One item of a checkout, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutItemInput {
    /// The product's id.
    pub product_id: String,
    /// How many.
    pub quantity: i64,
}

/// A validated checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Who orders.
    pub customer: Customer,
    /// Where it goes.
    pub delivery: Delivery,
    /// What to buy, one entry per product (repeated products are added together), in the order
    /// first given.
    pub items: Vec<CheckoutItem>,
    /// The language of the shop's messages to the customer.
    pub language: Language,
}

/// One validated item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutItem {
    /// The product.
    pub product_id: ProductId,
    /// Units, 1 to [`crate::Quantity::MAX`].
    pub quantity: crate::text::Quantity,
}

impl Checkout {
    /// Refuses more units of one product than `cap` allows for it (`None`: no cap), counting
    /// repeated items together, and naming the item of `input` that passes the cap: one order
    /// cannot take a product off sale.
    pub fn check_units_per_product(
        &self,
        input: &CheckoutInput,
        cap: impl Fn(ProductId) -> Option<u32>,
    ) -> Result<()> {
        let mut so_far: Vec<(ProductId, u64)> = Vec::with_capacity(self.items.len());
        for (i, item) in input.items.iter().enumerate() {
            // `parse` accepted every item: these parse again.
            let (Ok(product_id), Ok(quantity)) = (
                ProductId::parse(&item.product_id),
                u64::try_from(item.quantity),
            ) else {
                continue;
            };
            let total = match so_far.iter_mut().find(|(id, _)| *id == product_id) {
                Some((_, total)) => {
                    *total += quantity;
                    *total
                }
                None => {
                    so_far.push((product_id, quantity));
                    quantity
                }
            };
            if let Some(max) = cap(product_id) {
                if total > u64::from(max) {
                    return Err(Error::invalid(
                        format!("items[{i}].quantity"),
                        format!("at most {max} of this product can be ordered at once"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Validates a submission, naming the first bad field (`phone`, `items[1].quantity`).
    pub fn parse(input: &CheckoutInput) -> Result<Self> {
        let name = bounded_text(&input.name, 100, false).map_err(|e| e.at("name"))?;
        let phone = Msisdn::parse(&input.phone).map_err(|e| e.at("phone"))?;
        let county = County::parse(&input.county).map_err(|e| e.at("county"))?;
        let area = bounded_text(&input.area, 100, false).map_err(|e| e.at("area"))?;
        let address = bounded_text(&input.address, 500, true).map_err(|e| e.at("address"))?;
        let notes = optional_text(input.notes.as_deref(), 500, true).map_err(|e| e.at("notes"))?;
        if input.items.is_empty() {
            return Err(Error::invalid("items", "must contain at least one item"));
        }
        if input.items.len() > MAX_LINES {
            return Err(Error::invalid(
                "items",
                format!("must contain at most {MAX_LINES} items"),
            ));
        }
        let mut items: Vec<CheckoutItem> = Vec::with_capacity(input.items.len());
        for (i, item) in input.items.iter().enumerate() {
            let product_id = ProductId::parse(&item.product_id)
                .map_err(|e| e.at(format!("items[{i}].productId")))?;
            let quantity = crate::text::Quantity::from_i64(item.quantity)
                .map_err(|e| e.at(format!("items[{i}].quantity")))?;
            match items.iter_mut().find(|it| it.product_id == product_id) {
                Some(existing) => {
                    existing.quantity =
                        crate::text::Quantity::new(existing.quantity.get() + quantity.get())
                            .map_err(|e| e.at(format!("items[{i}].quantity")))?;
                }
                None => items.push(CheckoutItem {
                    product_id,
                    quantity,
                }),
            }
        }
        Ok(Checkout {
            customer: Customer { name, phone },
            delivery: Delivery {
                county,
                area,
                address,
                notes,
            },
            items,
            language: input.language.unwrap_or_default(),
        })
    }

    /// A fingerprint of what was asked for, so a retry with the same idempotency key can be
    /// told apart from a different request that reuses the key.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        let mut field = |value: &str| {
            hasher.update(value.len().to_le_bytes());
            hasher.update(value.as_bytes());
        };
        field(&self.customer.name);
        field(self.customer.phone.as_str());
        field(self.delivery.county.name());
        field(&self.delivery.area);
        field(&self.delivery.address);
        field(self.delivery.notes.as_deref().unwrap_or(""));
        for item in &self.items {
            field(&item.product_id.to_string());
            field(&item.quantity.to_string());
        }
        hex(&hasher.finalize())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input() -> CheckoutInput {
        CheckoutInput {
            name: " Wanjiru Kamau ".into(),
            phone: "0712 345 678".into(),
            county: "nairobi".into(),
            area: "Westlands".into(),
            address: "Mpaka Road, blue gate".into(),
            notes: None,
            items: vec![CheckoutItemInput {
                product_id: "00000000-0000-0000-0000-000000000001".into(),
                quantity: 2,
            }],
            language: None,
        }
    }

    #[test]
    fn a_valid_checkout_is_typed() {
        let checkout = Checkout::parse(&input()).unwrap();
        assert_eq!(checkout.customer.name, "Wanjiru Kamau");
        assert_eq!(checkout.customer.phone.as_str(), "254712345678");
        assert_eq!(checkout.delivery.county.name(), "Nairobi");
        assert_eq!(checkout.items[0].quantity.get(), 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Breakage = Box<dyn Fn(&mut CheckoutInput)>;
        let cases: Vec<(Breakage, &str)> = vec![
            (Box::new(|i| i.name = "  ".into()), "name"),
            (Box::new(|i| i.phone = "12345".into()), "phone"),
            (Box::new(|i| i.county = "Gotham".into()), "county"),
            (Box::new(|i| i.area = String::new()), "area"),
            (Box::new(|i| i.address = "x".repeat(501)), "address"),
            (Box::new(|i| i.items.clear()), "items"),
            (Box::new(|i| i.items[0].quantity = 0), "items[0].quantity"),
            (Box::new(|i| i.items[0].quantity = -4), "items[0].quantity"),
            (
                Box::new(|i| i.items[0].quantity = 1_000_000),
                "items[0].quantity",
            ),
            (
                Box::new(|i| i.items[0].product_id = "abc".into()),
                "items[0].productId",
            ),
            (
                Box::new(|i| i.items = vec![i.items[0].clone(); MAX_LINES + 1]),
                "items",
            ),
        ];
        for (break_it, field) in cases {
            let mut bad = input();
            break_it(&mut bad);
            assert_eq!(Checkout::parse(&bad).unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn repeated_products_are_added_together_within_the_limit() {
        let mut twice = input();
        twice.items.push(twice.items[0].clone());
        let checkout = Checkout::parse(&twice).unwrap();
        assert_eq!(checkout.items.len(), 1);
        assert_eq!(checkout.items[0].quantity.get(), 4);

        twice.items[0].quantity = 900;
        twice.items[1].quantity = 900;
        assert_eq!(
            Checkout::parse(&twice).unwrap_err().field(),
            Some("items[1].quantity")
        );
    }

    #[test]
    fn the_fingerprint_changes_with_the_request() {
        let a = Checkout::parse(&input()).unwrap();
        let mut other = input();
        other.items[0].quantity = 3;
        let b = Checkout::parse(&other).unwrap();
        assert_eq!(
            a.fingerprint(),
            Checkout::parse(&input()).unwrap().fingerprint()
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
    }
}
