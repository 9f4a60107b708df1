//! Fuzz target: the JSON form of a new record (`qoima add --from FILE`), parsed, made into
//! a body, signed, and verified again. Whatever the signer accepts must verify: a record
//! this node can write but no node can read would be lost evidence.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qoima_core::draft::{Authorship, RecordDraft};
use qoima_core::{ClaimedTime, ClockSource, RecordId, VerifiedRecord, fixtures};

fuzz_target!(|data: &[u8]| {
    let Ok(draft) = serde_json::from_slice::<RecordDraft>(data) else {
        return;
    };
    let secret = fixtures::author(1);
    let authorship = Authorship {
        author: secret.public(),
        previous: Some((41, RecordId::of(b"previous"))),
        created: ClaimedTime {
            unix_ms: 1_641_386_096_000,
            source: ClockSource::Device,
            uncertainty_s: 0,
        },
    };
    let Ok(body) = draft.into_body(authorship, Vec::new()) else {
        return;
    };
    let Ok(record) = VerifiedRecord::sign(&body, &secret) else {
        return;
    };
    let again = VerifiedRecord::from_bytes(record.bytes().to_vec())
        .expect("a record this crate signed must verify");
    assert_eq!(again.body(), &body);
});
