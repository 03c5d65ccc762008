//! The HTTP load's results: the rounds `benches/run.sh` records from `wrk` and the memory it
//! reads from `/proc`, merged into one Markdown table per store, with the goals' verdicts.
//!
//! `run.sh` writes one line per `wrk` round and one per store's memory reading, as
//! tab-separated `key=value` fields (see [`Round::parse`] and [`Memory::parse`]);
//! `pochi-bench-report` turns them into what `BENCHMARKS.md` shows. Per scenario, store and
//! connection count the rounds are merged: requests over the summed time, p50 the mean of the
//! rounds', p99 and max the worst, errors summed, peak RSS the highest.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::BenchError;

/// `GET /api/products` with a browser's `Accept-Encoding` should reach this share of the
/// requests per second of the plain-hyper ceiling sending the same bytes.
pub const PRODUCTS_SHARE_GOAL: f64 = 0.50;
/// `GET /api/track/:id` should reach this share of its raw SQL ceiling, on each store.
pub const TRACK_SHARE_GOAL: f64 = 0.50;
/// Orders of two random products on PostgreSQL at 32 connections, as a share of the raw
/// transaction for the same work.
pub const RANDOM_ORDERS_SHARE_GOAL: f64 = 0.60;
/// `GET /api/products` p99 at 256 connections should stay under this, in milliseconds.
pub const PRODUCTS_P99_GOAL_MS: f64 = 50.0;
/// The mixed scenario on PostgreSQL at 256 connections: p99 under this, in milliseconds.
pub const MIXED_P99_GOAL_MS: f64 = 100.0;
/// `POST /api/orders` on PostgreSQL at 32 connections, as a share of the raw transaction.
pub const ORDERS_SHARE_GOAL: f64 = 0.60;
/// The reference server's resident memory idle after start, in MB.
pub const IDLE_GOAL_MB: f64 = 50.0;
/// What 1,000 idle keep-alive connections may add to it, in MB.
pub const CONNECTIONS_GOAL_MB: f64 = 100.0;

/// What one `wrk` round loaded (or, for [`Scenario::TrackRaw`], `pochi-bench-track` read).
/// Every HTTP scenario sends a browser's `Accept-Encoding: gzip, deflate, br, zstd` but the
/// two `...Plain` ones, which send none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    /// The plain-hyper server answering a fixed 17-byte JSON body.
    Ceiling,
    /// The plain-hyper server answering with the catalogue response's own bytes, encoded as
    /// the shop encoded them for a browser.
    CeilingCatalogue,
    /// The same, asked with no `Accept-Encoding`: the plain catalogue bytes.
    CeilingCataloguePlain,
    /// `GET /api/products?limit=50` on the bare `pochi_http::router` (`pochi-bench-server shop`).
    ProductsRouter,
    /// `GET /api/products?limit=50`: the catalogue's first page.
    Products,
    /// The same with no `Accept-Encoding`.
    ProductsPlain,
    /// The tracking read's SQL issued directly with sqlx, at as many callers as connections.
    TrackRaw,
    /// `GET /api/track/:id` of a random seeded order.
    Track,
    /// `POST /api/orders`: a new two-line order each time, always for the same two products.
    Orders,
    /// `POST /api/orders`: a new order each time for two distinct products picked at random
    /// out of the 1,000 of the catalogue.
    OrdersRandom,
    /// 80% products, 15% track, 5% orders.
    Mixed,
}

impl Scenario {
    /// Every scenario, in the order of the tables.
    pub const ALL: [Scenario; 11] = [
        Scenario::Ceiling,
        Scenario::CeilingCatalogue,
        Scenario::CeilingCataloguePlain,
        Scenario::ProductsRouter,
        Scenario::Products,
        Scenario::ProductsPlain,
        Scenario::TrackRaw,
        Scenario::Track,
        Scenario::Orders,
        Scenario::OrdersRandom,
        Scenario::Mixed,
    ];

