//! The web interface in a real browser: Debian's Chromium, driven through its
//! chromium-driver (WebDriver), against real `qoima node` processes on loopback.
//!
//! `.ci/run` installs both packages. Where they are missing, the tests fail under CI and
//! say so, and elsewhere print what to install and return.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion
#![allow(clippy::disallowed_macros)] // a test may print to its own stderr

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a test waits for.
const PAGE_DEADLINE: Duration = Duration::from_secs(30);

/// Whether the browser is here; under CI its absence is a failure.
fn browser_installed() -> bool {
    let here = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CHROMIUM} and {CHROMEDRIVER} are needed (Debian packages chromium and chromium-driver; .ci/run installs them)"
        );
        eprintln!("SKIP: install Debian's chromium and chromium-driver to run the browser tests");
    }
    here
}

/// A headless Chromium with a fresh profile, asking for pages in `languages`
/// (Accept-Language).
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(languages: &str) -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    // Tests run as root in CI, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-sync",
                    format!("--lang={languages}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": languages },
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        started.elapsed() < PAGE_DEADLINE,
                        "chromedriver did not start a browser: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits until the page's first `<h1>` reads `expected`: after a click the browser
    /// may still show the page it is leaving.
    async fn expect_heading(&self, expected: &str) {
        let started = Instant::now();
        loop {
            let seen = match self.client.find(Locator::Css("h1")).await {
                Ok(h1) => h1.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if seen == expected {
                return;
            }
            assert!(
                started.elapsed() < PAGE_DEADLINE,
                "the heading never read {expected:?}; last {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element `locator` finds.
    async fn click(&self, locator: Locator<'_>) {
        self.client
            .find(locator)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// The whole page's text (empty while a page is being replaced).
    async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the page's text contains every one of `expected`.
    async fn expect_text(&self, expected: &[&str]) {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if expected.iter().all(|e| text.contains(e)) {
                return;
            }
            assert!(
                started.elapsed() < PAGE_DEADLINE,
                "the page never showed {expected:?}; last:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reloads `url` until the page's text contains `expected`.
    async fn reload_until(&self, url: &str, expected: &str) {
        let started = Instant::now();
        loop {
            self.client.goto(url).await.unwrap();
            let text = self.text().await;
            if text.contains(expected) {
                return;
            }
            assert!(
                started.elapsed() < PAGE_DEADLINE,
                "{url} never showed {expected:?}; last:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn quit(mut self) {
        self.client.clone().close().await.unwrap();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A node on `home` serving the interface on a free port; its interface's base address.
fn node_with_ui(home: &Path, peers: &[String]) -> (NodeProcess, String, u16) {
    let (port, ui_port) = two_free_ports();
    let node = start_node_with(
        home,
        port,
        peers,
        "pw",
        &["--ui-port", &ui_port.to_string()],
    );
    eventually("the node to answer", PAGE_DEADLINE, || {
        qoima(home, &["status"]).status.success()
    });
    (node, format!("http://127.0.0.1:{ui_port}"), port)
}

/// The one-time address `qoima ui` hands to the browser.
fn opening_address(home: &Path) -> String {
    let out = qoima(home, &["ui", "--no-open"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Writes a testimony with `qoima add`; its id.
fn add_testimony(home: &Path, title: &str, text: &str) -> String {
    let out = qoima(
        home,
        &[
            "add",
            "testimony",
            "--title",
            title,
            "--text",
            text,
            "--consent",
            "share",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn peer_id(home: &Path) -> String {
    let status = json(home, &["status", "--json"]);
    status["peer_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_opens_the_archive_reads_in_their_language_switches_it_and_locks() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    add_testimony(
        &home,
        "Задержание у акимата",
        "Задержали троих у здания акимата.",
    );
    let (_node, base, _) = node_with_ui(&home, &[]);
    let browser = Browser::start("kk").await;

    // Before `qoima ui`, the browser is not let in, and is told what to do, in Kazakh.
    browser.client.goto(&base).await.unwrap();
    browser.expect_heading("Алдымен `qoima ui` орындаңыз").await;

    // The address `qoima ui` opens: the archive, in the browser's language.
    browser.client.goto(&opening_address(&home)).await.unwrap();
    assert_eq!(browser.client.current_url().await.unwrap().path(), "/");
    browser.expect_heading("Мұрағат").await;
    browser.expect_text(&["Задержание у акимата"]).await;

    // The switcher on the page changes the language, and the choice is remembered.
    browser.click(Locator::LinkText("Русский")).await;
    browser.expect_heading("Архив").await;
    browser.client.goto(&base).await.unwrap();
    browser.expect_heading("Архив").await;

    // A record in full, with its signature in plain words.
    browser
        .click(Locator::LinkText("Задержание у акимата"))
        .await;
    browser
        .expect_text(&["Задержали троих у здания акимата.", "Подпись верна"])
        .await;

    // The lock button: the page says so, and the node and its interface stop.
    browser.click(Locator::Css("form.lock button")).await;
    browser.expect_heading("Заблокировано").await;
    eventually("the node to stop", PAGE_DEADLINE, || {
        qoima(&home, &["status"]).status.code() == Some(3)
    });
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_written_on_a_second_node_appears_in_the_archive_page() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = home(dir.path(), "a");
    let b = home(dir.path(), "b");
    let (_node_a, base, a_port) = node_with_ui(&a, &[]);
    let a_addr = format!("/ip4/127.0.0.1/tcp/{a_port}/p2p/{}", peer_id(&a));
    let _node_b = start_node_with(&b, free_port(), &[a_addr], "pw", &["--no-ui"]);
    // The page's deadline is for the record's journey, not for B's start.
    eventually("node B to connect to A", PAGE_DEADLINE, || {
        let out = qoima(&b, &["status", "--json"]);
        out.status.success()
            && serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|s| {
                s["peers"]
                    .as_array()
                    .is_some_and(|peers| peers.iter().any(|p| p["connected"] == true))
            })
    });
    let browser = Browser::start("en").await;
    browser.client.goto(&opening_address(&a)).await.unwrap();
    browser.expect_heading("Archive").await;
    assert!(!browser.text().await.contains("Written far away"));

    add_testimony(&b, "Written far away", "Seen on the second node.");
    browser.reload_until(&base, "Written far away").await;
    browser.quit().await;
}

/// A page of another program on another port of this machine: when the browser shows it,
/// it posts a form to the interface's lock at once.
fn hostile_page(target: &str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = format!(
        "<!DOCTYPE html><html><body><form method=post action=\"{target}/lock\"></form>\
         <script>document.forms[0].submit()</script></body></html>"
    );
    let server = std::thread::spawn(move || {
        // One page is all it serves.
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    (port, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_on_another_port_cannot_lock_the_node_through_the_browser() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    let (_node, base, _) = node_with_ui(&home, &[]);
    let browser = Browser::start("en").await;
    // The browser holds the interface's cookie, as after `qoima ui`.
    browser.client.goto(&opening_address(&home)).await.unwrap();
    browser.expect_heading("Archive").await;

    let (hostile, server) = hostile_page(&base);
    browser
        .client
        .goto(&format!("http://127.0.0.1:{hostile}/"))
        .await
        .unwrap();
    server.join().unwrap();
    let started = Instant::now();
    while !browser
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with("/lock")
    {
        assert!(started.elapsed() < PAGE_DEADLINE, "the form was never sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The interface refused it and the node runs on: its cookie went along (another port
    // of 127.0.0.1 is the same site), but the browser said where the request came from.
    browser.expect_heading("Request refused").await;
    assert!(qoima(&home, &["status"]).status.success());
    browser.client.goto(&base).await.unwrap();
    browser.expect_heading("Archive").await;
    browser.quit().await;
}

/// What a page fails of the basic accessibility checks, in words: content wider than the
/// window (at 200 % zoom a 1280-pixel screen is 640 CSS pixels wide), a form control
/// without a label, an image without a text alternative, no main landmark or heading.
const ACCESSIBILITY_PROBLEMS: &str = r#"
const problems = [];
const root = document.documentElement;
if (root.scrollWidth > window.innerWidth + 1) {
  problems.push(`${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
}
for (const control of document.querySelectorAll("input, select, textarea")) {
  if (control.type === "hidden" || control.closest("[hidden]")) continue;
  const labelled = control.labels.length > 0 || control.getAttribute("aria-label")
    || control.getAttribute("aria-labelledby");
  if (!labelled) problems.push(`unlabelled ${control.outerHTML.slice(0, 80)}`);
}
for (const button of document.querySelectorAll("button")) {
  if (!button.textContent.trim() && !button.getAttribute("aria-label")) {
    problems.push(`button without text ${button.outerHTML.slice(0, 80)}`);
  }
}
for (const image of document.querySelectorAll("img")) {
  if (!image.hasAttribute("alt")) problems.push(`image without alt ${image.src}`);
}
if (!document.querySelector("main")) problems.push("no <main>");
if (!document.querySelector("h1")) problems.push("no <h1>");
if (!document.documentElement.lang) problems.push("no language on <html>");
return problems;
"#;

#[tokio::test(flavor = "multi_thread")]
async fn every_page_reads_on_a_narrow_window_with_labelled_controls_and_works_by_keyboard() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    let id = add_testimony(
        &home,
        "Очень длинный заголовок свидетельства о задержании у здания акимата Алматы",
        "Текст.",
    );
    let (_node, base, _) = node_with_ui(&home, &[]);
    let browser = Browser::start("ru").await;
    browser.client.goto(&opening_address(&home)).await.unwrap();
    browser.expect_heading("Архив").await;

    // Every page the navigation leads to, and a record.
    let mut pages = vec![format!("{base}/"), format!("{base}/records/{id}")];
    for link in browser
        .client
        .find_all(Locator::Css("header nav a"))
        .await
        .unwrap()
    {
        if let Some(href) = link.attr("href").await.unwrap() {
            let page = format!("{base}{}", href.split('?').next().unwrap());
            if href.starts_with('/') && !pages.contains(&page) {
                pages.push(page);
            }
        }
    }
    for width in [640, 320] {
        browser.client.set_window_size(width, 900).await.unwrap();
        for page in &pages {
            browser.client.goto(page).await.unwrap();
            let problems = browser
                .client
                .execute(ACCESSIBILITY_PROBLEMS, vec![])
                .await
                .unwrap();
            assert_eq!(problems, serde_json::json!([]), "{page} at {width}px");
        }
    }

    // By keyboard: the first Tab reaches the link that skips to the content, and Tab
    // goes on to the lock button.
    browser.client.goto(&format!("{base}/")).await.unwrap();
    let focused = r#"return document.activeElement.className || document.activeElement.tagName"#;
    let body = browser.client.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{E004}").await.unwrap();
    assert_eq!(
        browser.client.execute(focused, vec![]).await.unwrap(),
        serde_json::json!("skip")
    );
    let mut reached_lock = false;
    for _ in 0..40 {
        browser
            .client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        let inside_lock = browser
            .client
            .execute(
                "return document.activeElement.closest('form.lock') !== null",
                vec![],
            )
            .await
            .unwrap();
        if inside_lock == serde_json::json!(true) {
            reached_lock = true;
            break;
        }
    }
    assert!(reached_lock, "Tab never reached the lock button");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wiping_from_the_browser_asks_for_the_word_then_destroys_the_archive() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    add_testimony(&home, "Показания", "Текст.");
    let (_node, _base, _) = node_with_ui(&home, &[]);
    let browser = Browser::start("ru").await;
    browser.client.goto(&opening_address(&home)).await.unwrap();
    browser.expect_heading("Архив").await;
    browser.click(Locator::LinkText("Уничтожить…")).await;
    browser
        .expect_heading("Уничтожить архив на этом компьютере")
        .await;

    // A word typed wrong changes nothing.
    let confirm = browser.client.find(Locator::Id("confirm")).await.unwrap();
    confirm.send_keys("да").await.unwrap();
    browser.click(Locator::Css("form.wipe button")).await;
    browser.expect_text(&["Ничего не изменено"]).await;
    assert!(home.join("key").is_file(), "the key file is still there");
    assert!(qoima(&home, &["status"]).status.success());

    // The word: the key is destroyed, the node stops and the files go.
    let confirm = browser.client.find(Locator::Id("confirm")).await.unwrap();
    confirm.send_keys("УНИЧТОЖИТЬ").await.unwrap();
    browser.click(Locator::Css("form.wipe button")).await;
    browser.expect_heading("Уничтожено").await;
    eventually(
        "the node to stop and the archive to go",
        PAGE_DEADLINE,
        || qoima(&home, &["status"]).status.code() == Some(3) && !home.exists(),
    );
    browser.quit().await;
}

/// A real 16 × 16 JPEG, as a photo to attach.
fn photo(path: &Path) {
    let pixels: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 7 % 251) as u8).collect();
    jpeg_encoder::Encoder::new_file(path, 90)
        .unwrap()
        .encode(&pixels, 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
}

/// Writes a testimony with a photo through the page's form, as a person does, and
/// waits for the record's page.
async fn write_testimony(browser: &Browser, base: &str, title: &str, text: &str, photo: &Path) {
    browser.client.goto(&format!("{base}/write")).await.unwrap();
    browser.click(Locator::Css("a[href*='testimony']")).await;
    let field = |id: &'static str| browser.client.find(Locator::Id(id));
    let started = Instant::now();
    while field("title").await.is_err() {
        assert!(started.elapsed() < PAGE_DEADLINE, "no form to write in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    field("title")
        .await
        .unwrap()
        .send_keys(title)
        .await
        .unwrap();
    field("text").await.unwrap().send_keys(text).await.unwrap();
    field("share").await.unwrap().click().await.unwrap();
    field("attachments")
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    browser
        .click(Locator::Css("form.write button[type=submit]"))
        .await;
    browser.expect_heading(title).await;
    assert!(
        browser
            .client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/records/")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_testimony_written_with_a_photo_is_found_by_another_form_of_its_words() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    let picture = dir.path().join("фото.jpg");
    photo(&picture);
    let (_node, base, _) = node_with_ui(&home, &[]);

    // In Russian: "задержан" finds "Задержания".
    let browser = Browser::start("ru").await;
    browser.client.goto(&opening_address(&home)).await.unwrap();
    browser.expect_heading("Архив").await;
    write_testimony(
        &browser,
        &base,
        "Задержания у акимата",
        "Вечером у здания акимата задержали троих.",
        &picture,
    )
    .await;
    // Stored under a neutral name (a file's own name can name a person or a place).
    browser
        .expect_text(&["attachment-1.jpg · image/jpeg"])
        .await;
    assert!(!browser.text().await.contains("фото"));
    browser
        .reload_until(&format!("{base}/?q=задержан"), "Задержания у акимата")
        .await;
    browser.quit().await;

    // In Kazakh: "Жаңаөзен" finds "Жаңаөзенде".
    let browser = Browser::start("kk").await;
    browser.client.goto(&opening_address(&home)).await.unwrap();
    browser.expect_heading("Мұрағат").await;
    write_testimony(
        &browser,
        &base,
        "Жаңаөзенде ереуіл",
        "Жаңаөзенде мұнайшылар ереуілге шықты.",
        &picture,
    )
    .await;
    browser
        .reload_until(&format!("{base}/?q=Жаңаөзен"), "Жаңаөзенде ереуіл")
        .await;
    assert!(
        !browser.text().await.contains("Задержания у акимата"),
        "only the matching record"
    );
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_file_imported_through_the_page_shows_its_result_and_its_records() {
    if !browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = home(dir.path(), "a");
    let b = home(dir.path(), "b");
    add_testimony(&b, "Принесено на флешке", "Запись со второго архива.");
    let bundle = dir.path().join("drop.qb");
    let out = qoima(&b, &["export", bundle.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_node, base, _) = node_with_ui(&a, &[]);
    let browser = Browser::start("ru").await;
    browser.client.goto(&opening_address(&a)).await.unwrap();
    browser.expect_heading("Архив").await;

    browser.client.goto(&format!("{base}/drops")).await.unwrap();
    browser
        .client
        .find(Locator::Id("bundles"))
        .await
        .unwrap()
        .send_keys(bundle.to_str().unwrap())
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css(
            "form[action='/drops/import'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.expect_heading("Принятые файлы-пакеты").await;
    browser
        .expect_text(&["drop.qb", "1 новая запись сохранена"])
        .await;
    browser
        .reload_until(&format!("{base}/"), "Принесено на флешке")
        .await;
    browser.quit().await;
}
