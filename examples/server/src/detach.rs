//! Requests run to completion even when their client goes away.
//!
//! hyper drops a request's future when its connection closes. Dropped in the middle of a store
//! call, that can leave a pooled database connection inside a transaction: sqlx 0.8's `begin`
//! is not cancel-safe (a future dropped while `BEGIN` is on the wire leaves the server-side
//! transaction open, and the connection goes back to the pool as if idle). On MySQL every later
//! transaction on that connection then fails (error 1568, "Transaction characteristics can't be
//! changed while a transaction is in progress"); on PostgreSQL later statements run inside the
//! stale transaction. A load generator that stops with requests in flight, or customers on a
//! flaky mobile connection, trigger it. Each request therefore runs in a task of its own: a
//! disconnect drops only the wait for the response, the handler finishes and its transaction
//! commits or rolls back. `pochi_http::router` does the same for the API (inside its timeout,
//! so a timeout does not cancel a handler either); this layer covers the simulator's routes.

use axum::{
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Middleware: runs the rest of the stack in a spawned task and waits for its response.
pub(crate) async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a request's task failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":{"code":"internal_error","message":"something went wrong on our side"}}"#,
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        time::Duration,
    };

    use axum::{Router, middleware::from_fn, routing::get};
    use tokio::net::TcpListener;

    use super::*;

    /// What the slow route has done so far.
    #[derive(Clone, Default)]
    struct Progress {
        started: Arc<AtomicBool>,
        finished: Arc<AtomicBool>,
    }

    /// Waits (up to 10 s, for a loaded machine) until `flag` is set; answers whether it was.
    async fn wait_for(flag: &AtomicBool) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !flag.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        flag.load(Ordering::SeqCst)
    }

    /// A server whose one route records that it started, sleeps, then records that it finished.
    async fn slow_server(detached: bool) -> (String, Progress) {
        let progress = Progress::default();
        let seen = progress.clone();
        let mut app = Router::new().route(
            "/slow",
            get(move || async move {
                seen.started.store(true, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(300)).await;
                seen.finished.store(true, Ordering::SeqCst);
                "done"
            }),
        );
        if detached {
            app = app.layer(from_fn(run_to_completion));
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slow", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, progress)
    }

    /// Sends the request and hangs up once the handler has started, before the answer.
    ///
    /// Hanging up on a timer instead raced the server on a loaded machine: the client could give
    /// up before the request was read, and then no handler ran at all.
    async fn hang_up_once_started(url: &str, progress: &Progress) {
        let url = url.to_owned();
        let request = tokio::spawn(async move { reqwest::get(url).await.map(|_| ()) });
        assert!(
            wait_for(&progress.started).await,
            "the handler never started"
        );
        request.abort();
        assert!(
            request.await.is_err_and(|err| err.is_cancelled()),
            "the client should have hung up before the answer"
        );
    }

    #[tokio::test]
    async fn a_request_whose_client_hangs_up_still_runs_to_the_end() {
        let (url, progress) = slow_server(true).await;

        hang_up_once_started(&url, &progress).await;

        assert!(wait_for(&progress.finished).await);
    }

    #[tokio::test]
    async fn without_the_layer_a_hang_up_cancels_the_handler() {
        // What the layer is for: hyper drops the handler's future with the connection.
        let (url, progress) = slow_server(false).await;

        hang_up_once_started(&url, &progress).await;
        tokio::time::sleep(Duration::from_millis(600)).await;

        assert!(!progress.finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn the_response_is_the_handlers() {
        let (url, _) = slow_server(true).await;

        let response = reqwest::get(&url).await.unwrap();

        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "done");
    }
}
