//! Fuzz target: arbitrary bytes taken as a record body, made to name a fixed author key
//! and signed with it, then verified with `VerifiedRecord::from_bytes`.
//!
//! Unlike `record`, inputs here get past the signature, so the fuzzer can reach records
//! that are accepted, and check what acceptance promises: the body is the one canonical
//! encoding of what was decoded, and it names the key that signed it.

#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use qoima_core::encoding::encode;
use qoima_core::{RECORD_SIGNATURE_CONTEXT, VerifiedRecord};

fuzz_target!(|data: &[u8]| {
    // Author A of the test vectors, so the vectors' own records are good seeds.
    let key = SigningKey::from_bytes(&[1; 32]);
    let mut body = data.to_vec();
    // With one-byte `version` and `kind` varints the author key is bytes 2..34; put the
    // signer's key there, so acceptance depends on everything but the key.
    if body.len() >= 34 && body[0] < 251 && body[1] < 251 {
        body[2..34].copy_from_slice(key.verifying_key().as_bytes());
    }
    let signature = key.sign(&[RECORD_SIGNATURE_CONTEXT, &body].concat());
    let mut signed = body.clone();
    signed.extend_from_slice(&signature.to_bytes());
    if let Ok(record) = VerifiedRecord::from_bytes(signed.clone()) {
        assert_eq!(encode(record.body()), body, "accepted a non-canonical body");
        assert_eq!(
            record.body().author.as_bytes(),
            key.verifying_key().as_bytes()
        );
        assert_eq!(record.bytes(), &signed[..]);
        // What was accepted once is accepted again, identically.
        let again = VerifiedRecord::from_bytes(signed).expect("accepted before");
        assert_eq!(again, record);
    }
});