    /// The name `run.sh` records.
    pub fn id(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling",
            Scenario::CeilingCatalogue => "ceiling-catalogue",
            Scenario::CeilingCataloguePlain => "ceiling-catalogue-plain",
            Scenario::ProductsRouter => "products-router",
            Scenario::Products => "products",
            Scenario::ProductsPlain => "products-plain",
            Scenario::TrackRaw => "track-raw",
            Scenario::Track => "track",
            Scenario::Orders => "orders",
            Scenario::OrdersRandom => "orders-random",
            Scenario::Mixed => "mixed",
        }
    }

    /// The name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling (plain hyper, 17-byte JSON)",
            Scenario::CeilingCatalogue => "ceiling, the catalogue's bytes as the shop encodes them",
            Scenario::CeilingCataloguePlain => "ceiling, the catalogue's bytes, no Accept-Encoding",
            Scenario::ProductsRouter => "GET /api/products, bare router",
            Scenario::Products => "GET /api/products?limit=50",
            Scenario::ProductsPlain => "GET /api/products?limit=50, no Accept-Encoding",
            Scenario::TrackRaw => "ceiling of track: its SQL through sqlx (reads/s)",
            Scenario::Track => "GET /api/track/:id",
            Scenario::Orders => "POST /api/orders, one hot product",
            Scenario::OrdersRandom => "POST /api/orders, 2 random of 1,000 products",
            Scenario::Mixed => "mixed 80/15/5",
        }
    }

    /// The ceiling that does the same work without Pochi, measured beside this scenario: the
    /// plain-hyper server sending the same bytes, or the same SQL issued directly.
    pub fn own_ceiling(self) -> Option<Scenario> {
        match self {
            Scenario::Products | Scenario::ProductsRouter => Some(Scenario::CeilingCatalogue),
            Scenario::ProductsPlain => Some(Scenario::CeilingCataloguePlain),
            Scenario::Track => Some(Scenario::TrackRaw),
            _ => None,
        }
    }

    fn from_id(id: &str) -> Result<Scenario, BenchError> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.id() == id)
            .ok_or_else(|| format!("unknown scenario {id:?}").into())
    }
}

/// One `wrk` round: what `load/wrk.lua` printed, and what `run.sh` read beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// The store behind the server (`sqlite`, `postgres`, `mysql`).
    pub store: String,
    /// What was loaded.
    pub scenario: Scenario,
    /// `wrk` connections.
    pub connections: u32,
    /// Responses received.
    pub requests: u64,
    /// How long the round took, in microseconds.
    pub duration_us: u64,
    /// Bytes received (headers and bodies).
    pub bytes: u64,
    /// Median latency, in microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, in microseconds.
    pub p99_us: u64,
    /// Slowest response, in microseconds.
    pub max_us: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    /// Responses with a status of 400 or more (`wrk`'s count).
    pub bad_status: u64,
    /// The loaded server's peak resident memory so far (`VmHWM`), in kB.
    pub peak_rss_kb: u64,
    /// The load average after the round, `1min,5min,15min`.
    pub load: String,
}

impl Round {
    /// Reads one line: tab-separated `key=value` fields `store scenario connections requests
    /// duration_us bytes p50_us p99_us max_us socket_errors non_2xx rss_kb load`, in any order.
    pub fn parse(line: &str) -> Result<Round, BenchError> {
        let fields = Fields::parse(line)?;
        Ok(Round {
            store: fields.text("store")?.to_owned(),
            scenario: Scenario::from_id(fields.text("scenario")?)?,
            connections: fields.number("connections")?,
            requests: fields.number("requests")?,
            duration_us: fields.number("duration_us")?,
            bytes: fields.number("bytes")?,
            p50_us: fields.number("p50_us")?,
            p99_us: fields.number("p99_us")?,
            max_us: fields.number("max_us")?,
            socket_errors: fields.number("socket_errors")?,
            bad_status: fields.number("non_2xx")?,
            peak_rss_kb: fields.number("rss_kb")?,
            load: fields.text("load")?.to_owned(),
        })
    }
}

/// The rounds of one scenario at one connection count on one store's server, merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The store.
    pub store: String,
    /// The scenario.
    pub scenario: Scenario,
    /// `wrk` connections.
    pub connections: u32,
    /// How many rounds were merged.
    pub rounds: u32,
    /// Responses over all rounds.
    pub requests: u64,
    /// Time over all rounds, in microseconds.
    pub duration_us: u64,
    /// Bytes over all rounds.
    pub bytes: u64,
    /// The sum of the rounds' medians (divided by `rounds` for the mean).
    p50_sum_us: u64,
    /// The worst round's p99, in microseconds.
    pub p99_us: u64,
    /// The slowest response of any round, in microseconds.
    pub max_us: u64,
    /// Socket errors and statuses of 400 or more, over all rounds.
    pub errors: u64,
    /// The server's highest peak resident memory, in kB.
    pub peak_rss_kb: u64,
    /// The load average after each round.
    pub loads: Vec<String>,
}

impl Row {
    fn new(round: &Round) -> Row {
        Row {
            store: round.store.clone(),
            scenario: round.scenario,
            connections: round.connections,
            rounds: 0,
            requests: 0,
            duration_us: 0,
            bytes: 0,
            p50_sum_us: 0,
            p99_us: 0,
            max_us: 0,
            errors: 0,
            peak_rss_kb: 0,
            loads: Vec::new(),
        }
    }

