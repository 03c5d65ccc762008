//! Socket activation: the listening socket systemd passes to the server (`deploy/pochi.socket`),
//! so a restart or an upgrade drops no connection. systemd keeps the socket open while the
//! server stops and starts again; connections that arrive meanwhile wait in its listen
//! backlog for the next process to accept them.
//!
//! The protocol (`sd_listen_fds(3)`): `LISTEN_FDS` sockets from fd 3 on, for the process
//! whose id is `LISTEN_PID`. The `listenfd` crate reads it (checks the process id, the
//! socket's type, marks it close-on-exec and clears the variables so no child inherits them);
//! this module only says which listener is used and why.

use std::{env, io, net::TcpListener, process};

use listenfd::ListenFd;

/// Where a passed socket comes from, for messages.
pub(crate) const PASSED: &str = "the socket passed by systemd (LISTEN_FDS, fd 3)";

/// Takes the TCP listening socket passed by the service manager, if there is one for this
/// process. `Ok(None)` without `LISTEN_FDS` (the server then binds `POCHI_LISTEN`), or when
/// `LISTEN_PID` names another process (logged: the variables were inherited). Fails when the
/// passed fd is not a TCP socket, or when more than one socket is passed. Serve it with [`crate::start_on`].
///
/// Call it before any other thread runs (before the async runtime starts): it clears
/// `LISTEN_FDS` and `LISTEN_PID` from the environment.
pub fn take_passed_listener() -> io::Result<Option<TcpListener>> {
    let Some(count) = env::var_os("LISTEN_FDS") else {
        return Ok(None);
    };
    let pid = env::var("LISTEN_PID").ok();
    let ours = process::id();
    match pid.as_deref().map(str::parse::<u32>) {
        Some(Ok(pid)) if pid == ours => {}
        // systemd always sets LISTEN_PID; tools such as systemfd may leave it out.
        None => tracing::info!("LISTEN_FDS without LISTEN_PID: taking the passed socket"),
        Some(_) => tracing::warn!(
            listen_pid = pid.as_deref().unwrap_or_default(),
            this_pid = ours,
            "LISTEN_FDS is meant for another process (LISTEN_PID): ignored, binding POCHI_LISTEN"
        ),
    }
    let passed_count = count
        .to_str()
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(0);
    if passed_count > 1 {
        // Serving only one would leave the others' connections waiting in their backlogs
        // forever, and the others' descriptors open.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "systemd passed {passed_count} sockets (LISTEN_FDS); the server serves exactly \
                 one: give pochi.socket a single ListenStream"
            ),
        ));
    }
    let mut passed = ListenFd::from_env();
    passed.take_tcp_listener(0)
}
