//! The published test vectors in `bundles/vectors/`: checks that the committed files are
//! still byte for byte what `qoima_core::fixtures::vectors` makes (so a format change
//! cannot slip in unannounced), and that reading each one gives exactly the result
//! `bundles/README.md` promises.
//!
//! After a deliberate format change: regenerate with
//! `cargo run -p qoima-core --example make_vectors -- bundles/vectors`, update the tables
//! here and in `bundles/README.md`, and say so under "Versioning" in `bundles/FORMAT.md`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use qoima_core::bundle::{BundleError, BundleReader, Item, ItemKind};
use qoima_core::fixtures::vectors;
use qoima_core::{RECORD_SIGNATURE_CONTEXT, RecordBody, VerifiedRecord};

/// What reading must say about one item.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Accepted: hash matches, and for a record, canonical, valid and signed.
    Good,
    /// Refused, with exactly this error text.
    Bad(&'static str),
}
use Outcome::{Bad, Good};

/// The kinds of [`BundleError`], to check the variant as well as the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fatal {
    Io,
    BadMagic,
    UnsupportedVersion,
    ManifestTooLong,
    ManifestEncoding,
    ManifestInvalid,
    BadSignature,
    Truncated,
    TrailingData,
}

fn kind_of(error: &BundleError) -> Fatal {
    match error {
        BundleError::Io(_) => Fatal::Io,
        BundleError::BadMagic => Fatal::BadMagic,
        BundleError::UnsupportedVersion(_) => Fatal::UnsupportedVersion,
        BundleError::ManifestTooLong(_) => Fatal::ManifestTooLong,
        BundleError::ManifestEncoding(_) => Fatal::ManifestEncoding,
        BundleError::ManifestInvalid(_) => Fatal::ManifestInvalid,
        BundleError::BadSignature => Fatal::BadSignature,
        BundleError::Truncated(_) => Fatal::Truncated,
        BundleError::TrailingData => Fatal::TrailingData,
    }
}

