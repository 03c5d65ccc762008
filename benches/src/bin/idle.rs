//! `pochi-bench-idle ADDRESS N`: holds N idle keep-alive connections to a server, for
//! `benches/run.sh` to read what they cost the server in resident memory.
//!
//! Opens the connections one after the other, sends one `GET /api/health` (HTTP/1.1,
//! keep-alive) on each and reads its whole answer (a status other than 200 is an error), so
//! every connection has been accepted and has served a request. Then prints `ready N` and
//! holds them until SIGTERM or SIGINT; then prints `closed M`, how many of them the server had
//! closed meanwhile (0 when it keeps idle connections, as the measurement assumes), and exits.

use std::{
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    process::ExitCode,
    time::Duration,
};

use pochi_benches::BenchError;

const TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pochi-bench-idle: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), BenchError> {
    let [addr, count] = args.as_slice() else {
        return Err("usage: pochi-bench-idle ADDRESS N".into());
    };
    let addr: SocketAddr = addr.parse()?;
    let count: usize = count.parse()?;
    let mut connections = Vec::with_capacity(count);
    for i in 0..count {
        let stream = answered(addr).map_err(|e| format!("connection {}: {e}", i + 1))?;
        connections.push(stream);
    }
    println!("ready {count}");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(stop_signal())?;
    let closed = connections.iter().filter(|s| closed(s)).count();
    println!("closed {closed}");
    Ok(())
}

/// A connection that has been answered one health check.
fn answered(addr: SocketAddr) -> Result<TcpStream, BenchError> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: pochi-bench-idle\r\n\r\n"
    )?;
    let mut response = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err("the server closed the connection before answering".into());
        }
        response.extend_from_slice(&buf[..n]);
        if let Some(length) = complete(&response)? {
            if length == response.len() {
                return Ok(stream);
            }
        }
    }
}

/// The length of the response once its head and body are all in `bytes`.
fn complete(bytes: &[u8]) -> Result<Option<usize>, BenchError> {
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("GET /api/health answered {status}, not 200").into());
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .ok_or("the health answer has no Content-Length")?;
    let total = head_end + 4 + length;
    Ok((bytes.len() >= total).then_some(total))
}

/// Whether the server has closed the connection (a read finds its end, or fails).
fn closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    match (&*stream).read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() != ErrorKind::WouldBlock,
    }
}

async fn stop_signal() -> Result<(), BenchError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        interrupted = tokio::signal::ctrl_c() => interrupted?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_complete_once_its_body_has_content_length_bytes() {
        let head =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n";
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(b"{\"a\"");
        assert_eq!(complete(&bytes).unwrap(), None);
        bytes.push(b'}');
        assert_eq!(complete(&bytes).unwrap(), Some(head.len() + 5));
        assert_eq!(complete(&head[..20]).unwrap(), None);
    }

    #[test]
    fn a_health_answer_other_than_200_is_an_error() {
        let err =
            complete(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    }
}
