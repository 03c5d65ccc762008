//! The demo catalogue a new shop starts with, so the whole flow can be walked at once.

use std::path::Path;

use pochi_core::{Limit, ProductInput, Shop};

use crate::{StartError, datadir};

/// A few products with stock, priced in whole shillings (M-Pesa charges whole shillings).
fn products() -> Vec<ProductInput> {
    let product = |name: &str, description: &str, price: &str, stock: i64| ProductInput {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        price: price.to_owned(),
        stock: Some(stock),
        ..ProductInput::default()
    };
    vec![
        product(
            "Kikoi beach wrap",
            "Hand-woven cotton kikoi from the coast, 170 × 110 cm.",
            "1500",
            12,
        ),
        product(
            "Kiondo basket",
            "Sisal basket with leather handles, woven in Machakos.",
            "2400",
            6,
        ),
        product(
            "Kenya AA coffee, 500 g",
            "Whole beans from Nyeri, roasted this week.",
            "950",
            30,
        ),
        product(
            "Maasai shuka",
            "Warm checked blanket in red and blue, 150 × 200 cm.",
            "1200",
            20,
        ),
    ]
}

/// Adds the demo products on the first start of a shop whose catalogue is empty. Later
/// starts never add them again, even when the owner removed them all.
pub(crate) async fn add_on_first_start(shop: &Shop, data_dir: &Path) -> Result<usize, StartError> {
    if datadir::demo_offered(data_dir) {
        return Ok(0);
    }
    let limit = Limit::new(Some(1)).map_err(|e| StartError::Shop(e.at("limit")))?;
    let existing = shop
        .all_products(None, limit)
        .await
        .map_err(StartError::Shop)?;
    let mut added = 0;
    // A shop that has products already (another server on the same database) gets none.
    if existing.items.is_empty() {
        for product in &products() {
            shop.save_product(product).await.map_err(StartError::Shop)?;
            added += 1;
        }
    }
    datadir::mark_demo_offered(data_dir)?;
    Ok(added)
}
