//! Products: insert, update, read, list, remove (delete or archive).

use pochi_core::{
    ConflictReason, Entity, Error, Product, ProductId, ProductRemoval, Result, product::ProductKey,
};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use time::OffsetDateTime;

use crate::{
    error::{DbError, DbResult, from_sqlx, retrying},
    orders::WRITE,
    rows::{self, PRODUCT_COLUMNS},
};

pub(crate) async fn insert_product(pool: &MySqlPool, product: &Product) -> Result<()> {
    let stock = product.stock.map(i64::from);
    let inserted = sqlx::query(
        "INSERT INTO products (id, name, description, currency, price, stock, image, active, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(product.id.as_uuid())
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.price.currency().code())
    .bind(product.price.amount())
    .bind(stock)
    .bind(product.image.as_ref().map(|i| i.as_str()))
    .bind(product.active)
    .bind(product.created_at)
    .bind(product.updated_at)
    .execute(pool)
    .await;
    match inserted.map_err(DbError::from) {
        Ok(_) => Ok(()),
        Err(err) if err.is_unique_violation() => Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("product {} already exists", product.id),
        )),
        Err(DbError::Sqlx(err)) => Err(from_sqlx(err)),
        Err(DbError::Core(err)) => Err(err),
    }
}

pub(crate) async fn update_product(pool: &MySqlPool, product: &Product) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE products SET name = ?, description = ?, currency = ?, price = ?, \
         stock = ?, image = ?, active = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.price.currency().code())
    .bind(product.price.amount())
    .bind(product.stock.map(i64::from))
    .bind(product.image.as_ref().map(|i| i.as_str()))
    .bind(product.active)
    .bind(product.updated_at)
    .bind(product.id.as_uuid())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if updated.rows_affected() == 0 {
        return Err(Error::not_found(Entity::Product, product.id));
    }
    Ok(())
}

pub(crate) async fn product(pool: &MySqlPool, id: ProductId) -> Result<Option<Product>> {
    let row = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    row.as_ref()
        .map(rows::product)
        .transpose()
        .map_err(Error::from)
}

pub(crate) async fn products_by_ids(pool: &MySqlPool, ids: &[ProductId]) -> Result<Vec<Product>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<MySql>::new(format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ("
    ));
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.as_uuid());
    }
    query.push(")");
    let found = query.build().fetch_all(pool).await.map_err(from_sqlx)?;
    found
        .iter()
        .map(rows::product)
        .collect::<DbResult<_>>()
        .map_err(Error::from)
}

pub(crate) async fn list_products(
    pool: &MySqlPool,
    active_only: bool,
    after: Option<ProductKey>,
    limit: usize,
) -> Result<Vec<Product>> {
    let mut query =
        QueryBuilder::<MySql>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE TRUE"));
    if active_only {
        query.push(" AND active = TRUE");
    }
    if let Some(after) = after {
        // The expanded form of `(created_at, id) > (?, ?)`: MySQL uses the index for it.
        query
            .push(" AND (created_at > ")
            .push_bind(after.created_at)
            .push(" OR (created_at = ")
            .push_bind(after.created_at)
            .push(" AND id > ")
            .push_bind(after.id.as_uuid())
            .push("))");
    }
    query
        .push(" ORDER BY created_at, id LIMIT ")
        .push_bind(rows::limit(limit));
    let found = query.build().fetch_all(pool).await.map_err(from_sqlx)?;
    found
        .iter()
        .map(rows::product)
        .collect::<DbResult<_>>()
        .map_err(Error::from)
}

pub(crate) async fn remove_product(
    pool: &MySqlPool,
    id: ProductId,
    at: OffsetDateTime,
) -> Result<ProductRemoval> {
    retrying(|| try_remove_product(pool, id, at)).await
}

async fn try_remove_product(
    pool: &MySqlPool,
    id: ProductId,
    at: OffsetDateTime,
) -> DbResult<ProductRemoval> {
    let mut tx = pool.begin_with(WRITE).await?;
    // Locking the row makes a concurrent order for it wait (its stock update locks it too), so
    // "is it in an order?" cannot change before we act on the answer.
    let found = sqlx::query("SELECT id FROM products WHERE id = ? FOR UPDATE")
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Err(Error::not_found(Entity::Product, id).into());
    }
    let ordered = sqlx::query("SELECT 1 FROM order_lines WHERE product_id = ? LIMIT 1")
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    let removal = if ordered {
        sqlx::query("UPDATE products SET active = FALSE, updated_at = ? WHERE id = ?")
            .bind(at)
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        ProductRemoval::Archived
    } else {
        sqlx::query("DELETE FROM products WHERE id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        ProductRemoval::Deleted
    };
    tx.commit().await?;
    Ok(removal)
}
