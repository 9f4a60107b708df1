//! Deterministic sample records and bundles for tests, benchmarks and test vectors.
//! Not for production use: the keys come from fixed seeds.

use crate::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use crate::hash::{BlobHash, RecordId, Sha256Digest};
use crate::keys::AuthorSecret;
use crate::record::{
    Attachment, Consent, Details, RECORD_FORMAT_VERSION, RecordBody, RecordKind, VerifiedRecord,
    WitnessRelation,
};
use crate::time::{ClaimedTime, ClockSource, Precision, TimeSpan};

pub mod vectors;

/// The author key with this fixed seed.
pub fn author(seed: u8) -> AuthorSecret {
    AuthorSecret::from_seed(&[seed; 32])
}

/// A testimony by `secret` with sequence `seq` (and `prev` before it) and this text.
pub fn body(secret: &AuthorSecret, seq: u64, prev: Option<RecordId>, text: &str) -> RecordBody {
    RecordBody {
        version: RECORD_FORMAT_VERSION,
        kind: RecordKind::Testimony,
        author: secret.public(),
        seq,
        prev,
        created: ClaimedTime {
            unix_ms: 1_641_386_096_000 + (seq % 1_000_000) as i64 * 60_000,
            source: ClockSource::Device,
            uncertainty_s: 0,
        },
        occurred: Some(TimeSpan {
            start_ms: 1_641_340_800_000,
            end_ms: 1_641_427_199_999,
            precision: Precision::Day,
        }),
        place: None,
        lang: "ru".into(),
        title: format!("Свидетельство {seq}"),
        text: text.into(),
        tags: vec!["almaty".into()],
        details: Details::Testimony {
            witness_ref: format!("W-{seq}"),
            relation: WitnessRelation::Eyewitness,
        },
        attachments: Vec::new(),
        links: Vec::new(),
        consent: Consent::default(),
        sealed: None,
    }
}

/// `count` chained records by `secret`, each with about `text_len` bytes of text.
pub fn chain(secret: &AuthorSecret, count: usize, text_len: usize) -> Vec<VerifiedRecord> {
    let filler = "Площадь Республики, толпа, выстрелы. ".repeat(text_len / 60 + 1);
    let mut out: Vec<VerifiedRecord> = Vec::with_capacity(count);
    for i in 0..count {
        let prev = out.last().map(VerifiedRecord::id);
        let mut text = format!("{i}: ");
        text.extend(filler.chars().take(text_len / 2));
        let record = VerifiedRecord::sign(&body(secret, i as u64 + 1, prev, &text), secret)
            .expect("fixture records are valid");
        out.push(record);
    }
    out
}

/// An attachment reference for `bytes`.
pub fn attachment(bytes: &[u8], media_type: &str, file_name: &str) -> Attachment {
    use sha2::Digest;
    Attachment {
        blake3: BlobHash::of(bytes),
        sha256: Sha256Digest(sha2::Sha256::digest(bytes).into()),
        size: bytes.len() as u64,
        media_type: media_type.into(),
        file_name: file_name.into(),
    }
}

/// A complete bundle in memory holding `records` and then `blobs`, signed by `bundler`.
pub fn bundle(bundler: &AuthorSecret, records: &[VerifiedRecord], blobs: &[&[u8]]) -> Vec<u8> {
    let records: Vec<&[u8]> = records.iter().map(VerifiedRecord::bytes).collect();
    bundle_of_bytes(bundler, &records, blobs)
}

/// As [`bundle`], with records given as bytes that need not be valid.
pub fn bundle_of_bytes(bundler: &AuthorSecret, records: &[&[u8]], blobs: &[&[u8]]) -> Vec<u8> {
    let mut items: Vec<ItemRef> = records
        .iter()
        .map(|r| ItemRef {
            kind: ItemKind::Record,
            hash: RecordId::of(r).0,
            size: r.len() as u64,
        })
        .collect();
    items.extend(blobs.iter().map(|b| ItemRef {
        kind: ItemKind::Blob,
        hash: BlobHash::of(b).0,
        size: b.len() as u64,
    }));
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 1_641_400_000_000,
        collection: "default".into(),
        items,
    };
    let mut writer = BundleWriter::new(Vec::new(), manifest, bundler).expect("valid manifest");
    for record in records {
        writer.write_record(record).expect("matches manifest");
    }
    for blob in blobs {
        writer.write_blob(*blob).expect("matches manifest");
    }
    writer.finish().expect("complete")
}