    fn add(&mut self, round: &Round) {
        self.rounds += 1;
        self.requests += round.requests;
        self.duration_us += round.duration_us;
        self.bytes += round.bytes;
        self.p50_sum_us += round.p50_us;
        self.p99_us = self.p99_us.max(round.p99_us);
        self.max_us = self.max_us.max(round.max_us);
        self.errors += round.socket_errors + round.bad_status;
        self.peak_rss_kb = self.peak_rss_kb.max(round.peak_rss_kb);
        self.loads.push(round.load.clone());
    }

    /// Responses per second over all rounds.
    pub fn per_second(&self) -> f64 {
        if self.duration_us == 0 {
            0.0
        } else {
            as_f64(self.requests) * 1e6 / as_f64(self.duration_us)
        }
    }

    /// The mean of the rounds' medians, in milliseconds.
    pub fn p50_ms(&self) -> f64 {
        as_f64(self.p50_sum_us) / as_f64(u64::from(self.rounds.max(1))) / 1000.0
    }

    /// The worst p99, in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        as_f64(self.p99_us) / 1000.0
    }

    /// The slowest response, in milliseconds.
    pub fn max_ms(&self) -> f64 {
        as_f64(self.max_us) / 1000.0
    }

    /// Mean bytes per response (headers included).
    pub fn bytes_per_response(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            as_f64(self.bytes) / as_f64(self.requests)
        }
    }
}

/// Merges rounds into rows: per store in the order they were first seen, then by connection
/// count and scenario.
pub fn rows(rounds: &[Round]) -> Vec<Row> {
    let mut stores: Vec<&str> = Vec::new();
    let mut merged: BTreeMap<(usize, u32, Scenario), Row> = BTreeMap::new();
    for round in rounds {
        let store = match stores.iter().position(|s| *s == round.store) {
            Some(index) => index,
            None => {
                stores.push(&round.store);
                stores.len() - 1
            }
        };
        merged
            .entry((store, round.connections, round.scenario))
            .or_insert_with(|| Row::new(round))
            .add(round);
    }
    merged.into_values().collect()
}

/// The reference server's memory on one store (`VmRSS`): idle after start, with idle keep-alive
/// connections, and after seeding.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    /// The store.
    pub store: String,
    /// A second after the server first answered its health check, before anything else.
    pub idle_kb: u64,
    /// With the idle connections open, each having been answered once.
    pub open_kb: u64,
    /// After the connections were closed and the shop seeded (50 admin requests, the orders).
    pub seeded_kb: u64,
    /// How many connections were opened.
    pub connections: u64,
    /// How many of them the server had closed when they were let go.
    pub closed: u64,
}

impl Memory {
    /// Reads one line: tab-separated `key=value` fields `store idle_kb open_kb seeded_kb
    /// connections closed`.
    pub fn parse(line: &str) -> Result<Memory, BenchError> {
        let fields = Fields::parse(line)?;
        Ok(Memory {
            store: fields.text("store")?.to_owned(),
            idle_kb: fields.number("idle_kb")?,
            open_kb: fields.number("open_kb")?,
            seeded_kb: fields.number("seeded_kb")?,
            connections: fields.number("connections")?,
            closed: fields.number("closed")?,
        })
    }

    /// What 1,000 connections add to the idle server, in kB (0 when memory went down).
    pub fn per_thousand_kb(&self) -> f64 {
        if self.connections == 0 {
            return 0.0;
        }
        as_f64(self.open_kb.saturating_sub(self.idle_kb)) * 1000.0 / as_f64(self.connections)
    }
}

