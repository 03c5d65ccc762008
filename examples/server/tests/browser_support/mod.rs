//! What the browser tests stand on: a headless Chromium driven over WebDriver (`fantoccini`
//! and Debian's `/usr/bin/chromedriver`), a fresh shop per test, and waits on page conditions.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to reach a condition. Generous: CI machines are slow, and a wait
/// that is met returns at once.
const PATIENCE: Duration = Duration::from_secs(30);
/// Between two looks at the page while waiting for a condition.
const POLL: Duration = Duration::from_millis(100);

/// One browser at a time: the machines have two cores, and Chromium is heavy.
static ONE_AT_A_TIME: Semaphore = Semaphore::const_new(1);

/// The tested shop as the browser sees it. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Page {
    pub(crate) client: Client,
    pub(crate) base: String,
    pub(crate) admin: (String, String),
    shots: PathBuf,
}

/// Whether Chromium and its driver are installed. Without them the browser tests skip with a
/// reason, except in CI (`CI` set), where they fail.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "{} missing: install Debian's chromium and chromium-driver (scripts/ensure-browser)",
        missing.join(" and ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("browser tests cannot run in CI: {reason}");
    }
    eprintln!("skipping browser test: {reason}");
    false
}

/// Starts a fresh shop (SQLite in a temporary directory, simulated M-Pesa, demo products) and
/// a headless Chromium with a `width` × `height` window, runs `test`, then closes the browser
/// and stops the shop, also when `test` panics.
pub(crate) async fn with_shop<F, Fut>(width: u32, height: u32, test: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()>,
{
    with_shop_configured(width, height, &[], test).await;
}

/// [`with_shop`] with more settings for the shop (`POCHI_MPESA_MODE=manual`, ...).
pub(crate) async fn with_shop_configured<F, Fut>(
    width: u32,
    height: u32,
    vars: &[(&str, &str)],
    test: F,
) where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()>,
{
    with_shop_in_languages(width, height, vars, None, test).await;
}

/// [`with_shop_configured`] with a browser whose preferred `languages` are given as
/// `Accept-Language` writes them (`"sw-KE,sw,en"`; `None`: the browser's default).
pub(crate) async fn with_shop_in_languages<F, Fut>(
    width: u32,
    height: u32,
    vars: &[(&str, &str)],
    languages: Option<&str>,
    test: F,
) where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()>,
{
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.acquire().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut all = vec![
        ("POCHI_DATA_DIR", data.path().to_str().unwrap()),
        ("POCHI_LISTEN", "127.0.0.1:0"),
    ];
    all.extend_from_slice(vars);
    let settings = pochi_server::Settings::from_vars(all).unwrap();
    let running = pochi_server::start(settings).await.unwrap();
    let admin = running
        .generated_admin()
        .expect("a fresh data directory generates an admin login");

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = driver
        .session(profile.path(), width, height, languages)
        .await;
    let page = Page {
        client: client.clone(),
        base: running.base_url(),
        admin,
        shots: screenshot_dir(),
    };
    let outcome = AssertUnwindSafe(test(page)).catch_unwind().await;
    let _ = client.close().await;
    drop(driver);
    running.shutdown().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `$CARGO_TARGET_DIR/browser-screenshots`, else the workspace's `target/browser-screenshots`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `chromedriver` on a free port, killed when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        // Ready when it accepts connections.
        while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not start listening on {addr}"
            );
            std::thread::sleep(POLL);
        }
        Driver { child, addr }
    }

    async fn session(
        &self,
        profile: &Path,
        width: u32,
        height: u32,
        languages: Option<&str>,
    ) -> Client {
        let mut options = json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
        });
        if let Some(languages) = languages {
            // `navigator.languages` and `Accept-Language` both follow this preference.
            options["prefs"] = json!({ "intl.accept_languages": languages });
            if let Some(first) = languages.split(',').next() {
                options["args"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(format!("--lang={first}")));
            }
        }
        // Chromium keeps windows at least 500 px wide; a phone's narrower screen is emulated.
        if width < 500 {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2, "mobile": true, "touch": true },
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://{}", self.addr))
            .await
            .unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Page {
    /// Opens a page of the shop (`/`, `/checkout`, `/track?order=...`).
    pub(crate) async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Waits until an element matching `css` is displayed, and returns it.
    pub(crate) async fn shown(&self, css: &str) -> Element {
        self.until(&format!("{css} is shown"), || async {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            element.is_displayed().await.ok()?.then_some(element)
        })
        .await
    }

    /// Waits until the element matching `css` is displayed and its text contains `text`.
    pub(crate) async fn text_in(&self, css: &str, text: &str) -> Element {
        self.until(&format!("{css} shows {text:?}"), || async {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            let shown = element.is_displayed().await.ok()?;
            let content = element.text().await.ok()?;
            (shown && content.contains(text)).then_some(element)
        })
        .await
    }

    /// Waits until the page's path (and query) starts with `path`.
    pub(crate) async fn at(&self, path: &str) -> url::Url {
        self.until(&format!("the browser is at {path}"), || async {
            let url = self.client.current_url().await.ok()?;
            let here = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            here.starts_with(path).then_some(url)
        })
        .await
    }

    /// Polls `check` until it gives a value; panics after [`PATIENCE`], naming `what`.
    pub(crate) async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if started.elapsed() > PATIENCE {
                let url = self.client.current_url().await.map(|u| u.to_string());
                self.save_shot("timed-out").await;
                panic!("timed out waiting until {what} (at {url:?}; see timed-out.png)");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the element matching `css` once it is shown.
    pub(crate) async fn click(&self, css: &str) {
        self.shown(css).await.click().await.unwrap();
    }

    /// Replaces the text of the field matching `css`.
    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.shown(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub(crate) async fn choose(&self, css: &str, value: &str) {
        let select = self.shown(css).await;
        self.until(&format!("{css} offers {value:?}"), || async {
            select
                .find(Locator::Css(&format!("option[value=\"{value}\"]")))
                .await
                .ok()
        })
        .await;
        select.select_by_value(value).await.unwrap();
    }

    /// Runs `script` in the page and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Checks the page shows no raw data (JSON, `null`, `undefined`, `[object ...]`), then saves
    /// a PNG of the window as `<name>.png` in the screenshot directory.
    pub(crate) async fn shot(&self, name: &str) {
        let text = self.eval("return document.body.innerText;").await;
        let text = text.as_str().unwrap_or_default();
        for raw in ["null", "undefined", "[object", "{\"", "NaN"] {
            assert!(
                !text.contains(raw),
                "{name}: the page shows {raw:?}:\n{text}"
            );
        }
        self.save_shot(name).await;
    }

    async fn save_shot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
    }
}
