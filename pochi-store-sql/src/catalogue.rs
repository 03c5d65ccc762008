//! Products: insert, update, read, list, remove (delete or archive).

use pochi_core::{
    ConflictReason, Entity, Error, Product, ProductId, ProductRemoval, Result, product::ProductKey,
    store::verdict,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::{Date, OffsetDateTime};

use crate::{
    SqlStore,
    dialect::{Dialect, for_update, sql},
    error::{DbResult, from_sqlx, retrying},
    rows::{self, PRODUCT_COLUMNS},
};

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    for<'q> <D::Db as Database>::Arguments<'q>: IntoArguments<'q, D::Db>,
    for<'q> &'q str: Encode<'q, D::Db> + Type<D::Db>,
    String: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i32: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    i16: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    bool: for<'q> Encode<'q, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Date: for<'q> Encode<'q, D::Db> + Type<D::Db>,
    for<'q> Option<&'q str>: Encode<'q, D::Db>,
    Option<i64>: for<'q> Encode<'q, D::Db>,
    Option<D::Amount>: for<'q> Encode<'q, D::Db>,
    Option<D::Time>: for<'q> Encode<'q, D::Db>,
    Option<D::Id>: for<'q> Encode<'q, D::Db>,
{
    pub(crate) async fn insert_product(&self, product: &Product) -> Result<()> {
        let statement = sql::<D>(
            "INSERT INTO products (id, name, description, currency, price, stock, \
             max_per_order, image, active, created_at, updated_at, version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let inserted = sqlx::query(&statement)
            .bind(D::id(product.id.as_uuid()))
            .bind(&product.name)
            .bind(&product.description)
            .bind(product.price.currency().code())
            .bind(Self::stored(product.price))
            .bind(product.stock.map(i64::from))
            .bind(product.max_per_order.map(i64::from))
            .bind(product.image.as_ref().map(|i| i.as_str()))
            .bind(product.active)
            .bind(D::time(product.created_at))
            .bind(D::time(product.updated_at))
            .bind(i64::try_from(product.version).unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await;
        match inserted.map_err(crate::error::DbError::<D>::from) {
            Ok(_) => Ok(()),
            Err(err) if err.is_unique_violation() => Err(Error::conflict(
                ConflictReason::AlreadyExists,
                format!("product {} already exists", product.id),
            )),
            Err(err) => Err(err.into_core()),
        }
    }

    pub(crate) async fn update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product> {
        retrying(|| self.try_update_product(product, expected_version)).await
    }

    async fn try_update_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> DbResult<Product, D> {
        let id = product.id;
        let mut tx = self.begin_write().await?;
        // Stock is not written: orders moved it since the edit was read (see pochi_core::stock).
        let mut statement = String::from(
            "UPDATE products SET name = ?, description = ?, currency = ?, price = ?, \
             max_per_order = ?, image = ?, active = ?, updated_at = ?, version = version + 1 \
             WHERE id = ?",
        );
        if expected_version.is_some() {
            statement.push_str(" AND version = ?");
        }
        let statement = sql::<D>(&statement);
        let mut update = sqlx::query(&statement)
            .bind(&product.name)
            .bind(&product.description)
            .bind(product.price.currency().code())
            .bind(Self::stored(product.price))
            .bind(product.max_per_order.map(i64::from))
            .bind(product.image.as_ref().map(|i| i.as_str()))
            .bind(product.active)
            .bind(D::time(product.updated_at))
            .bind(D::id(id.as_uuid()));
        if let Some(expected) = expected_version {
            // Past i64::MAX: no stored version (all are positive) matches -1.
            update = update.bind(i64::try_from(expected).unwrap_or(-1));
        }
        let updated = update.execute(&mut *tx).await?;
        if D::rows_affected(&updated) == 0 {
            let current = sqlx::query(&sql::<D>("SELECT version FROM products WHERE id = ?"))
                .bind(D::id(id.as_uuid()))
                .fetch_optional(&mut *tx)
                .await?;
            let Some(current) = current else {
                return Err(Error::not_found(Entity::Product, id).into());
            };
            let current = Self::version_at(&current)?;
            verdict::check_version(id, expected_version, current)?;
            // Same version, yet no row changed: only a lost race explains it; say so.
            return Err(Error::unavailable(
                "the product changed while it was being saved; try again",
                std::io::Error::other("update matched no row"),
            )
            .into());
        }
        let row = sqlx::query(&sql::<D>(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?"
        )))
        .bind(D::id(id.as_uuid()))
        .fetch_one(&mut *tx)
        .await?;
        let stored = Self::product_row(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    pub(crate) async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        let statement = sql::<D>(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?"
        ))
        .into_owned();
        let row = sqlx::query(&statement)
            .bind(D::id(id.as_uuid()))
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(row.as_ref().map(Self::product_row).transpose()?)
    }

    pub(crate) async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query =
            QueryBuilder::<D::Db>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE "));
        D::push_one_of_ids(
            &mut query,
            "id",
            ids.iter().map(ProductId::as_uuid).collect(),
        );
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::product_row)
            .collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn list_products(
        &self,
        active_only: bool,
        after: Option<ProductKey>,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let mut query = QueryBuilder::<D::Db>::new(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE 1 = 1"
        ));
        if active_only {
            query.push(" AND active = TRUE");
        }
        if let Some(after) = after {
            push_after::<D, _, _>(
                &mut query,
                ("created_at", "id"),
                ">",
                D::time(after.created_at),
                D::id(after.id.as_uuid()),
            );
        }
        query
            .push(" ORDER BY created_at, id LIMIT ")
            .push_bind(rows::limit(limit));
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::product_row)
            .collect::<DbResult<_, D>>()?)
    }

    pub(crate) async fn remove_product(
        &self,
        id: ProductId,
        at: OffsetDateTime,
    ) -> Result<ProductRemoval> {
        retrying(|| self.try_remove_product(id, at)).await
    }

    async fn try_remove_product(
        &self,
        id: ProductId,
        at: OffsetDateTime,
    ) -> DbResult<ProductRemoval, D> {
        let mut tx = self.begin_write().await?;
        // Locking the row makes a concurrent order for it wait (its stock update locks it too),
        // so "is it in an order?" cannot change before we act on the answer.
        let found = sqlx::query(&sql::<D>(&format!(
            "SELECT id FROM products WHERE id = ?{}",
            for_update::<D>()
        )))
        .bind(D::id(id.as_uuid()))
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(Error::not_found(Entity::Product, id).into());
        }
        let ordered = sqlx::query(&sql::<D>(
            "SELECT 1 FROM order_lines WHERE product_id = ? LIMIT 1",
        ))
        .bind(D::id(id.as_uuid()))
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let removal = if ordered {
            sqlx::query(&sql::<D>(
                "UPDATE products SET active = FALSE, updated_at = ? WHERE id = ?",
            ))
            .bind(D::time(at))
            .bind(D::id(id.as_uuid()))
            .execute(&mut *tx)
            .await?;
            ProductRemoval::Archived
        } else {
            sqlx::query(&sql::<D>("DELETE FROM products WHERE id = ?"))
                .bind(D::id(id.as_uuid()))
                .execute(&mut *tx)
                .await?;
            ProductRemoval::Deleted
        };
        tx.commit().await?;
        Ok(removal)
    }
}

/// Appends ` AND (first, second) op (a, b)`: as a row value where the dialect reads that from
/// an index, otherwise in its expanded form.
pub(crate) fn push_after<'a, D, A, B>(
    query: &mut QueryBuilder<'a, D::Db>,
    (first, second): (&str, &str),
    op: &str,
    a: A,
    b: B,
) where
    D: Dialect,
    A: Clone + 'a + Encode<'a, D::Db> + Type<D::Db>,
    B: 'a + Encode<'a, D::Db> + Type<D::Db>,
{
    if D::ROW_VALUES {
        query
            .push(format!(" AND ({first}, {second}) {op} ("))
            .push_bind(a)
            .push(", ")
            .push_bind(b)
            .push(")");
    } else {
        query
            .push(format!(" AND ({first} {op} "))
            .push_bind(a.clone())
            .push(format!(" OR ({first} = "))
            .push_bind(a)
            .push(format!(" AND {second} {op} "))
            .push_bind(b)
            .push("))");
    }
}
