//! Orders per second of `Store::place_order` on each store at 1, 8 and 32 concurrent callers,
//! beside the raw ceiling (the same SQL transaction issued directly with sqlx) in the same run.
//!
//! `cargo bench -p pochi-benches --bench stores -- [OPTIONS]`
//!
//! - `--stores sqlite,postgres,mysql`: which stores (default all; a server that cannot be
//!   reached is skipped, or fails the run when `CI` is set);
//! - `--callers 1,8,32`, `--seconds 9` (measured per side and caller count), `--rounds 3`
//!   (adapter and raw alternate, `seconds / rounds` at a time, so a load that comes and goes
//!   hits both), `--warmup 1` (seconds per side, not counted);
//! - `--smoke`: a fraction of a second each, to show every scenario still runs;
//! - `--only adapter|raw`: measure one side alone (to profile it; the ratio is then 0);
//! - `--orders hot|random`: every order for the same tracked product (default: the flash sale,
//!   one row lock per commit), or for two distinct products picked at random out of 1,000
//!   (`benches/run.sh` measures the raw side of that on PostgreSQL at 32 callers, the ceiling
//!   of the random-products orders end to end);
//! - `--out FILE`: also write the table (Markdown) there;
//! - `--tsv FILE`: also write the figures as tab-separated values there (a header line, then
//!   one line per store and caller count; `benches/run.sh` reads PostgreSQL's raw rate at 32
//!   callers from it, the ceiling of `POST /api/orders` end to end).

use std::{process::ExitCode, time::Duration};

use pochi_benches::{
    BenchError,
    machine::{LoadAverage, Machine},
    report::{StoreRow, postgres_goal, stores_table, stores_tsv},
    stores::{Backend, Contest, Orders},
    throughput::{Sample, measure},
};

/// What to run, from the command line.
#[derive(Debug)]
struct Plan {
    stores: Vec<Backend>,
    callers: Vec<usize>,
    measured: Duration,
    rounds: u32,
    warmup: Duration,
    sides: Sides,
    orders: Orders,
    out: Option<String>,
    tsv: Option<String>,
}

/// Which sides of a contest to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sides {
    Both,
    Adapter,
    Raw,
}

fn main() -> ExitCode {
    pochi_benches::exit_code("stores bench", parse(std::env::args().skip(1)).map(run))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Plan, BenchError> {
    let mut plan = Plan {
        stores: Backend::ALL.to_vec(),
        callers: vec![1, 8, 32],
        measured: Duration::from_secs(9),
        rounds: 3,
        warmup: Duration::from_secs(1),
        sides: Sides::Both,
        orders: Orders::HotProduct,
        out: None,
        tsv: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            // cargo bench adds it.
            "--bench" => {}
            "--smoke" => {
                plan.measured = Duration::from_millis(300);
                plan.rounds = 1;
                plan.warmup = Duration::from_millis(100);
            }
            "--stores" => {
                plan.stores = list(&value()?, |s| s.parse())?;
            }
            "--callers" => plan.callers = list(&value()?, |s| Ok(s.parse()?))?,
            "--seconds" => plan.measured = Duration::from_secs_f64(value()?.parse()?),
            "--rounds" => plan.rounds = value()?.parse::<u32>()?.max(1),
            "--warmup" => plan.warmup = Duration::from_secs_f64(value()?.parse()?),
            "--orders" => plan.orders = value()?.parse()?,
            "--out" => plan.out = Some(value()?),
            "--tsv" => plan.tsv = Some(value()?),
            "--only" => {
                plan.sides = match value()?.as_str() {
                    "adapter" => Sides::Adapter,
                    "raw" => Sides::Raw,
                    other => return Err(format!("--only adapter|raw, not {other:?}").into()),
                }
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(plan)
}

fn list<T>(text: &str, item: impl Fn(&str) -> Result<T, BenchError>) -> Result<Vec<T>, BenchError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(item)
        .collect()
}

async fn run(plan: Plan) -> Result<(), BenchError> {
    println!("machine: {}", Machine::describe());
    let mut rows = Vec::new();
    for backend in &plan.stores {
        let Some(contest) = Contest::prepare(*backend, plan.orders).await? else {
            continue;
        };
        let measured = measure_contest(&contest, &plan).await;
        contest.finish().await?;
        rows.extend(measured?);
    }
    let mut report = stores_table(&rows);
    if let Some(goal) = postgres_goal(&rows) {
        report.push('\n');
        report.push_str(&goal);
        report.push('\n');
    }
    println!("\n{report}");
    if let Some(out) = &plan.out {
        std::fs::write(out, &report)?;
    }
    if let Some(tsv) = &plan.tsv {
        std::fs::write(tsv, stores_tsv(&rows))?;
    }
    Ok(())
}

/// Every caller count of one backend; adapter and raw interleaved in rounds.
async fn measure_contest(contest: &Contest, plan: &Plan) -> Result<Vec<StoreRow>, BenchError> {
    let slice = plan.measured / plan.rounds;
    let mut rows = Vec::new();
    for &callers in &plan.callers {
        let adapter_too = plan.sides != Sides::Raw;
        let raw_too = plan.sides != Sides::Adapter;
        let mut adapter = Sample::default();
        let mut raw = Sample::default();
        for round in 0..=plan.rounds {
            // Round 0 is the warm-up.
            let duration = if round == 0 { plan.warmup } else { slice };
            if adapter_too {
                let sample = measure(&contest.adapter, callers, duration).await?;
                if round > 0 {
                    adapter.merge(sample);
                }
            }
            if raw_too {
                let sample = measure(&contest.raw, callers, duration).await?;
                if round > 0 {
                    raw.merge(sample);
                }
            }
        }
        let row = StoreRow {
            backend: contest.backend,
            callers,
            adapter,
            raw,
            load: LoadAverage::now(),
        };
        println!(
            "{:>8} {:>3} callers: adapter {:>7.0} orders/s, raw {:>7.0} orders/s ({:.0}%), load {}",
            row.backend,
            callers,
            row.adapter.per_second(),
            row.raw.per_second(),
            row.ratio() * 100.0,
            row.load
        );
        rows.push(row);
    }
    Ok(rows)
}
