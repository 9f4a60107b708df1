//! `/write`: a record written through the interface is cleaned, signed, stored and
//! announced to the node; every bound is a translated page that keeps what was typed
//! and stores nothing; cross-origin and cookie-less posts change nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, PORT, archive, get, header, send};
use qoima_core::{Details, RecordId, RecordKind, WitnessRelation};
use qoima_store::{ArchiveKey, Store};
use qoima_web::{NodeControl, Ui, UiToken, router};

/// A node that counts the records it was told of.
#[derive(Default)]
struct CountingNode {
    written: AtomicUsize,
}

impl NodeControl for CountingNode {
    fn lock(&self) -> bool {
        false
    }

    fn written(&self) -> bool {
        self.written.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// The test archive with a persona to sign with, the router over it (with a counting
/// node behind it), the token and the node.
struct Setup {
    archive: common::Archive,
    app: Router,
    token: UiToken,
    node: Arc<CountingNode>,
    persona: qoima_core::AuthorKey,
}

fn setup() -> Setup {
    let (archive, mut store) = archive();
    let persona = store.new_persona("main").unwrap().key;
    let token = UiToken::generate().unwrap();
    let node = Arc::new(CountingNode::default());
    let app = router(Ui::new(store, token.clone()).with_node(node.clone()), PORT);
    Setup {
        archive,
        app,
        token,
        node,
        persona,
    }
}

/// A second handle on the archive, as the node holds one.
fn reopen(dir: &Path) -> Store {
    Store::open(dir, &ArchiveKey::from_bytes([7; 32])).unwrap()
}

/// Files under the archive's attachment directories: none may be left by a failed write.
fn stored_files(dir: &Path) -> usize {
    fn count(dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { count(&p) } else { 1 })
            .sum()
    }
    ["media", "blobs", "tmp"]
        .iter()
        .map(|d| count(&dir.join(d)))
        .sum()
}

/// A multipart body, built by hand as a browser sends it.
struct Form {
    body: Vec<u8>,
}

const BOUNDARY: &str = "----qoimaFormBoundary7MA4YWxkTrZu0gW";

impl Form {
    fn new() -> Form {
        Form { body: Vec::new() }
    }

    fn text(mut self, name: &str, value: &str) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
        self
    }

    fn file(mut self, file_name: &str, content_type: &str, bytes: &[u8]) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// The POST of this form from the interface's own page, in `lang`.
    fn post(mut self, token: &UiToken, lang: &str) -> Request<Body> {
        self.body
            .extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        Request::post(format!("/write?lang={lang}"))
            .header("host", HOST)
            .header("origin", format!("http://{HOST}"))
            .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(chunked(self.body))
            .unwrap()
    }
}

/// `bytes` as a body arriving in pieces of 64 KiB, as from a socket: the fields before a
/// bound is exceeded are read.
fn chunked(bytes: Vec<u8>) -> Body {
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures::stream::iter(pieces))
}

/// A request whose whole body is over the bound in one piece: nothing of the form can
/// be read, and the page says only what went wrong.
#[tokio::test]
async fn a_body_over_the_bound_in_one_piece_is_refused_in_words() {
    let s = setup();
    let mut request = testimony().post(&s.token, "ru");
    *request.body_mut() = Body::from(vec![b'a'; 51 * 1024 * 1024]);
    assert_refused(
        &s,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Форма с вложениями больше 50 МБ. Ничего не сохранено.",
    )
    .await;
}

