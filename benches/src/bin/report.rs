//! `pochi-bench-report`: the HTTP section of `BENCHMARKS.md` from what `benches/run.sh`
//! recorded.
//!
//! `pochi-bench-report --rounds FILE [--memory FILE] [--raw-tsv FILE]...
//! [--raw-random-tsv FILE]... [--check]`
//!
//! - `--rounds`: one line per `wrk` round (see `pochi_benches::http::Round::parse`);
//! - `--memory`: one line per store's memory reading (`pochi_benches::http::Memory::parse`);
//! - `--raw-tsv`: the stores bench's `--tsv` output of a raw PostgreSQL run at 32 callers, one
//!   per round of `POST /api/orders` on PostgreSQL at 32 connections (measured right before it):
//!   their mean is the ceiling that figure is judged against;
//! - `--raw-random-tsv`: the same for the two-random-products transaction (`--orders random`),
//!   one per round of the random-products orders on PostgreSQL at 32 connections;
//! - `--check`: exit with failure when any request failed (the smoke).
//!
//! Prints Markdown: a table per store's server (with the `track-raw` lines of
//! `pochi-bench-track` among the rounds), the memory table and the goals' verdicts.

use std::process::ExitCode;

use pochi_benches::{
    BenchError,
    http::{
        Memory, RawOrders, Round, Scenario, goals, goals_list, memory_table, rows, store_table,
    },
    report::raw_rate,
    stores::Backend,
    tracking::CEILING_NAME,
};

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("pochi-bench-report: {err}");
            ExitCode::from(2)
        }
    }
}

/// Prints the report; `Ok(false)` when `--check` found failed requests.
fn run(mut args: impl Iterator<Item = String>) -> Result<bool, BenchError> {
    let usage = "usage: pochi-bench-report --rounds FILE [--memory FILE] [--raw-tsv FILE]... \
                 [--raw-random-tsv FILE]... [--check]";
    let (mut rounds, mut memory, mut raw, mut check) = (None, None, Vec::new(), false);
    let mut raw_random = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value; {usage}"))
        };
        match arg.as_str() {
            "--rounds" => rounds = Some(value()?),
            "--memory" => memory = Some(value()?),
            "--raw-tsv" => raw.push(value()?),
            "--raw-random-tsv" => raw_random.push(value()?),
            "--check" => check = true,
            _ => return Err(usage.into()),
        }
    }
    let rounds = rounds.ok_or(usage)?;
    let rounds: Vec<Round> = read_lines(&rounds)?
        .iter()
        .map(|line| Round::parse(line))
        .collect::<Result<_, _>>()?;
    let memory: Vec<Memory> = match &memory {
        Some(file) => read_lines(file)?
            .iter()
            .map(|line| Memory::parse(line))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let raw = RawOrders {
        hot: mean_raw_rate(&raw)?,
        random: mean_raw_rate(&raw_random)?,
    };

    let rows = rows(&rounds);
    let mut stores_seen: Vec<&str> = Vec::new();
    for row in &rows {
        if !stores_seen.contains(&row.store.as_str()) {
            stores_seen.push(&row.store);
        }
    }
    for store in &stores_seen {
        println!("### pochi-server on {store}\n");
        println!("{}", store_table(&rows, store));
    }
    if rows.iter().any(|r| r.scenario == Scenario::TrackRaw) {
        println!(
            "The track ceiling (`pochi-bench-track`) issues {CEILING_NAME}, through a pool sized \
             like the server's, right before each round of `GET /api/track/:id`.\n"
        );
    }
    if !memory.is_empty() {
        println!("### Memory of pochi-server (VmRSS)\n");
        println!("{}", memory_table(&memory));
    }
    println!("### Goals\n");
    print!("{}", goals_list(&goals(&rows, &memory, raw)));

    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.errors > 0)
        .map(|r| {
            format!(
                "{} on {} at {} connections: {} errors",
                r.scenario.label(),
                r.store,
                r.connections,
                r.errors
            )
        })
        .collect();
    for failure in &failed {
        eprintln!("pochi-bench-report: {failure}");
    }
    Ok(!check || failed.is_empty())
}

/// The mean of the raw PostgreSQL rates at 32 callers in the stores bench's TSV `files`.
fn mean_raw_rate(files: &[String]) -> Result<Option<f64>, BenchError> {
    let mut rates = Vec::new();
    for file in files {
        let tsv = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        rates.push(
            raw_rate(&tsv, Backend::Postgres, 32)
                .ok_or_else(|| format!("{file} has no PostgreSQL line at 32 callers"))?,
        );
    }
    #[allow(clippy::cast_precision_loss)] // a handful of rounds
    Ok((!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64))
}

fn read_lines(file: &str) -> Result<Vec<String>, BenchError> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}
