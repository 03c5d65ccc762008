//! The whole pochi-testkit store suite on a fresh JSON file per scenario, and a restart.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use pochi_core::Store;
use pochi_example_custom_store::JsonFileStore;

async fn file_store() -> Option<Arc<dyn Store>> {
    let dir = tempfile::tempdir().unwrap().keep();
    Some(Arc::new(
        JsonFileStore::open(dir.join("shop.json")).await.unwrap(),
    ))
}

pochi_testkit::store_conformance_tests!(file_store);

mod restart {
    use std::sync::Arc;

    use pochi_core::{
        CheckoutInput, CheckoutItemInput, ManualCodeProvider, Placement, ProductInput, Shop,
    };
    use pochi_example_custom_store::JsonFileStore;

    async fn shop_at(path: &std::path::Path) -> Shop {
        Shop::builder(Arc::new(JsonFileStore::open(path).await.unwrap()))
            .provider(Arc::new(ManualCodeProvider::new()))
            .build()
            .unwrap()
    }

    fn checkout(product: &str) -> CheckoutInput {
        CheckoutInput {
            name: "Wanjiru Kamau".into(),
            phone: "0712345678".into(),
            county: "nairobi".into(),
            area: "Westlands".into(),
            address: "Mpaka Road, blue gate".into(),
            notes: None,
            items: vec![CheckoutItemInput {
                product_id: product.into(),
                quantity: 2,
            }],
            language: None,
        }
    }

    #[tokio::test]
    async fn orders_stock_and_idempotency_keys_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.json");
        let (product, placed) = {
            let shop = shop_at(&path).await;
            let product = shop
                .save_product(&ProductInput {
                    name: "Kikoi".into(),
                    price: "1500".into(),
                    stock: Some(5),
                    ..ProductInput::default()
                })
                .await
                .unwrap();
            let id = product.id.to_string();
            let placed = shop
                .place_order(&checkout(&id), Some("key-1"))
                .await
                .unwrap();
            (id, placed.into_order())
        };

        let shop = shop_at(&path).await;
        assert_eq!(
            shop.order(&placed.number.to_string()).await.unwrap(),
            placed
        );
        assert_eq!(shop.product(&product).await.unwrap().stock, Some(3));
        let again = shop
            .place_order(&checkout(&product), Some("key-1"))
            .await
            .unwrap();
        assert!(matches!(again, Placement::Replayed(ref o) if o.number == placed.number));
        assert_eq!(shop.product(&product).await.unwrap().stock, Some(3));
    }

    #[tokio::test]
    async fn a_change_whose_file_cannot_be_written_did_not_happen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.json");
        let shop = shop_at(&path).await;
        let product = shop
            .save_product(&ProductInput {
                name: "Kikoi".into(),
                price: "1500".into(),
                stock: Some(5),
                ..ProductInput::default()
            })
            .await
            .unwrap()
            .id
            .to_string();
        // The temporary file's name is taken by a directory: the next write fails.
        std::fs::create_dir(dir.path().join("shop.json.tmp")).unwrap();

        let err = shop
            .place_order(&checkout(&product), Some("key-1"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "temporarily_unavailable");
        assert_eq!(shop.product(&product).await.unwrap().stock, Some(5));

        // Once the file can be written again, the same request places the order once.
        std::fs::remove_dir(dir.path().join("shop.json.tmp")).unwrap();
        let placed = shop
            .place_order(&checkout(&product), Some("key-1"))
            .await
            .unwrap();
        assert!(matches!(placed, Placement::Placed(_)));
        let reopened = shop_at(&path).await;
        assert_eq!(reopened.product(&product).await.unwrap().stock, Some(3));
    }

    #[tokio::test]
    async fn an_unreadable_file_is_an_error_not_an_empty_shop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.json");
        std::fs::write(&path, b"{ not json").unwrap();
        let err = JsonFileStore::open(&path).await.unwrap_err();
        assert_eq!(err.code(), "internal_error");
    }
}
