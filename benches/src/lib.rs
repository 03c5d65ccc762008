//! Pochi's benchmarks, each beside its ceiling measured in the same run.
//!
//! - **Stores** (`cargo bench -p pochi-benches --bench stores`): orders per second that
//!   `Store::place_order` reaches on each store (SQLite file, PostgreSQL, MariaDB/MySQL) at 1, 8
//!   and 32 concurrent callers, against the raw ceiling: the same SQL transaction (a conditional
//!   stock update, the order insert and two line inserts) issued directly with sqlx on the same
//!   server and on the adapter's own migrated schema. The harness is this crate's own
//!   ([`throughput`]): a fixed duration after a warm-up, adapter and raw interleaved in rounds
//!   so a background load hits both alike.
//! - **Core** (`cargo bench -p pochi-benches --bench core`, criterion): checkout parsing,
//!   pricing 1, 10 and 100 lines, an order to JSON, a payment applied to `MemoryStore`, each
//!   beside the same work without Pochi's rules; [`core_report`] makes the table.
//! - **HTTP** (`benches/run.sh`): `pochi-bench-server` serves `pochi_http::router` over the
//!   SQLite file store with 50 products, or a plain-hyper server answering a fixed JSON body
//!   (the ceiling); `wrk` loads both on loopback.
//! - **HTTP end to end** (`benches/run.sh`): `pochi-bench-shop` runs the reference server
//!   (`pochi-server`) over each store, seeded through its own API; `wrk` loads it beside the
//!   ceiling, `pochi-bench-idle` holds idle keep-alive connections to measure their memory,
//!   `pochi-bench-track` measures the raw SQL ceiling of tracking an order ([`tracking`]), and
//!   `pochi-bench-report` turns the rounds into tables and goals ([`http`]).
//!
//! - **Scale** (`cargo bench -p pochi-benches --bench scale`): the admin's order lists,
//!   statistics and customer list on PostgreSQL at 1,000, 100,000 and 1,000,000 orders
//!   ([`scale`]).
//!
//! `benches/run.sh` runs everything the machine has servers for and writes `BENCHMARKS.md`;
//! `benches/run.sh --smoke` runs each scenario briefly so none of them can rot.

pub mod core_report;
pub mod databases;
pub mod http;
pub mod machine;
pub mod raw;
pub mod report;
pub mod scale;
pub mod stores;
pub mod throughput;
pub mod tracking;

/// What a benchmark step fails with: anything, with its message.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// A bench binary's `main`: runs `work` (or reports why it could not be planned) on a
/// multi-thread runtime, and says `NAME failed: ERROR` on standard error when it fails.
pub fn exit_code<F>(name: &str, work: Result<F, BenchError>) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), BenchError>>,
{
    let outcome = work.and_then(|work| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(work)
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{name} failed: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
