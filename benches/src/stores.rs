//! The contestants of the stores bench: for each backend, `place_order` through the adapter and
//! the raw transaction of [`crate::raw`], on one freshly migrated database.
//!
//! The orders are the same for both sides, made by one [`Basket`]: by default two lines, one
//! product whose stock is tracked (two units, from a stock of `MAX_STOCK` that no run can
//! exhaust) and one whose stock is not, placed by the same customer; with
//! [`Orders::RandomProducts`], two distinct products picked at random out of
//! [`RANDOM_CATALOGUE`] tracked ones. Each side gets the pool a user would have: the adapter is
//! opened with its own constructor (`open`/`connect`, default pool), and the raw side gets the
//! pool of a second store opened by the same constructor ([`pochi_store_sql::SqlStore::pool`]),
//! so its size, connection options, SQLite pragmas and ping-after-idle are the store's by
//! construction.

use std::{fmt, str::FromStr, sync::Arc};

use async_trait::async_trait;
use pochi_core::{Placement, Store, product::MAX_STOCK};
use pochi_store_mysql::MySqlStore;
use pochi_store_postgres::PostgresStore;
use pochi_store_sqlite::SqliteStore;
use pochi_testkit::fixtures::{T0, checkout, new_order, order_number, product};
use tempfile::TempDir;

use crate::{
    BenchError,
    databases::BenchDatabase,
    raw::{Basket, RawMySql, RawPostgres, RawSqlite, Reservation},
    throughput::Placer,
};

/// Products of the catalogue [`Orders::RandomProducts`] picks from.
pub const RANDOM_CATALOGUE: usize = 1_000;

/// Which orders a contest places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orders {
    /// Every order for the same tracked product (and an untracked one): the flash sale, one
    /// row lock per commit.
    HotProduct,
    /// Each order for two distinct products picked at random out of [`RANDOM_CATALOGUE`].
    RandomProducts,
}

impl FromStr for Orders {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "hot" => Ok(Orders::HotProduct),
            "random" => Ok(Orders::RandomProducts),
            _ => Err(format!("unknown orders {text:?} (hot, random)").into()),
        }
    }
}

/// A store the bench knows how to set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `pochi-store-sqlite` on a file in a temporary directory.
    Sqlite,
    /// `pochi-store-postgres` on `POCHI_TEST_POSTGRES_URL`'s server.
    Postgres,
    /// `pochi-store-mysql` on `POCHI_TEST_MYSQL_URL`'s server (MariaDB here).
    MySql,
}

impl Backend {
    /// Every backend, in the order the bench runs them.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// The name used on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == text || (text == "mariadb" && *b == Backend::MySql))
            .ok_or_else(|| format!("unknown store {text:?} (sqlite, postgres, mysql)").into())
    }
}

/// The adapter and the raw transaction on one backend's bench database.
pub struct Contest {
    /// Which backend.
    pub backend: Backend,
    /// `Store::place_order` through the adapter.
    pub adapter: Arc<dyn Placer>,
    /// The raw sqlx transaction on the same database.
    pub raw: Arc<dyn Placer>,
    place: Place,
}

impl fmt::Debug for Contest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contest")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Where the bench database lives, to remove it afterwards.
enum Place {
    File(TempDir),
    Server(BenchDatabase),
}

impl Contest {
    /// Creates and migrates the bench database of `backend` and stocks it for `orders`.
    /// `Ok(None)`: the backend's server cannot be reached and this is not CI (the reason is
    /// printed).
    pub async fn prepare(backend: Backend, orders: Orders) -> Result<Option<Contest>, BenchError> {
        match backend {
            Backend::Sqlite => Self::sqlite(orders).await.map(Some),
            Backend::Postgres => match BenchDatabase::postgres().await? {
                Some(database) => Self::postgres(database, orders).await.map(Some),
                None => Ok(None),
            },
            Backend::MySql => match BenchDatabase::mysql().await? {
                Some(database) => Self::mysql(database, orders).await.map(Some),
                None => Ok(None),
            },
        }
    }

