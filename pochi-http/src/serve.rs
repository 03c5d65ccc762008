//! Serving a router over TCP with the limits a server facing the open internet needs: a client
//! must send its request head in time, an idle connection is closed, the number of
//! connections is capped, and shutdown waits for requests in flight for a bounded time.
//!
//! `axum::serve` sets none of these (hyper's header-read timeout needs a timer it does not
//! give), so this is a small accept loop over hyper's HTTP/1 connection, as `axum::serve` is.
//! The one thing written by hand is [`HeadTimer`]: hyper starts its header-read clock as soon
//! as it waits for a head, so on a kept-alive connection the wait for the next request would
//! count as reading a header, and keep-alive would be as short as the header timeout (a
//! reverse proxy reusing connections would then race the server closing them). The timer
//! counts the idle timeout while no byte of the next request has come and the header timeout
//! from its first byte, as nginx does (`keepalive_timeout`, `client_header_timeout`).

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};
use tower::ServiceExt as _;

/// How [`serve_with`] treats connections. The defaults suit a server reached directly from
/// the internet as well as one behind a reverse proxy.
///
/// ```
/// use std::time::Duration;
/// use pochi_http::ServeOptions;
///
/// let options = ServeOptions::default()
///     .with_max_connections(256)
///     .with_shutdown_grace(Duration::from_secs(10));
/// assert_eq!(options.header_read_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long a client may take to send a request's head (request line and headers),
    /// counted from its first byte, or from the connection's opening for its first request
    /// (default 10 s). A client past it is disconnected without an answer: a slow-headers
    /// ("slowloris") client holds a connection no longer than this.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for the client's next request before it is
    /// closed (default 60 s). Keep it longer than a reverse proxy's own keep-alive timeout
    /// for its connections to this server, so the proxy closes them first.
    pub idle_timeout: Duration,
    /// Connections served at once (default 1,024). One more waits in the listen backlog (the
    /// kernel's queue), unread, until another connection closes; past the backlog the kernel
    /// refuses it.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight before closing their connections
    /// (default 30 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ServeOptions {
    /// Sets the header-read timeout.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets the keep-alive idle timeout.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the connection cap.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Sets how long shutdown waits for requests in flight.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Refuses zero timeouts and caps (each would make the server refuse every client).
    fn check(&self) -> io::Result<()> {
        let zero = [
            ("header_read_timeout", self.header_read_timeout.is_zero()),
            ("idle_timeout", self.idle_timeout.is_zero()),
            ("max_connections", self.max_connections == 0),
        ];
        match zero.iter().find(|(_, zero)| *zero) {
            Some((name, _)) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ServeOptions::{name} must be more than zero"),
            )),
            None => Ok(()),
        }
    }
}

/// Serves `router` on `listener` with the [`ServeOptions::default`] limits until `shutdown`
/// completes; see [`serve_with`].
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(listener, router, ServeOptions::default(), shutdown).await
}

