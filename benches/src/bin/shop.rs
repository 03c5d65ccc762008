//! `pochi-bench-shop`: the reference server (`pochi-server`) over one store, seeded through its
//! own HTTP API, for `benches/run.sh` to load with `wrk`.
//!
//! `pochi-bench-shop --server PATH --store sqlite|postgres|mysql --data FILE [--orders N]
//! [--catalogue N]`
//!
//! 1. Prepares the store: the default SQLite file in a temporary data directory, or a database
//!    of its own on the PostgreSQL or MySQL server (`pochi_benches::databases`: created now,
//!    dropped at the end). A server that cannot be reached prints `skipped STORE` and exits
//!    successfully, or fails when `CI` is set.
//! 2. Starts the binary at `PATH` configured only by `POCHI_*` variables (every other
//!    `POCHI_*` variable of this process is removed from its environment): loopback on a free
//!    port, rate limits off (`wrk` is one client address), no demo products, logs at `warn`,
//!    simulated M-Pesa, and one admin whose argon2 hash is in `POCHI_ADMIN_USERS` (the
//!    password is random and never shown). Waits until `GET /api/health` answers 200, then a
//!    second more, and prints `started ADDRESS SERVER_PID`: the server is idle, for the memory
//!    figures. Waits for SIGUSR1.
//! 3. Seeds it like a shop owner and customers would: a catalogue of N active products
//!    (`--catalogue`, default 1,000) through `POST /api/admin/products`, each with `MAX_STOCK`
//!    units so no run sells out (the first 50 one by one, so they are the catalogue's first
//!    page, the rest four at a time), then N orders (default 300) of one to three random lines
//!    of the first 50 through `POST /api/orders`. Writes to FILE, which `load/wrk.lua` and
//!    `pochi-bench-track` read, `product ID` lines (the first page's 50), `catalogue ID` lines
//!    (every product), `order NUMBER` lines, and where the server's database is (`sqlite PATH`,
//!    or `database NAME` on the `POCHI_TEST_*_URL` server), and prints
//!    `ready ADDRESS SERVER_PID`. On PostgreSQL it runs `ANALYZE` then, and every 10 s after,
//!    standing in for autovacuum (off on CI's server).
//! 4. Waits for SIGTERM or SIGINT (at any step), then stops the server (SIGTERM, SIGKILL after
//!    10 s) and drops the database.
//!
//! The server's own output goes to this tool's standard error, less its start banner.

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader, Write as _},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    sync::mpsc,
    time::Duration,
};

use pochi_benches::{BenchError, databases::BenchDatabase, stores::Backend};
use pochi_core::{PasswordHash, product::MAX_STOCK};
use rand::{Rng, SeedableRng, distributions::Alphanumeric, rngs::StdRng};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::signal::unix::{SignalKind, signal};

/// Products on the catalogue's first page (`GET /api/products?limit=50`), which the seeded
/// orders, the one-hot-product orders and the mixed scenario order from.
const PRODUCTS: usize = 50;
/// Products in the whole catalogue by default (the random-products orders pick from them).
const CATALOGUE: usize = 1_000;
/// The SQLite file `pochi-server` keeps in its data directory (its `DEFAULT_SQLITE_FILE`).
const SQLITE_FILE: &str = "pochi.db";
/// The admin that seeds the catalogue.
const ADMIN: &str = "bench";
/// Orders placed at once while seeding.
const SEEDING_CALLERS: usize = 4;
/// How long the server may take to start listening and to stop.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Options {
    server: PathBuf,
    store: Backend,
    data: PathBuf,
    orders: usize,
    catalogue: usize,
}

fn main() -> ExitCode {
    let outcome = options(std::env::args().skip(1)).and_then(|options| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(&options))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pochi-bench-shop: {err}");
            ExitCode::FAILURE
        }
    }
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, BenchError> {
    let usage = "usage: pochi-bench-shop --server PATH --store sqlite|postgres|mysql --data FILE \
                 [--orders N] [--catalogue N]";
    let (mut server, mut store, mut data, mut orders) = (None, None, None, 300);
    let mut catalogue = CATALOGUE;
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value; {usage}"))
        };
        match arg.as_str() {
            "--server" => server = Some(PathBuf::from(value()?)),
            "--store" => store = Some(value()?.parse::<Backend>()?),
            "--data" => data = Some(PathBuf::from(value()?)),
            "--orders" => orders = value()?.parse::<usize>()?.max(1),
            "--catalogue" => catalogue = value()?.parse::<usize>()?.max(PRODUCTS),
            _ => return Err(usage.into()),
        }
    }
    match (server, store, data) {
        (Some(server), Some(store), Some(data)) => Ok(Options {
            server,
            store,
            data,
            orders,
            catalogue,
        }),
        _ => Err(usage.into()),
    }
}

