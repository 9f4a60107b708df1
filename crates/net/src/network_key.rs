//! The key of a closed group: a 32-byte pre-shared key in the swarm key file format of
//! libp2p and IPFS, so the same file works with other libp2p tools.
//!
//! ```text
//! /key/swarm/psk/1.0.0/
//! /base16/
//! <64 hexadecimal digits>
//! ```
//!
//! A final newline after the digits is accepted (and written); nothing else is: another
//! encoding, a short key, a stray character or a second key is an error, so that a member
//! with a damaged file learns it at once instead of silently forming a group of one.

use std::io::{self, Write};
use std::path::Path;

/// Bytes in a network key.
pub const KEY_BYTES: usize = 32;

const HEADER: &str = "/key/swarm/psk/1.0.0/";
const ENCODING: &str = "/base16/";
/// A key file is far smaller; a longer file is not read at all.
const FILE_BYTES_MAX: u64 = 4096;

/// Why a network key file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum NetworkKeyError {
    /// The first line is not `/key/swarm/psk/1.0.0/`.
    #[error("not a network key file: the first line must be {HEADER:?}")]
    BadHeader,
    /// The second line names another encoding than `/base16/`.
    #[error("unsupported key encoding {0:?}: only {ENCODING:?} is supported")]
    BadEncoding(String),
    /// The key has the wrong number of hexadecimal digits.
    #[error("the key must be {expected} hexadecimal digits, found {0}", expected = KEY_BYTES * 2)]
    WrongLength(usize),
    /// A character in the key is not a hexadecimal digit.
    #[error("the key has a character that is not a hexadecimal digit at position {0}")]
    NotHex(usize),
    /// Something follows the key.
    #[error("unexpected text after the key")]
    TrailingGarbage,
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Parses the text of a network key file.
pub fn parse(text: &str) -> Result<[u8; KEY_BYTES], NetworkKeyError> {
    let mut lines = text.split('\n');
    let header = lines.next().unwrap_or_default();
    if header.trim_end_matches('\r') != HEADER {
        return Err(NetworkKeyError::BadHeader);
    }
    let encoding = lines.next().unwrap_or_default().trim_end_matches('\r');
    if encoding != ENCODING {
        return Err(NetworkKeyError::BadEncoding(
            encoding.chars().take(40).collect(),
        ));
    }
    let digits = lines.next().unwrap_or_default().trim_end_matches('\r');
    // Only an empty remainder (the final newline) is allowed after the key.
    if lines.any(|line| !line.trim_end_matches('\r').is_empty()) {
        return Err(NetworkKeyError::TrailingGarbage);
    }
    if let Some(position) = digits.chars().position(|c| !c.is_ascii_hexdigit()) {
        return Err(NetworkKeyError::NotHex(position));
    }
    if digits.len() != KEY_BYTES * 2 {
        return Err(NetworkKeyError::WrongLength(digits.len()));
    }
    let mut key = [0u8; KEY_BYTES];
    for (byte, pair) in key.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    Ok(key)
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        // `parse` checked every digit before calling this.
        _ => 0,
    }
}

/// The text of a network key file for `key` (lowercase digits, final newline).
pub fn format(key: &[u8; KEY_BYTES]) -> String {
    let mut text = format!("{HEADER}\n{ENCODING}\n");
    for byte in key {
        text.push_str(&format!("{byte:02x}"));
    }
    text.push('\n');
    text
}

/// A new random key.
pub fn generate() -> Result<[u8; KEY_BYTES], NetworkKeyError> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(key)
}

/// Reads and parses a network key file.
pub fn read(path: &Path) -> Result<[u8; KEY_BYTES], NetworkKeyError> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(FILE_BYTES_MAX)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => io::Error::new(e.kind(), "the file is not text"),
            _ => e,
        })?;
    parse(&text)
}

/// Writes `key` to a new file at `path`, readable by its owner only (0600 on Unix).
/// Refuses to replace an existing file: replacing a group's key would cut this member
/// off from the group.
pub fn write_new(path: &Path, key: &[u8; KEY_BYTES]) -> Result<(), NetworkKeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(format(key).as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: &str = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    fn file(digits: &str) -> String {
        format!("/key/swarm/psk/1.0.0/\n/base16/\n{digits}\n")
    }

    #[test]
    fn parses_the_standard_format() {
        let key = parse(&file(DIGITS)).unwrap();
        assert_eq!(key[0], 0x00);
        assert_eq!(key[1], 0x11);
        assert_eq!(key[31], 0xff);
        // Without the final newline, and with CRLF line ends.
        assert_eq!(parse(file(DIGITS).trim_end()).unwrap(), key);
        assert_eq!(parse(&file(DIGITS).replace('\n', "\r\n")).unwrap(), key);
    }

    #[test]
    fn format_and_parse_round_trip() {
        let key = generate().unwrap();
        assert_eq!(parse(&format(&key)).unwrap(), key);
        assert_ne!(generate().unwrap(), key);
    }

    #[test]
    fn bad_header() {
        for text in [
            "",
            "/key/swarm/psk/2.0.0/\n/base16/\n00\n",
            &file(DIGITS)[1..],
            "garbage",
        ] {
            assert!(
                matches!(parse(text), Err(NetworkKeyError::BadHeader)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bad_encoding() {
        let text = file(DIGITS).replace("/base16/", "/base64/");
        assert!(matches!(
            parse(&text),
            Err(NetworkKeyError::BadEncoding(e)) if e == "/base64/"
        ));
    }

    #[test]
    fn wrong_length() {
        assert!(matches!(
            parse(&file(&DIGITS[..62])),
            Err(NetworkKeyError::WrongLength(62))
        ));
        assert!(matches!(
            parse(&file(&format!("{DIGITS}00"))),
            Err(NetworkKeyError::WrongLength(66))
        ));
        assert!(matches!(
            parse(&file("")),
            Err(NetworkKeyError::WrongLength(0))
        ));
    }

    #[test]
    fn non_hex() {
        let digits = format!("{}g{}", &DIGITS[..10], &DIGITS[11..]);
        assert!(matches!(
            parse(&file(&digits)),
            Err(NetworkKeyError::NotHex(10))
        ));
        let spaced = format!(" {}", &DIGITS[1..]);
        assert!(matches!(
            parse(&file(&spaced)),
            Err(NetworkKeyError::NotHex(0))
        ));
    }

    #[test]
    fn trailing_garbage() {
        assert!(matches!(
            parse(&format!("{}more\n", file(DIGITS))),
            Err(NetworkKeyError::TrailingGarbage)
        ));
        assert!(matches!(
            parse(&format!("{}{DIGITS}\n", file(DIGITS))),
            Err(NetworkKeyError::TrailingGarbage)
        ));
    }

    #[test]
    fn written_owner_only_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group.key");
        let key = generate().unwrap();
        write_new(&path, &key).unwrap();
        assert_eq!(read(&path).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = write_new(&path, &generate().unwrap()).unwrap_err();
        assert!(
            matches!(&err, NetworkKeyError::Io(e) if e.kind() == io::ErrorKind::AlreadyExists),
            "{err}"
        );
        assert_eq!(read(&path).unwrap(), key);
    }
}
