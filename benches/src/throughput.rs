//! A fixed-duration throughput harness: K callers (tokio tasks on the multi-threaded runtime)
//! each place orders back to back until a deadline; the sample is the orders completed, the
//! wall time until the last caller returned, and every order's latency.
//!
//! Not criterion: what the stores bench asks is "how many orders per second at K callers", a
//! rate under concurrency, which a fixed duration answers directly; criterion's per-iteration
//! statistics do not fit work shared out among concurrent callers.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use crate::BenchError;

/// One way of placing an order (through a store, or raw SQL), each call a new order.
#[async_trait]
pub trait Placer: Send + Sync + 'static {
    /// Places one order with a fresh number; an error stops the benchmark.
    async fn place(&self) -> Result<(), BenchError>;
}

/// Orders placed, the wall time they took, and each one's latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Orders placed.
    pub orders: u64,
    /// Wall time from the start until the last caller finished.
    pub elapsed: Duration,
    /// Each order's latency in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Sample {
    /// Adds another round's orders, time and latencies to this one.
    pub fn merge(&mut self, other: Sample) {
        self.orders += other.orders;
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
    }

    /// Orders per second over the whole sample.
    pub fn per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.orders as f64 / seconds
        } else {
            0.0
        }
    }

    /// The latency at `percent` (0 to 100, nearest rank below), or zero without orders.
    pub fn percentile(&self, percent: usize) -> Duration {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = sorted.len().saturating_sub(1) * percent.min(100) / 100;
        sorted
            .get(index)
            .map_or(Duration::ZERO, |us| Duration::from_micros(u64::from(*us)))
    }
}

/// Runs `callers` concurrent callers of `placer` for `duration` and returns what they did.
pub async fn measure(
    placer: &Arc<dyn Placer>,
    callers: usize,
    duration: Duration,
) -> Result<Sample, BenchError> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let placer = Arc::clone(placer);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    placer.place().await?;
                    let us = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
                    latencies.push(us);
                }
                Ok::<_, BenchError>(latencies)
            })
        })
        .collect();
    let mut sample = Sample::default();
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(Ok(latencies)) => sample.latencies_us.extend(latencies),
            Ok(Err(err)) => failure = failure.or(Some(err)),
            Err(join) => failure = failure.or(Some(join.into())),
        }
    }
    if let Some(err) = failure {
        return Err(err);
    }
    sample.elapsed = start.elapsed();
    sample.orders = sample.latencies_us.len() as u64;
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    struct Counting(AtomicU64);

    #[async_trait]
    impl Placer for Counting {
        async fn place(&self) -> Result<(), BenchError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            tokio::task::yield_now().await;
            Ok(())
        }
    }

    struct Failing;

    #[async_trait]
    impl Placer for Failing {
        async fn place(&self) -> Result<(), BenchError> {
            Err("refused".into())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_placed_order_is_counted_once_with_its_latency() {
        let counting = Arc::new(Counting(AtomicU64::new(0)));
        let placer: Arc<dyn Placer> = counting.clone();

        let sample = measure(&placer, 4, Duration::from_millis(20))
            .await
            .unwrap();

        assert_eq!(sample.orders, counting.0.load(Ordering::Relaxed));
        assert_eq!(sample.latencies_us.len() as u64, sample.orders);
        assert!(sample.orders > 0);
    }

    #[tokio::test]
    async fn a_failing_order_fails_the_measurement() {
        let placer: Arc<dyn Placer> = Arc::new(Failing);

        let outcome = measure(&placer, 2, Duration::from_millis(10)).await;

        assert_eq!(outcome.unwrap_err().to_string(), "refused");
    }

    #[test]
    fn percentiles_take_the_nearest_rank_below() {
        let sample = Sample {
            orders: 5,
            elapsed: Duration::from_secs(1),
            latencies_us: vec![50, 10, 40, 20, 30],
        };

        assert_eq!(sample.percentile(50), Duration::from_micros(30));
        assert_eq!(sample.percentile(99), Duration::from_micros(40));
        assert_eq!(sample.percentile(100), Duration::from_micros(50));
        assert_eq!(sample.per_second(), 5.0);
    }

    #[test]
    fn merged_rounds_add_orders_and_time() {
        let mut total = Sample {
            orders: 2,
            elapsed: Duration::from_secs(1),
            latencies_us: vec![1, 2],
        };

        total.merge(Sample {
            orders: 4,
            elapsed: Duration::from_secs(1),
            latencies_us: vec![3, 4, 5, 6],
        });

        assert_eq!(total.orders, 6);
        assert_eq!(total.per_second(), 3.0);
        assert_eq!(total.latencies_us.len(), 6);
    }
}
