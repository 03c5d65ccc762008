//! Products: what the shop sells, at what price, with how many in stock.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    error::{Error, InvalidValue, Result},
    ids::ProductId,
    money::{Currency, Money},
    text::{bounded_text, optional_text},
};

/// The longest product name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest product description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// The highest unit price, in whole currency units (10 million).
pub const MAX_UNIT_PRICE: u32 = 10_000_000;
/// The most units a product can have in stock.
pub const MAX_STOCK: u32 = 1_000_000_000;

/// A product in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Its name, as shown to customers.
    pub name: String,
    /// A longer description (may be empty).
    pub description: String,
    /// The price of one unit.
    pub price: Money,
    /// Units in stock; `None` when the shop does not track stock for it.
    pub stock: Option<u32>,
    /// At most this many units in one order; `None`: the shop's default
    /// ([`ShopConfig::max_units_per_product`](crate::ShopConfig::max_units_per_product)).
    #[serde(default)]
    pub max_per_order: Option<u32>,
    /// Where its image is kept (a media-store key), if it has one.
    pub image: Option<ImageRef>,
    /// Whether customers can see and buy it. Archived products are inactive.
    pub active: bool,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The revision of what an admin edits (name, description, price, most per order, image,
    /// active): [`FIRST_VERSION`] when created, one more with each edit. Stock is not part of
    /// it: orders move stock all day, and an edit never writes it (see [`crate::stock`]), so a
    /// sale does not make an open edit stale. An edit sent with the version it was made
    /// against is refused ([`Error::ProductChanged`]) when another edit came in between.
    #[serde(default = "first_version")]
    pub version: u64,
}

/// The version of a product just created.
pub const FIRST_VERSION: u64 = 1;

fn first_version() -> u64 {
    FIRST_VERSION
}