/// The Markdown table of one store's server: every scenario and connection count measured, the
/// ceiling rows of its block included. Shares are taken at the same connection count: "of
/// ceiling" of the 17-byte plain-hyper ceiling, "of own ceiling" of the ceiling doing the same
/// work ([`Scenario::own_ceiling`]).
pub fn store_table(rows: &[Row], store: &str) -> String {
    let mut table = String::from(
        "| scenario | connections | req/s | of ceiling | of own ceiling | p50 ms | p99 ms | max ms \
         | errors | bytes/resp | server peak RSS | load avg per round (1,5,15 min) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let dash = || String::from("—");
    for row in rows.iter().filter(|r| r.store == store) {
        let share = match (row.scenario, ceiling_rate(rows, store, row.connections)) {
            (Scenario::Ceiling, _) => String::from("100%"),
            (Scenario::TrackRaw, _) | (_, None) => dash(),
            (_, Some(ceiling)) => percent(row.per_second() / ceiling),
        };
        let own = row
            .scenario
            .own_ceiling()
            .and_then(|ceiling| rate(rows, store, ceiling, row.connections))
            .map_or_else(dash, |ceiling| percent(row.per_second() / ceiling));
        // The raw SQL ceiling sends no bytes and runs outside the server.
        let (bytes, rss) = if row.scenario == Scenario::TrackRaw {
            (dash(), dash())
        } else {
            (
                format!("{:.0}", row.bytes_per_response()),
                megabytes(row.peak_rss_kb),
            )
        };
        let _ = writeln!(
            table,
            "| {} | {} | {:.0} | {share} | {own} | {:.2} | {:.2} | {:.2} | {} | {bytes} | {rss} | \
             {} |",
            row.scenario.label(),
            row.connections,
            row.per_second(),
            row.p50_ms(),
            row.p99_ms(),
            row.max_ms(),
            row.errors,
            row.loads.join("; "),
        );
    }
    table
}

/// The memory table: one line per store.
pub fn memory_table(memory: &[Memory]) -> String {
    let mut table = String::from(
        "| store | idle after start | with the idle connections | added per 1,000 connections \
         | closed by the server | after seeding |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for m in memory {
        let _ = writeln!(
            table,
            "| {} | {} | {} ({}) | {:.1} MB | {} | {} |",
            m.store,
            megabytes(m.idle_kb),
            megabytes(m.open_kb),
            m.connections,
            m.per_thousand_kb() / 1024.0,
            m.closed,
            megabytes(m.seeded_kb),
        );
    }
    table
}

/// The ceiling's requests per second in the same store block and connection count.
fn ceiling_rate(rows: &[Row], store: &str, connections: u32) -> Option<f64> {
    rate(rows, store, Scenario::Ceiling, connections)
}

/// A scenario's rate in a store block at a connection count, if measured and not zero.
fn rate(rows: &[Row], store: &str, scenario: Scenario, connections: u32) -> Option<f64> {
    find(rows, store, scenario, connections)
        .map(Row::per_second)
        .filter(|rate| *rate > 0.0)
}

fn find<'a>(rows: &'a [Row], store: &str, scenario: Scenario, connections: u32) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.store == store && r.scenario == scenario && r.connections == connections)
}

/// One goal's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The sentence: the figure, the goal, met or missed.
    pub text: String,
    /// Whether the goal was met (false when it could not be measured).
    pub met: bool,
}

/// The raw transactions on PostgreSQL at 32 callers that the orders scenarios at 32
/// connections are judged against: the stores bench's orders per second, measured right
/// before each round (their mean).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RawOrders {
    /// The one-hot-product transaction (`--orders hot`).
    pub hot: Option<f64>,
    /// The two-random-products transaction (`--orders random`).
    pub random: Option<f64>,
}

/// The goals of issues 7 and 18 that these figures judge, one sentence each.
pub fn goals(rows: &[Row], memory: &[Memory], raw: RawOrders) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut stores: Vec<&str> = Vec::new();
    for row in rows {
        if !stores.contains(&row.store.as_str()) {
            stores.push(&row.store);
        }
    }

    verdicts.push(orders_goal(
        find(rows, "postgres", Scenario::Orders, 32),
        raw.hot,
        "POST /api/orders",
        ORDERS_SHARE_GOAL,
    ));
    verdicts.push(orders_goal(
        find(rows, "postgres", Scenario::OrdersRandom, 32),
        raw.random,
        "Orders with random products",
        RANDOM_ORDERS_SHARE_GOAL,
    ));

    for store in &stores {
        if let Some(verdict) = share_goal(
            rows,
            store,
            Scenario::Products,
            &format!("GET /api/products with browser Accept-Encoding on {store}"),
            "the plain-hyper ceiling sending the same bytes",
            PRODUCTS_SHARE_GOAL,
        ) {
            verdicts.push(Verdict {
                text: format!("{}{}", verdict.text, bytes_beside_ceiling(rows, store)),
                ..verdict
            });
        }
        if let Some(products) = find(rows, store, Scenario::Products, 256) {
            verdicts.push(verdict(
                format!(
                    "GET /api/products on {store}: p99 {:.2} ms at 256 connections (goal < {PRODUCTS_P99_GOAL_MS:.0} ms)",
                    products.p99_ms()
                ),
                products.p99_ms() < PRODUCTS_P99_GOAL_MS,
            ));
        }
        if let Some(verdict) = share_goal(
            rows,
            store,
            Scenario::Track,
            &format!("GET /api/track/:id on {store}"),
            "its raw SQL ceiling at as many callers",
            TRACK_SHARE_GOAL,
        ) {
            verdicts.push(verdict);
        }
    }

    verdicts.push(match find(rows, "postgres", Scenario::Mixed, 256) {
        Some(mixed) => verdict(
            format!(
                "Mixed scenario on PostgreSQL at 256 connections: p99 {:.2} ms (goal < \
                 {MIXED_P99_GOAL_MS:.0} ms), {} errors (goal 0)",
                mixed.p99_ms(),
                mixed.errors
            ),
            mixed.p99_ms() < MIXED_P99_GOAL_MS && mixed.errors == 0,
        ),
        None => not_measured("Mixed scenario on PostgreSQL at 256 connections"),
    });

    for m in memory {
        let idle = as_f64(m.idle_kb) / 1024.0;
        verdicts.push(verdict(
            format!(
                "Idle reference server on {}: {idle:.1} MB resident (goal < {IDLE_GOAL_MB:.0} MB)",
                m.store
            ),
            idle < IDLE_GOAL_MB,
        ));
        let added = m.per_thousand_kb() / 1024.0;
        verdicts.push(verdict(
            format!(
                "1,000 idle keep-alive connections on {}: +{added:.1} MB (goal < \
                 {CONNECTIONS_GOAL_MB:.0} MB){}",
                m.store,
                if m.closed > 0 {
                    format!("; the server had closed {} of {}", m.closed, m.connections)
                } else {
                    String::new()
                }
            ),
            added < CONNECTIONS_GOAL_MB && m.closed == 0,
        ));
    }
    verdicts
}