async fn run(options: &Options) -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let database = match options.store {
        Backend::Sqlite => None,
        Backend::Postgres => match BenchDatabase::postgres().await? {
            Some(database) => Some(database),
            None => return skipped(options.store),
        },
        Backend::MySql => match BenchDatabase::mysql().await? {
            Some(database) => Some(database),
            None => return skipped(options.store),
        },
    };
    let url = database.as_ref().map(|d| (d.url.as_str(), d.name()));
    let served = serve(options, dir.path(), url).await;
    let dropped = match database {
        Some(database) => database.drop_database().await,
        None => Ok(()),
    };
    served.and(dropped)
}

fn skipped(store: Backend) -> Result<(), BenchError> {
    println!("skipped {store}");
    Ok(())
}

/// Starts, seeds and serves until a signal; the server is stopped however this ends.
async fn serve(
    options: &Options,
    dir: &Path,
    database: Option<(&str, &str)>,
) -> Result<(), BenchError> {
    let (url, database) = (database.map(|d| d.0), database.map(|d| d.1));
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let hash = PasswordHash::create(&password)?;
    let mut command = Command::new(&options.server);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POCHI_") {
            command.env_remove(name);
        }
    }
    command
        .env("POCHI_DATA_DIR", dir)
        .env("POCHI_LISTEN", "127.0.0.1:0")
        .env("POCHI_RATE_LIMIT", "off")
        .env("POCHI_CHECKOUT_RATE_LIMIT", "off")
        .env("POCHI_PHONE_ORDER_RATE_LIMIT", "off")
        // The load generators order from one address with one phone, as fast as they can.
        .env("POCHI_OPEN_ORDERS_PER_PHONE", "off")
        .env("POCHI_OPEN_ORDERS_PER_ADDRESS", "off")
        .env("POCHI_PAYMENT_REQUESTS_PER_PHONE", "off")
        .env("POCHI_DEMO_PRODUCTS", "false")
        .env("POCHI_LOG", "warn")
        .env("POCHI_MPESA_MODE", "simulated")
        .env("POCHI_ADMIN_USERS", format!("{ADMIN}:{}", hash.as_str()));
    if let Some(url) = url {
        command.env("POCHI_DATABASE_URL", url);
    }
    let server = Server::start(command, &options.server)?;
    let base = format!("http://{}", server.addr);
    let client = Client::builder().timeout(Duration::from_secs(30)).build()?;
    healthy(&client, &base).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Handlers first: run.sh may signal as soon as it reads the line.
    let mut go_on = signal(SignalKind::user_defined1())?;
    let mut term = signal(SignalKind::terminate())?;
    say(&format!("started {} {}", server.addr, server.pid()))?;
    tokio::select! {
        _ = go_on.recv() => {}
        _ = term.recv() => return server.stop(),
        interrupted = tokio::signal::ctrl_c() => {
            interrupted?;
            return server.stop();
        }
    }
    let catalogue = seed_products(&client, &base, &password, options.catalogue).await?;
    let products = &catalogue[..PRODUCTS.min(catalogue.len())];
    let orders = seed_orders(&client, &base, products, options.orders).await?;
    // Where autovacuum is off (CI's PostgreSQL here), its analyses are done here.
    let analyzer = match (options.store, url) {
        (Backend::Postgres, Some(url)) => Some(Analyzer::connect(url).await?),
        _ => None,
    };
    if let Some(analyzer) = &analyzer {
        analyzer.analyze().await?;
    }
    let mut data = String::new();
    for id in products {
        let _ = writeln!(data, "product {id}");
    }
    for id in &catalogue {
        let _ = writeln!(data, "catalogue {id}");
    }
    for number in &orders {
        let _ = writeln!(data, "order {number}");
    }
    match database {
        Some(name) => writeln!(data, "database {name}"),
        None => writeln!(data, "sqlite {}", dir.join(SQLITE_FILE).display()),
    }?;
    std::fs::write(&options.data, data)?;
    say(&format!("ready {} {}", server.addr, server.pid()))?;

    let mut every = tokio::time::interval(ANALYZE_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            interrupted = tokio::signal::ctrl_c() => {
                interrupted?;
                break;
            }
            _ = every.tick(), if analyzer.is_some() => {
                if let Some(analyzer) = &analyzer {
                    analyzer.analyze().await?;
                }
            }
        }
    }
    if let Some(analyzer) = analyzer {
        analyzer.close().await;
    }
    server.stop()
}