impl Product {
    /// The key that orders product lists: oldest first, ties broken by id.
    pub fn key(&self) -> ProductKey {
        ProductKey {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// Whether `quantity` units can be sold now (ignoring concurrent buyers; the store decides
    /// atomically when the order is placed).
    pub fn has_stock_for(&self, quantity: u32) -> bool {
        self.stock.is_none_or(|stock| stock >= quantity)
    }
}

/// The position of a product in a list, for keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductKey {
    /// Creation time of the product.
    pub created_at: OffsetDateTime,
    /// Its id.
    pub id: ProductId,
}

/// A reference to a stored image (a key of the media store, such as `products/…/….webp`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef(String);

impl ImageRef {
    /// Parses a media key: 1 to 300 characters of letters, digits, `/`, `-`, `_`, `.`, not
    /// starting with `/` and without `..`.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let valid = (1..=300).contains(&text.len())
            && !text.starts_with('/')
            && !text.contains("..")
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        if valid {
            Ok(ImageRef(text.to_owned()))
        } else {
            Err(InvalidValue::new(
                "must be a relative media key of letters, digits, '/', '-', '_' and '.'",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImageRef {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ImageRef::parse(&value)
    }
}

impl From<ImageRef> for String {
    fn from(value: ImageRef) -> Self {
        value.0
    }
}

/// A product as an admin submits it, before validation. Prices are decimal strings so no float
/// ever touches them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    /// The product to update; absent to create a new one.
    #[serde(default)]
    pub id: Option<String>,
    /// Name, 1 to 200 characters.
    pub name: String,
    /// Description, up to 5,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Unit price as a decimal string (`"1500"`, `"1499.50"`).
    pub price: String,
    /// Units in stock when the product is created; absent when stock is not tracked. Refused
    /// on an update: stock changes by adjustments
    /// ([`Shop::adjust_stock`](crate::Shop::adjust_stock)), never by an edit.
    #[serde(default)]
    pub stock: Option<i64>,
    /// At most this many units in one order (1 to 999); absent: the shop's default.
    #[serde(default)]
    pub max_per_order: Option<i64>,
    /// Whether customers can see it (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A validated product submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    /// The product to update, or `None` to create one.
    pub id: Option<ProductId>,
    /// The name.
    pub name: String,
    /// The description (may be empty).
    pub description: String,
    /// The unit price.
    pub price: Money,
    /// Units in stock, if tracked (only ever given for a new product).
    pub stock: Option<u32>,
    /// At most this many units in one order, if the product says.
    pub max_per_order: Option<u32>,
    /// Whether it is visible.
    pub active: bool,
}

impl ProductDraft {
    /// Validates a submission. `whole_units_only` refuses prices with cents (for shops paid only
    /// in whole shillings).
    pub fn parse(input: &ProductInput, currency: Currency, whole_units_only: bool) -> Result<Self> {
        let id = input
            .id
            .as_deref()
            .map(ProductId::parse)
            .transpose()
            .map_err(|e| e.at("id"))?;
        let name = bounded_text(&input.name, MAX_NAME_CHARS, false).map_err(|e| e.at("name"))?;
        let description = optional_text(input.description.as_deref(), MAX_DESCRIPTION_CHARS, true)
            .map_err(|e| e.at("description"))?
            .unwrap_or_default();
        let price = Money::parse(&input.price, currency).map_err(|e| e.at("price"))?;
        if price.is_zero() {
            return Err(Error::invalid("price", "must be more than zero"));
        }
        if price.amount() > rust_decimal::Decimal::from(MAX_UNIT_PRICE) {
            return Err(Error::invalid(
                "price",
                format!("must be at most {MAX_UNIT_PRICE}"),
            ));
        }
        if whole_units_only && !price.fits_precision(0) {
            return Err(Error::invalid(
                "price",
                "must be a whole amount: this shop is paid in whole units only",
            ));
        }
        let stock = match input.stock {
            None => None,
            Some(_) if id.is_some() => {
                return Err(Error::invalid(
                    "stock",
                    "an edit does not change the stock (orders move it meanwhile): \
                     send a stock adjustment of so many units up or down instead",
                ));
            }
            Some(n) if n < 0 => return Err(Error::invalid("stock", "must not be negative")),
            Some(n) => match u32::try_from(n) {
                Ok(n) if n <= MAX_STOCK => Some(n),
                _ => {
                    return Err(Error::invalid(
                        "stock",
                        format!("must be at most {MAX_STOCK}"),
                    ));
                }
            },
        };
        let max_per_order = input
            .max_per_order
            .map(crate::text::Quantity::from_i64)
            .transpose()
            .map_err(|e| e.at("maxPerOrder"))?
            .map(|q| q.get());
        Ok(ProductDraft {
            id,
            name,
            description,
            price,
            stock,
            max_per_order,
            active: input.active.unwrap_or(true),
        })
    }
}

/// What removing a product did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductRemoval {
    /// It was in no order, so it is gone.
    Deleted,
    /// Orders refer to it, so it was archived (inactive) and kept.
    Archived,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn input(price: &str) -> ProductInput {
        ProductInput {
            name: "  Kikoi  ".into(),
            price: price.into(),
            ..ProductInput::default()
        }
    }

    #[test]
    fn a_valid_submission_is_normalised() {
        let draft = ProductDraft::parse(&input("1499.5"), Currency::Kes, false).unwrap();
        assert_eq!(draft.name, "Kikoi");
        assert_eq!(draft.price.amount(), dec!(1499.50));
        assert_eq!(draft.stock, None);
        assert!(draft.active);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                ProductInput {
                    name: " ".into(),
                    ..input("10")
                },
                "name",
            ),
            (input("0"), "price"),
            (input("-1"), "price"),
            (input("10.001"), "price"),
            (input("ten"), "price"),
            (input("10000000.01"), "price"),
            (
                ProductInput {
                    stock: Some(-1),
                    ..input("10")
                },
                "stock",
            ),
            (
                ProductInput {
                    stock: Some(i64::MAX),
                    ..input("10")
                },
                "stock",
            ),
            (
                ProductInput {
                    id: Some("7".into()),
                    ..input("10")
                },
                "id",
            ),
            (
                ProductInput {
                    id: Some("00000000-0000-0000-0000-000000000001".into()),
                    stock: Some(5),
                    ..input("10")
                },
                "stock",
            ),
        ];
        for (input, field) in cases {
            let err = ProductDraft::parse(&input, Currency::Kes, false).unwrap_err();
            assert_eq!(err.field(), Some(field), "{input:?}");
        }
    }

    #[test]
    fn whole_unit_shops_refuse_cents() {
        let err = ProductDraft::parse(&input("10.50"), Currency::Kes, true).unwrap_err();
        assert_eq!(err.field(), Some("price"));
        assert!(ProductDraft::parse(&input("10.00"), Currency::Kes, true).is_ok());
    }

    #[test]
    fn image_keys_cannot_escape_the_media_directory() {
        assert!(ImageRef::parse("products/abc/1.webp").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a b",
            "a\\b",
            "é.png",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
