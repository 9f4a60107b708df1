//! What the bundle fuzz targets share: reading a whole bundle the way an importer does,
//! and checking the promises a clean read makes.

use std::io::Read;

use qoima_core::bundle::{BundleReader, HEADER_LEN, Item};
use qoima_core::encoding::encode;
use qoima_core::{RecordId, VerifiedRecord};

/// Reads every item of `data` as a bundle, verifying records and blobs, until the end or
/// the first fatal error. Panics only if the reader breaks one of its own promises.
pub fn read_whole_bundle(data: &[u8]) {
    let Ok(mut reader) = BundleReader::open(data) else {
        return;
    };
    let manifest = reader.manifest().clone();
    let mut seen = 0;
    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(_) => return,
        };
        match item {
            Item::Record { index, id, bytes } => {
                assert_eq!(index, seen);
                assert_eq!(id.0, manifest.items[index].hash);
                if let Ok(bytes) = bytes {
                    assert_eq!(RecordId::of(&bytes), id);
                    assert_eq!(bytes.len() as u64, manifest.items[index].size);
                    let _ = VerifiedRecord::from_bytes_with_id(bytes, id);
                }
            }
            Item::Blob(mut blob) => {
                let index = blob.index();
                assert_eq!(index, seen);
                assert_eq!(blob.size(), manifest.items[index].size);
                if index % 2 == 0 {
                    if blob.finish().is_err() {
                        return;
                    }
                } else {
                    // Read a little and drop the rest: the reader must skip it by itself.
                    let mut buf = [0u8; 7];
                    if blob.read(&mut buf).is_err() {
                        return;
                    }
                }
            }
        }
        seen += 1;
    }
    // A clean end means every item was there and the input held nothing else.
    assert_eq!(seen, manifest.items.len());
    let expected_len =
        (HEADER_LEN + encode(&manifest).len() + 64) as u64 + manifest.payload_bytes();
    assert_eq!(data.len() as u64, expected_len);
}
