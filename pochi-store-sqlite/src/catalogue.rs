//! Products: the statements behind the catalogue methods.

use pochi_core::{
    ConflictReason, Entity, Error, ImageRef, Product, ProductId, ProductRemoval,
    product::ProductKey,
};
use sqlx::{
    QueryBuilder, Sqlite, SqliteConnection,
    query::Query,
    sqlite::{SqliteArguments, SqliteRow},
};
use time::OffsetDateTime;

use crate::{
    codec::{Columns, count, micros},
    error::Failure,
};

macro_rules! product_columns {
    () => {
        "id, name, description, currency, price_minor, stock, image, active, created_at, updated_at"
    };
}

/// Ids bound per `IN (…)` list, well below SQLite's limit on parameters.
const IDS_PER_QUERY: usize = 500;

fn product_from_row(row: &SqliteRow) -> Result<Product, Failure> {
    let c = Columns(row);
    let currency = c.currency("currency")?;
    Ok(Product {
        id: ProductId::from_uuid(c.uuid("id")?),
        name: c.text("name")?,
        description: c.text("description")?,
        price: c.money("price_minor", currency)?,
        stock: c.opt_u32("stock")?,
        image: c.opt_parsed("image", ImageRef::parse)?,
        active: c.flag("active")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

pub(crate) async fn insert(conn: &mut SqliteConnection, product: &Product) -> Result<(), Failure> {
    if find(conn, product.id).await?.is_some() {
        return Err(Error::conflict(
            ConflictReason::AlreadyExists,
            format!("product {} already exists", product.id),
        )
        .into());
    }
    let insert = sqlx::query(concat!(
        "INSERT INTO products (",
        product_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(product.id.to_string());
    bind_fields(insert, product)
        .bind(micros(product.created_at))
        .bind(micros(product.updated_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Binds the fields an update may change, `name` to `active` in column order.
fn bind_fields<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    product: &'q Product,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    query
        .bind(&product.name)
        .bind(&product.description)
        .bind(product.price.currency().code())
        .bind(product.price.to_minor())
        .bind(product.stock.map(i64::from))
        .bind(product.image.as_ref().map(ImageRef::as_str))
        .bind(product.active)
}

pub(crate) async fn update(conn: &mut SqliteConnection, product: &Product) -> Result<(), Failure> {
    let updated = bind_fields(
        sqlx::query(
            "UPDATE products SET name = ?, description = ?, currency = ?, price_minor = ?, \
             stock = ?, image = ?, active = ?, updated_at = ? WHERE id = ?",
        ),
        product,
    )
    .bind(micros(product.updated_at))
    .bind(product.id.to_string())
    .execute(conn)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::not_found(Entity::Product, product.id).into());
    }
    Ok(())
}

pub(crate) async fn find(
    conn: &mut SqliteConnection,
    id: ProductId,
) -> Result<Option<Product>, Failure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        product_columns!(),
        " FROM products WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(product_from_row).transpose()
}

pub(crate) async fn find_many(
    conn: &mut SqliteConnection,
    ids: &[ProductId],
) -> Result<Vec<Product>, Failure> {
    let mut products = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE id IN ("
        ));
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        query.push(")");
        for row in query.build().fetch_all(&mut *conn).await? {
            products.push(product_from_row(&row)?);
        }
    }
    Ok(products)
}

pub(crate) async fn list(
    conn: &mut SqliteConnection,
    active_only: bool,
    after: Option<ProductKey>,
    limit: usize,
) -> Result<Vec<Product>, Failure> {
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        product_columns!(),
        " FROM products WHERE 1 = 1"
    ));
    if active_only {
        query.push(" AND active = 1");
    }
    if let Some(after) = after {
        query
            .push(" AND (created_at, id) > (")
            .push_bind(micros(after.created_at))
            .push(", ")
            .push_bind(after.id.to_string())
            .push(")");
    }
    query
        .push(" ORDER BY created_at, id LIMIT ")
        .push_bind(count(limit));
    let rows = query.build().fetch_all(conn).await?;
    rows.iter().map(product_from_row).collect()
}

pub(crate) async fn remove(
    conn: &mut SqliteConnection,
    id: ProductId,
    at: OffsetDateTime,
) -> Result<ProductRemoval, Failure> {
    let id_text = id.to_string();
    let ordered: Option<(bool,)> = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM order_lines WHERE product_id = ?1) \
         FROM products WHERE id = ?1",
    )
    .bind(&id_text)
    .fetch_optional(&mut *conn)
    .await?;
    match ordered {
        None => Err(Error::not_found(Entity::Product, id).into()),
        Some((true,)) => {
            sqlx::query("UPDATE products SET active = 0, updated_at = ? WHERE id = ?")
                .bind(micros(at))
                .bind(&id_text)
                .execute(conn)
                .await?;
            Ok(ProductRemoval::Archived)
        }
        Some((false,)) => {
            sqlx::query("DELETE FROM products WHERE id = ?")
                .bind(&id_text)
                .execute(conn)
                .await?;
            Ok(ProductRemoval::Deleted)
        }
    }
}
