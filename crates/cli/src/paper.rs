//! A small bundle (a revocation certificate) as text, to print and keep on paper and
//! type back in when needed: base32 (RFC 4648, no padding) in groups of four, eight
//! groups a line, between two marker lines. Typing it back, case, spaces and line breaks
//! do not matter, and the digits 0 and 1, which base32 never uses, are read as O and I.

use anyhow::Context as _;

/// The first line of a bundle on paper.
pub const BEGIN: &str = "-----BEGIN QOIMA BUNDLE-----";
/// The last line.
pub const END: &str = "-----END QOIMA BUNDLE-----";
/// Longest text read as a bundle on paper (a revocation certificate is about 1 KB).
pub const TEXT_MAX: u64 = 64 * 1024;

/// `bytes` as text for paper.
pub fn to_paper(bytes: &[u8]) -> String {
    let encoded = data_encoding::BASE32_NOPAD.encode(bytes);
    let mut out = format!("{BEGIN}\n");
    for line in encoded.as_bytes().chunks(32) {
        let groups: Vec<&str> = line
            .chunks(4)
            .map(|g| std::str::from_utf8(g).expect("base32 is ASCII"))
            .collect();
        out.push_str(&groups.join(" "));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// Whether the first bytes of a file are those of a bundle on paper.
pub fn is_paper(head: &[u8]) -> bool {
    !head.is_empty() && BEGIN.as_bytes().starts_with(head)
}

/// The bundle's bytes from its text (as printed, or typed back in).
pub fn from_paper(text: &str) -> anyhow::Result<Vec<u8>> {
    let start = text
        .find(BEGIN)
        .context("not a bundle on paper: its first line is missing")?
        + BEGIN.len();
    let end = text[start..]
        .find(END)
        .context("the bundle on paper is cut short: its last line is missing")?
        + start;
    let letters: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            '0' => 'O',
            '1' => 'I',
            c => c,
        })
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(letters.as_bytes())
        .map_err(|e| anyhow::anyhow!("the bundle on paper has a mistyped character: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_sloppy_typing() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let paper = to_paper(&bytes);
        assert!(paper.starts_with(BEGIN) && paper.trim_end().ends_with(END));
        assert!(is_paper(&paper.as_bytes()[..8]));
        assert_eq!(from_paper(&paper).unwrap(), bytes);
        let body = &paper[BEGIN.len()..paper.find(END).unwrap()];
        let typed_body = body.to_lowercase().replace('o', "0").replace(' ', "");
        let typed = format!("{BEGIN}{typed_body}{END}");
        assert_eq!(from_paper(&typed).unwrap(), bytes);
        assert!(from_paper(&paper.replace(END, "")).is_err());
        assert!(from_paper(&paper.replacen('A', "8", 1)).is_err());
    }
}
