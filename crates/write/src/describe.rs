//! How an attachment is described in its record: its media type and the name it is
//! attached under.

/// The media type of an attachment: from its first bytes, else from the extension of
/// `file_name` (plain text and the like say nothing in their content).
pub fn media_type(head: &[u8], file_name: &str) -> String {
    match infer::get(head) {
        Some(kind) => kind.mime_type().to_owned(),
        None => by_extension(file_name).to_owned(),
    }
}

/// The name an attachment is recorded under. A camera's file name carries the date and
/// the device ("IMG_20220105_143012.jpg"), so it becomes `attachment-N.ext` (N from 1)
/// unless the metadata is kept; the extension stays, lower-cased, so the file opens.
pub fn attachment_name(file_name: &str, number: usize, keep_metadata: bool) -> String {
    if keep_metadata {
        return file_name.to_owned();
    }
    let extension = extension(file_name)
        .map(|e| format!(".{}", e.to_lowercase()))
        .unwrap_or_default();
    format!("attachment-{number}{extension}")
}

/// The extension of a file name as `Path::extension` finds it: after the last dot,
/// unless the dot starts the name.
fn extension(file_name: &str) -> Option<&str> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => Some(extension),
        _ => None,
    }
}

/// Media types for files whose content does not say.
fn by_extension(file_name: &str) -> &'static str {
    match extension(file_name).map(str::to_ascii_lowercase).as_deref() {
        Some("txt" | "md") => "text/plain",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_names_are_replaced_but_the_extension_stays() {
        assert_eq!(
            attachment_name("IMG_20220105_143012.JPG", 2, false),
            "attachment-2.jpg"
        );
        assert_eq!(attachment_name("notes", 1, false), "attachment-1");
        assert_eq!(attachment_name(".hidden", 1, false), "attachment-1");
        assert_eq!(attachment_name("IMG_1.jpg", 1, true), "IMG_1.jpg");
    }

    #[test]
    fn content_decides_the_type_before_the_name() {
        assert_eq!(media_type(b"\xff\xd8\xff\xe0", "a.txt"), "image/jpeg");
        assert_eq!(media_type(b"hello", "a.TXT"), "text/plain");
        assert_eq!(media_type(b"hello", "a"), "application/octet-stream");
    }
}
