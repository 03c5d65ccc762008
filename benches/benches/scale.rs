//! The admin's order lists, statistics and customer list on PostgreSQL as the shop grows to
//! 1,000, 100,000 and 1,000,000 orders (see `pochi_benches::scale`).
//!
//! `cargo bench -p pochi-benches --bench scale -- [OPTIONS]`
//!
//! - `--sizes 1000,100000,1000000`: the order counts, smallest first (the database grows);
//! - `--reps 30` measured runs of each query per size, after `--warmup 3`;
//! - `--smoke`: sizes 200 and 2000, 3 runs each, to show every query still runs;
//! - `--out FILE`: also write the table (Markdown) there.
//!
//! Goals (issue 7): every list and the statistics flat from the smallest size to the largest
//! (here: the largest size's median within 2× of the smallest's, or under 5 ms, where
//! the figure is the round trip and noise rather than the data), and the statistics under
//! 100 ms at a million orders. A query that returns nothing fails the run: it would measure
//! nothing.

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use pochi_benches::{
    BenchError,
    machine::{LoadAverage, Machine},
    scale::{QUERIES, ScaleFigure, ScaleRow, ScaleShop, percentiles, scale_table},
};

/// What "flat" allows: the largest size's median this many times the smallest's...
const FLAT_RATIO: f64 = 2.0;
/// ...unless it is under this, where a ratio says nothing.
const FLAT_FLOOR: Duration = Duration::from_millis(5);
/// The statistics' goal at the largest size.
const STATS_GOAL: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Plan {
    sizes: Vec<u64>,
    reps: usize,
    warmup: usize,
    out: Option<String>,
}

fn main() -> ExitCode {
    pochi_benches::exit_code("scale bench", parse(std::env::args().skip(1)).map(run))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Plan, BenchError> {
    let mut plan = Plan {
        sizes: vec![1_000, 100_000, 1_000_000],
        reps: 30,
        warmup: 3,
        out: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            // cargo bench adds it.
            "--bench" => {}
            "--smoke" => {
                plan.sizes = vec![200, 2_000];
                plan.reps = 3;
                plan.warmup = 1;
            }
            "--sizes" => {
                plan.sizes = value()?
                    .split(',')
                    .map(|s| s.trim().parse::<u64>())
                    .collect::<Result<_, _>>()?;
            }
            "--reps" => plan.reps = value()?.parse::<usize>()?.max(1),
            "--warmup" => plan.warmup = value()?.parse()?,
            "--out" => plan.out = Some(value()?),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if plan.sizes.is_empty() || plan.sizes.windows(2).any(|w| w[0] >= w[1]) {
        return Err("--sizes must be increasing".into());
    }
    Ok(plan)
}

async fn run(plan: Plan) -> Result<(), BenchError> {
    println!("machine: {}", Machine::describe());
    let Some(mut shop) = ScaleShop::create().await? else {
        return Ok(());
    };
    let measured = measure(&mut shop, &plan).await;
    shop.drop_database().await?;
    let rows = measured?;

    let mut report = scale_table(&rows);
    report.push('\n');
    if let Some(first) = rows.first() {
        let loads: Vec<String> = first
            .at
            .iter()
            .map(|f| format!("{} orders: {}", f.orders, f.load))
            .collect();
        report.push_str(&format!(
            "Load average (1 5 15 min) per size: {}\n\n",
            loads.join("; ")
        ));
    }
    for line in verdicts(&rows) {
        report.push_str(&line);
        report.push('\n');
    }
    println!("\n{report}");
    if let Some(out) = &plan.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}

async fn measure(shop: &mut ScaleShop, plan: &Plan) -> Result<Vec<ScaleRow>, BenchError> {
    let mut rows: Vec<ScaleRow> = QUERIES
        .iter()
        .map(|query| ScaleRow {
            query,
            at: Vec::new(),
        })
        .collect();
    for &size in &plan.sizes {
        let started = Instant::now();
        shop.grow_to(size).await?;
        println!(
            "{} orders written, tallies recounted and vacuumed in {:.1} s",
            shop.orders(),
            started.elapsed().as_secs_f64()
        );
        for row in &mut rows {
            let mut items = 0;
            for _ in 0..plan.warmup {
                shop.run(row.query).await?;
            }
            let mut samples = Vec::with_capacity(plan.reps);
            for _ in 0..plan.reps {
                let started = Instant::now();
                items = shop.run(row.query).await?;
                samples.push(started.elapsed());
            }
            if items == 0 {
                return Err(format!("{} returned nothing at {size} orders", row.query).into());
            }
            let (median, p95) = percentiles(&mut samples);
            println!(
                "{size} orders, {}: median {:.2} ms, p95 {:.2} ms ({items} items)",
                row.query,
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3
            );
            row.at.push(ScaleFigure {
                orders: size,
                median,
                p95,
                items,
                load: LoadAverage::now(),
            });
        }
    }
    Ok(rows)
}

/// Whether each query stayed flat, and the statistics' goal.
fn verdicts(rows: &[ScaleRow]) -> Vec<String> {
    let mut lines = Vec::new();
    for row in rows {
        let (Some(first), Some(last)) = (row.at.first(), row.at.last()) else {
            continue;
        };
        let ratio = last.median.as_secs_f64() / first.median.as_secs_f64().max(1e-9);
        let flat = ratio <= FLAT_RATIO || last.median < FLAT_FLOOR;
        lines.push(format!(
            "{}: {:.2} ms at {} orders, {:.2} ms at {} ({ratio:.1}×): {}",
            row.query,
            first.median.as_secs_f64() * 1e3,
            first.orders,
            last.median.as_secs_f64() * 1e3,
            last.orders,
            if flat { "flat" } else { "NOT flat" }
        ));
        if row.query == "stats" {
            lines.push(format!(
                "stats at {} orders: median {:.2} ms, p95 {:.2} ms (goal < {} ms): {}",
                last.orders,
                last.median.as_secs_f64() * 1e3,
                last.p95.as_secs_f64() * 1e3,
                STATS_GOAL.as_millis(),
                if last.p95 < STATS_GOAL {
                    "met"
                } else {
                    "missed"
                }
            ));
        }
    }
    lines
}