/// An orders scenario on PostgreSQL at 32 connections against its raw transaction.
fn orders_goal(orders: Option<&Row>, raw: Option<f64>, what: &str, goal: f64) -> Verdict {
    match (orders, raw) {
        (Some(orders), Some(raw)) if raw > 0.0 => {
            let share = orders.per_second() / raw;
            verdict(
                format!(
                    "{what} on PostgreSQL at 32 connections: {:.0} orders/s, {} of the raw \
                     transaction for the same orders at 32 callers ({raw:.0} orders/s, the stores \
                     bench's, measured right before each round) (goal ≥ {})",
                    orders.per_second(),
                    percent_down(share),
                    percent(goal),
                ),
                share >= goal && orders.errors == 0,
            )
        }
        _ => not_measured(&format!(
            "{what} on PostgreSQL at 32 connections against the raw transaction"
        )),
    }
}

/// `scenario` on `store` as a share of its own ceiling at each connection count; `None` when
/// neither was measured there.
fn share_goal(
    rows: &[Row],
    store: &str,
    scenario: Scenario,
    what: &str,
    ceiling: &str,
    goal: f64,
) -> Option<Verdict> {
    let own = scenario.own_ceiling()?;
    let measured: Vec<&Row> = rows
        .iter()
        .filter(|r| r.store == store && r.scenario == scenario)
        .collect();
    if measured.is_empty() {
        return None;
    }
    let shares: Vec<(u32, Option<f64>)> = measured
        .iter()
        .map(|r| {
            let share = rate(rows, store, own, r.connections).map(|c| r.per_second() / c);
            (r.connections, share)
        })
        .collect();
    let figures: Vec<String> = shares
        .iter()
        .map(|(connections, share)| match share {
            Some(share) => format!("{} at {connections} connections", percent_down(*share)),
            None => format!("not measured at {connections} connections"),
        })
        .collect();
    Some(verdict(
        format!(
            "{what}: {} of {ceiling} (goal ≥ {})",
            figures.join(", "),
            percent(goal)
        ),
        shares
            .iter()
            .all(|(_, share)| share.is_some_and(|share| share >= goal)),
    ))
}

/// `; bytes/response: shop N, ceiling M` for the products scenario on `store` (over all its
/// rounds). The bodies are the same bytes (run.sh captures this store's own answers for its
/// ceiling); wrk counts headers too, and the shop's carry its security headers and a request
/// id, which the plain-hyper ceiling does not send, so the shop's figure is a few hundred bytes
/// larger.
fn bytes_beside_ceiling(rows: &[Row], store: &str) -> String {
    let per_response = |scenario: Scenario| {
        let (bytes, requests) = rows
            .iter()
            .filter(|r| r.store == store && r.scenario == scenario)
            .fold((0, 0), |(b, n), r| (b + r.bytes, n + r.requests));
        (requests > 0).then(|| as_f64(bytes) / as_f64(requests))
    };
    match (
        per_response(Scenario::Products),
        per_response(Scenario::CeilingCatalogue),
    ) {
        (Some(shop), Some(ceiling)) => {
            format!("; bytes/response with headers: shop {shop:.0}, ceiling {ceiling:.0}")
        }
        _ => String::new(),
    }
}

/// Every verdict as a line of Markdown (`- text: met`).
pub fn goals_list(verdicts: &[Verdict]) -> String {
    verdicts
        .iter()
        .map(|v| format!("- {}: {}\n", v.text, if v.met { "met" } else { "missed" }))
        .collect()
}

