//! The core bench's results as a Markdown table, read from criterion's own output
//! (`<dir>/<group>/<function>/new/estimates.json`).

use std::{fmt::Write as _, path::Path};

use serde::Deserialize;

use crate::BenchError;

/// The name of the Pochi side in every group.
pub const POCHI: &str = "pochi";
/// The name of the ceiling in every group.
pub const CEILING: &str = "ceiling";

/// The groups of the core bench, in the table's order, with what each measures.
pub const GROUPS: [(&str, &str); 6] = [
    (
        "checkout",
        "JSON body → validated `Checkout` (ceiling: serde alone)",
    ),
    (
        "pricing-1",
        "pricing an order of 1 line (ceiling: Σ price × quantity)",
    ),
    (
        "pricing-10",
        "pricing an order of 10 lines (ceiling: Σ price × quantity)",
    ),
    (
        "pricing-100",
        "pricing an order of 100 lines (ceiling: Σ price × quantity)",
    ),
    (
        "order-json",
        "an order to JSON (ceiling: the same document as a `serde_json::Value`)",
    ),
    (
        "settle-payment",
        "an STK success applied to `MemoryStore` (ceiling: two map updates under a mutex)",
    ),
];

#[derive(Debug, Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Debug, Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// The median time of one iteration of `group/function`, with its 95% confidence interval, in
/// nanoseconds. `Ok(None)` when criterion has no result for it.
fn median(dir: &Path, group: &str, function: &str) -> Result<Option<Estimate>, BenchError> {
    let file = dir.join(group).join(function).join("new/estimates.json");
    if !file.exists() {
        return Ok(None);
    }
    let estimates: Estimates = serde_json::from_slice(&std::fs::read(&file)?)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Some(estimates.median))
}

/// Nanoseconds as a short human figure.
fn duration(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The Markdown table of the core groups found under criterion's output `dir`.
pub fn table(dir: &Path) -> Result<String, BenchError> {
    let mut table = String::from(
        "| benchmark | what | Pochi (median, 95% CI) | ceiling (median) | Pochi ÷ ceiling |\n\
         |---|---|---:|---:|---:|\n",
    );
    let mut rows = 0;
    for (group, what) in GROUPS {
        let (Some(pochi), Some(ceiling)) =
            (median(dir, group, POCHI)?, median(dir, group, CEILING)?)
        else {
            continue;
        };
        rows += 1;
        let _ = writeln!(
            table,
            "| {group} | {what} | {} ({}–{}) | {} | {:.1}× |",
            duration(pochi.point_estimate),
            duration(pochi.confidence_interval.lower_bound),
            duration(pochi.confidence_interval.upper_bound),
            duration(ceiling.point_estimate),
            pochi.point_estimate / ceiling.point_estimate.max(f64::MIN_POSITIVE),
        );
    }
    if rows == 0 {
        return Err(format!("no core bench results under {}", dir.display()).into());
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_estimate(dir: &Path, group: &str, function: &str, median: f64) {
        let path = dir.join(group).join(function).join("new");
        std::fs::create_dir_all(&path).unwrap();
        let body = format!(
            r#"{{"mean":{{"point_estimate":{median},"standard_error":1.0,
               "confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}}}},
               "median":{{"point_estimate":{median},"standard_error":1.0,
               "confidence_interval":{{"confidence_level":0.95,"lower_bound":{lo},"upper_bound":{hi}}}}}}}"#,
            lo = median - 10.0,
            hi = median + 10.0,
        );
        std::fs::write(path.join("estimates.json"), body).unwrap();
    }

    #[test]
    fn a_group_with_both_sides_becomes_a_row_with_their_ratio() {
        let dir = tempfile::tempdir().unwrap();
        write_estimate(dir.path(), "checkout", POCHI, 2_500.0);
        write_estimate(dir.path(), "checkout", CEILING, 1_000.0);
        // Only one side: no row.
        write_estimate(dir.path(), "order-json", POCHI, 700.0);

        let table = table(dir.path()).unwrap();

        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "{table}");
        assert!(rows[0].starts_with("| checkout |"), "{table}");
        assert!(
            rows[0].ends_with("| 2.50 µs (2.49 µs–2.51 µs) | 1.00 µs | 2.5× |"),
            "{table}"
        );
    }

    #[test]
    fn no_results_at_all_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(table(dir.path()).is_err());
    }
}