/// A little-endian EXIF block with the camera make and a GPS position, each marked.
fn exif_with_gps() -> Vec<u8> {
    let make = b"QOIMA-SECRET-MAKE\0";
    let latitude = b"QOIMA-SECRET-GPS\0";
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    let gps_at: u32 = 8 + 2 + 2 * 12 + 4;
    let make_at: u32 = gps_at + 2 + 2 * 12 + 4;
    let latitude_at = make_at + make.len() as u32;
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(
        &mut tiff,
        0x010F,
        2,
        make.len() as u32,
        make_at.to_le_bytes(),
    );
    entry(&mut tiff, 0x8825, 4, 1, gps_at.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(
        &mut tiff,
        0x0012,
        2,
        latitude.len() as u32,
        latitude_at.to_le_bytes(),
    );
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(make);
    tiff.extend_from_slice(latitude);
    [&b"Exif\0\0"[..], &tiff].concat()
}

/// A real 16 × 16 JPEG carrying [`exif_with_gps`], as a phone's camera leaves it.
fn photo_with_gps() -> Vec<u8> {
    let pixels: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 7 % 251) as u8).collect();
    let mut encoded = Vec::new();
    jpeg_encoder::Encoder::new(&mut encoded, 90)
        .encode(&pixels, 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let exif = exif_with_gps();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    segment.extend_from_slice(&exif);
    [&encoded[..2], &segment[..], &encoded[2..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A testimony form in Russian and Kazakh.
fn testimony() -> Form {
    Form::new()
        .text("kind", "testimony")
        .text("title", "Задержание у акимата")
        .text(
            "text",
            "Мен акиматтың алдында тұрдым. Полиция троих задержала в 14:30.",
        )
        .text("occurred_at", "2022-01-05")
        .text("place", "Алматы, площадь Республики")
        .text("tags", "Алматы, қаңтар")
        .text("lang", "ru")
        .text("witness", "W-17")
        .text("relation", "eyewitness")
        .text("share", "yes")
}

#[tokio::test]
async fn a_testimony_with_a_photo_is_stored_without_its_location_and_signed() {
    let s = setup();
    let photo = photo_with_gps();
    assert!(contains(&photo, b"QOIMA-SECRET-GPS"));
    let request = testimony()
        .file("IMG_20220105_143012.jpg", "image/jpeg", &photo)
        .post(&s.token, "ru");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let location = header(&response, "location").to_owned();
    let id = written_id(&response);
    assert_eq!(
        s.node.written.load(Ordering::SeqCst),
        1,
        "the node was told"
    );

    let store = reopen(s.archive.dir.path());
    let record = store.get(&id).unwrap().record;
    let body = record.body();
    assert_eq!(body.author, s.persona, "signed by the persona");
    assert_eq!(body.kind, RecordKind::Testimony);
    assert_eq!(body.title, "Задержание у акимата");
    assert_eq!(
        body.text,
        "Мен акиматтың алдында тұрдым. Полиция троих задержала в 14:30."
    );
    assert_eq!(
        body.place.as_ref().unwrap().name,
        "Алматы, площадь Республики"
    );
    assert_eq!(body.tags, ["Алматы", "қаңтар"]);
    assert_eq!(body.lang, "ru");
    assert_eq!(
        body.details,
        Details::Testimony {
            witness_ref: "W-17".into(),
            relation: WitnessRelation::Eyewitness,
        }
    );
    assert!(body.consent.share_with_organisations);
    assert!(!body.consent.publish);
    let [attachment] = &body.attachments[..] else {
        panic!("{:?}", body.attachments);
    };
    assert_eq!(
        attachment.file_name, "attachment-1.jpg",
        "the camera's name is gone"
    );
    assert_eq!(attachment.media_type, "image/jpeg");
    let mut stored = Vec::new();
    std::io::Read::read_to_end(
        &mut store.read_blob(&attachment.blake3).unwrap().unwrap(),
        &mut stored,
    )
    .unwrap();
    assert!(!contains(&stored, b"QOIMA-SECRET"), "no GPS, no camera");
    assert!(stored.len() < photo.len());
    match qoima_media::strip(&stored).unwrap() {
        qoima_media::Outcome::Stripped(again) => assert!(again.removed.is_empty()),
        other => panic!("{other:?}"),
    }
    // Encrypted at rest: the photo's bytes are in no file of the archive.
    let file = std::fs::read(store.blob_path(&attachment.blake3).unwrap()).unwrap();
    assert!(!contains(&file, &stored[..64]));

    // The record's page shows it, in Kazakh as typed.
    let (response, page) = send(&s.app, get(&location, &s.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(page.contains("Задержание у акимата"), "{page}");
    assert!(page.contains("Мен акиматтың алдында тұрдым."), "{page}");
}

#[tokio::test]
async fn each_kind_has_its_form_and_the_first_page_offers_them() {
    let s = setup();
    let (response, page) = send(&s.app, get("/write?lang=ru", &s.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    for kind in ["testimony", "incident", "detention", "evidence"] {
        assert!(
            page.contains(&format!("href=\"/write?kind={kind}\"")),
            "{page}"
        );
    }
    assert!(
        page.contains("<a href=\"/write\">Написать</a>"),
        "nav: {page}"
    );
    let (_, page) = send(&s.app, get("/write?kind=incident&lang=kk", &s.token)).await;
    assert!(page.contains("enctype=\"multipart/form-data\""));
    assert!(page.contains("name=\"incident_type\""));
    assert!(
        page.contains("<option value=\"torture\">азаптау</option>"),
        "{page}"
    );
    assert!(!page.contains("name=\"witness\""));
    assert!(
        page.contains("жасырын деректерінен айырылады"),
        "metadata notice: {page}"
    );
    assert!(!page.contains("<script"));
    let (_, page) = send(&s.app, get("/write?kind=detention&lang=en", &s.token)).await;
    for field in [
        "person",
        "facility",
        "authority",
        "title",
        "text",
        "attachments",
    ] {
        assert!(
            page.contains(&format!("<label for=\"{field}\">")),
            "{field}: {page}"
        );
    }
    assert!(page.contains("At most 8 files, each at most 25 MB, the whole form at most 50 MB."));
    let (response, _) = send(&s.app, get("/write?kind=retraction", &s.token)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_incident_and_a_detention_are_written_with_their_own_fields() {
    let s = setup();
    let request = Form::new()
        .text("kind", "incident")
        .text("title", "Разгон")
        .text("incident_type", "dispersal")
        .post(&s.token, "en");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let request = Form::new()
        .text("kind", "detention")
        .text("title", "Задержан активист")
        .text("person", "P-3")
        .text("facility", "ИВС Алматы")
        .file("", "application/octet-stream", b"")
        .post(&s.token, "en");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let store = reopen(s.archive.dir.path());
    let record = store.get(&written_id(&response)).unwrap().record;
    assert_eq!(
        record.body().seq,
        2,
        "the second record of the persona's chain"
    );
    assert!(
        record.body().attachments.is_empty(),
        "no file chosen, none attached"
    );
    assert_eq!(
        record.body().details,
        Details::Detention {
            person_ref: "P-3".into(),
            facility: "ИВС Алматы".into(),
            authority: String::new(),
        }
    );
    assert!(!record.body().consent.share_with_organisations);
    assert_eq!(s.node.written.load(Ordering::SeqCst), 2);
}

/// Sends `form` and checks the write was refused with `status` and `message`, and that
/// nothing was stored and the node was not told.
async fn assert_refused(
    s: &Setup,
    request: Request<Body>,
    status: StatusCode,
    message: &str,
) -> String {
    let records = reopen(s.archive.dir.path()).record_count().unwrap();
    let (response, page) = send(&s.app, request).await;
    assert_eq!(response.status(), status, "{page}");
    assert!(page.contains(message), "{message}\n{page}");
    let store = reopen(s.archive.dir.path());
    assert_eq!(store.record_count().unwrap(), records, "nothing stored");
    assert_eq!(stored_files(s.archive.dir.path()), 0, "no attachment left");
    assert_eq!(s.node.written.load(Ordering::SeqCst), 0);
    page
}

#[tokio::test]
async fn a_form_without_a_title_comes_back_with_what_was_typed() {
    let s = setup();
    let request = testimony()
        .text("title", "")
        .file("photo.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "ru");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Поле «Заголовок» обязательно.",
    )
    .await;
    assert!(
        page.contains("Мен акиматтың алдында тұрдым."),
        "text kept: {page}"
    );
    assert!(
        page.contains("value=\"Алматы, площадь Республики\""),
        "{page}"
    );
    assert!(page.contains("value=\"W-17\""), "{page}");
    assert!(
        page.contains("<option value=\"eyewitness\" selected>"),
        "{page}"
    );
    assert!(
        page.contains("id=\"share\" name=\"share\" value=\"yes\" checked"),
        "{page}"
    );
    assert!(
        page.contains("Браузер не может сохранить выбранные файлы"),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn a_field_over_the_records_bound_is_named_with_its_bound() {
    let s = setup();
    let long_title = "ж".repeat(513); // 1026 bytes
    let request = Form::new()
        .text("kind", "evidence")
        .text("title", &long_title)
        .post(&s.token, "kk");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "«Тақырып» өрісі тым ұзын: ең көбі 1024 байт",
    )
    .await;
    assert!(
        page.contains(&long_title),
        "the title is shown again to be shortened"
    );

    let request = testimony()
        .text("witness", &"x".repeat(513))
        .post(&s.token, "en");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "“Witness (a code name, never the real name)” is too long: at most 512 bytes",
    )
    .await;

    let tags: Vec<String> = (0..65).map(|n| format!("t{n}")).collect();
    let request = testimony()
        .text("tags", &tags.join(","))
        .post(&s.token, "ru");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "«Метки»: не больше 64 меток.",
    )
    .await;

    let request = testimony()
        .text("occurred_at", "вчера")
        .post(&s.token, "en");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "“When it happened” is not understood.",
    )
    .await;
}

#[tokio::test]
async fn an_attachment_over_its_bound_is_refused() {
    let s = setup();
    let big = vec![b'a'; 25 * 1024 * 1024 + 1];
    let request = testimony()
        .file("small.txt", "text/plain", b"notes")
        .file("video.mp4", "video/mp4", &big)
        .post(&s.token, "ru");
    let page = assert_refused(
        &s,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Вложение 2 больше 25 МБ. Ничего не сохранено.",
    )
    .await;
    assert!(page.contains("Задержание у акимата"), "{page}");
}

#[tokio::test]
async fn more_attachments_than_allowed_are_refused() {
    let s = setup();
    let mut form = testimony();
    for n in 0..9 {
        form = form.file(
            &format!("note{n}.txt"),
            "text/plain",
            format!("note {n}").as_bytes(),
        );
    }
    assert_refused(
        &s,
        form.post(&s.token, "ru"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "Не больше 8 вложений на запись. Ничего не сохранено.",
    )
    .await;
}

#[tokio::test]
async fn a_form_over_the_requests_bound_is_refused() {
    let s = setup();
    let part = vec![b'a'; 17 * 1024 * 1024];
    let request = testimony()
        .file("a.bin", "application/octet-stream", &part)
        .file("b.bin", "application/octet-stream", &part)
        .file("c.bin", "application/octet-stream", &part)
        .post(&s.token, "en");
    let page = assert_refused(
        &s,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "The form with its attachments is larger than 50 MB. Nothing was stored.",
    )
    .await;
    assert!(page.contains("value=\"W-17\""), "{page}");
}

#[tokio::test]
async fn a_damaged_photo_is_refused_and_nothing_is_stored() {
    let s = setup();
    let photo = photo_with_gps();
    let damaged = &photo[..photo.len() / 2];
    let request = testimony()
        .file("fine.txt", "text/plain", b"notes")
        .file("photo.jpg", "image/jpeg", damaged)
        .post(&s.token, "en");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Attachment 2 is damaged: its hidden data cannot be removed safely, so nothing was stored.",
    )
    .await;
}

#[tokio::test]
async fn a_post_without_the_cookie_or_from_another_origin_stores_nothing() {
    let s = setup();
    let mut request = testimony()
        .file("photo.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "en");
    request.headers_mut().remove("cookie");
    assert_refused(&s, request, StatusCode::UNAUTHORIZED, "").await;

    let mut request = testimony()
        .file("photo.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "en");
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert_refused(&s, request, StatusCode::FORBIDDEN, "").await;
}

#[tokio::test]
async fn without_a_persona_the_page_says_how_to_make_one() {
    let (_archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let app = router(Ui::new(store, token.clone()), PORT);
    let (response, page) = send(&app, get("/write?kind=testimony&lang=ru", &token)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(page.contains("qoima key new --name ИМЯ"), "{page}");
    let (response, page) = send(&app, testimony().post(&token, "kk")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(page.contains("qoima key new --name ЕСІМ"), "{page}");
}

/// A human-rights centre's key, trusted here under a name, whose key for sealed records
/// (from its seed) has reached this archive in the record it signed.
struct Recipient {
    key: qoima_core::AuthorKey,
    secret: qoima_core::SealingSecret,
}

/// [`setup`], with [`Recipient`] in the archive.
fn setup_with_recipient() -> (Setup, Recipient) {
    let (archive, mut store) = archive();
    let recipient = publish_sealing_key(&mut store, 5, "Правозащитный центр");
    let persona = store.new_persona("main").unwrap().key;
    let token = UiToken::generate().unwrap();
    let node = Arc::new(CountingNode::default());
    let app = router(Ui::new(store, token.clone()).with_node(node.clone()), PORT);
    let setup = Setup {
        archive,
        app,
        token,
        node,
        persona,
    };
    (setup, recipient)
}

/// Author `n`'s key for sealed records, published in a record it signs, stored here,
/// and the author trusted under `name`.
fn publish_sealing_key(store: &mut Store, n: u8, name: &str) -> Recipient {
    let author = qoima_core::fixtures::author(n);
    let secret = qoima_core::SealingSecret::from_seed([n; 32]);
    let mut body = qoima_core::fixtures::body(&author, 1, None, "");
    body.kind = RecordKind::EncryptionKey;
    body.details = Details::EncryptionKey {
        x25519: secret.public(),
    };
    body.tags.clear();
    body.occurred = None;
    body.version = body.needed_version();
    let record = qoima_core::VerifiedRecord::sign(&body, &author).unwrap();
    assert!(store.insert_local(&record).unwrap());
    store.trust_add(&author.public(), name).unwrap();
    Recipient {
        key: author.public(),
        secret,
    }
}

/// The id in the address the browser is sent to after a write.
fn written_id(response: &axum::http::Response<Body>) -> RecordId {
    let location = header(response, "location");
    let path = location.split('?').next().unwrap();
    path.strip_prefix("/records/").unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_form_offers_the_trusted_keys_that_can_receive_a_sealed_record() {
    let (s, recipient) = setup_with_recipient();
    let (response, page) = send(&s.app, get("/write?kind=testimony&lang=ru", &s.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let fingerprint = recipient.key.fingerprint().to_string();
    assert!(
        page.contains(&format!(
            "name=\"seal_to\" value=\"{}\">",
            recipient.key.to_hex()
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("Правозащитный центр ({fingerprint})")),
        "{page}"
    );
    // Aigerim is trusted but has published no key for sealed records: not offered.
    assert!(
        !page.contains(&s.archive.trusted.public().to_hex()),
        "{page}"
    );
    assert!(
        page.contains("Запечатывание не скрывает, что запись существует"),
        "{page}"
    );
    assert!(
        page.contains("Координаты точны: по ним можно найти дом свидетеля"),
        "{page}"
    );
    assert!(
        page.contains("id=\"lat\" name=\"lat\" value=\"\""),
        "{page}"
    );

    // Without such a key, the form says how to get one instead of an empty list.
    let s = setup();
    let (_, page) = send(&s.app, get("/write?kind=testimony&lang=en", &s.token)).await;
    assert!(!page.contains("name=\"seal_to\""), "{page}");
    assert!(
        page.contains("No one can receive sealed records from this archive yet."),
        "{page}"
    );
    assert!(page.contains("“qoima key sealing”"), "{page}");
}

#[tokio::test]
async fn a_sealed_testimony_is_read_by_its_recipient_and_by_no_one_else() {
    let (s, recipient) = setup_with_recipient();
    let photo = photo_with_gps();
    let request = testimony()
        .text("lat", "43.2383")
        .text("lon", "76.9453")
        .text("seal_to", &recipient.key.to_hex())
        .file("IMG_20220105_143012.jpg", "image/jpeg", &photo)
        .post(&s.token, "ru");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let id = written_id(&response);
    assert_eq!(s.node.written.load(Ordering::SeqCst), 1);

    let store = reopen(s.archive.dir.path());
    let record = store.get(&id).unwrap().record;
    let body = record.body();
    // What everyone holding the record reads.
    assert_eq!(body.author, s.persona);
    assert_eq!(body.title, "Sealed record");
    assert_eq!(body.text, "");
    assert_eq!(body.place, None);
    assert_eq!(body.details, Details::None);
    assert_eq!(body.tags, ["Алматы", "қаңтар"], "tags stay public");
    assert!(body.consent.share_with_organisations);
    let [public] = &body.attachments[..] else {
        panic!("{:?}", body.attachments);
    };
    assert_eq!(public.media_type, "application/octet-stream");
    assert_eq!(public.file_name, "");
    for secret in [&b"W-17"[..], "Задержание у акимата".as_bytes(), b"Republic"] {
        assert!(!contains(record.bytes(), secret));
    }
    let sealed = body.sealed.as_ref().unwrap();
    assert_eq!(sealed.recipients.len(), 2, "the recipient and the author");

    // Someone else's key opens nothing.
    let outsider = qoima_core::SealingSecret::from_seed([9; 32]);
    assert!(
        qoima_core::open_sealed(sealed, &body.author, &outsider)
            .unwrap()
            .is_none()
    );

    // The recipient reads it all, the photo cleaned.
    let (content, key) = qoima_core::open_sealed(sealed, &body.author, &recipient.secret)
        .unwrap()
        .unwrap();
    assert_eq!(content.title, "Задержание у акимата");
    assert_eq!(
        content.text,
        "Мен акиматтың алдында тұрдым. Полиция троих задержала в 14:30."
    );
    let place = content.place.unwrap();
    assert_eq!(place.name, "Алматы, площадь Республики");
    assert_eq!(
        place.point,
        Some(qoima_core::GeoPoint {
            lat_e7: 432_383_000,
            lon_e7: 769_453_000,
            radius_m: 0,
        })
    );
    assert_eq!(
        content.details,
        Details::Testimony {
            witness_ref: "W-17".into(),
            relation: WitnessRelation::Eyewitness,
        }
    );
    let [inside] = &content.attachments[..] else {
        panic!("{:?}", content.attachments);
    };
    assert_eq!(inside.index, 0);
    assert_eq!(inside.plain.media_type, "image/jpeg");
    assert_eq!(inside.plain.file_name, "attachment-1.jpg");
    let mut plain = Vec::new();
    qoima_core::decrypt_attachment(
        &key,
        0,
        store.read_blob(&public.blake3).unwrap().unwrap(),
        &mut plain,
    )
    .unwrap();
    assert_eq!(qoima_core::BlobHash::of(&plain), inside.plain.blake3);
    assert!(contains(&plain, b"\xFF\xD8"), "a JPEG");
    assert!(!contains(&plain, b"QOIMA-SECRET"), "no GPS, no camera");

    // The author's own archive opens it too.
    let opened = store.open_sealed(&record).unwrap().unwrap().unwrap();
    assert_eq!(opened.0.title, "Задержание у акимата");
}

#[tokio::test]
async fn the_authors_archive_shows_the_sealed_part_on_the_records_page_apart() {
    let (s, recipient) = setup_with_recipient();
    let request = testimony()
        .text("lat", "43.2383")
        .text("lon", "76.9453")
        .text("seal_to", &recipient.key.to_hex())
        .file("IMG_20220105_143012.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "en");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let id = written_id(&response);

    let (response, page) = send(&s.app, get(&format!("/records/{id}?lang=en"), &s.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The public fields first, as every archive sees them.
    assert!(page.contains("<h1><bdi>Sealed record</bdi></h1>"), "{page}");
    assert!(
        page.contains(
            "A part of this record is sealed to 2 recipients, you among them; it is shown below."
        ),
        "{page}"
    );
    // Then the sealed part, under its own heading.
    let sealed = &page[page
        .find("<h2 id=\"sealed-heading\">Sealed part</h2>")
        .expect("a sealed part")..];
    assert!(
        sealed.contains("Only the recipients read this part."),
        "{sealed}"
    );
    assert!(
        sealed.contains("<dd><bdi>Задержание у акимата</bdi></dd>"),
        "{sealed}"
    );
    assert!(
        sealed.contains("Полиция троих задержала в 14:30."),
        "{sealed}"
    );
    assert!(
        sealed.contains("<dd><bdi>Алматы, площадь Республики</bdi></dd>"),
        "{sealed}"
    );
    assert!(sealed.contains("43.2383"), "{sealed}");
    assert!(
        sealed.contains("1. attachment-1.jpg · image/jpeg ·"),
        "{sealed}"
    );
}

#[tokio::test]
async fn a_sealed_record_this_archive_cannot_open_shows_only_its_public_part() {
    let (s, recipient) = setup_with_recipient();
    let request = testimony()
        .text("seal_to", &recipient.key.to_hex())
        .post(&s.token, "ru");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let id = written_id(&response);
    let record = reopen(s.archive.dir.path()).get(&id).unwrap().record;

    // The same record in another archive, with no key it is sealed to.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut other = Store::open(elsewhere.path(), &ArchiveKey::from_bytes([3; 32])).unwrap();
    assert!(other.insert_local(&record).unwrap());
    let token = UiToken::generate().unwrap();
    let app = router(Ui::new(other, token.clone()), PORT);
    let (_, page) = send(&app, get(&format!("/records/{id}?lang=ru"), &token)).await;
    assert!(
        page.contains("Часть записи запечатана для 2 получателей; здесь её не прочесть."),
        "{page}"
    );
    assert!(!page.contains("sealed-heading"), "{page}");
    assert!(!page.contains("Задержание у акимата"), "{page}");
}

#[tokio::test]
async fn a_recipient_who_cannot_be_sealed_to_is_named_and_nothing_is_stored() {
    let (s, _recipient) = setup_with_recipient();
    let request = testimony()
        .text("seal_to", "Nobody")
        .file("photo.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "ru");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Поле «Запечатать для»: один из выбранных людей не соответствует ни одному ключу в этом архиве.",
    )
    .await;
    assert!(page.contains("href=\"#seal_to\""), "{page}");
    assert!(page.contains("value=\"W-17\""), "typed kept: {page}");
    assert!(page.contains("Мен акиматтың алдында тұрдым."), "{page}");

    // Aigerim is trusted but has no key for sealed records here.
    let aigerim = s.archive.trusted.public();
    let request = testimony()
        .text("seal_to", &aigerim.to_hex())
        .post(&s.token, "en");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!(
            "“Seal to”: no key for sealed records from {} has reached this archive yet.",
            aigerim.fingerprint()
        ),
    )
    .await;

    // A key no one here trusts.
    let stranger = s.archive.stranger.public();
    let request = testimony()
        .text("seal_to", &stranger.to_hex())
        .post(&s.token, "kk");
    assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!(
            "«Кімге мөрлеу» өрісі: сіз {} кілтіне сенбейсіз.",
            stranger.fingerprint()
        ),
    )
    .await;
}

#[tokio::test]
async fn coordinates_are_stored_as_typed() {
    let s = setup();
    let request = Form::new()
        .text("kind", "evidence")
        .text("title", "Фото у акимата")
        .text("place", "Алматы")
        .text("lat", " 43,2383 ")
        .text("lon", "76.9453")
        .text("radius", "30")
        .post(&s.token, "ru");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let store = reopen(s.archive.dir.path());
    let record = store.get(&written_id(&response)).unwrap().record;
    assert_eq!(
        record.body().place,
        Some(qoima_core::Place {
            name: "Алматы".into(),
            point: Some(qoima_core::GeoPoint {
                lat_e7: 432_383_000,
                lon_e7: 769_453_000,
                radius_m: 30,
            }),
        })
    );

    let (_, page) = send(
        &s.app,
        get(
            &format!("{}&lang=ru", header(&response, "location")),
            &s.token,
        ),
    )
    .await;
    assert!(
        page.contains("<dt>Координаты</dt><dd>43.2383, 76.9453, с точностью до 30 м</dd>"),
        "{page}"
    );

    // Without coordinates typed, the place has none.
    let request = Form::new()
        .text("kind", "evidence")
        .text("title", "Фото")
        .text("place", "Алматы")
        .text("lat", "")
        .text("lon", "")
        .text("radius", "")
        .post(&s.token, "ru");
    let (response, _) = send(&s.app, request).await;
    let record = reopen(s.archive.dir.path())
        .get(&written_id(&response))
        .unwrap()
        .record;
    assert_eq!(record.body().place.as_ref().unwrap().point, None);
}

#[tokio::test]
async fn coordinates_off_the_globe_or_half_given_are_refused_field_by_field() {
    let s = setup();
    let request = testimony()
        .text("lat", "91.5")
        .text("lon", "")
        .post(&s.token, "en");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "“Latitude” must be between -90 and 90 degrees.",
    )
    .await;
    assert!(
        page.contains("“Longitude” is empty: give both latitude and longitude, or neither."),
        "{page}"
    );
    assert!(page.contains("href=\"#lat\""), "{page}");
    assert!(page.contains("href=\"#lon\""), "{page}");
    assert!(
        page.contains("id=\"lat\" name=\"lat\" value=\"91.5\""),
        "typed kept: {page}"
    );
    assert!(page.contains("value=\"W-17\""), "{page}");

    let request = testimony()
        .text("lat", "")
        .text("lon", "76.56.00")
        .text("radius", "50")
        .post(&s.token, "ru");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Поле «Долгота» не является числом.",
    )
    .await;
    assert!(
        page.contains("Поле «Широта» пустое: укажите и широту, и долготу"),
        "{page}"
    );
    assert!(
        page.contains("id=\"lon\" name=\"lon\" value=\"76.56.00\""),
        "typed kept: {page}"
    );
    assert!(
        page.contains("id=\"radius\" name=\"radius\" value=\"50\""),
        "{page}"
    );

    let request = testimony()
        .text("lat", "43.2")
        .text("lon", "-181")
        .text("radius", "ten")
        .post(&s.token, "kk");
    let page = assert_refused(
        &s,
        request,
        StatusCode::UNPROCESSABLE_ENTITY,
        "«Бойлық» өрісі -180 мен 180 градус аралығында болуы керек.",
    )
    .await;
    assert!(
        page.contains("«Дәлдігі, метрмен» өрісі 50 сияқты бүтін метр саны болуы"),
        "{page}"
    );
}

/// The smallest GIF: a format whose metadata qoima cannot remove.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

#[tokio::test]
async fn an_attachment_stored_uncleaned_is_named_on_the_page_after_writing() {
    let s = setup();
    let request = testimony()
        .file("IMG_1.jpg", "image/jpeg", &photo_with_gps())
        .file("animation.gif", "image/gif", GIF)
        .post(&s.token, "en");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let location = header(&response, "location").to_owned();
    let id = written_id(&response);
    assert_eq!(location, format!("/records/{}?written=2", id.to_hex()));

    let (response, page) = send(&s.app, get(&format!("{location}&lang=en"), &s.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(page.contains("The record was signed and stored."), "{page}");
    assert!(
        page.contains("These attachments could not be cleaned and were stored as they are"),
        "{page}"
    );
    assert!(
        page.contains("<li><bdi>Attachment 2: attachment-2.gif (image/gif)</bdi></li>"),
        "{page}"
    );
    assert!(
        !page.contains("Attachment 1:"),
        "the photo was cleaned: {page}"
    );

    // A write with nothing uncleaned says only that it was stored.
    let request = testimony()
        .file("IMG_1.jpg", "image/jpeg", &photo_with_gps())
        .post(&s.token, "ru");
    let (response, _) = send(&s.app, request).await;
    let location = header(&response, "location").to_owned();
    assert!(location.ends_with("?written="), "{location}");
    let (_, page) = send(&s.app, get(&format!("{location}&lang=ru"), &s.token)).await;
    assert!(page.contains("Запись подписана и сохранена."), "{page}");
    assert!(!page.contains("нельзя было очистить"), "{page}");

    // The record's page reached any other way says nothing of it.
    let (_, page) = send(&s.app, get(&format!("/records/{}", id.to_hex()), &s.token)).await;
    assert!(!page.contains("id=\"written\""), "{page}");
}

#[tokio::test]
async fn a_sealed_record_names_its_uncleaned_attachment_by_number() {
    let (s, recipient) = setup_with_recipient();
    let request = testimony()
        .text("seal_to", &recipient.key.to_hex())
        .file("animation.gif", "image/gif", GIF)
        .post(&s.token, "kk");
    let (response, body) = send(&s.app, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    let location = header(&response, "location").to_owned();
    assert!(location.ends_with("?written=1"), "{location}");
    let (_, page) = send(&s.app, get(&format!("{location}&lang=kk"), &s.token)).await;
    assert!(page.contains("<li><bdi>1-тіркеме</bdi></li>"), "{page}");
}