fn verdict(text: String, met: bool) -> Verdict {
    Verdict { text, met }
}

fn not_measured(what: &str) -> Verdict {
    Verdict {
        text: format!("{what}: not measured (its server was not reachable)"),
        met: false,
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A share judged against a goal, rounded down so that a missed 59.7% never reads as 60%.
fn percent_down(share: f64) -> String {
    format!("{:.0}%", (share * 100.0).floor())
}

fn megabytes(kb: u64) -> String {
    format!("{:.0} MB", as_f64(kb) / 1024.0)
}

/// Counts and durations far below 2^53 convert exactly.
#[allow(clippy::cast_precision_loss)]
fn as_f64(n: u64) -> f64 {
    n as f64
}

/// The `key=value` fields of a line.
struct Fields<'a>(BTreeMap<&'a str, &'a str>);

impl<'a> Fields<'a> {
    fn parse(line: &'a str) -> Result<Self, BenchError> {
        let mut fields = BTreeMap::new();
        for field in line.split('\t').filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("not a key=value field: {field:?} in {line:?}"))?;
            fields.insert(key.trim(), value.trim());
        }
        Ok(Fields(fields))
    }

    fn text(&self, key: &str) -> Result<&'a str, BenchError> {
        self.0
            .get(key)
            .copied()
            .ok_or_else(|| format!("no {key}= field").into())
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, BenchError> {
        let text = self.text(key)?;
        text.parse()
            .map_err(|_| format!("{key}={text:?} is not a whole number").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(store: &str, scenario: &str, connections: u32, requests: u64, p99_us: u64) -> String {
        format!(
            "store={store}\tscenario={scenario}\tconnections={connections}\trequests={requests}\t\
             duration_us=1000000\tbytes={}\tp50_us=1000\tp99_us={p99_us}\tmax_us=90000\t\
             socket_errors=0\tnon_2xx=0\trss_kb=20480\tload=1.00,0.50,0.25",
            requests * 100
        )
    }

    fn round(store: &str, scenario: &str, connections: u32, requests: u64, p99_us: u64) -> Round {
        Round::parse(&line(store, scenario, connections, requests, p99_us)).unwrap()
    }

    fn memory(store: &str, idle_kb: u64, added_kb: u64) -> Memory {
        Memory {
            store: store.to_owned(),
            idle_kb,
            open_kb: idle_kb + added_kb,
            seeded_kb: 180_000,
            connections: 1_000,
            closed: 0,
        }
    }

    #[test]
    fn a_round_line_is_read_field_by_field() {
        let round = round("postgres", "track", 64, 5_000, 7_000);

        assert_eq!(round.store, "postgres");
        assert_eq!(round.scenario, Scenario::Track);
        assert_eq!(round.connections, 64);
        assert_eq!(round.requests, 5_000);
        assert_eq!(round.p99_us, 7_000);
        assert_eq!(round.peak_rss_kb, 20_480);
        assert_eq!(round.load, "1.00,0.50,0.25");
    }

    #[test]
    fn a_line_missing_a_field_or_with_a_bad_number_is_refused_naming_it() {
        let err = Round::parse("store=sqlite\tscenario=products").unwrap_err();
        assert!(err.to_string().contains("connections"), "{err}");

        let bad = line("sqlite", "products", 64, 1, 1).replace("requests=1", "requests=many");
        let err = Round::parse(&bad).unwrap_err();
        assert!(err.to_string().contains("requests"), "{err}");

        let err = Round::parse(&line("sqlite", "teleport", 64, 1, 1)).unwrap_err();
        assert!(err.to_string().contains("teleport"), "{err}");
    }

    #[test]
    fn rounds_of_a_scenario_merge_into_one_row_with_the_worst_tail() {
        let rounds = [
            round("sqlite", "products", 64, 10_000, 8_000),
            round("sqlite", "products", 64, 14_000, 12_000),
        ];

        let rows = rows(&rounds);

        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.rounds, 2);
        assert!((row.per_second() - 12_000.0).abs() < 1e-9);
        assert!((row.p50_ms() - 1.0).abs() < 1e-9);
        assert!((row.p99_ms() - 12.0).abs() < 1e-9);
        assert!((row.bytes_per_response() - 100.0).abs() < 1e-9);
        assert_eq!(row.loads.len(), 2);
    }

    #[test]
    fn rows_keep_the_stores_in_the_order_measured_then_connections_and_scenario() {
        let rounds = [
            round("sqlite", "products", 256, 1, 1),
            round("sqlite", "ceiling", 64, 1, 1),
            round("postgres", "ceiling", 64, 1, 1),
            round("sqlite", "products", 64, 1, 1),
        ];

        let order: Vec<(String, u32, Scenario)> = rows(&rounds)
            .into_iter()
            .map(|r| (r.store, r.connections, r.scenario))
            .collect();

        assert_eq!(
            order,
            [
                ("sqlite".to_owned(), 64, Scenario::Ceiling),
                ("sqlite".to_owned(), 64, Scenario::Products),
                ("sqlite".to_owned(), 256, Scenario::Products),
                ("postgres".to_owned(), 64, Scenario::Ceiling),
            ]
        );
    }

    #[test]
    fn a_store_table_shows_each_rate_as_a_share_of_the_ceiling_at_its_connection_count() {
        let rows = rows(&[
            round("sqlite", "ceiling", 64, 40_000, 5_000),
            round("sqlite", "products", 64, 10_000, 9_000),
            round("sqlite", "ceiling", 256, 20_000, 5_000),
            round("sqlite", "products", 256, 10_000, 9_000),
            round("postgres", "orders", 32, 300, 90_000),
        ]);

        let table = store_table(&rows, "sqlite");
        let lines: Vec<&str> = table.lines().collect();

        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines[3],
            "| GET /api/products?limit=50 | 64 | 10000 | 25% | — | 1.00 | 9.00 | 90.00 | 0 | 100 \
             | 20 MB | 1.00,0.50,0.25 |"
        );
        assert!(lines[2].contains("| 100% |"), "{}", lines[2]);
        assert!(lines[5].contains("| 50% |"), "{}", lines[5]);
        let postgres = store_table(&rows, "postgres");
        assert!(
            postgres.contains("| POST /api/orders, one hot product | 32 | 300 | — | — |"),
            "{postgres}"
        );
    }

    #[test]
    fn each_row_is_also_a_share_of_the_ceiling_doing_the_same_work() {
        let rows = rows(&[
            round("mysql", "ceiling", 64, 40_000, 5_000),
            round("mysql", "ceiling-catalogue", 64, 20_000, 5_000),
            round("mysql", "ceiling-catalogue-plain", 64, 30_000, 5_000),
            round("mysql", "products", 64, 10_000, 9_000),
            round("mysql", "products-plain", 64, 6_000, 9_000),
            round("mysql", "track-raw", 64, 8_000, 9_000),
            round("mysql", "track", 64, 2_000, 9_000),
        ]);

        let table = store_table(&rows, "mysql");
        let share = |label: &str| {
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("| {label} |")))
                .unwrap_or_default();
            let cells: Vec<&str> = line.split(" | ").collect();
            (cells[3].to_owned(), cells[4].to_owned())
        };

        assert_eq!(
            share("GET /api/products?limit=50"),
            ("25%".into(), "50%".into())
        );
        assert_eq!(
            share("GET /api/products?limit=50, no Accept-Encoding"),
            ("15%".into(), "20%".into())
        );
        assert_eq!(share("GET /api/track/:id"), ("5%".into(), "25%".into()));
        assert_eq!(
            share("ceiling of track: its SQL through sqlx (reads/s)"),
            ("—".into(), "—".into())
        );
        assert!(
            table.contains("| 0 | — | — | 1.00,0.50,0.25 |"),
            "the raw SQL row has no bytes or server memory: {table}"
        );
    }

    #[test]
    fn the_track_goal_judges_each_connection_count_against_its_raw_ceiling() {
        let rows = rows(&[
            round("postgres", "track-raw", 64, 8_000, 9_000),
            round("postgres", "track", 64, 4_000, 9_000),
            round("postgres", "track-raw", 256, 8_000, 9_000),
            round("postgres", "track", 256, 3_960, 9_000),
        ]);

        let verdicts = goals(&rows, &[], RawOrders::default());
        let track: Vec<&Verdict> = verdicts
            .iter()
            .filter(|v| v.text.starts_with("GET /api/track/:id"))
            .collect();

        assert_eq!(
            track,
            [&Verdict {
                text: "GET /api/track/:id on postgres: 50% at 64 connections, 49% at 256 \
                       connections of its raw SQL ceiling at as many callers (goal ≥ 50%)"
                    .to_owned(),
                met: false,
            }]
        );
    }

    #[test]
    fn a_memory_line_is_read_field_by_field() {
        let m = Memory::parse(
            "store=mysql\tidle_kb=19000\topen_kb=38000\tseeded_kb=200000\tconnections=1000\t\
             closed=2",
        )
        .unwrap();

        assert_eq!(
            m,
            Memory {
                store: "mysql".to_owned(),
                idle_kb: 19_000,
                open_kb: 38_000,
                seeded_kb: 200_000,
                connections: 1_000,
                closed: 2,
            }
        );
    }

    #[test]
    fn memory_per_thousand_connections_scales_what_they_added() {
        let m = Memory {
            connections: 500,
            ..memory("sqlite", 20_000, 10_240)
        };

        assert!((m.per_thousand_kb() - 20_480.0).abs() < 1e-9);
        let table = memory_table(&[m]);
        assert_eq!(
            table.lines().nth(2),
            Some("| sqlite | 20 MB | 30 MB (500) | 20.0 MB | 0 | 176 MB |")
        );
    }

    #[test]
    fn goals_judge_each_figure_and_say_which_could_not_be_measured() {
        let rows = rows(&[
            round("sqlite", "ceiling", 64, 90_000, 5_000),
            round("sqlite", "ceiling-catalogue", 64, 40_000, 5_000),
            round("sqlite", "products", 64, 24_000, 9_000),
            round("sqlite", "ceiling", 256, 90_000, 5_000),
            round("sqlite", "ceiling-catalogue", 256, 40_000, 5_000),
            round("sqlite", "products", 256, 16_000, 60_000),
        ]);
        let memory = [memory("sqlite", 20_000, 30_000)];

        let verdicts = goals(&rows, &memory, RawOrders::default());
        let list = goals_list(&verdicts);

        assert_eq!(
            list,
            "- POST /api/orders on PostgreSQL at 32 connections against the raw transaction: \
             not measured (its server was not reachable): missed\n\
             - Orders with random products on PostgreSQL at 32 connections against the raw \
             transaction: not measured (its server was not reachable): missed\n\
             - GET /api/products with browser Accept-Encoding on sqlite: 60% at 64 connections, \
             40% at 256 connections of the plain-hyper ceiling sending the same bytes (goal ≥ \
             50%); bytes/response with headers: shop 100, ceiling 100: missed\n\
             - GET /api/products on sqlite: p99 60.00 ms at 256 connections (goal < 50 ms): missed\n\
             - Mixed scenario on PostgreSQL at 256 connections: not measured (its server was not \
             reachable): missed\n\
             - Idle reference server on sqlite: 19.5 MB resident (goal < 50 MB): met\n\
             - 1,000 idle keep-alive connections on sqlite: +29.3 MB (goal < 100 MB): met\n"
        );
    }

    #[test]
    fn the_products_verdict_prints_the_bytes_per_response_of_both_sides() {
        let mut larger = round("sqlite", "ceiling-catalogue", 64, 40_000, 5_000);
        larger.bytes = 40_000 * 103;
        let rows = rows(&[
            round("sqlite", "ceiling", 64, 90_000, 5_000),
            larger,
            round("sqlite", "products", 64, 24_000, 9_000),
        ]);

        let verdicts = goals(&rows, &[], RawOrders::default());

        let products: Vec<&str> = verdicts
            .iter()
            .map(|v| v.text.as_str())
            .filter(|t| t.starts_with("GET /api/products with"))
            .collect();
        assert_eq!(
            products,
            [
                "GET /api/products with browser Accept-Encoding on sqlite: 60% at 64 connections of \
              the plain-hyper ceiling sending the same bytes (goal ≥ 50%); bytes/response with \
              headers: shop 100, ceiling 103"
            ]
        );
    }

    #[test]
    fn the_orders_goals_compare_postgres_at_32_connections_with_their_raw_rates() {
        let rows = rows(&[
            round("postgres", "orders", 32, 240, 90_000),
            round("postgres", "orders-random", 32, 590, 90_000),
            round("postgres", "mixed", 256, 10_000, 80_000),
        ]);
        let raw = RawOrders {
            hot: Some(300.0),
            random: Some(1_000.0),
        };

        let verdicts = goals(&rows, &[], raw);

        assert_eq!(
            verdicts[0],
            Verdict {
                text: "POST /api/orders on PostgreSQL at 32 connections: 240 orders/s, 80% of \
                       the raw transaction for the same orders at 32 callers (300 orders/s, the \
                       stores bench's, measured right before each round) (goal ≥ 60%)"
                    .to_owned(),
                met: true,
            }
        );
        assert_eq!(
            verdicts[1],
            Verdict {
                text: "Orders with random products on PostgreSQL at 32 connections: 590 \
                       orders/s, 59% of the raw transaction for the same orders at 32 callers \
                       (1000 orders/s, the stores bench's, measured right before each round) \
                       (goal ≥ 60%)"
                    .to_owned(),
                met: false,
            }
        );
        assert_eq!(
            verdicts[2].text,
            "Mixed scenario on PostgreSQL at 256 connections: p99 80.00 ms (goal < 100 ms), 0 \
             errors (goal 0)"
        );
        assert!(verdicts[2].met);
    }
}
