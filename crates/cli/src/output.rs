//! Printing: tables for people, JSON for scripts.
//!
//! Everything written to stdout goes through [`write_stdout`] (usually by the [`outln!`]
//! macro), never `println!`: a reader that stops early (`qoima list |
//! head -1`) closes the pipe, `println!` would then panic, and a script would see a
//! failure for a command whose work (say, storing a record) was already done. The
//! `print!`/`println!` macros are banned in this crate by `clippy.toml`.
//!
//! Text that comes from records, bundles or peers is shown to people only through
//! [`safe`] (or [`safe_multiline`]): a title holding a newline and "All checks passed."
//! or a terminal escape sequence must not be able to forge what qoima itself says.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write as _;

use qoima_core::{AuthorKey, format_ms};
use qoima_store::AuthorTrust;
use serde::Serialize;

/// Standard output was closed by whoever reads it (`| head`, a closed terminal). Not a
/// failure of the command: `main` exits quietly with status 0.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes `args` to stdout and flushes, so a closed pipe is noticed here (and becomes
/// [`StdoutClosed`]) rather than in the flush at exit, where it is silently lost.
pub fn write_stdout(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// Writes to stderr, ignoring failure: a message about the command must never be the
/// reason it fails (or panics, as `eprintln!` does when stderr is closed).
pub fn write_stderr(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `println!` for stdout that returns an error instead of panicking; use with `?`.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that cannot panic.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};

/// `text` with every character that could move the cursor, clear the screen, start a new
/// line or reorder what follows escaped, for showing data from records and bundles to
/// a person: C0 controls (`\n`, `\t`, `\x1b`…), DEL, C1 controls, and the Unicode
/// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make a
/// line read differently from its bytes. Everything else, Cyrillic included, is left as is.
pub fn safe(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// As [`safe`], but keeps line breaks: for a record's multi-line text. The caller must
/// make its lines distinguishable from qoima's own (`show` indents them).
pub fn safe_multiline(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            escaped.push(c);
            continue;
        }
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(escaped, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        // Line and paragraph separators: some viewers start a new line at them.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Prints `value` as pretty JSON on stdout. Exact: data is escaped by JSON's rules only.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)
}

/// A listed record, with what this archive makes of its author.
pub use qoima_store::JudgedRecord as Listed;

/// The JSON object for a listed record.
/// Prints listed records (each with its author's trust) as a table, or JSON.
pub fn print_summaries(summaries: &[Listed], json: bool) -> anyhow::Result<()> {
    if json {
        // The API's own type: `GET /api/v1/records` lists the same.
        let listed: Vec<qoima_store::views::ListedRecord> =
            summaries.iter().cloned().map(Into::into).collect();
        return print_json(&listed);
    }
    if summaries.is_empty() {
        errln!("No records.");
        return Ok(());
    }
    for Listed {
        summary: s,
        trust,
        suspect,
    } in summaries
    {
        let created = format_ms(s.created_ms);
        outln!(
            "{}  {:<10}  {:<10}  {}  {:<12}  {}",
            s.id.short(),
            created.get(..10).unwrap_or(&created),
            s.kind.name(),
            short_fingerprint(&s.author),
            if *suspect {
                "SUSPECT".to_owned()
            } else {
                trust_label(trust)
            },
            safe(&s.title)
        )?;
    }
    Ok(())
}

/// A record's author in a few characters: `you`, the trusted name, or `unknown`.
pub fn trust_label(trust: &AuthorTrust) -> String {
    match trust {
        AuthorTrust::Own { .. } => "you".to_owned(),
        AuthorTrust::Trusted { name } => {
            let name: String = name.chars().take(12).collect();
            safe(&name).into_owned()
        }
        AuthorTrust::Endorsed { name, .. } => {
            let name: String = name.chars().take(11).collect();
            format!("~{}", safe(&name))
        }
        AuthorTrust::Revoked { .. } => "REVOKED".to_owned(),
        AuthorTrust::Unknown => "unknown".to_owned(),
    }
}

/// The first group of an author's fingerprint, for dense listings.
pub fn short_fingerprint(key: &AuthorKey) -> String {
    let fingerprint = key.fingerprint().to_string();
    fingerprint.get(..9).unwrap_or(&fingerprint).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_escapes_controls_and_bidi_and_keeps_the_rest() {
        assert!(matches!(safe("Стрельба на площади"), Cow::Borrowed(_)));
        assert_eq!(
            safe("a\nAll checks passed.\x1b[2J\r\t\x7f\u{85}\u{9b}"),
            "a\\nAll checks passed.\\x1b[2J\\r\\t\\x7f\\u{85}\\u{9b}"
        );
        assert_eq!(
            safe("\u{202a}\u{202e}gpj.exe\u{2066}\u{2069}\u{2028}"),
            "\\u{202a}\\u{202e}gpj.exe\\u{2066}\\u{2069}\\u{2028}"
        );
        assert_eq!(safe("\0"), "\\x00");
        assert_eq!(
            safe_multiline("line one\nline two\x1b[1A\r"),
            "line one\nline two\\x1b[1A\\r"
        );
    }
}
