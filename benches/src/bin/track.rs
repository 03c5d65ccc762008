//! `pochi-bench-track`: the raw ceiling of `GET /api/track/:id` (`pochi_benches::tracking`),
//! measured right before `benches/run.sh`'s `wrk` round of the same scenario.
//!
//! `pochi-bench-track --store sqlite|postgres|mysql --data FILE --callers N [--seconds S]
//! [--warmup S]`
//!
//! Reads the seeded orders' numbers and where the server's database is from `FILE`, the data
//! file `pochi-bench-shop` wrote (`order NUMBER` lines, and `sqlite PATH` or `database NAME`),
//! tracks random orders there with N concurrent callers for S seconds (default 10) after a
//! warm-up (default 1, not counted), and prints one line in the format of `run.sh`'s rounds
//! (`pochi_benches::http::Round::parse`), scenario `track-raw`.

use std::{process::ExitCode, sync::Arc, time::Duration};

use pochi_benches::{
    BenchError,
    machine::LoadAverage,
    stores::Backend,
    throughput::{Placer, measure},
    tracking::{Location, RawTrack},
};

#[derive(Debug)]
struct Options {
    store: Backend,
    data: String,
    callers: usize,
    measured: Duration,
    warmup: Duration,
}

fn main() -> ExitCode {
    pochi_benches::exit_code(
        "pochi-bench-track",
        options(std::env::args().skip(1)).map(run),
    )
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, BenchError> {
    let usage = "usage: pochi-bench-track --store sqlite|postgres|mysql --data FILE --callers N \
                 [--seconds S] [--warmup S]";
    let (mut store, mut data, mut callers) = (None, None, None);
    let (mut measured, mut warmup) = (Duration::from_secs(10), Duration::from_secs(1));
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value; {usage}"))
        };
        match arg.as_str() {
            "--store" => store = Some(value()?.parse::<Backend>()?),
            "--data" => data = Some(value()?),
            "--callers" => callers = Some(value()?.parse::<usize>()?.max(1)),
            "--seconds" => measured = Duration::from_secs_f64(value()?.parse()?),
            "--warmup" => warmup = Duration::from_secs_f64(value()?.parse()?),
            _ => return Err(usage.into()),
        }
    }
    match (store, data, callers) {
        (Some(store), Some(data), Some(callers)) => Ok(Options {
            store,
            data,
            callers,
            measured,
            warmup,
        }),
        _ => Err(usage.into()),
    }
}

/// The orders and the database location in the data file.
fn read_data(text: &str) -> Result<(Vec<String>, Location), BenchError> {
    let (mut numbers, mut location) = (Vec::new(), None);
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("order", number)) => numbers.push(number.to_owned()),
            Some(("sqlite", path)) => location = Some(Location::File(path.to_owned())),
            Some(("database", name)) => location = Some(Location::Database(name.to_owned())),
            _ => {}
        }
    }
    let location = location.ok_or("the data file does not say where the database is")?;
    Ok((numbers, location))
}

async fn run(options: Options) -> Result<(), BenchError> {
    let text = std::fs::read_to_string(&options.data)
        .map_err(|e| format!("cannot read {}: {e}", options.data))?;
    let (numbers, location) = read_data(&text)?;
    let raw = RawTrack::connect(options.store, &location, numbers).await?;
    let raw = Arc::new(raw);
    let placer: Arc<dyn Placer> = raw.clone();
    let outcome = async {
        measure(&placer, options.callers, options.warmup).await?;
        measure(&placer, options.callers, options.measured).await
    }
    .await;
    drop(placer);
    if let Ok(raw) = Arc::try_unwrap(raw) {
        raw.close().await;
    }
    let sample = outcome?;
    let micros = |d: Duration| d.as_micros();
    let max = sample.percentile(100);
    println!(
        "store={}\tscenario=track-raw\tconnections={}\trequests={}\tduration_us={}\tbytes=0\t\
         p50_us={}\tp99_us={}\tmax_us={}\tsocket_errors=0\tnon_2xx=0\trss_kb=0\tload={}",
        options.store,
        options.callers,
        sample.orders,
        micros(sample.elapsed),
        micros(sample.percentile(50)),
        micros(sample.percentile(99)),
        micros(max),
        LoadAverage::now()
            .0
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(","),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_gives_the_orders_and_where_the_database_is() {
        let (numbers, location) =
            read_data("product p1\norder POCHI1\norder POCHI2\ndatabase pochi_bench_7\n").unwrap();

        assert_eq!(numbers, ["POCHI1", "POCHI2"]);
        assert_eq!(location, Location::Database("pochi_bench_7".to_owned()));
        assert!(read_data("order POCHI1\n").is_err());
    }
}
