//! Socket activation (`deploy/pochi.socket`): the built `pochi-server` binary serves a
//! listening socket it is handed as systemd hands it (fd 3, `LISTEN_FDS=1`, `LISTEN_PID` its
//! own pid), and a connection that waits in that socket's backlog while the server restarts is
//! answered by the next process. `benches/load/restart.py` measures the same under load.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{
    fs::File,
    net::{Ipv4Addr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use pochi_server::{Settings, StartError};
use reqwest::StatusCode;

/// A running server, killed if the test fails before it stops it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the binary with `listener` as fd 3, as systemd does. Safe Rust cannot place a
/// descriptor at 3 in a child, so the socket goes in as the shell's stdin and the shell moves
/// it (`exec 3<&0`) before it becomes the server (`exec`, keeping its pid for `LISTEN_PID`).
fn start_with_socket(listener: &TcpListener, data_dir: &Path, log: &Path) -> Server {
    start_with_socket_for(listener, data_dir, log, "$$")
}

/// As [`start_with_socket`], with `LISTEN_PID` set to `pid` (a shell word: `$$` is the server).
fn start_with_socket_for(listener: &TcpListener, data_dir: &Path, log: &Path, pid: &str) -> Server {
    start_with_sockets(listener, data_dir, log, pid, 1)
}

/// As [`start_with_socket_for`], announcing `count` sockets in `LISTEN_FDS`.
fn start_with_sockets(
    listener: &TcpListener,
    data_dir: &Path,
    log: &Path,
    pid: &str,
    count: u32,
) -> Server {
    let socket = listener.try_clone().unwrap();
    let log = File::options().create(true).append(true).open(log).unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            r#"exec 3<&0 0</dev/null; LISTEN_PID={pid} LISTEN_FDS={count} exec "$0""#
        ))
        .arg(env!("CARGO_BIN_EXE_pochi-server"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("POCHI_DATA_DIR", data_dir)
        // Another port: were the passed socket ignored, nothing would answer on it.
        .env("POCHI_LISTEN", "127.0.0.1:0")
        .env("POCHI_LOG", "info")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(socket)))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .map(Server)
        .unwrap()
}

/// Stops the server as systemd does (SIGTERM) and waits for it; its exit status must be 0.
fn stop(mut server: Server) {
    let term = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = server.0.wait().unwrap();
    assert!(status.success(), "pochi-server exited with {status}");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_server_serves_the_socket_it_is_passed_and_its_successor_answers_the_backlog() {
    // given a listening socket bound by "systemd" (this test) and the server started on it
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let first = start_with_socket(&listener, &dir.path().join("data"), &log);

    // when a client asks through that socket, then it is answered
    let health = client().get(format!("{base}/api/health")).send().await;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let health = health.unwrap_or_else(|err| panic!("no answer: {err}\n{text}"));
    assert_eq!(health.status(), StatusCode::OK, "{text}");

    // when the server stops, and a request arrives before the next one starts
    stop(first);
    // (the server said which listener it served)
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("the socket passed by systemd"),
        "the log does not name the passed socket:\n{text}"
    );
    let waiting = tokio::spawn(client().get(format!("{base}/api/products")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "answered while no server ran");
    let second = start_with_socket(&listener, &dir.path().join("data"), &log);

    // then the next server answers it from the backlog
    let answer = waiting.await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let answer = answer.unwrap_or_else(|err| panic!("the waiting request failed: {err}\n{text}"));
    assert_eq!(answer.status(), StatusCode::OK, "{text}");
    stop(second);
}

#[tokio::test]
async fn simulated_mpesa_refuses_a_passed_socket_other_machines_can_reach() {
    // given simulated M-Pesa (the default) and a socket bound to every interface
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::from_vars([("POCHI_DATA_DIR", dir.path().to_str().unwrap())]).unwrap();
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    // when the server is started on it, then it refuses, naming the passed socket
    let err = pochi_server::start_on(settings, listener)
        .await
        .unwrap_err();
    let StartError::Config(err) = err else {
        panic!("expected a configuration error, got {err}");
    };
    assert_eq!(err.variable, "POCHI_MPESA_MODE");
    assert!(
        err.message.contains("the socket passed by systemd"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_socket_passed_for_another_process_is_ignored_and_pochi_listen_is_bound() {
    // given LISTEN_FDS inherited from a parent it was meant for (LISTEN_PID is not the server)
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let server = start_with_socket_for(&listener, &dir.path().join("data"), &log, "1");
    // when it starts, then it binds POCHI_LISTEN (another port) and says why
    let mut bound = None;
    for _ in 0..600 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        bound = text
            .split("(listening on ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .map(str::to_owned);
        if bound.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bound = bound.expect("the server did not say where it listens");
    assert_ne!(bound, listener.local_addr().unwrap().to_string());
    let health = client()
        .get(format!("http://{bound}/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    stop(server);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("LISTEN_FDS is meant for another process"),
        "no warning in the log:\n{text}"
    );
}

#[tokio::test]
async fn more_than_one_passed_socket_is_refused_with_a_clear_message() {
    // given a socket unit with two ListenStream lines (LISTEN_FDS=2)
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let mut server = start_with_sockets(&listener, &dir.path().join("data"), &log, "$$", 2);
    // when it starts, then it exits at once with a failure naming the fix
    let mut status = None;
    for _ in 0..300 {
        status = server.0.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("the server kept running with two sockets passed");
    assert!(!status.success());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("single ListenStream"), "{text}");
}
