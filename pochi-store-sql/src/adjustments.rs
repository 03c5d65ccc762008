//! Stock adjustments: applied to the stock as it is, kept in the product's history.

use pochi_core::{
    ProductId, Result, StockAdjusted, StockAdjustment,
    stock::{AdjustmentKey, NewStockAdjustment},
    store::verdict,
};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};
use time::Date;

use crate::{
    SqlStore,
    catalogue::push_after,
    dialect::{Dialect, for_update, sql},
    error::{DbResult, from_sqlx, retrying},
    rows::{self, ADJUSTMENT_COLUMNS},
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
    pub(crate) async fn adjust_stock(
        &self,
        adjustment: &NewStockAdjustment,
    ) -> Result<StockAdjusted> {
        retrying(|| self.try_adjust_stock(adjustment)).await
    }

    async fn try_adjust_stock(
        &self,
        adjustment: &NewStockAdjustment,
    ) -> DbResult<StockAdjusted, D> {
        let product = D::id(adjustment.product_id.as_uuid());
        let mut tx = self.begin_write().await?;
        if let Some(key) = &adjustment.idempotency_key {
            let earlier = sqlx::query(&sql::<D>(&format!(
                "SELECT {ADJUSTMENT_COLUMNS} FROM stock_adjustments \
                 WHERE product_id = ? AND idempotency_key = ?"
            )))
            .bind(product.clone())
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(earlier) = earlier {
                let earlier = Self::adjustment_row(&earlier)?;
                verdict::check_adjustment_replay(adjustment, &earlier)?;
                return Ok(StockAdjusted::Replayed(earlier));
            }
        }
        // The row locked, the verdict is on the stock as it is now (orders move it all the
        // time); orders and other adjustments wait for this one and then count from its result.
        let row = sqlx::query(&sql::<D>(&format!(
            "SELECT stock FROM products WHERE id = ?{}",
            for_update::<D>()
        )))
        .bind(product.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let found = match &row {
            None => None,
            Some(row) => Some(
                Self::get::<Option<i64>>(row, "stock")?
                    .map(Self::count)
                    .transpose()?,
            ),
        };
        let stock_after = verdict::adjusted_stock(adjustment, found)?;
        sqlx::query(&sql::<D>(
            "UPDATE products SET stock = ?, updated_at = ? WHERE id = ?",
        ))
        .bind(i64::from(stock_after))
        .bind(D::time(adjustment.at))
        .bind(product.clone())
        .execute(&mut *tx)
        .await?;
        let applied = adjustment.applied(stock_after);
        sqlx::query(&sql::<D>(&format!(
            "INSERT INTO stock_adjustments ({ADJUSTMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(D::id(applied.id.as_uuid()))
        .bind(product)
        .bind(applied.delta)
        .bind(&applied.reason)
        .bind(i64::from(applied.stock_after))
        .bind(&applied.by)
        .bind(D::time(applied.at))
        .bind(applied.idempotency_key.as_ref().map(|k| k.as_str()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(StockAdjusted::Applied(applied))
    }

    pub(crate) async fn stock_adjustments(
        &self,
        product: ProductId,
        after: Option<AdjustmentKey>,
        limit: usize,
    ) -> Result<Vec<StockAdjustment>> {
        let mut query = QueryBuilder::<D::Db>::new(format!(
            "SELECT {ADJUSTMENT_COLUMNS} FROM stock_adjustments WHERE product_id = "
        ));
        query.push_bind(D::id(product.as_uuid()));
        if let Some(after) = after {
            push_after::<D, _, _>(
                &mut query,
                ("at", "id"),
                "<",
                D::time(after.at),
                D::id(after.id.as_uuid()),
            );
        }
        query
            .push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(rows::limit(limit));
        let mut conn = self.pool.acquire().await.map_err(from_sqlx::<D>)?;
        let found = D::fetch_all(&mut query, &mut conn)
            .await
            .map_err(from_sqlx::<D>)?;
        Ok(found
            .iter()
            .map(Self::adjustment_row)
            .collect::<DbResult<_, D>>()?)
    }
}