/// The whole expected result of reading one file: the items returned, in order, and then
/// either a clean end (`None`) or a fatal error of this kind with exactly this text.
struct Expected {
    items: &'static [Outcome],
    fatal: Option<(Fatal, &'static str)>,
}

const fn items(items: &'static [Outcome]) -> Expected {
    Expected { items, fatal: None }
}

const fn fatal(kind: Fatal, text: &'static str) -> Expected {
    Expected {
        items: &[],
        fatal: Some((kind, text)),
    }
}

const HASH_1: &str =
    "item 1: content does not match its hash in the manifest (corrupted or altered)";
const BAD_SIGNATURE: &str = "signature does not verify against the author key the record names";
const BAD_BUNDLE_SIGNATURE: &str =
    "bundle signature does not verify against the bundler key it names";

/// Every vector and its one right reading; the table in `bundles/README.md` says the same
/// (checked by `readme_states_every_result`).
const TABLE: &[(&str, Expected)] = &[
    ("valid-small.qb", items(&[Good, Good, Good])),
    ("valid-with-blob.qb", items(&[Good, Good, Good])),
    ("valid-two-authors.qb", items(&[Good, Good])),
    ("valid-empty.qb", items(&[])),
    ("record-byte-flipped.qb", items(&[Good, Bad(HASH_1), Good])),
    ("blob-byte-flipped.qb", items(&[Good, Bad(HASH_1), Good])),
    (
        "manifest-byte-flipped.qb",
        fatal(Fatal::BadSignature, BAD_BUNDLE_SIGNATURE),
    ),
    (
        "bad-bundle-signature.qb",
        fatal(Fatal::BadSignature, BAD_BUNDLE_SIGNATURE),
    ),
    (
        "truncated.qb",
        Expected {
            items: &[Good],
            fatal: Some((
                Fatal::Truncated,
                "truncated: the file ends inside item 1 (a record)",
            )),
        },
    ),
    (
        "wrong-magic.qb",
        fatal(Fatal::BadMagic, "not a qoima bundle (wrong magic bytes)"),
    ),
    (
        "unsupported-version.qb",
        fatal(
            Fatal::UnsupportedVersion,
            "bundle format version 2 is not supported (this version reads 1)",
        ),
    ),
    (
        "manifest-length-huge.qb",
        fatal(
            Fatal::ManifestTooLong,
            "manifest length 4294967295 exceeds the limit of 100663296 bytes",
        ),
    ),
    (
        "trailing-data.qb",
        Expected {
            items: &[Good, Good, Good],
            fatal: Some((Fatal::TrailingData, "unexpected data after the last item")),
        },
    ),
    (
        "length-2-60.qb",
        fatal(
            Fatal::ManifestInvalid,
            "manifest: item 0 claims 1152921504606846976 bytes, over the record limit of 2097152",
        ),
    ),
    (
        "duplicate-item.qb",
        fatal(Fatal::ManifestInvalid, "manifest: item 1 is listed twice"),
    ),
    (
        "wrong-author-signature.qb",
        items(&[Good, Bad(BAD_SIGNATURE)]),
    ),
    (
        "non-canonical-record.qb",
        items(&[
            Good,
            Bad(
                "record body: non-canonical encoding (re-encoding the value gives different bytes)",
            ),
        ]),
    ),
    (
        "trailing-bytes-record.qb",
        items(&[
            Good,
            Bad("record body: 1 unexpected bytes after the end of the value"),
        ]),
    ),
    ("malleated-signature.qb", items(&[Good, Bad(BAD_SIGNATURE)])),
    ("weak-author-key.qb", items(&[Good, Bad(BAD_SIGNATURE)])),
    (
        "record-version-3.qb",
        items(&[
            Good,
            Bad(
                "record format version 3 is not supported (this version reads 1 and 2): a later qoima made it",
            ),
        ]),
    ),
    ("valid-v2.qb", items(&[Good, Good, Good, Good, Good])),
    ("retraction-by-another-key.qb", items(&[Good, Good])),
    ("endorsement-loop.qb", items(&[Good, Good, Good])),
    ("sealed-unknown-suite.qb", items(&[Good])),
    (
        "endorsement-of-itself.qb",
        items(&[Good, Bad("record field: a key cannot endorse itself")]),
    ),
    (
        "key-record-version-1.qb",
        items(&[
            Good,
            Bad(
                "record field: a key_revocation record with these details needs format version 2, not 1",
            ),
        ]),
    ),
];

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bundles/vectors")
}

fn read_vector(name: &str) -> Vec<u8> {
    let path = vectors_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a reader makes of `bytes`: each item's result in order, then the fatal error that
/// stopped it, if any. Records are checked fully, as an importer would.
fn read(bytes: &[u8]) -> (Vec<Result<Accepted, String>>, Option<BundleError>) {
    let mut results = Vec::new();
    let mut reader = match BundleReader::open(bytes) {
        Ok(reader) => reader,
        Err(e) => return (results, Some(e)),
    };
    loop {
        match reader.next_item() {
            Ok(None) => return (results, None),
            Err(e) => return (results, Some(e)),
            Ok(Some(Item::Record { id, bytes, .. })) => results.push(
                bytes
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        VerifiedRecord::from_bytes_with_id(b, id).map_err(|e| e.to_string())
                    })
                    .map(|record| Accepted::Record(Box::new(record))),
            ),
            Ok(Some(Item::Blob(blob))) => {
                let hash = blob.hash();
                match blob.finish() {
                    Ok(result) => results.push(
                        result
                            .map(|()| Accepted::Blob(hash))
                            .map_err(|e| e.to_string()),
                    ),
                    Err(e) => return (results, Some(e)),
                }
            }
        }
    }
}

/// An item that passed every check.
#[derive(Debug)]
enum Accepted {
    Record(Box<VerifiedRecord>),
    Blob(qoima_core::BlobHash),
}

