//! Small real files built in code, each carrying metadata marked `QOIMA-SECRET` so a
//! test can check that no trace of it survives.

#![allow(dead_code, clippy::unwrap_used)]

/// The marker every piece of metadata in these files carries.
pub const SECRET: &[u8] = b"QOIMA-SECRET";

/// A stand-in ICC profile: this crate never parses one, it only has to keep it.
pub const ICC: &[u8] = b"QOIMA-ICC-PROFILE: a colour space, not a secret";

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A little-endian EXIF TIFF block: IFD0 with the camera make, an orientation when
/// given, and a GPS IFD with a latitude reference and a map datum.
pub fn tiff_with_gps(orientation: Option<u16>) -> Vec<u8> {
    let entries: u16 = if orientation.is_some() { 3 } else { 2 };
    let ifd0_end = 8 + 2 + 12 * usize::from(entries) + 4;
    let gps_at = ifd0_end as u32;
    let gps_end = ifd0_end + 2 + 2 * 12 + 4;
    let make = b"QOIMA-SECRET-MAKE\0";
    let datum = b"QOIMA-SECRET-GPS\0";
    let make_at = gps_end as u32;
    let datum_at = make_at + make.len() as u32;

    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&entries.to_le_bytes());
    entry(
        &mut tiff,
        0x010F,
        2,
        make.len() as u32,
        make_at.to_le_bytes(),
    );
    if let Some(orientation) = orientation {
        let [a, b] = orientation.to_le_bytes();
        entry(&mut tiff, 0x0112, 3, 1, [a, b, 0, 0]);
    }
    entry(&mut tiff, 0x8825, 4, 1, gps_at.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(
        &mut tiff,
        0x0012,
        2,
        datum.len() as u32,
        datum_at.to_le_bytes(),
    );
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(make);
    tiff.extend_from_slice(datum);
    tiff
}

/// The pixels of the test pictures: 16 × 16 RGB, a gradient.
pub fn pixels(width: usize, height: usize) -> Vec<u8> {
    (0..width * height * 3)
        .map(|i| (i * 7 % 251) as u8)
        .collect()
}

/// A JPEG segment.
pub fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(contents.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(contents);
    out
}

/// A real 16 × 16 JPEG with an ICC profile, and `extra` segments inserted right
/// after the start-of-image marker.
pub fn jpeg(progressive: bool, icc: bool, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut encoded = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut encoded, 90);
    encoder.set_progressive(progressive);
    if icc {
        encoder.add_icc_profile(ICC).unwrap();
    }
    encoder
        .encode(&pixels(16, 16), 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let mut out = encoded[..2].to_vec();
    for segment in extra {
        out.extend_from_slice(segment);
    }
    out.extend_from_slice(&encoded[2..]);
    out
}

/// The metadata segments a phone or an editor leaves in a JPEG, each marked.
pub fn jpeg_metadata(orientation: Option<u16>) -> Vec<Vec<u8>> {
    let xmp = [
        &b"http://ns.adobe.com/xap/1.0/\0"[..],
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>QOIMA-SECRET-XMP</x:xmpmeta>",
    ]
    .concat();
    let extended_xmp = [
        &b"http://ns.adobe.com/xmp/extension/\0"[..],
        b"0123456789ABCDEF0123456789ABCDEF\0\0\0\x10\0\0\0\0QOIMA-SECRET-XMPX",
    ]
    .concat();
    let iptc = [
        &b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x14"[..],
        b"QOIMA-SECRET-BYLINE",
    ]
    .concat();
    vec![
        segment(
            0xE1,
            &[&b"Exif\0\0"[..], &tiff_with_gps(orientation)].concat(),
        ),
        segment(0xE1, &xmp),
        segment(0xE1, &extended_xmp),
        segment(0xED, &iptc),
        segment(0xE2, b"FPXR\0\0QOIMA-SECRET-FLASHPIX"),
        segment(0xE2, b"MPF\0MM\0*QOIMA-SECRET-MPF"),
        segment(0xEB, b"JP\0\0QOIMA-SECRET-C2PA"),
        segment(0xFE, b"QOIMA-SECRET-COMMENT"),
    ]
}

/// A PNG chunk with its CRC.
pub fn chunk(kind: &[u8; 4], contents: &[u8]) -> Vec<u8> {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(contents);
    let mut out = u32::try_from(contents.len())
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(contents);
    out.extend_from_slice(&hasher.finalize().to_be_bytes());
    out
}