/// Serves `router` on `listener` (HTTP/1.1) until `shutdown` completes, then stops accepting
/// (dropping `listener`: connections still in its backlog stay there when another process
/// holds the same socket, as with systemd socket activation), closes idle kept-alive
/// connections, waits up to [`ServeOptions::shutdown_grace`] for the requests in flight
/// (a connection accepted before shutdown counts as one, even before its first byte
/// arrives), and closes what is left. Clients' socket addresses reach the rate limits
/// (`ConnectInfo<SocketAddr>`). Fails only when `options` has a zero timeout or cap.
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    options.check()?;
    let permits = Arc::new(Semaphore::new(
        options.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, remote, permit) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        // Reap finished connections so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(
            stream,
            remote,
            router.clone(),
            options.clone(),
            stopping.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown grace period over: closing connections with requests in flight"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// The next connection, once there is room for it.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    loop {
        // The semaphore is never closed, so acquiring only waits.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return std::future::pending().await;
        };
        match listener.accept().await {
            Ok((stream, remote)) => return (stream, remote, permit),
            // A client that gave up before it was accepted: nothing to wait for.
            Err(err) if is_connection_error(&err) => {}
            Err(err) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::error!(error = %err, "accepting a connection failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it closes, or until shutdown asks it to finish its request in
/// flight and close. Holds its permit while open.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    options: ServeOptions,
    mut stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let reads = Arc::new(AtomicU64::new(0));
    let first_read = Arc::new(Notify::new());
    let io = TokioIo::new(CountedReads {
        stream,
        reads: reads.clone(),
        first_read: first_read.clone(),
    });
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        router.clone().oneshot(req)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(HeadTimer {
            reads: reads.clone(),
            header_read: options.header_read_timeout,
            idle: options.idle_timeout,
        })
        .header_read_timeout(options.header_read_timeout);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let served = tokio::select! {
        served = conn.as_mut() => served,
        // `wait_for` answers a guard that is not `Send`: drop it at once.
        _ = async { stopping.wait_for(|stop| *stop).await.map(|_| ()) } => {
            // hyper closes a connection it has read nothing from at once, but an accepted
            // connection holds a request its client has sent or is sending, which no other
            // process can take any more (it has left the listen backlog): serve that first
            // request, as a request in flight (the header-read timeout bounds the wait).
            // A client that connected and sends nothing (a browser's preconnect) may hold
            // shutdown, and with socket activation the next process, for at most
            // FIRST_BYTE_AFTER_SHUTDOWN.
            if reads.load(Ordering::Relaxed) == 0 {
                tokio::select! {
                    served = conn.as_mut() => return closed(served),
                    () = first_read.notified() => {}
                    () = tokio::time::sleep(FIRST_BYTE_AFTER_SHUTDOWN) => {}
                }
            }
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    closed(served);
}

/// How long, once shutdown has begun, a connection accepted before it may take to send its
/// first byte: a request on its way arrives within it; an idle preconnect is closed after it.
const FIRST_BYTE_AFTER_SHUTDOWN: Duration = Duration::from_secs(2);

fn closed(served: hyper::Result<()>) {
    if let Err(err) = served {
        // Timeouts and clients hanging up: routine, and the client's doing.
        tracing::debug!(error = %err, "connection closed");
    }
}

/// A TCP stream that counts its reads, so [`HeadTimer`] knows when a request has begun, and
/// says when its first bytes came (for shutdown).
struct CountedReads {
    stream: TcpStream,
    reads: Arc<AtomicU64>,
    first_read: Arc<Notify>,
}

impl AsyncRead for CountedReads {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before && this.reads.fetch_add(1, Ordering::Relaxed) == 0 {
            // `notify_one` keeps the notice for a waiter that comes later.
            this.first_read.notify_one();
        }
        polled
    }
}

impl AsyncWrite for CountedReads {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The timer of one connection. A hyper HTTP/1 server asks its timer for one thing only: the
/// deadline of the wait for a request head, started when it begins waiting. This timer makes
/// that wait last the header timeout from the connection's opening (its first request) or
/// from the first byte of a later request, and the idle timeout while no such byte has come.
struct HeadTimer {
    reads: Arc<AtomicU64>,
    header_read: Duration,
    idle: Duration,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, _deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let seen = self.reads.load(Ordering::Relaxed);
        let first_request = seen == 0;
        let limit = if first_request {
            self.header_read
        } else {
            self.idle
        };
        Box::pin(HeadWait {
            reads: self.reads.clone(),
            seen,
            reading: first_request,
            header_read: self.header_read,
            sleep: Box::pin(tokio::time::sleep(limit)),
        })
    }
}

/// The wait for a request head (see [`HeadTimer`]).
struct HeadWait {
    reads: Arc<AtomicU64>,
    /// The reads counted when the wait began.
    seen: u64,
    /// Whether the head has begun (its deadline is then the header timeout).
    reading: bool,
    header_read: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // hyper polls this right after each read that left the head incomplete.
        if !this.reading && this.reads.load(Ordering::Relaxed) != this.seen {
            this.reading = true;
            this.sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + this.header_read);
        }
        this.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadWait {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_limits_are_refused_with_their_name() {
        let err = ServeOptions::default()
            .with_max_connections(0)
            .check()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("max_connections"), "{err}");
        assert!(
            ServeOptions::default()
                .with_idle_timeout(Duration::ZERO)
                .check()
                .is_err()
        );
        assert!(ServeOptions::default().check().is_ok());
    }
}