/// Reads vector `name` and describes every way the result differs from `expected`.
fn check(name: &str, expected: &Expected) -> Vec<String> {
    let (results, fatal) = read(&read_vector(name));
    let mut problems = Vec::new();
    if results.len() != expected.items.len() {
        problems.push(format!(
            "{name}: {} items read, expected {}",
            results.len(),
            expected.items.len()
        ));
    }
    for (index, (actual, expected)) in results.iter().zip(expected.items).enumerate() {
        match (expected, actual) {
            (Good, Ok(_)) => {}
            (Bad(reason), Err(message)) if message == reason => {}
            _ => problems.push(format!(
                "{name}: item {index}: expected {expected:?}, got {actual:?}"
            )),
        }
    }
    let actual = fatal.map(|e| (kind_of(&e), e.to_string()));
    match (expected.fatal, &actual) {
        (None, None) => {}
        (Some((kind, text)), Some((k, t))) if kind == *k && text == t => {}
        (e, a) => problems.push(format!("{name}: expected end {e:?}, got {a:?}")),
    }
    problems
}

#[test]
fn committed_vectors_are_exactly_what_the_generator_makes() {
    let generated = vectors::all();
    let mut stale = Vec::new();
    for vector in &generated {
        let path = vectors_dir().join(vector.name);
        match std::fs::read(&path) {
            Ok(bytes) if bytes == vector.bytes => {}
            Ok(_) => stale.push(format!("{} differs", vector.name)),
            Err(e) => stale.push(format!("{}: {e}", vector.name)),
        }
    }
    assert!(
        stale.is_empty(),
        "the format's bytes changed: {stale:?}. If that is intended, it is a format change: \
         regenerate with `cargo run -p qoima-core --example make_vectors -- bundles/vectors` \
         and announce it in bundles/FORMAT.md"
    );

    // The directory, the generator and the expectations name the same files.
    let on_disk: BTreeSet<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let made: BTreeSet<String> = generated.iter().map(|v| v.name.to_owned()).collect();
    let expected: BTreeSet<String> = TABLE.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, made, "files in bundles/vectors vs. the generator");
    assert_eq!(expected, made, "the table in this test vs. the generator");
}