/// A real 4 × 4 RGB PNG: IHDR, the given chunks before the image data, an iCCP
/// profile, IDAT as a stored zlib stream, IEND.
pub fn png(extra: &[Vec<u8>]) -> Vec<u8> {
    let (width, height) = (4u32, 4u32);
    let pixels = pixels(4, 4);
    let mut raw = Vec::new();
    for row in pixels.chunks(4 * 3) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut zlib = vec![0x78, 0x01, 0x01];
    let len = u16::try_from(raw.len()).unwrap();
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // iCCP: a name, NUL, compression method 0, then a zlib stream (stored here).
    let mut iccp = b"QOIMA profile\0\0".to_vec();
    iccp.extend_from_slice(&[0x78, 0x01, 0x01]);
    let icc_len = u16::try_from(ICC.len()).unwrap();
    iccp.extend_from_slice(&icc_len.to_le_bytes());
    iccp.extend_from_slice(&(!icc_len).to_le_bytes());
    iccp.extend_from_slice(ICC);
    iccp.extend_from_slice(&adler32(ICC).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&chunk(b"iCCP", &iccp));
    out.extend_from_slice(&chunk(b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]));
    for chunk in extra {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&chunk(b"IDAT", &zlib));
    out.extend_from_slice(&chunk(b"IEND", b""));
    out
}

/// The metadata chunks of a PNG, each marked.
pub fn png_metadata(orientation: Option<u16>) -> Vec<Vec<u8>> {
    vec![
        chunk(b"eXIf", &tiff_with_gps(orientation)),
        chunk(b"tEXt", b"Author\0QOIMA-SECRET-AUTHOR"),
        chunk(b"zTXt", b"Comment\0\0x-not-really-compressed QOIMA-SECRET"),
        chunk(
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>QOIMA-SECRET-XMP</x:xmpmeta>",
        ),
        chunk(b"tIME", &[0x07, 0xEA, 11, 23, 3, 50, 0]),
        chunk(b"caBX", b"QOIMA-SECRET-C2PA"),
    ]
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// An ISO-BMFF box.
pub fn bx(kind: &[u8; 4], contents: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(contents.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(contents);
    out
}

/// An ISO-BMFF full box.
pub fn full(kind: &[u8; 4], version: u8, contents: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], contents].concat())
}

/// The picture and sound bytes of the test movie, which must survive untouched.
pub const MEDIA: &[u8] = b"VIDEO-FRAMES-THAT-MUST-SURVIVE";
/// The GPS log samples of the test movie's metadata track.
pub const GPMF: [&[u8]; 2] = [b"QOIMA-SECRET-GPMF-1", b"QOIMA-SECRET-GPMF-22"];

