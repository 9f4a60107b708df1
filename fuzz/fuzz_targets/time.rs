//! Fuzz target: the claimed-time parser behind `qoima add --occurred-at`, `list --since`,
//! `export --since` and the draft's `occurred_at`. People type these, so any text must be
//! refused or understood, never a panic; and what is understood must be a real span.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qoima_core::{TimeSpan, parse_instant_ms};

fuzz_target!(|data: &[u8]| {
    // Only text reaches the parser (clap and serde hand it `&str`); invalid UTF-8 is
    // converted rather than skipped so every input still exercises it.
    let text = String::from_utf8_lossy(data);
    let parsed = TimeSpan::parse(&text);
    if let Ok(span) = parsed {
        assert!(span.start_ms <= span.end_ms, "{text:?}: {span:?}");
        assert_eq!(parse_instant_ms(&text), Ok(span.start_ms));
    } else {
        assert!(parse_instant_ms(&text).is_err());
    }
});