/// Stands in for autovacuum's analyses on PostgreSQL: `ANALYZE` of the bench database after the
/// seeding and then every [`ANALYZE_EVERY`] while the server is loaded. Where autovacuum is off
/// (CI's server here) the tables never get fresh statistics, and the server's cached prepared
/// statements keep plans made for tiny tables: tracking an order scanned every order line once
/// the orders scenario had added a few thousand (ten times slower). Autovacuum would analyze
/// the growing tables at every 10% of change, checking each database every minute.
struct Analyzer(pochi_store_postgres::sqlx::PgPool);

/// How often [`Analyzer`] analyzes while the server is loaded.
const ANALYZE_EVERY: Duration = Duration::from_secs(10);

impl Analyzer {
    async fn connect(url: &str) -> Result<Analyzer, BenchError> {
        let pool = pochi_store_postgres::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        Ok(Analyzer(pool))
    }

    async fn analyze(&self) -> Result<(), BenchError> {
        // Database-wide: the server's tables; the shared catalogs it may not analyze are skipped.
        pochi_store_postgres::sqlx::query("ANALYZE")
            .execute(&self.0)
            .await?;
        Ok(())
    }

    async fn close(self) {
        self.0.close().await;
    }
}

/// One line on standard output, at once (`run.sh` waits for it).
fn say(line: &str) -> Result<(), BenchError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Waits until `GET /api/health` answers 200 (the store is reachable).
async fn healthy(client: &Client, base: &str) -> Result<(), BenchError> {
    let mut last = String::new();
    for _ in 0..100 {
        match client.get(format!("{base}/api/health")).send().await {
            Ok(response) if response.status() == StatusCode::OK => return Ok(()),
            Ok(response) => last = format!("status {}", response.status()),
            Err(err) => last = err.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("the server's health check did not answer 200: {last}").into())
}

/// The catalogue of `count` products, through the admin API; the new products' ids, in the
/// catalogue's order. The first page's products are added one by one (the catalogue lists by
/// time added), the rest a few at a time.
async fn seed_products(
    client: &Client,
    base: &str,
    password: &str,
    count: usize,
) -> Result<Vec<String>, BenchError> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..PRODUCTS.min(count) {
        ids.push(add_product(client, base, password, i).await?);
    }
    let rest: Vec<usize> = (PRODUCTS..count).collect();
    let mut callers = tokio::task::JoinSet::new();
    for (caller, share) in rest
        .chunks(rest.len().div_ceil(SEEDING_CALLERS).max(1))
        .enumerate()
    {
        let (client, base, password, share) = (
            client.clone(),
            base.to_owned(),
            password.to_owned(),
            share.to_vec(),
        );
        callers.spawn(async move {
            let mut ids = Vec::with_capacity(share.len());
            for i in share {
                ids.push(add_product(&client, &base, &password, i).await?);
            }
            Ok::<_, BenchError>((caller, ids))
        });
    }
    let mut shares = Vec::new();
    while let Some(joined) = callers.join_next().await {
        shares.push(joined??);
    }
    shares.sort_by_key(|(caller, _)| *caller);
    ids.extend(shares.into_iter().flat_map(|(_, ids)| ids));
    Ok(ids)
}

/// Adds the catalogue's product number `i`; its id.
async fn add_product(
    client: &Client,
    base: &str,
    password: &str,
    i: usize,
) -> Result<String, BenchError> {
    let response = client
        .post(format!("{base}/api/admin/products"))
        .basic_auth(ADMIN, Some(password))
        .json(&json!({
            "name": format!("Kikoi {i}"),
            "description": "Hand-woven cotton from the coast, 100 × 170 cm",
            "price": format!("{}", 500 + (i % 50) * 50),
            "stock": MAX_STOCK,
            "active": true,
        }))
        .send()
        .await?;
    let product = created(response, "POST /api/admin/products").await?;
    text_field(&product, "id")
}