/// A small MP4 shaped like a phone's or an action camera's: a video track whose one
/// sample is [`MEDIA`], a GoPro-style GPS track, movie metadata with a position, an
/// Apple-style `meta`, recording times, and old metadata left in free space.
pub fn mp4() -> Vec<u8> {
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    let moov = |mdat_body: u32| {
        let times = [0xE0u8, 0x1F, 0x2A, 0x3B, 0xE0, 0x1F, 0x2A, 0x3C];
        let mvhd = full(b"mvhd", 0, &[&times[..], &[0; 88]].concat());
        let tkhd = full(b"tkhd", 0, &[&times[..], &[0; 72]].concat());
        let mdhd = full(b"mdhd", 0, &[&times[..], &[0; 12]].concat());
        let stbl = |entry: &[u8; 4], sizes: &[u32], offset: u32| {
            let mut stsz = vec![0, 0, 0, 0];
            stsz.extend_from_slice(&u32::try_from(sizes.len()).unwrap().to_be_bytes());
            for size in sizes {
                stsz.extend_from_slice(&size.to_be_bytes());
            }
            let stsc = [1u32, 1, u32::try_from(sizes.len()).unwrap(), 1]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect::<Vec<u8>>();
            let stco = [1u32, offset]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect::<Vec<u8>>();
            bx(
                b"stbl",
                &[
                    full(
                        b"stsd",
                        0,
                        &[&1u32.to_be_bytes()[..], &bx(entry, &[0; 8])].concat(),
                    ),
                    full(b"stsz", 0, &stsz),
                    full(b"stsc", 0, &stsc),
                    full(b"stco", 0, &stco),
                ]
                .concat(),
            )
        };
        let hdlr = |kind: &[u8; 4]| full(b"hdlr", 0, &[&[0; 4][..], kind, &[0; 13]].concat());
        let video = bx(
            b"trak",
            &[
                tkhd.clone(),
                bx(
                    b"mdia",
                    &[
                        mdhd.clone(),
                        hdlr(b"vide"),
                        bx(b"minf", &stbl(b"avc1", &[MEDIA.len() as u32], mdat_body)),
                    ]
                    .concat(),
                ),
                bx(b"udta", b"QOIMA-SECRET-TRACK-UDTA"),
            ]
            .concat(),
        );
        let gps_sizes = [GPMF[0].len() as u32, GPMF[1].len() as u32];
        let gps = bx(
            b"trak",
            &[
                tkhd,
                bx(
                    b"mdia",
                    &[
                        mdhd,
                        hdlr(b"meta"),
                        bx(
                            b"minf",
                            &stbl(b"gpmd", &gps_sizes, mdat_body + MEDIA.len() as u32),
                        ),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        );
        let udta = bx(
            b"udta",
            &bx(
                b"\xA9xyz",
                b"\0\x12\x15\xc7+48.8577+002.2950/QOIMA-SECRET-GPS",
            ),
        );
        let meta = bx(
            b"meta",
            &[
                hdlr(b"mdta"),
                bx(
                    b"keys",
                    b"com.apple.quicktime.location.ISO6709 QOIMA-SECRET",
                ),
            ]
            .concat(),
        );
        bx(b"moov", &[mvhd, video, gps, udta, meta].concat())
    };
    // Free space where an editor left old metadata behind.
    let free = bx(b"free", b"QOIMA-SECRET-LEFTOVER");
    let mdat_body = u32::try_from(ftyp.len() + free.len() + moov(0).len() + 8).unwrap();
    let mdat = bx(b"mdat", &[MEDIA, GPMF[0], GPMF[1]].concat());
    [ftyp, free, moov(mdat_body), mdat].concat()
}

/// The coded picture of the test HEIF, which must survive untouched.
pub const PICTURE: &[u8] = b"HEVC-PICTURE-THAT-MUST-SURVIVE";

/// A small HEIC shaped like a phone's: a picture item, an EXIF item with a GPS
/// position in `mdat`, and an XMP item in `idat`.
pub fn heic() -> Vec<u8> {
    let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
    let exif = [&0u32.to_be_bytes()[..], &tiff_with_gps(Some(6))].concat();
    let xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>QOIMA-SECRET-XMP-IN-HEIC</x:xmpmeta>";
    let meta = |mdat_body: u32| {
        let infe = |id: u16, kind: &[u8; 4], extra: &[u8]| {
            full(
                b"infe",
                2,
                &[&id.to_be_bytes()[..], &[0, 0], kind, b"\0", extra].concat(),
            )
        };
        let iinf = full(
            b"iinf",
            0,
            &[
                &3u16.to_be_bytes()[..],
                &infe(1, b"hvc1", b""),
                &infe(2, b"Exif", b""),
                &infe(3, b"mime", b"application/rdf+xml\0"),
            ]
            .concat(),
        );
        // iloc version 1: 4-byte offsets and lengths, no base offset, no index.
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&3u16.to_be_bytes());
        let mut item = |id: u16, method: u16, offset: u32, len: usize| {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&method.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        };
        item(1, 0, mdat_body, PICTURE.len());
        item(2, 0, mdat_body + PICTURE.len() as u32, exif.len());
        item(3, 1, 0, xmp.len());
        full(
            b"meta",
            0,
            &[
                full(b"hdlr", 0, &[&[0; 4][..], b"pict", &[0; 13]].concat()),
                full(b"pitm", 0, &1u16.to_be_bytes()),
                iinf,
                full(b"iloc", 1, &iloc),
                bx(b"idat", xmp),
            ]
            .concat(),
        )
    };
    let mdat_body = u32::try_from(ftyp.len() + meta(0).len() + 8).unwrap();
    let mdat = bx(b"mdat", &[PICTURE, &exif].concat());
    [ftyp, meta(mdat_body), mdat].concat()
}
