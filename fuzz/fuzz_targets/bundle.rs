//! Fuzz target: `BundleReader` over arbitrary bytes, reading every item, checking every
//! record and finishing every blob. It must never panic, never allocate more than the
//! format's limits allow (run with `-rss_limit_mb`), and must stop at the first fatal
//! error.
//!
//! Random bytes almost never carry a valid manifest signature, so this mostly exercises
//! the header and manifest checks; `signed_bundle` goes further.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qoima_fuzz::read_whole_bundle;

fuzz_target!(|data: &[u8]| {
    read_whole_bundle(data);
});
