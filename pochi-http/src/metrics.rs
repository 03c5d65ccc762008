//! Prometheus metrics: requests and their latency by route template (counted by the router),
//! and orders placed and payments by outcome (counted from the shop's events through
//! [`Metrics::sink`]).
//!
//! Shop events are counted at the source rather than guessed from responses: a payment's
//! outcome arrives by callback or reconciliation, long after the request that started it.
//!
//! Why not `prometheus-client`: the set is small and fixed (a counter and a histogram per
//! route, a few shop counters), and rendering it in the text format is one function here; the
//! crate would add a registry and its encoders for no metric this needs. Should dynamic
//! labels or an OpenMetrics exposition be wanted, it is the crate to move to.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use axum::http::Method;
use pochi_core::{EventSink, ShopEvent};

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Counters and histograms of one process, rendered in the Prometheus text format.
///
/// Share one between the router ([`crate::RouterConfigBuilder::metrics`]) and the shop's event
/// sink ([`Metrics::sink`]):
///
/// ```
/// use std::sync::Arc;
/// use pochi_core::{MemoryStore, NoEvents, Shop};
/// use pochi_http::Metrics;
///
/// let metrics = Arc::new(Metrics::new());
/// let shop = Shop::builder(Arc::new(MemoryStore::new()))
///     .events(metrics.sink(Arc::new(NoEvents)))
///     .build()
///     .unwrap();
/// # let _ = shop;
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
    orders_placed: AtomicU64,
    payments: Mutex<Vec<(String, u64)>>,
    reviews: AtomicU64,
    refused_callbacks: AtomicU64,
    blocked_callbacks: AtomicU64,
}

#[derive(Debug, Default)]
struct RouteStats {
    responses: Vec<(&'static str, u16, u64)>,
    latency: Vec<(&'static str, Histogram)>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Metrics::default()
    }

    /// An event sink that counts the shop's events here, then hands each to `next` (pass
    /// [`pochi_core::NoEvents`] when there is nothing else to tell).
    pub fn sink(self: &Arc<Self>, next: Arc<dyn EventSink>) -> Arc<dyn EventSink> {
        Arc::new(MetricsSink {
            metrics: Arc::clone(self),
            next,
        })
    }

    /// Counts one response to `method` on `route` (a template such as `/api/products/{id}`).
    pub(crate) fn record(&self, method: &Method, route: &str, status: u16, took: Duration) {
        let method = method_label(method);
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match routes.get_mut(route) {
            Some(stats) => stats,
            None => routes.entry(route.to_owned()).or_default(),
        };
        match stats
            .responses
            .iter_mut()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some((_, _, n)) => *n += 1,
            None => stats.responses.push((method, status, 1)),
        }
        let i = match stats.latency.iter().position(|(m, _)| *m == method) {
            Some(i) => i,
            None => {
                stats.latency.push((method, Histogram::default()));
                stats.latency.len() - 1
            }
        };
        stats.latency[i].1.observe(took.as_secs_f64());
    }

    /// Counts a callback refused for the network it came from.
    pub(crate) fn count_blocked_callback(&self) {
        self.blocked_callbacks.fetch_add(1, Ordering::Relaxed);
    }

    fn count_event(&self, event: &ShopEvent) {
        match event {
            ShopEvent::OrderPlaced { .. } => {
                self.orders_placed.fetch_add(1, Ordering::Relaxed);
            }
            ShopEvent::PaymentSucceeded { payment, .. } | ShopEvent::PaymentFailed { payment } => {
                let outcome = payment.status.to_string();
                let mut payments = self.payments.lock().unwrap_or_else(|e| e.into_inner());
                match payments.iter_mut().find(|(o, _)| *o == outcome) {
                    Some((_, n)) => *n += 1,
                    None => payments.push((outcome, 1)),
                }
            }
            ShopEvent::PaymentNeedsReview { .. } => {
                self.reviews.fetch_add(1, Ordering::Relaxed);
            }
            ShopEvent::CallbackRefused { .. } => {
                self.refused_callbacks.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        out.push_str(
            "# HELP http_requests_total Responses by method, route template and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for route in &names {
            let mut responses = routes[*route].responses.clone();
            responses.sort_unstable();
            for (method, status, n) in responses {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time to answer, by method and route template.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for route in &names {
            let mut latency = routes[*route].latency.clone();
            latency.sort_unstable_by_key(|(m, _)| *m);
            for (method, h) in latency {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(h.counts) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_count{{{labels}}} {}",
                    h.total
                );
            }
        }
        drop(routes);
        out.push_str("# HELP pochi_orders_placed_total Orders placed (replays not counted).\n");
        out.push_str("# TYPE pochi_orders_placed_total counter\n");
        let _ = writeln!(
            out,
            "pochi_orders_placed_total {}",
            self.orders_placed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP pochi_payments_total Payment attempts that reached an outcome.\n");
        out.push_str("# TYPE pochi_payments_total counter\n");
        let mut payments = self
            .payments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        payments.sort();
        for (outcome, n) in payments {
            let _ = writeln!(out, "pochi_payments_total{{outcome=\"{outcome}\"}} {n}");
        }
        out.push_str(
            "# HELP pochi_payment_reviews_total Payment notices kept for an admin to review.\n",
        );
        out.push_str("# TYPE pochi_payment_reviews_total counter\n");
        let _ = writeln!(
            out,
            "pochi_payment_reviews_total {}",
            self.reviews.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP pochi_callbacks_refused_total Provider callbacks refused for a wrong token \
             (a bounded sample of them is kept for review).\n",
        );
        out.push_str("# TYPE pochi_callbacks_refused_total counter\n");
        let _ = writeln!(
            out,
            "pochi_callbacks_refused_total {}",
            self.refused_callbacks.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP pochi_callbacks_blocked_total Provider callbacks refused because they came \
             from outside the allowed networks.\n",
        );
        out.push_str("# TYPE pochi_callbacks_blocked_total counter\n");
        let _ = writeln!(
            out,
            "pochi_callbacks_blocked_total {}",
            self.blocked_callbacks.load(Ordering::Relaxed)
        );
        out
    }
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.counts[i] += 1;
        }
        self.total += 1;
        self.sum += secs;
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts events into [`Metrics`], then forwards them.
#[derive(Debug)]
struct MetricsSink {
    metrics: Arc<Metrics>,
    next: Arc<dyn EventSink>,
}

#[async_trait]
impl EventSink for MetricsSink {
    async fn publish(&self, event: &ShopEvent) {
        self.metrics.count_event(event);
        self.next.publish(event).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_with_cumulative_buckets() {
        let metrics = Metrics::new();
        let route = "/api/products/{id}";
        metrics.record(&Method::GET, route, 200, Duration::from_millis(3));
        metrics.record(&Method::GET, route, 200, Duration::from_millis(30));
        metrics.record(&Method::GET, route, 404, Duration::from_millis(1));
        let text = metrics.render();
        assert!(text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/products/{id}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/products/{id}\",status=\"404\"} 1\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/products/{id}\",le=\"0.005\"} 2\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/products/{id}\",le=\"+Inf\"} 3\n"
        ));
        assert!(text.contains("pochi_orders_placed_total 0\n"));
    }
}
