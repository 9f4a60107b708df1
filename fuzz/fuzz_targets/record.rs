//! Fuzz target: `VerifiedRecord::from_bytes` on arbitrary bytes. It must never panic,
//! and anything it accepts must be exactly the bytes it was given, named by their hash.
//!
//! Random bytes almost never carry a valid signature, so this mostly exercises the length
//! checks, the canonical decoder and the field rules; `signed_record` goes further.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qoima_core::{RecordId, VerifiedRecord};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = VerifiedRecord::from_bytes(data.to_vec()) {
        assert_eq!(record.bytes(), data);
        assert_eq!(record.id(), RecordId::of(data));
    }
});
