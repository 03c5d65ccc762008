//! Runs the reference Pochi shop: `cargo run --release -p pochi-server` (configuration from
//! `POCHI_*` variables, see `.env.example`), or `pochi-server hash-password` to hash an admin
//! password for `POCHI_ADMIN_USERS` / an htpasswd file.

use std::{io::BufRead, process::ExitCode};

use pochi_core::PasswordHash;
use pochi_server::{MpesaMode, Settings};

const USAGE: &str = "\
usage: pochi-server                 run the shop (configured by POCHI_* variables)
       pochi-server hash-password   read a password on stdin, print its argon2 hash
       pochi-server --help          this text

Variables: see examples/server/.env.example. With none set, the shop keeps its data in
./pochi-data, listens on 127.0.0.1:8080 and simulates M-Pesa.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve(),
        ["hash-password"] => hash_password(),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn hash_password() -> ExitCode {
    eprintln!("password (then Enter):");
    let mut line = String::new();
    if let Err(err) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("cannot read the password: {err}");
        return ExitCode::FAILURE;
    }
    match PasswordHash::create(line.trim_end_matches(['\r', '\n'])) {
        Ok(hash) => {
            println!("{}", hash.as_str());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    init_logs(settings.log_level());
    for name in settings.unknown_variables() {
        tracing::warn!(variable = %name, "unknown POCHI_ variable ignored (misspelt?)");
    }
    // Before the runtime's threads start: this clears LISTEN_FDS and LISTEN_PID.
    let passed = match pochi_server::take_passed_listener() {
        Ok(passed) => passed,
        Err(err) => {
            eprintln!("pochi-server could not start: the socket passed by systemd: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let stop = shutdown_signal();
        let public_url = settings.public_url().map(str::to_owned);
        let mode = settings.mpesa_mode();
        let started = match passed {
            Some(listener) => pochi_server::start_on(settings, listener).await,
            None => pochi_server::start(settings).await,
        };
        let running = match started {
            Ok(running) => running,
            Err(err) => {
                eprintln!("pochi-server could not start: {err}");
                return ExitCode::FAILURE;
            }
        };
        let url = public_url.unwrap_or_else(|| running.base_url());
        println!();
        println!("  Pochi shop is running (listening on {})", running.local_addr());
        println!("    shop:   {url}/");
        println!("    admin:  {url}/admin");
        println!(
            "    M-Pesa: {}",
            match mode {
                MpesaMode::Simulated =>
                    "simulated (choose the customer's answer on the payment page)",
                MpesaMode::Sandbox => "Daraja sandbox",
                _ => "Daraja production (real money)",
            }
        );
        if let Some((user, password)) = running.generated_admin() {
            println!();
            println!("    admin login (shown only this once): user {user}, password {password}");
            println!("    only its hash is kept; to reset it, delete admin.htpasswd in the data directory");
        }
        println!();
        println!("  Ctrl-C stops it.");
        stop.await;
        tracing::info!("shutting down: finishing requests in flight");
        match running.shutdown().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("pochi-server did not stop cleanly: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

fn init_logs(level: &str) {
    let level = level.parse().unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .init();
}

/// SIGINT (Ctrl-C) or SIGTERM (systemd, containers), watched from the moment this is called
/// (inside the runtime): a signal that comes while the shop starts, when it may already be
/// answering requests, is then a graceful stop rather than the default immediate death.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (term, interrupt) {
                (Ok(mut term), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Err(err), _) | (_, Err(err)) => {
                    tracing::warn!(error = %err, "signals cannot be watched; Ctrl-C still stops");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