#[test]
fn every_vector_reads_exactly_as_documented() {
    let problems: Vec<String> = TABLE
        .iter()
        .flat_map(|(name, expected)| check(name, expected))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `bundles/README.md` has a row for every vector, stating every error text above.
#[test]
fn readme_states_every_result() {
    let readme = std::fs::read_to_string(vectors_dir().join("../README.md")).unwrap();
    for (name, expected) in TABLE {
        let row_start = format!("| `{name}` |");
        let row = readme
            .lines()
            .find(|line| line.starts_with(&row_start))
            .unwrap_or_else(|| panic!("README.md has no row for {name}"));
        let texts = expected
            .items
            .iter()
            .filter_map(|o| match o {
                Good => None,
                Bad(text) => Some(*text),
            })
            .chain(expected.fatal.map(|(_, text)| text));
        for text in texts {
            assert!(
                row.contains(text),
                "README.md row for {name} lacks {text:?}"
            );
        }
        let clean_end = row.ends_with("clean end |");
        assert_eq!(
            clean_end,
            expected.fatal.is_none(),
            "README.md row for {name}"
        );
    }
}

#[test]
fn valid_vectors_hold_what_their_manifests_say() {
    for name in [
        "valid-small.qb",
        "valid-with-blob.qb",
        "valid-two-authors.qb",
    ] {
        let bytes = read_vector(name);
        let manifest = BundleReader::open(&bytes[..]).unwrap().manifest().clone();
        let (results, fatal) = read(&bytes);
        assert!(fatal.is_none(), "{name}: {fatal:?}");
        for (item, result) in manifest.items.iter().zip(results) {
            match (item.kind, result.unwrap()) {
                (ItemKind::Record, Accepted::Record(record)) => {
                    assert_eq!(record.id().0, item.hash, "{name}")
                }
                (ItemKind::Blob, Accepted::Blob(hash)) => {
                    assert_eq!(hash.0, item.hash, "{name}")
                }
                (kind, other) => panic!("{name}: {kind:?} read as {other:?}"),
            }
        }
    }

    // The blob is the one the evidence record attaches, by both its hashes.
    let bytes = read_vector("valid-with-blob.qb");
    let (results, _) = read(&bytes);
    let Ok(Accepted::Record(evidence)) = &results[0] else {
        panic!("{:?}", results[0]);
    };
    let attachment = &evidence.body().attachments[0];
    let blob = vectors::blob();
    assert_eq!(
        attachment,
        &qoima_core::fixtures::attachment(&blob, &attachment.media_type, &attachment.file_name)
    );
    let blob_at = bytes.len() - results_len(&results[2]) - blob.len();
    assert_eq!(&bytes[blob_at..blob_at + blob.len()], &blob[..]);

    // The two-author bundle is signed by neither author.
    let bytes = read_vector("valid-two-authors.qb");
    let bundler = BundleReader::open(&bytes[..]).unwrap().manifest().bundler;
    let (results, _) = read(&bytes);
    for result in results {
        let Ok(Accepted::Record(record)) = result else {
            panic!("{result:?}");
        };
        assert_ne!(record.body().author, bundler);
    }
}

fn results_len(result: &Result<Accepted, String>) -> usize {
    match result {
        Ok(Accepted::Record(record)) => record.bytes().len(),
        other => panic!("{other:?}"),
    }
}

/// The second item of a vector, raw, as the manifest delimits it.
fn second_item(name: &str) -> Vec<u8> {
    let bytes = read_vector(name);
    let mut reader = BundleReader::open(&bytes[..]).expect("a readable bundle");
    let _first = reader.next_item().expect("a first item");
    match reader.next_item() {
        Ok(Some(Item::Record {
            bytes: Ok(bytes), ..
        })) => bytes,
        _ => panic!("{name}: the second item is not a record matching its hash"),
    }
}

fn split(record: &[u8]) -> (&[u8], [u8; 64]) {
    let (body, signature) = record.split_at(record.len() - 64);
    (body, signature.try_into().expect("64 bytes"))
}

fn message(body: &[u8]) -> Vec<u8> {
    [RECORD_SIGNATURE_CONTEXT, body].concat()
}

/// Each broken record breaks one rule only: everything else about it is right, so a
/// second implementation that skips that one check really does accept it.
#[test]
fn broken_records_break_exactly_one_rule() {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let lenient = bincode::config::standard();
    let (valid, _) = read(&read_vector("valid-small.qb"));
    let Ok(Accepted::Record(a2)) = &valid[1] else {
        panic!("{:?}", valid[1]);
    };

    // Signed by B over A's body: B's signature is good, it just is not A's.
    let forged = second_item("wrong-author-signature.qb");
    let (body, signature) = split(&forged);
    assert_eq!(body, split(a2.bytes()).0);
    let b = qoima_core::fixtures::author(vectors::AUTHOR_B_SEED).public();
    b.verifying_key()
        .unwrap()
        .verify_strict(&message(body), &Signature::from_bytes(&signature))
        .unwrap();

    // A lenient decoder reads the same body; the signature over the bytes is good.
    for name in ["non-canonical-record.qb", "trailing-bytes-record.qb"] {
        let record = second_item(name);
        let (body, signature) = split(&record);
        let (decoded, used): (RecordBody, usize) =
            bincode::decode_from_slice(body, lenient).unwrap();
        assert_eq!(&decoded, a2.body(), "{name}");
        assert!(used <= body.len(), "{name}");
        a2.body()
            .author
            .verifying_key()
            .unwrap()
            .verify_strict(&message(body), &Signature::from_bytes(&signature))
            .unwrap();
    }

    // s + ℓ: same body, same R, a different and non-canonical s.
    let malleated = second_item("malleated-signature.qb");
    assert_eq!(split(&malleated).0, split(a2.bytes()).0);
    assert_eq!(
        malleated[..malleated.len() - 32],
        a2.bytes()[..a2.bytes().len() - 32]
    );
    assert_ne!(malleated, a2.bytes());

    // The weak-key forgery passes Ed25519's verification equation (non-strict
    // verification), which is the point: only the strict rules stop it.
    let forgery = second_item("weak-author-key.qb");
    let (body, signature) = split(&forgery);
    let decoded: RecordBody = bincode::decode_from_slice(body, lenient).unwrap().0;
    let weak = VerifyingKey::from_bytes(decoded.author.as_bytes()).unwrap();
    assert!(weak.is_weak());
    weak.verify(&message(body), &Signature::from_bytes(&signature))
        .unwrap();
}

/// The annotated dumps in FORMAT.md are of real bytes: the first record of
/// `valid-small.qb`, and the start of that file up to its first item.
#[test]
fn format_md_dumps_are_the_vector_bytes() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bundles/FORMAT.md"),
    )
    .unwrap();
    let small = read_vector("valid-small.qb");
    let record_len = match read(&small).0.remove(0) {
        Ok(Accepted::Record(record)) => record.bytes().len(),
        other => panic!("{other:?}"),
    };
    let manifest_len = u32::from_le_bytes(small[10..14].try_into().unwrap()) as usize;
    let head_len = 14 + manifest_len + 64;

    assert_eq!(
        dump(&doc, "valid-small.qb: header, manifest, signature"),
        &small[..head_len]
    );
    assert_eq!(
        dump(&doc, "valid-small.qb: item 0"),
        &small[head_len..head_len + record_len]
    );
}

