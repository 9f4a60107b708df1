//! `qoima-bench web-pages`: the web interface's pages and API on the large archive of
//! `query`, server time (routing, reading the archive, rendering), through the real
//! router with the security layer, as a browser's requests reach it.

use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use qoima_web::{STYLE_CSS, Ui, UiToken, router};
use tower::ServiceExt as _;

use crate::corpus::{COMMON_WORD, KAZAKH_WORD, RARE_WORD};
use crate::util::{Table, median, min_max, ms, timed};

/// Options of `web-pages`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the archive (the archive of `query` with as many is reused).
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Bytes of text per record.
    #[arg(long, default_value_t = 1000)]
    text_bytes: usize,
    /// Authors the records are spread over.
    #[arg(long, default_value_t = 8)]
    authors: usize,
    /// Requests of each page (the median is reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

/// The port the router is told it serves; nothing listens, requests go to it directly.
const PORT: u16 = 4271;

fn request(path: &str, token: &UiToken) -> anyhow::Result<Request<Body>> {
    Ok(Request::get(path)
        .header("host", format!("127.0.0.1:{PORT}"))
        .header("cookie", format!("qoima_ui_{PORT}={}", token.as_str()))
        .header("accept-language", "ru")
        .body(Body::empty())?)
}

/// Runs the benchmark and prints its table.
pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.records > 0 && args.runs > 0, "nothing to measure");
    println!(
        "web-pages: the interface on {} records, median of {} requests",
        args.records, args.runs
    );
    let home = crate::query::shared_archive(args.records, args.text_bytes, args.authors)?;
    let key = crate::query::archive_key(&home)?;
    let store = qoima_store::Store::open(&home, &key).context("opening the archive")?;
    // Any record for the record page: the newest.
    let newest = store
        .list(&qoima_store::ListQuery {
            kind: None,
            author: None,
            since_ms: None,
            limit: 1,
            ..qoima_store::ListQuery::default()
        })?
        .pop()
        .context("an empty archive")?;
    let token = UiToken::generate()?;
    let app = router(Ui::new(store, token.clone()), PORT);
    let runtime = tokio::runtime::Runtime::new()?;

    let pages = [
        ("archive, first page".to_owned(), "/".to_owned()),
        ("archive, page 100".to_owned(), "/?page=100".to_owned()),
        (
            "archive, detentions".to_owned(),
            "/?kind=detention".to_owned(),
        ),
        (
            format!("search {COMMON_WORD} (common)"),
            format!("/?q={COMMON_WORD}"),
        ),
        (
            format!("search {RARE_WORD} (rare)"),
            format!("/?q={RARE_WORD}"),
        ),
        (
            format!("search {KAZAKH_WORD} (Kazakh)"),
            format!("/?q={KAZAKH_WORD}"),
        ),
        (
            format!("search {COMMON_WORD} + kind"),
            format!("/?q={COMMON_WORD}&kind=incident"),
        ),
        ("record page".to_owned(), format!("/records/{}", newest.id)),
        ("API, first page".to_owned(), "/api/v1/records".to_owned()),
    ];
    let mut table = Table::new(&["page", "bytes", "median ms", "min-max ms"]);
    let mut worst = Duration::ZERO;
    for (label, path) in pages {
        let mut times = Vec::with_capacity(args.runs);
        let mut bytes = 0;
        // One warm-up request, not counted.
        for run in 0..=args.runs {
            let request = request(&path, &token)?;
            let (answer, t) = timed(|| {
                runtime.block_on(async {
                    let response = app.clone().oneshot(request).await?;
                    let status = response.status();
                    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                    anyhow::Ok((status, body.len()))
                })
            });
            let (status, len) = answer?;
            anyhow::ensure!(status == StatusCode::OK, "{path}: {status}");
            bytes = len;
            if run > 0 {
                times.push(t);
            }
        }
        let (min, max) = min_max(&times);
        let median = median(&times);
        worst = worst.max(median);
        table.row(vec![
            label,
            bytes.to_string(),
            ms(median),
            format!("{}-{}", ms(min), ms(max)),
        ]);
    }
    table.print();
    println!(
        "  slowest median {} ms (goal < 100 ms); JavaScript shipped 0 bytes, CSS {} bytes (goal < 100 KB together)",
        ms(worst),
        STYLE_CSS.len()
    );
    Ok(())
}
