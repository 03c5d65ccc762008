//! Run with `cargo run -p pochi-example-custom-store`: places an order in a shop kept in
//! `./custom-store-shop.json`; run it again and the order from the first run is still there.

use std::sync::Arc;

use pochi_core::{
    CheckoutInput, CheckoutItemInput, ManualCodeProvider, OrderListInput, ProductInput, Shop,
};
use pochi_example_custom_store::JsonFileStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = JsonFileStore::open("custom-store-shop.json").await?;
    let shop = Shop::builder(Arc::new(store))
        .provider(Arc::new(ManualCodeProvider::new()))
        .build()?;
    let kikoi = match shop.catalogue(None, Default::default()).await?.items.pop() {
        Some(product) => product,
        None => {
            shop.save_product(&ProductInput {
                name: "Kikoi".into(),
                price: "1500".into(),
                stock: Some(100),
                ..ProductInput::default()
            })
            .await?
        }
    };
    let order = shop
        .place_order(
            &CheckoutInput {
                name: "Wanjiru Kamau".into(),
                phone: "0712345678".into(),
                county: "nairobi".into(),
                area: "Westlands".into(),
                address: "Mpaka Road, blue gate".into(),
                notes: None,
                items: vec![CheckoutItemInput {
                    product_id: kikoi.id.to_string(),
                    quantity: 1,
                }],
                language: None,
            },
            None,
        )
        .await?
        .into_order();
    let orders = shop.orders(&OrderListInput::default()).await?;
    println!(
        "placed {}; the shop file now holds {} order(s)",
        order.number,
        orders.items.len()
    );
    Ok(())
}