/// The 8 points of small order (the torsion subgroup of edwards25519), the identity first.
pub fn torsion_points() -> [curve25519_dalek::EdwardsPoint; 8] {
    curve25519_dalek::constants::EIGHT_TORSION
}

/// Signed record bytes for `body` by the author with fixture seed `seed` (see [`author`]),
/// with a signature no signing library makes but the key holder can: the nonce point is
/// R = [r]B + T for the torsion point `T = torsion_points()[torsion]`, and
/// s = r + k·a computed for that R. For `torsion` 0 it is an ordinary signature; for the
/// others the cofactored equation holds and the cofactorless one does not (the
/// difference is T). With `s_plus_order`, ℓ is added to s: the same value, spelled
/// non-canonically. The nonce comes from `nonce`, so the bytes are deterministic.
pub fn record_signed_with_torsion(
    seed: u8,
    body: &RecordBody,
    torsion: usize,
    s_plus_order: bool,
    nonce: u64,
) -> Vec<u8> {
    use curve25519_dalek::{EdwardsPoint, Scalar};
    use sha2::Digest;
    let mut bytes = crate::encoding::encode(body);
    // The secret scalar as RFC 8032 derives it from the seed.
    let expanded = sha2::Sha512::digest([seed; 32]);
    let mut clamped = [0u8; 32];
    clamped.copy_from_slice(&expanded[..32]);
    clamped[0] &= 248;
    clamped[31] &= 127;
    clamped[31] |= 64;
    let a = Scalar::from_bytes_mod_order(clamped);
    let key = EdwardsPoint::mul_base_clamped(clamped)
        .compress()
        .to_bytes();
    assert_eq!(key, body.author.0, "the body's author has this seed");
    let mut wide = [0u8; 64];
    blake3::Hasher::new()
        .update(b"qoima fixture nonce")
        .update(&nonce.to_le_bytes())
        .finalize_xof()
        .fill(&mut wide);
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let big_r = (EdwardsPoint::mul_base(&r) + torsion_points()[torsion])
        .compress()
        .to_bytes();
    let k = Scalar::from_hash(
        sha2::Sha512::new()
            .chain_update(big_r)
            .chain_update(key)
            .chain_update(crate::record::RECORD_SIGNATURE_CONTEXT)
            .chain_update(&bytes),
    );
    let s = r + k * a;
    let mut s_bytes = s.to_bytes();
    if s_plus_order {
        add_group_order(&mut s_bytes);
    }
    bytes.extend_from_slice(&big_r);
    bytes.extend_from_slice(&s_bytes);
    bytes
}

/// Adds ℓ = 2^252 + 27742317777372353535851937790883648493 to a little-endian scalar
/// below ℓ (the sum stays below 2^256).
pub fn add_group_order(s: &mut [u8; 32]) {
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (byte, order) in s.iter_mut().zip(ORDER) {
        let sum = u16::from(*byte) + u16::from(order) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
}

/// A deterministic random number generator for fixtures and test vectors (BLAKE3 in its
/// extendable-output mode over a seed): never for real keys.
pub struct FixtureRng(blake3::OutputReader);

impl FixtureRng {
    /// The generator for `seed`.
    pub fn new(seed: &str) -> Self {
        FixtureRng(blake3::Hasher::new().update(seed.as_bytes()).finalize_xof())
    }
}

impl rand_core::TryRng for FixtureRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixtureRng {}

/// A version 2 record by `secret` about keys (or anything else), following `prev`: the
/// common fields empty, `kind` and `details` as given.
pub fn key_record(
    secret: &AuthorSecret,
    seq: u64,
    prev: Option<RecordId>,
    kind: RecordKind,
    details: Details,
) -> VerifiedRecord {
    let mut b = body(secret, seq, prev, "");
    b.kind = kind;
    b.details = details;
    b.occurred = None;
    b.tags.clear();
    b.title = kind.name().into();
    b.version = b.needed_version();
    VerifiedRecord::sign(&b, secret).expect("fixture key records are valid")
}