    /// Closes both sides and removes the bench database.
    pub async fn finish(self) -> Result<(), BenchError> {
        let Contest {
            adapter,
            raw,
            place,
            ..
        } = self;
        // The pools close as their last owners go.
        drop((adapter, raw));
        match place {
            Place::File(dir) => dir.close()?,
            Place::Server(database) => database.drop_database().await?,
        }
        Ok(())
    }

    async fn sqlite(orders: Orders) -> Result<Contest, BenchError> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        let store = SqliteStore::open(&path).await?;
        store.migrate().await?;
        // A pool of its own, built by the store's constructor: the same options by construction.
        let pool = SqliteStore::open(&path).await?.pool().clone();
        let basket = stock(&store, orders).await?;
        Ok(Contest {
            backend: Backend::Sqlite,
            raw: Arc::new(RawSqlite::new(pool, basket.clone())),
            adapter: Arc::new(ThroughStore::new(store, basket)),
            place: Place::File(dir),
        })
    }

    async fn postgres(database: BenchDatabase, orders: Orders) -> Result<Contest, BenchError> {
        let store = PostgresStore::connect(&database.url).await?;
        store.migrate().await?;
        let pool = PostgresStore::connect(&database.url).await?.pool().clone();
        let basket = stock(&store, orders).await?;
        Ok(Contest {
            backend: Backend::Postgres,
            raw: Arc::new(RawPostgres::new(pool, basket.clone())),
            adapter: Arc::new(ThroughStore::new(store, basket)),
            place: Place::Server(database),
        })
    }

    async fn mysql(database: BenchDatabase, orders: Orders) -> Result<Contest, BenchError> {
        let store = MySqlStore::connect(&database.url).await?;
        store.migrate().await?;
        let pool = MySqlStore::connect(&database.url).await?.pool().clone();
        let basket = stock(&store, orders).await?;
        Ok(Contest {
            backend: Backend::MySql,
            raw: Arc::new(RawMySql::new(pool, basket.clone())),
            adapter: Arc::new(ThroughStore::new(store, basket)),
            place: Place::Server(database),
        })
    }
}

/// Adds the products of `orders` to `store` and returns what makes the orders.
async fn stock(store: &dyn Store, orders: Orders) -> Result<Basket, BenchError> {
    if orders == Orders::RandomProducts {
        let mut products = Vec::with_capacity(RANDOM_CATALOGUE);
        for i in 0..RANDOM_CATALOGUE {
            let product = product(&format!("Kikoi {i}"), "1500", Some(MAX_STOCK));
            store.insert_product(&product).await?;
            products.push(product);
        }
        return Ok(Basket::Random { products });
    }
    let tracked = product("Kikoi", "1500", Some(MAX_STOCK));
    let untracked = product("Delivery bag", "50", None);
    store.insert_product(&tracked).await?;
    store.insert_product(&untracked).await?;
    let template = new_order(
        order_number(),
        &checkout(&[(&tracked, 2), (&untracked, 1)]),
        &[tracked.clone(), untracked],
        T0,
    );
    let reservation = Reservation {
        product: tracked.id,
        quantity: 2,
    };
    Ok(Basket::Hot {
        template: Box::new(template),
        reservation,
    })
}

/// `Store::place_order` of the basket's orders, each with a fresh order number.
struct ThroughStore {
    store: Arc<dyn Store>,
    basket: Basket,
}

impl ThroughStore {
    fn new(store: impl Store, basket: Basket) -> Self {
        ThroughStore {
            store: Arc::new(store),
            basket,
        }
    }
}

#[async_trait]
impl Placer for ThroughStore {
    async fn place(&self) -> Result<(), BenchError> {
        let (new, _) = self.basket.next();
        match self.store.place_order(&new).await? {
            Placement::Placed(_) => Ok(()),
            Placement::Replayed(_) => Err("a new order was answered as a replay".into()),
        }
    }
}
