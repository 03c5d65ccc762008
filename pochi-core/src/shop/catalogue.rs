//! Catalogue use cases: browsing, and an admin's product changes.

use super::Shop;
use crate::{
    auth::AdminUser,
    error::{Entity, Error, Result},
    ids::{AdjustmentId, ProductId},
    order::IdempotencyKey,
    page::{CursorKey, Limit, Page},
    product::{
        FIRST_VERSION, ImageRef, Product, ProductDraft, ProductInput, ProductKey, ProductRemoval,
    },
    stock::{
        AdjustmentKey, NewStockAdjustment, StockAdjusted, StockAdjustment, StockAdjustmentInput,
    },
    store::{StoreExt, verdict},
};

/// How many times an edit without a version is tried again when another edit slipped in
/// between its read and its write.
const EDIT_TRIES: u32 = 5;

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

    /// Creates a product, or updates the one `input.id` names. An update never touches the
    /// stock (a `stock` in it is refused: see [`Shop::adjust_stock`]) and keeps the image.
    pub async fn save_product(&self, input: &ProductInput) -> Result<Product> {
        self.save_product_at(input, None).await
    }

    /// [`Shop::save_product`], for an update made against the product's `version` (what an
    /// HTTP `If-Match` carries): refused with [`Error::ProductChanged`] when the product was
    /// edited since, nothing written. Without a version the last edit wins (fields the admin
    /// edits only; stock and image are never written back).
    pub async fn save_product_at(
        &self,
        input: &ProductInput,
        version: Option<u64>,
    ) -> Result<Product> {
        let settings = self.settings().await?;
        let draft =
            ProductDraft::parse(input, self.inner.config.currency, settings.whole_units_only)?;
        let now = self.now();
        let Some(id) = draft.id else {
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
                version: FIRST_VERSION,
            };
            self.inner.store.insert_product(&product).await?;
            return Ok(product);
        };
        self.edit_product(id, version, |existing| Product {
            name: draft.name.clone(),
            description: draft.description.clone(),
            price: draft.price,
            max_per_order: draft.max_per_order,
            active: draft.active,
            updated_at: now,
            ..existing
        })
        .await
    }

    /// Writes `edit` of the product as it is now. Against a caller's `version`, once; without
    /// one, against the version just read, again if another edit slipped in between (so an
    /// image set meanwhile is not written back as it was).
    async fn edit_product(
        &self,
        id: ProductId,
        version: Option<u64>,
        edit: impl Fn(Product) -> Product + Send + Sync,
    ) -> Result<Product> {
        let mut tries = 0;
        loop {
            let existing = self.inner.store.product_required(id).await?;
            if let Some(version) = version {
                verdict::check_version(id, Some(version), existing.version)?;
            }
            let expected = existing.version;
            match self
                .inner
                .store
                .update_product(&edit(existing), Some(expected))
                .await
            {
                Err(Error::ProductChanged { .. }) if version.is_none() && tries < EDIT_TRIES => {
                    tries += 1;
                }
                other => return other,
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
        let now = self.now();
        self.edit_product(id, None, |existing| Product {
            image: image.clone(),
            updated_at: now,
            ..existing
        })
        .await
    }

    /// Any product, archived ones included, for the admin (with its `version`, to edit it
    /// against).
    pub async fn product_for_admin(&self, id: &str) -> Result<Product> {
        let id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        self.inner.store.product_required(id).await
    }

    /// Adds units to a tracked product's stock or takes them away (`input.delta`), with a
    /// reason, as `admin`; the store applies it to the stock as it is now and keeps it in the
    /// product's history. Stock that would go below zero is refused (`OutOfStock`, nothing
    /// changed); a product that does not count its stock is a `Conflict`
    /// ([`ConflictReason::StockNotTracked`](crate::ConflictReason)). A retry with the same
    /// `idempotency_key` returns the first adjustment ([`StockAdjusted::Replayed`]).
    pub async fn adjust_stock(
        &self,
        id: &str,
        input: &StockAdjustmentInput,
        admin: &AdminUser,
        idempotency_key: Option<&str>,
    ) -> Result<StockAdjusted> {
        let product_id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        let key = idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|e| e.at("Idempotency-Key"))?;
        let adjustment = NewStockAdjustment::parse(
            input,
            AdjustmentId::from_uuid(self.inner.ids.uuid()),
            product_id,
            &admin.username,
            self.now(),
            key,
        )?;
        self.inner.store.adjust_stock(&adjustment).await
    }

    /// A product's stock adjustments, newest first, a page at a time. `NotFound` if the
    /// product does not exist.
    pub async fn stock_history(
        &self,
        id: &str,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<Page<StockAdjustment>> {
        let id = ProductId::parse(id).map_err(|e| e.at("productId"))?;
        let after = cursor
            .map(AdjustmentKey::decode)
            .transpose()
            .map_err(|e| e.at("cursor"))?;
        self.inner.store.product_required(id).await?;
        let items = self
            .inner
            .store
            .stock_adjustments(id, after, limit.get() + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, StockAdjustment::key))
    }
}
