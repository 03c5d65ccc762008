//! `serve_with` over real sockets: slow headers, idle keep-alive connections, the connection
//! cap, and a shutdown that a request which never finishes cannot hold up.

use std::{sync::Arc, time::Duration};

use axum::{Router, routing::get};
use pochi_http::ServeOptions;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{Notify, oneshot},
    task::JoinHandle,
    time::{Instant, timeout},
};

const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: shop\r\n\r\n";
const ANSWER: &str = "karibu";

/// Serves a small host app with `options` on a fresh port.
async fn start(
    app: Router,
    options: ServeOptions,
) -> (std::net::SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        pochi_http::serve_with(listener, app, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, server)
}

fn hello() -> Router {
    Router::new().route("/hello", get(|| async { ANSWER }))
}

/// Options with every limit far away, for tests that bring one close.
fn relaxed() -> ServeOptions {
    ServeOptions::default()
        .with_header_read_timeout(Duration::from_secs(30))
        .with_idle_timeout(Duration::from_secs(30))
}

/// Reads one response of `hello` (it has a Content-Length, so it ends where `ANSWER` does).
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).ends_with(ANSWER) {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before the answer: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// Waits until the server closes `stream` (reads to end of file or a reset), and says how long
/// that took; panics after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server kept the connection open");
    started.elapsed()
}

#[tokio::test]
async fn a_client_that_stalls_halfway_through_its_request_line_is_disconnected() {
    // given a server that allows 300 ms for a request head
    let options = relaxed().with_header_read_timeout(Duration::from_millis(300));
    let (addr, _stop, _server) = start(hello(), options).await;
    // when a client sends half a request line and stalls
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /hel").await.unwrap();
    // then it is disconnected after the header-read timeout
    let took = closed_within(&mut slow, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    // given a server that keeps idle connections 300 ms
    let options = relaxed().with_idle_timeout(Duration::from_millis(300));
    let (addr, _stop, _server) = start(hello(), options).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    assert!(read_answer(&mut client).await.starts_with("HTTP/1.1 200"));
    // when the client sends nothing more, then the connection is closed
    let took = closed_within(&mut client, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn waiting_for_the_next_request_does_not_count_as_reading_its_head() {
    // given a 300 ms header-read timeout and a long idle timeout
    let options = relaxed().with_header_read_timeout(Duration::from_millis(300));
    let (addr, _stop, _server) = start(hello(), options).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    read_answer(&mut client).await;
    // when the next request comes after more than the header timeout
    tokio::time::sleep(Duration::from_millis(800)).await;
    client.write_all(REQUEST).await.unwrap();
    // then it is served on the same connection
    assert!(read_answer(&mut client).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_connection_past_the_cap_is_served_only_when_another_closes() {
    // given a server capped at 2 connections, both taken
    let (addr, _stop, _server) = start(hello(), relaxed().with_max_connections(2)).await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    first.write_all(REQUEST).await.unwrap();
    read_answer(&mut first).await;
    let mut second = TcpStream::connect(addr).await.unwrap();
    second.write_all(REQUEST).await.unwrap();
    read_answer(&mut second).await;
    // when a third client sends a request
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(REQUEST).await.unwrap();
    // then it gets no answer while the two stay open
    let mut buf = [0u8; 64];
    let early = timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "the third connection was served: {early:?}");
    // and is answered once one of them closes
    drop(first);
    let answer = timeout(Duration::from_secs(5), read_answer(&mut third))
        .await
        .expect("the third connection was never served");
    assert!(answer.starts_with("HTTP/1.1 200"));
    drop(second);
}

#[tokio::test]
async fn shutdown_with_a_request_that_never_finishes_returns_within_the_grace_period() {
    // given a server with a 300 ms grace period and a route that never answers
    let entered = Arc::new(Notify::new());
    let app = Router::new().route(
        "/forever",
        get({
            let entered = entered.clone();
            move || async move {
                entered.notify_one();
                std::future::pending::<()>().await;
            }
        }),
    );
    let options = relaxed().with_shutdown_grace(Duration::from_millis(300));
    let (addr, stop, server) = start(app, options).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /forever HTTP/1.1\r\nHost: shop\r\n\r\n")
        .await
        .unwrap();
    entered.notified().await;
    // when shutdown starts
    let started = Instant::now();
    stop.send(()).unwrap();
    // then the server stops after the grace period, closing the connection
    timeout(Duration::from_secs(5), server)
        .await
        .expect("shutdown waited for the request without bound")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    closed_within(&mut client, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_connection_accepted_before_shutdown_is_served_its_first_request() {
    // given a connection the server accepted but has read nothing from yet (a reverse proxy
    // that connected just before a restart: its request is on the way)
    let (addr, stop, server) = start(hello(), relaxed()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // when shutdown starts, and only then the request arrives
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.write_all(REQUEST).await.unwrap();
    // then it is answered (the connection left the backlog: no other process could answer
    // it), the connection is closed after it, and the server stops
    let answer = timeout(Duration::from_secs(5), read_answer(&mut client))
        .await
        .expect("no answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    closed_within(&mut client, Duration::from_secs(1)).await;
    timeout(Duration::from_secs(5), server)
        .await
        .expect("the server did not stop")
        .unwrap();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_holds_shutdown_only_briefly() {
    // given a connection the server accepted that never sends a byte (a preconnect), with a
    // header-read timeout and a grace far longer than the wait allowed for a first byte
    let (addr, stop, server) = start(hello(), relaxed()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // when shutdown starts
    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    // then the server stops within a few seconds, not the 30 s header-read timeout
    timeout(Duration::from_secs(6), server)
        .await
        .expect("an idle connection held shutdown")
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed at once"
    );
    closed_within(&mut client, Duration::from_secs(1)).await;
}