/// `count` orders of one to three random lines, a few at a time; their numbers.
async fn seed_orders(
    client: &Client,
    base: &str,
    products: &[String],
    count: usize,
) -> Result<Vec<String>, BenchError> {
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..SEEDING_CALLERS {
        let share = count / SEEDING_CALLERS + usize::from(caller < count % SEEDING_CALLERS);
        let (client, url, products) = (
            client.clone(),
            format!("{base}/api/orders"),
            products.to_vec(),
        );
        callers.spawn(async move {
            let mut rng = StdRng::from_entropy();
            let mut numbers = Vec::with_capacity(share);
            for _ in 0..share {
                // One to three distinct products, next to each other in the catalogue.
                let first = rng.gen_range(0..products.len());
                let lines: Vec<Value> = (0..rng.gen_range(1..=3usize))
                    .map(|line| {
                        let product = &products[(first + line) % products.len()];
                        json!({ "productId": product, "quantity": rng.gen_range(1..=3) })
                    })
                    .collect();
                let response = client
                    .post(&url)
                    .json(&json!({
                        "name": "Achieng Otieno",
                        "phone": "0722 000 111",
                        "county": "Kisumu",
                        "area": "Milimani",
                        "address": "Otieno Oyoo Street, house 12",
                        "items": lines,
                    }))
                    .send()
                    .await?;
                let order = created(response, "POST /api/orders").await?;
                numbers.push(text_field(&order, "number")?);
            }
            Ok::<_, BenchError>(numbers)
        });
    }
    let mut numbers = Vec::with_capacity(count);
    while let Some(joined) = callers.join_next().await {
        numbers.extend(joined??);
    }
    Ok(numbers)
}

/// The body of a 201 response; anything else is an error with the status and body.
async fn created(response: reqwest::Response, what: &str) -> Result<Value, BenchError> {
    let status = response.status();
    let body = response.text().await?;
    if status != StatusCode::CREATED {
        return Err(format!("{what} answered {status}: {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

fn text_field(value: &Value, field: &str) -> Result<String, BenchError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("the response has no {field:?}: {value}").into())
}

/// The running `pochi-server`; killed when dropped without [`Server::stop`].
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
}

impl Server {
    /// Spawns it and waits for its `listening on ADDRESS` line.
    fn start(mut command: Command, binary: &Path) -> Result<Server, BenchError> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the server's output is not piped")?;
        let (found, listening) = mpsc::channel();
        // Reads the banner for the address, then passes the server's logs on to stderr.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = listening_address(&line) {
                    let _ = found.send(addr);
                } else if !line.is_empty() && !line.starts_with(' ') {
                    eprintln!("pochi-server: {line}");
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        match listening.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                server.addr = addr;
                Ok(server)
            }
            Err(_) => {
                let status = server.child.as_mut().map(Child::try_wait);
                Err(format!(
                    "{} did not start listening (exit status: {status:?})",
                    binary.display()
                )
                .into())
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGTERM (a graceful shutdown), then SIGKILL if it is still running after a while.
    fn stop(mut self) -> Result<(), BenchError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("pochi-server stopped with {status}").into())
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill()?;
        child.wait()?;
        Err("pochi-server did not stop within 10 s of SIGTERM; killed".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The address in the banner's `(listening on 127.0.0.1:PORT)`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("listening on ")?;
    rest.trim_end().trim_end_matches(')').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_the_banner_line() {
        assert_eq!(
            listening_address("  Pochi shop is running (listening on 127.0.0.1:41234)"),
            Some(SocketAddr::from(([127, 0, 0, 1], 41234)))
        );
        assert_eq!(
            listening_address("    shop:   http://127.0.0.1:41234/"),
            None
        );
    }

    #[test]
    fn options_need_the_server_the_store_and_the_data_file() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = options(
            args(&[
                "--server", "bin", "--store", "postgres", "--data", "d", "--orders", "7",
            ])
            .into_iter(),
        )
        .unwrap();
        assert_eq!(options.store, Backend::Postgres);
        assert_eq!(options.orders, 7);
        assert_eq!(options.catalogue, CATALOGUE);
        assert!(super::options(args(&["--store", "sqlite"]).into_iter()).is_err());
        assert!(super::options(args(&["--store", "oracle"]).into_iter()).is_err());
    }
}
