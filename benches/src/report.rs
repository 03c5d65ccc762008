//! The stores bench's results as a Markdown table, with the load average beside each figure,
//! and as tab-separated values for `benches/run.sh` (which sets HTTP figures beside them).

use std::{fmt::Write as _, time::Duration};

use crate::{machine::LoadAverage, stores::Backend, throughput::Sample};

/// What PostgreSQL's adapter should reach at 32 callers, as a share of the raw ceiling.
pub const POSTGRES_GOAL: f64 = 0.80;

/// One line of the table: a backend at a number of callers, both sides.
#[derive(Debug, Clone)]
pub struct StoreRow {
    /// The backend.
    pub backend: Backend,
    /// Concurrent callers.
    pub callers: usize,
    /// Through the adapter.
    pub adapter: Sample,
    /// The raw transaction.
    pub raw: Sample,
    /// The load average when the row was measured.
    pub load: LoadAverage,
}

impl StoreRow {
    /// The adapter's orders per second as a share of the raw ceiling's.
    pub fn ratio(&self) -> f64 {
        let raw = self.raw.per_second();
        if raw > 0.0 {
            self.adapter.per_second() / raw
        } else {
            0.0
        }
    }
}

/// The Markdown table of `rows`.
pub fn stores_table(rows: &[StoreRow]) -> String {
    let mut table = String::from(
        "| store | callers | adapter orders/s | raw orders/s | adapter/raw | adapter p50 / p99 | \
         raw p50 / p99 | load avg (1 5 15 min) |\n\
         |---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            table,
            "| {} | {} | {:.0} | {:.0} | {:.0}% | {} / {} ms | {} / {} ms | {} |",
            row.backend,
            row.callers,
            row.adapter.per_second(),
            row.raw.per_second(),
            row.ratio() * 100.0,
            millis(row.adapter.percentile(50)),
            millis(row.adapter.percentile(99)),
            millis(row.raw.percentile(50)),
            millis(row.raw.percentile(99)),
            row.load,
        );
    }
    table
}

/// The verdict on the PostgreSQL goal, if PostgreSQL was measured at 32 callers.
pub fn postgres_goal(rows: &[StoreRow]) -> Option<String> {
    let row = rows
        .iter()
        .find(|r| r.backend == Backend::Postgres && r.callers == 32)?;
    let ratio = row.ratio();
    Some(format!(
        "PostgreSQL place_order at 32 callers: {:.0}% of the raw ceiling (goal ≥ {:.0}%): {}",
        ratio * 100.0,
        POSTGRES_GOAL * 100.0,
        if ratio >= POSTGRES_GOAL {
            "met"
        } else {
            "missed"
        }
    ))
}

/// The columns of [`stores_tsv`], its first line.
pub const STORES_TSV_HEADER: &str = "store\tcallers\tadapter_per_second\traw_per_second\t\
     adapter_p50_ms\tadapter_p99_ms\traw_p50_ms\traw_p99_ms\tload";

/// `rows` as tab-separated values under [`STORES_TSV_HEADER`]: one line per backend and caller
/// count, rates in orders per second, latencies in milliseconds, the load average as
/// `1min,5min,15min`.
pub fn stores_tsv(rows: &[StoreRow]) -> String {
    let mut tsv = format!("{STORES_TSV_HEADER}\n");
    for row in rows {
        let _ = writeln!(
            tsv,
            "{}\t{}\t{:.1}\t{:.1}\t{}\t{}\t{}\t{}\t{}",
            row.backend,
            row.callers,
            row.adapter.per_second(),
            row.raw.per_second(),
            millis(row.adapter.percentile(50)),
            millis(row.adapter.percentile(99)),
            millis(row.raw.percentile(50)),
            millis(row.raw.percentile(99)),
            row.load.0.split_whitespace().collect::<Vec<_>>().join(","),
        );
    }
    tsv
}

/// Reads the raw transaction's orders per second of `backend` at `callers` from
/// [`stores_tsv`]'s output; `None` when that row is not there.
pub fn raw_rate(tsv: &str, backend: Backend, callers: usize) -> Option<f64> {
    tsv.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            [store, count, _adapter, raw, ..]
                if *store == backend.name() && count.parse() == Ok(callers) =>
            {
                raw.parse().ok()
            }
            _ => None,
        }
    })
}

fn millis(latency: Duration) -> String {
    format!("{:.2}", latency.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(orders: u64, latencies_us: Vec<u32>) -> Sample {
        Sample {
            orders,
            elapsed: Duration::from_secs(1),
            latencies_us,
        }
    }

    fn row(backend: Backend, callers: usize, adapter: u64, raw: u64) -> StoreRow {
        StoreRow {
            backend,
            callers,
            adapter: sample(adapter, vec![1_000, 2_000]),
            raw: sample(raw, vec![500, 1_500]),
            load: LoadAverage(String::from("0.50 0.40 0.30")),
        }
    }

    #[test]
    fn a_row_shows_both_rates_their_ratio_latencies_and_the_load() {
        let table = stores_table(&[row(Backend::Postgres, 8, 900, 1_000)]);

        assert_eq!(
            table.lines().nth(2),
            Some(
                "| postgres | 8 | 900 | 1000 | 90% | 1.00 / 1.00 ms | 0.50 / 0.50 ms \
                 | 0.50 0.40 0.30 |"
            )
        );
    }

    #[test]
    fn the_tsv_has_a_header_and_one_line_per_row_with_rates_latencies_and_the_load() {
        let tsv = stores_tsv(&[row(Backend::Postgres, 32, 300, 350)]);

        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(lines[0], STORES_TSV_HEADER);
        assert_eq!(lines[0].split('\t').count(), 9);
        assert_eq!(
            lines[1],
            "postgres\t32\t300.0\t350.0\t1.00\t1.00\t0.50\t0.50\t0.50,0.40,0.30"
        );
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn the_raw_rate_is_read_back_from_the_tsv_by_store_and_callers() {
        let tsv = stores_tsv(&[
            row(Backend::Sqlite, 32, 900, 1_000),
            row(Backend::Postgres, 8, 300, 320),
            row(Backend::Postgres, 32, 300, 350),
        ]);

        assert_eq!(raw_rate(&tsv, Backend::Postgres, 32), Some(350.0));
        assert_eq!(raw_rate(&tsv, Backend::Postgres, 1), None);
        assert_eq!(raw_rate(&tsv, Backend::MySql, 32), None);
    }

    #[test]
    fn the_postgres_goal_is_judged_at_32_callers() {
        let rows = [
            row(Backend::Postgres, 8, 100, 1_000),
            row(Backend::Postgres, 32, 790, 1_000),
        ];

        assert_eq!(
            postgres_goal(&rows).as_deref(),
            Some(
                "PostgreSQL place_order at 32 callers: 79% of the raw ceiling (goal ≥ 80%): missed"
            )
        );
        assert_eq!(postgres_goal(&rows[..1]), None);
    }
}
