//! Products: insert, update, read, list, remove (delete or archive).

use pochi_core::{
    ConflictReason, Entity, Error, Product, ProductId, ProductRemoval, Result, product::ProductKey,
};
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbError, DbResult, from_sqlx, retrying},
    rows::{self, PRODUCT_COLUMNS},
};

pub(crate) async fn insert_product(pool: &PgPool, product: &Product) -> Result<()> {
    let stock = product.stock.map(i64::from);
    let inserted = sqlx::query(
        "INSERT INTO products (id, name, description, currency, price, stock, image, active, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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

pub(crate) async fn update_product(pool: &PgPool, product: &Product) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE products SET name = $2, description = $3, currency = $4, price = $5, \
         stock = $6, image = $7, active = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(product.id.as_uuid())
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.price.currency().code())
    .bind(product.price.amount())
    .bind(product.stock.map(i64::from))
    .bind(product.image.as_ref().map(|i| i.as_str()))
    .bind(product.active)
    .bind(product.updated_at)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if updated.rows_affected() == 0 {
        return Err(Error::not_found(Entity::Product, product.id));
    }
    Ok(())
}

pub(crate) async fn product(pool: &PgPool, id: ProductId) -> Result<Option<Product>> {
    let row = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"
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

pub(crate) async fn products_by_ids(pool: &PgPool, ids: &[ProductId]) -> Result<Vec<Product>> {
    let ids: Vec<Uuid> = ids.iter().map(ProductId::as_uuid).collect();
    let found = sqlx::query(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    found
        .iter()
        .map(rows::product)
        .collect::<DbResult<_>>()
        .map_err(Error::from)
}

pub(crate) async fn list_products(
    pool: &PgPool,
    active_only: bool,
    after: Option<ProductKey>,
    limit: usize,
) -> Result<Vec<Product>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE TRUE"));
    if active_only {
        query.push(" AND active");
    }
    if let Some(after) = after {
        query
            .push(" AND (created_at, id) > (")
            .push_bind(after.created_at)
            .push(", ")
            .push_bind(after.id.as_uuid())
            .push(")");
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
    pool: &PgPool,
    id: ProductId,
    at: OffsetDateTime,
) -> Result<ProductRemoval> {
    retrying(|| try_remove_product(pool, id, at)).await
}

async fn try_remove_product(
    pool: &PgPool,
    id: ProductId,
    at: OffsetDateTime,
) -> DbResult<ProductRemoval> {
    let mut tx = pool.begin().await?;
    // Locking the row makes a concurrent order for it wait (its stock update locks it too), so
    // "is it in an order?" cannot change before we act on the answer.
    let found = sqlx::query("SELECT id FROM products WHERE id = $1 FOR UPDATE")
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Err(Error::not_found(Entity::Product, id).into());
    }
    let ordered: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM order_lines WHERE product_id = $1)")
            .bind(id.as_uuid())
            .fetch_one(&mut *tx)
            .await?;
    let removal = if ordered {
        sqlx::query("UPDATE products SET active = FALSE, updated_at = $2 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        ProductRemoval::Archived
    } else {
        sqlx::query("DELETE FROM products WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        ProductRemoval::Deleted
    };
    tx.commit().await?;
    Ok(removal)
}
