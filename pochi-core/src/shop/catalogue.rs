//! Catalogue use cases: browsing, and an admin's product changes.

use super::Shop;
use crate::{
    error::{Entity, Error, Result},
    ids::ProductId,
    page::{CursorKey, Limit, Page},
    product::{ImageRef, Product, ProductDraft, ProductInput, ProductKey, ProductRemoval},
    store::StoreExt,
};

/// Which products a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// What customers see.
    Active,
    /// Everything, archived products included (admin).
    All,
}

impl Shop {
    /// The catalogue: active products, oldest first, a page at a time.
    pub async fn catalogue(&self, cursor: Option<&str>, limit: Limit) -> Result<Page<Product>> {
        self.products(Visibility::Active, cursor, limit).await
    }

    /// Every product, archived ones included, for the admin.
    pub async fn all_products(&self, cursor: Option<&str>, limit: Limit) -> Result<Page<Product>> {
        self.products(Visibility::All, cursor, limit).await
    }

    async fn products(
        &self,
        visibility: Visibility,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<Page<Product>> {
        let after = cursor
            .map(ProductKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        let items = self
            .inner
            .store
            .list_products(visibility == Visibility::Active, after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, Product::key))
    }

    /// A product customers can see; archived products are `NotFound`.
    pub async fn product(&self, id: &str) -> Result<Product> {
        let id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        match self.inner.store.product(id).await? {
            Some(product) if product.active => Ok(product),
            _ => Err(Error::not_found(Entity::Product, id)),
        }
    }

    /// Creates a product, or updates the one `input.id` names. On update the submitted stock
    /// is the new count (the admin's stocktake), and the image is kept.
    pub async fn save_product(&self, input: &ProductInput) -> Result<Product> {
        let settings = self.settings().await?;
        let draft =
            ProductDraft::parse(input, self.inner.config.currency, settings.whole_units_only)?;
        let now = self.now();
        match draft.id {
            None => {
                let product = Product {
                    id: ProductId::from_uuid(self.inner.ids.uuid()),
                    name: draft.name,
                    description: draft.description,
                    price: draft.price,
                    stock: draft.stock,
                    max_per_order: draft.max_per_order,
                    image: None,
                    active: draft.active,
                    created_at: now,
                    updated_at: now,
                };
                self.inner.store.insert_product(&product).await?;
                Ok(product)
            }
            Some(id) => {
                let existing = self.inner.store.product_required(id).await?;
                let product = Product {
                    name: draft.name,
                    description: draft.description,
                    price: draft.price,
                    stock: draft.stock,
                    max_per_order: draft.max_per_order,
                    active: draft.active,
                    updated_at: now,
                    ..existing
                };
                self.inner.store.update_product(&product).await?;
                Ok(product)
            }
        }
    }

    /// Removes a product: deleted if no order has it, archived otherwise (orders keep their
    /// snapshot either way).
    pub async fn remove_product(&self, id: &str) -> Result<ProductRemoval> {
        let id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        self.inner.store.remove_product(id, self.now()).await
    }

    /// Sets (or clears) a product's image.
    pub async fn set_product_image(&self, id: &str, image: Option<ImageRef>) -> Result<Product> {
        let id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        let existing = self.inner.store.product_required(id).await?;
        let product = Product {
            image,
            updated_at: self.now(),
            ..existing
        };
        self.inner.store.update_product(&product).await?;
        Ok(product)
    }
}
