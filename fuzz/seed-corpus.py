#!/usr/bin/env python3
"""Seeds the fuzz corpora from the test vectors in bundles/vectors (see README.md).

Each target gets inputs of its own form: whole bundles for `bundle`, the record items for
`record`, record bodies without their signature for `signed_record`, bundles without the
bundler key, signature and header for `signed_bundle`, a few record drafts for
`draft_json`, and every written form of a time for `time`. Starting from real structures lets the fuzzer reach deep code at once.
"""

import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent
VECTORS = ROOT.parent / "bundles" / "vectors"
CORPUS = ROOT / "corpus"
HEADER_LEN = 14


def varint(data, at):
    """Decodes a bincode varint at `at`: (value, next offset)."""
    first = data[at]
    widths = {251: 2, 252: 4, 253: 8, 254: 16}
    if first < 251:
        return first, at + 1
    width = widths[first]
    return int.from_bytes(data[at + 1 : at + 1 + width], "little"), at + 1 + width


def items(bundle):
    """The (kind, bytes) of each item of a well-formed bundle, or [] if it is not one."""
    if len(bundle) < HEADER_LEN or bundle[:8] != b"qoima-b\0":
        return []
    (manifest_len,) = struct.unpack_from("<I", bundle, 10)
    at = HEADER_LEN + 32  # bundler
    _, at = varint(bundle, at)  # created_ms
    collection_len, at = varint(bundle, at)
    at += collection_len
    count, at = varint(bundle, at)
    refs = []
    for _ in range(count):
        kind, at = varint(bundle, at)
        at += 32
        size, at = varint(bundle, at)
        refs.append((kind, size))
    at = HEADER_LEN + manifest_len + 64
    out = []
    for kind, size in refs:
        if size > len(bundle) - at:
            break
        out.append((kind, bundle[at : at + size]))
        at += size
    return out


def signed_bundle_input(bundle):
    """The `signed_bundle` form: u16 LE length, manifest after the key, payload."""
    (manifest_len,) = struct.unpack_from("<I", bundle, 10)
    if manifest_len < 32 or manifest_len - 32 > 0xFFFF:
        return None
    manifest = bundle[HEADER_LEN : HEADER_LEN + manifest_len]
    payload = bundle[HEADER_LEN + manifest_len + 64 :]
    return struct.pack("<H", manifest_len - 32) + manifest[32:] + payload


DRAFTS = [
    {"kind": "testimony", "title": "t"},
    {
        "kind": "incident",
        "title": "Стрельба",
        "text": "Около 14:30.\nЛюди побежали.",
        "occurred_at": "2022-01-05T14:30+06:00",
        "place": {"name": "Алматы", "lat": 43.238, "lon": 76.9454, "radius_m": 50},
        "lang": "ru",
        "tags": ["almaty"],
        "details": {
            "type": "incident",
            "incident_type": "shooting",
            "source": {"type": "open_source", "url": "https://example.org", "captured_ms": 1},
        },
        "links": [{"kind": "same_event", "target": "00" * 32}],
        "consent": {"publish": True},
    },
    {
        "kind": "detention",
        "title": "d",
        "occurred_at": "2022-01-05/2022-01-07",
        "details": {"type": "detention", "person_ref": "P", "facility": "", "authority": ""},
    },
]

# Every precision, an offset, a fraction, a range, and the input that once panicked.
TIMES = [
    "2022",
    "2022-01",
    "2022-01-05",
    "2022-01-05T14",
    "2022-01-05T14:30",
    "2022-01-05T14:30:15Z",
    "2022-01-05T14:30:15.123+06:00",
    "2022-01-05 14:30-03:30",
    "2022-01-05/2022-01-07",
    "2022-01-05T14:30:15.éé",
]


def main():
    written = 0

    def put(target, name, data):
        nonlocal written
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
        written += 1

    for path in sorted(VECTORS.glob("*.qb")):
        bundle = path.read_bytes()
        put("bundle", path.stem, bundle)
        signed = signed_bundle_input(bundle) if len(bundle) >= HEADER_LEN else None
        if signed is not None:
            put("signed_bundle", path.stem, signed)
        for index, (kind, data) in enumerate(items(bundle)):
            if kind == 0:
                put("record", f"{path.stem}-{index}", data)
                if len(data) > 64:
                    put("signed_record", f"{path.stem}-{index}", data[:-64])
    for index, draft in enumerate(DRAFTS):
        put("draft_json", f"draft-{index}", json.dumps(draft, ensure_ascii=False).encode())
    for index, text in enumerate(TIMES):
        put("time", f"time-{index}", text.encode())
    print(f"{written} seed inputs written under {CORPUS}", file=sys.stderr)


if __name__ == "__main__":
    main()