/// The bytes of the fenced block that follows the line `<!-- dump: {label} -->`: on each
/// line, the hex pairs before any `#`.
fn dump(doc: &str, label: &str) -> Vec<u8> {
    let marker = format!("<!-- dump: {label} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in FORMAT.md"));
    let block = doc[start..]
        .split("```")
        .nth(1)
        .expect("a fenced block after the marker");
    block
        .lines()
        .skip(1) // the fence's info string
        .flat_map(|line| line.split('#').next().unwrap_or("").split_whitespace())
        .map(|pair| u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("{pair:?}")))
        .collect()
}

#[test]
fn the_sealed_record_of_valid_v2_opens_only_with_its_recipient_secret() {
    let bytes = read_vector("valid-v2.qb");
    let (results, fatal) = read(&bytes);
    assert!(fatal.is_none());
    let Some(Ok(Accepted::Record(record))) = results.get(3) else {
        panic!("the fourth item of valid-v2.qb is a valid record");
    };
    let sealed = record.body().sealed.as_ref().expect("sealed");
    let author = record.body().author;
    let seed = qoima_core::fixtures::vectors::RECIPIENT_SEED;
    let opened = qoima_core::open_sealed(
        sealed,
        &author,
        &qoima_core::SealingSecret::from_seed([seed; 32]),
    )
    .unwrap()
    .expect("sealed to this secret");
    let (opened, key) = opened;
    assert_eq!(opened.text, "Свидетель: Айгерим Н.");
    // Its attachment: the carried ciphertext opens to the photo the sealed part names.
    let cipher = qoima_core::fixtures::vectors::sealed_photo_ciphertext();
    assert_eq!(
        record.body().attachments[0].blake3,
        qoima_core::BlobHash::of(&cipher)
    );
    let mut photo = Vec::new();
    qoima_core::decrypt_attachment(&key, 0, &cipher[..], &mut photo).unwrap();
    assert_eq!(photo, qoima_core::fixtures::vectors::sealed_photo());
    assert_eq!(
        opened.attachments[0].plain.blake3,
        qoima_core::BlobHash::of(&photo)
    );
    let other = qoima_core::SealingSecret::from_seed([seed + 1; 32]);
    assert_eq!(
        qoima_core::open_sealed(sealed, &author, &other).unwrap(),
        None
    );
}
