//! The real `pochi-server` binary as a child process: started with a configuration, read
//! until it listens, stopped with SIGKILL (a crash) or dropped.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use serde_json::Value;

/// A running `pochi-server`, killed when dropped.
pub(crate) struct ChildServer {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
}

impl ChildServer {
    /// Starts the binary with its data in `dir`, JSON logs, a free loopback port and `vars`;
    /// waits (up to a minute) until the shop is ready.
    pub(crate) fn start(dir: &Path, vars: &[(&str, &str)]) -> ChildServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pochi-server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("POCHI_DATA_DIR", dir)
            .env("POCHI_LISTEN", "127.0.0.1:0")
            .env("POCHI_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let keep = kept.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                // Once nobody waits for the start any more, the lines are only kept.
                let _ = send.send(line);
            }
        });
        let mut addr = None;
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the server never got ready; output: {seen:#?}"));
            seen.push(line.clone());
            let Ok(object) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if object["message"] == "listening" {
                addr = object["local_addr"].as_str().map(str::to_owned);
            }
            if object["message"] == "shop ready" {
                break;
            }
        }
        ChildServer {
            child,
            lines: kept,
            base_url: format!("http://{}", addr.expect("`listening` comes first")),
        }
    }

    /// Every line the server wrote to its standard output so far (its JSON logs).
    pub(crate) fn logs(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// SIGKILL: the process dies at once, as in a power cut or the OOM killer.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
