//! Runs the reference Pochi shop: `cargo run --release -p pochi-server` (configuration from
//! `POCHI_*` variables, see `.env.example`), or `pochi-server hash-password` to hash an admin
//! password for `POCHI_ADMIN_USERS` / an htpasswd file, or `pochi-server backup` /
//! `pochi-server restore [--force] BACKUP` with the server's own configuration (see the
//! `backup` module), or `pochi-server mpesa register-c2b` to register the shop's C2B URLs with
//! Daraja.

use std::{
    io::{BufRead, IsTerminal},
    process::ExitCode,
};

use pochi_core::PasswordHash;
use pochi_server::{
    LogFormat, MpesaMode, Settings,
    backup::{self, IfShopExists},
};

const USAGE: &str = "\
usage: pochi-server                 run the shop (configured by POCHI_* variables)
       pochi-server hash-password   read a password on stdin, print its argon2 hash
       pochi-server backup          back up the database and media into POCHI_BACKUP_DIR
       pochi-server restore [--force] BACKUP
                                    restore a backup (server stopped); --force replaces a
                                    database that already holds a shop
       pochi-server mpesa register-c2b
                                    register the shop's C2B validation and confirmation
                                    URLs with Daraja (POCHI_MPESA_C2B=on, sandbox or
                                    production)
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
        ["backup"] => run_backup(),
        ["mpesa", "register-c2b"] => run_register_c2b(),
        ["restore", path] => run_restore(path, IfShopExists::Refuse),
        ["restore", "--force", path] | ["restore", path, "--force"] => {
            run_restore(path, IfShopExists::Replace)
        }
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

/// The settings and a runtime for a one-shot command, or the exit code of why not.
fn one_shot() -> Result<(Settings, tokio::runtime::Runtime), ExitCode> {
    let settings = Settings::from_env().map_err(|err| {
        eprintln!("configuration error: {err}");
        ExitCode::from(2)
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("cannot start the async runtime: {err}");
            ExitCode::FAILURE
        })?;
    Ok((settings, runtime))
}

fn run_backup() -> ExitCode {
    let (settings, runtime) = match one_shot() {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    match runtime.block_on(backup::backup(&settings)) {
        Ok(report) => {
            let rows = |t: &str| report.manifest.rows.get(t).copied().unwrap_or(0);
            println!(
                "backup: {} ({} products, {} orders, {} payments, {} media files) in {:.1}s",
                report.path.display(),
                rows("products"),
                rows("orders"),
                rows("payments"),
                report.manifest.media_files,
                report.took.as_secs_f64()
            );
            for old in report.removed {
                println!("backup: removed {}", old.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("backup failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run_register_c2b() -> ExitCode {
    let (settings, runtime) = match one_shot() {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    match runtime.block_on(pochi_server::register_c2b(&settings)) {
        Ok(registered) => {
            println!(
                "register-c2b: Daraja said {:?} (conversation {})",
                registered.message, registered.conversation_id
            );
            println!(
                "register-c2b: validation URL   {}",
                registered.validation_url
            );
            println!(
                "register-c2b: confirmation URL {}",
                registered.confirmation_url
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("register-c2b failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run_restore(path: &str, if_exists: IfShopExists) -> ExitCode {
    let (settings, runtime) = match one_shot() {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    match runtime.block_on(backup::restore(
        &settings,
        std::path::Path::new(path),
        if_exists,
    )) {
        Ok(report) => {
            let rows = |t: &str| report.manifest.rows.get(t).copied().unwrap_or(0);
            println!(
                "restore: {} taken {} ({} products, {} orders, {} payments, {} media files, checked) in {:.1}s",
                path,
                report.manifest.created_at,
                rows("products"),
                rows("orders"),
                rows("payments"),
                report.manifest.media_files,
                report.took.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("restore failed: {err}");
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
    let format = settings
        .log_format()
        .resolve(std::env::var("JOURNAL_STREAM").ok().as_deref());
    init_logs(settings.log_level(), format);
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
        let mpesa = match mode {
            MpesaMode::Simulated => "simulated (choose the customer's answer on the payment page)",
            MpesaMode::Sandbox => "Daraja sandbox",
            MpesaMode::Manual => "manual (customers pay your till, paybill or phone and send the code; you verify each payment in the dashboard)",
            _ => "Daraja production (real money)",
        };
        let on_terminal = std::io::stdout().is_terminal();
        if !on_terminal && running.generated_admin().is_some() {
            // A journal or a log file would keep the password for anyone who reads the logs:
            // write it to a file only the service user can read, and say where.
            match running.save_generated_admin() {
                Ok(Some(path)) => tracing::warn!(
                    file = %path.display(),
                    "an admin login was generated: its password is in this file (readable by the service user only); sign in, then delete the file"
                ),
                Ok(None) => {}
                Err(err) => {
                    eprintln!("pochi-server could not keep the generated admin password: {err}");
                    let _ = running.shutdown().await;
                    return ExitCode::FAILURE;
                }
            }
        }
        if format == LogFormat::Json {
            tracing::info!(shop = %format!("{url}/"), admin = %format!("{url}/admin"), mpesa, "shop ready");
        } else {
            println!();
            println!("  Pochi shop is running (listening on {})", running.local_addr());
            println!("    shop:   {url}/");
            println!("    admin:  {url}/admin");
            println!("    M-Pesa: {mpesa}");
        }
        if let Some((user, password)) = running.generated_admin().filter(|_| on_terminal) {
            // A person is watching: show it once; it is never stored.
            println!();
            println!("    admin login (shown only this once): user {user}, password {password}");
            println!("    only its hash is kept; to reset it, delete admin.htpasswd in the data directory");
        }
        if format == LogFormat::Text {
            println!();
            println!("  Ctrl-C stops it.");
        }
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

fn init_logs(level: &str, format: LogFormat) {
    let level = level.parse().unwrap_or(tracing::Level::INFO);
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    if format == LogFormat::Json {
        // One object per line: timestamp, level, message and the event's fields at the top
        // level (route, status, latency_us for each request), the request's span (request_id,
        // method) under "span".
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
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
