//! Fuzz target: arbitrary bytes made into a bundle whose manifest is validly signed, then
//! read item by item like `bundle`.
//!
//! Input layout: a u16 LE length `m`, then `m` bytes that follow the bundler key in the
//! manifest (created_ms, collection, items), then the payload. The target puts the fixed
//! bundler key in front, signs, and adds the header, so the fuzzer spends its time on
//! manifest rules and item reading instead of on the signature.
//! `seed-corpus.py` turns the test vectors into inputs of this form.

#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use qoima_core::bundle::{BUNDLE_FORMAT_VERSION, BUNDLE_MAGIC, MANIFEST_SIGNATURE_CONTEXT};
use qoima_fuzz::read_whole_bundle;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let tail_len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (tail, payload) = rest.split_at(tail_len);
    // Author A of the test vectors, who bundles most of them.
    let key = SigningKey::from_bytes(&[1; 32]);
    let manifest = [key.verifying_key().as_bytes(), tail].concat();
    let signature = key.sign(&[MANIFEST_SIGNATURE_CONTEXT, &manifest].concat());
    let mut bundle = Vec::with_capacity(14 + manifest.len() + 64 + payload.len());
    bundle.extend_from_slice(&BUNDLE_MAGIC);
    bundle.extend_from_slice(&BUNDLE_FORMAT_VERSION.to_le_bytes());
    bundle.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    bundle.extend_from_slice(&manifest);
    bundle.extend_from_slice(&signature.to_bytes());
    bundle.extend_from_slice(payload);
    read_whole_bundle(&bundle);
});
