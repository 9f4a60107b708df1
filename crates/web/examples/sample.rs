//! Serves the interface over a sample archive in a temporary directory, for looking at
//! the pages while working on them (no node, no passphrase):
//!
//! ```sh
//! cargo run -p qoima-web --example sample [RECORDS] [PORT]
//! ```
//!
//! It prints the address that lets a browser in, and stops at Ctrl-C, removing the
//! archive.

use qoima_core::{Place, RecordKind, VerifiedRecord, fixtures};
use qoima_store::{ArchiveKey, Store};
use qoima_web::{Ui, UiToken, bind_local, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let records: usize = args.next().map_or(Ok(120), |a| a.parse())?;
    let port: u16 = args.next().map_or(Ok(4271), |a| a.parse())?;

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path(), &ArchiveKey::from_bytes([7; 32]))?;
    let trusted = fixtures::author(1);
    for record in fixtures::chain(&trusted, records, 400) {
        store.insert_local(&record)?;
    }
    store.trust_add(&trusted.public(), "Aigerim")?;
    let stranger = fixtures::author(2);
    let mut body = fixtures::body(
        &stranger,
        1,
        None,
        "Толпу разогнали у акимата.\nЗадержаны трое.",
    );
    body.kind = RecordKind::Incident;
    body.title = "Разгон у акимата".into();
    body.created.unix_ms += 86_400_000 * 400;
    body.place = Some(Place {
        name: "Алматы, площадь Республики".into(),
        point: None,
    });
    body.attachments = vec![fixtures::attachment(
        b"not stored here",
        "image/jpeg",
        "photo.jpg",
    )];
    store.insert_local(&VerifiedRecord::sign(&body, &stranger)?)?;

    let token = UiToken::generate()?;
    let listener = bind_local(port).await?;
    let ui = Ui::new(store, token);
    // One use, one minute: open it at once.
    println!("{}", ui.unlock_codes().url(listener.local_addr()?)?);
    serve(listener, ui, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
