//! The server's logs as a deployment meets them: the real binary, its output piped (as under
//! systemd, which sets `JOURNAL_STREAM`), read line by line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const NAME: &str = "Wanjiru Kamau";
const PHONE: &str = "0712345678";
const ADDRESS: &str = "Mpaka Road, House 4";

/// The server process, killed if a test fails before stopping it.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server binary with its data in `dir`, output piped, and `vars` set.
fn spawn(dir: &Path, vars: &[(&str, &str)]) -> Spawned {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pochi-server"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("POCHI_DATA_DIR", dir)
        .env("POCHI_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    Spawned(command.spawn().unwrap())
}

/// Lines of the child's stdout as they come, on a channel.
fn lines_of(child: &mut Spawned) -> mpsc::Receiver<String> {
    let stdout = child.0.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Waits for the JSON line saying the shop is ready; returns the listen address (from the
/// `listening` line before it) and the lines so far.
fn wait_listening(lines: &mpsc::Receiver<String>) -> (String, Vec<String>) {
    let mut seen = Vec::new();
    let mut addr = None;
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no `shop ready` line; output so far: {seen:#?}"));
        seen.push(line.clone());
        let Ok(object) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if object["message"] == "listening" {
            addr = Some(object["local_addr"].as_str().unwrap().to_owned());
        }
        if object["message"] == "shop ready" {
            return (addr.expect("`listening` comes before `shop ready`"), seen);
        }
    }
}

/// SIGTERM, then everything the server still writes until it exits.
fn stop(
    mut spawned: Spawned,
    lines: mpsc::Receiver<String>,
    mut seen: Vec<String>,
) -> (Vec<String>, String) {
    let child = &mut spawned.0;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "the server exited with {exit}");
    seen.extend(lines.try_iter());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (seen, stderr)
}

#[tokio::test]
async fn under_systemd_logs_are_json_lines_with_request_fields_and_nothing_personal() {
    let dir = tempfile::tempdir().unwrap();
    // systemd sets JOURNAL_STREAM for a service whose output goes to the journal; nothing
    // else chooses the format here.
    let mut child = spawn(dir.path(), &[("JOURNAL_STREAM", "8:123456")]);
    let lines = lines_of(&mut child);
    let (addr, seen) = wait_listening(&lines);
    let base = format!("http://{addr}");
    let client = Client::new();

    let products: Value = client
        .get(format!("{base}/api/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product = &products["items"][0];
    let placed = client
        .post(format!("{base}/api/orders"))
        .json(&json!({
            "name": NAME,
            "phone": PHONE,
            "county": "Nairobi",
            "area": "Westlands",
            "address": ADDRESS,
            "items": [{"productId": product["id"], "quantity": 1}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let request_id = placed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let order: Value = placed.json().await.unwrap();
    let tracked = client
        .get(format!(
            "{base}/api/track/{}",
            order["number"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(tracked.status(), StatusCode::OK);

    let (lines, stderr) = stop(child, lines, seen);
    let objects: Vec<Value> = lines
        .iter()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect();
    for object in &objects {
        for key in ["timestamp", "level", "message"] {
            assert!(object.get(key).is_some(), "no {key}: {object}");
        }
    }
    let answered = objects
        .iter()
        .find(|o| o["message"] == "answered" && o["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no `answered` line for request {request_id}: {objects:#?}"));
    assert_eq!(answered["route"], "/api/orders");
    assert_eq!(answered["status"], 201);
    assert_eq!(answered["span"]["method"], "POST");
    assert!(answered["latency_us"].as_u64().is_some(), "{answered}");
    // Route templates, never the raw path (the order number is the customer's key).
    assert!(
        objects
            .iter()
            .any(|o| o["message"] == "answered" && o["route"] == "/api/track/{orderId}"),
        "{objects:#?}"
    );

    let output = format!("{}\n{stderr}", lines.join("\n"));
    for personal in [
        NAME,
        PHONE,
        "712345678",
        ADDRESS,
        order["number"].as_str().unwrap(),
    ] {
        assert!(
            !output.contains(personal),
            "{personal:?} is in the logs:\n{output}"
        );
    }
}

#[tokio::test]
async fn without_a_terminal_the_generated_password_goes_to_a_private_file_not_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(dir.path(), &[("POCHI_LOG_FORMAT", "json")]);
    let lines = lines_of(&mut child);
    let (addr, seen) = wait_listening(&lines);
    let base = format!("http://{addr}");

    let file = dir.path().join("admin-password");
    let text = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    let (user, password) = (field("user"), field("password"));
    let status = Client::new()
        .get(format!("{base}/api/admin/stats"))
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK, "the password in the file signs in");

    let (lines, stderr) = stop(child, lines, seen);
    let output = format!("{}\n{stderr}", lines.join("\n"));
    assert!(
        !output.contains(&password),
        "the password is in the logs:\n{output}"
    );
    assert!(
        lines.iter().any(|l| l.contains("admin-password")),
        "the logs say where the password is:\n{output}"
    );

    // A second start generates nothing and leaves the file alone.
    let mut child = spawn(dir.path(), &[("POCHI_LOG_FORMAT", "json")]);
    let lines = lines_of(&mut child);
    let (_, seen) = wait_listening(&lines);
    let (lines, _) = stop(child, lines, seen);
    assert!(!lines.iter().any(|l| l.contains("admin-password")));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn text_is_the_default_on_a_terminal_and_json_under_systemd() {
    use pochi_server::LogFormat;
    assert_eq!(LogFormat::Auto.resolve(None), LogFormat::Text);
    assert_eq!(LogFormat::Auto.resolve(Some("8:1234")), LogFormat::Json);
    assert_eq!(LogFormat::Text.resolve(Some("8:1234")), LogFormat::Text);
    assert_eq!(LogFormat::Json.resolve(None), LogFormat::Json);
}
