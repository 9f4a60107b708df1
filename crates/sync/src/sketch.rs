//! A rateless sketch of a set of record ids: a rateless invertible Bloom lookup table
//! (RIBLT; Yang, Gilad and Alizadeh, "Practical Rateless Set Reconciliation", 2024).
//!
//! The sender turns its set into an endless sequence of *coded symbols*; each symbol is
//! the XOR of some ids, the XOR of their checksums and their count. The receiver
//! subtracts its own set's symbols and is left with symbols of the difference alone, which
//! it *peels*: a symbol holding exactly one id names it (its checksum matches), and that
//! id is then subtracted everywhere else it went, freeing more. About 1.35 symbols per
//! differing id suffice for large differences, wherever in the archive they are, in one
//! stream — where range-based reconciliation pays for every range a scattered
//! difference touches.
//!
//! Every function of the sketch is specified here (and in `bundles/PROTOCOL.md`) so that
//! two implementations agree bit for bit: no hash of the standard library (whose
//! algorithm may change between releases), no platform-dependent arithmetic. The
//! mapping's floating point is IEEE 754 binary64 (`sqrt` is correctly rounded there),
//! which Rust guarantees on every target.

/// Bytes of the salt an initiator picks per session: every hash of the sketch is keyed
/// by it, so nobody can prepare ids that collide in a session they do not choose.
pub const SALT_BYTES: usize = 16;
/// One coded symbol on the wire: the XOR of ids (32 bytes), of checksums (8, little
/// endian) and the count modulo 2^16 (2, little endian).
pub const SYMBOL_BYTES: usize = 32 + 8 + 2;

/// The salt of one session.
pub type Salt = [u8; SALT_BYTES];
/// Records at the session's start position and above up to which either side builds a
/// sketch (the initiator's snapshot takes 80 bytes a record: 20 MiB at most, and a
/// responder's reply hashes at most this many); bigger archives use ranges.
pub const SKETCH_ITEMS_MAX: usize = 262_144;

/// The BLAKE3 key-derivation context that turns a salt into the session's hash key.
const KEY_CONTEXT: &str = "qoima 2026 sync sketch v1";
/// The multiplier of the mapping's generator (the RIBLT paper's).
const MAPPING_MULTIPLIER: u64 = 0xda94_2042_e4dd_58b5;

/// The BLAKE3 key all hashes of a session are keyed with.
pub(crate) fn session_key(salt: &Salt) -> [u8; 32] {
    blake3::derive_key(KEY_CONTEXT, salt)
}

/// An id with what a session derives from it: `BLAKE3-keyed(key, id)` cut into the
/// checksum (bytes 0..8), the seed of its mapping (8..16) and 128 signs for the size
/// estimate (16..32), all little endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hashed {
    pub(crate) id: [u8; 32],
    pub(crate) checksum: u64,
    seed: u64,
    pub(crate) signs: u128,
}

impl Hashed {
    pub(crate) fn new(id: &[u8; 32], key: &[u8; 32]) -> Hashed {
        let hash = blake3::keyed_hash(key, id);
        let bytes = hash.as_bytes();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        Hashed {
            id: *id,
            checksum: word(0),
            seed: word(8),
            signs: u128::from(word(16)) | (u128::from(word(24)) << 64),
        }
    }
}

/// The indices of the coded symbols one id goes into: 0 first, then ever sparser (the
/// `i`-th symbol receives an id with probability about `1 / (1 + i / 2)`), so any prefix
/// of the stream is a sketch of its own.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    state: u64,
    index: u64,
}

impl Mapping {
    fn new(seed: u64) -> Mapping {
        Mapping {
            state: seed,
            index: 0,
        }
    }

    /// `state ← state · M mod 2^64; index ← index + max(1, ⌈(index + 1.5) · (2^32 / √(state + 1) − 1)⌉)`,
    /// saturating at `u64::MAX` (past any stream).
    fn advance(&mut self) {
        self.state = self.state.wrapping_mul(MAPPING_MULTIPLIER);
        let scale = 4_294_967_296.0 / ((self.state as f64) + 1.0).sqrt() - 1.0;
        let step = ((self.index as f64 + 1.5) * scale).ceil();
        // `as` saturates (and a step can never be NaN: scale ≥ 0).
        let step = (step as u64).max(1);
        self.index = self.index.saturating_add(step);
    }
}

/// The symbols in `[first, end)` that `item` goes into, in order.
fn indices_below(item: &Hashed, first: u64, end: u64) -> impl Iterator<Item = u64> {
    let mut mapping = Mapping::new(item.seed);
    std::iter::from_fn(move || {
        while mapping.index < end {
            let index = mapping.index;
            mapping.advance();
            if index >= first {
                return Some(index);
            }
        }
        None
    })
}

/// One coded symbol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Symbol {
    sum: [u8; 32],
    checksum: u64,
    count: u16,
}

impl Symbol {
    /// Adds (`sign` = 1) or takes away (`sign` = -1) one id.
    fn apply(&mut self, item: &Hashed, sign: i8) {
        for (sum, byte) in self.sum.iter_mut().zip(item.id) {
            *sum ^= byte;
        }
        self.checksum ^= item.checksum;
        self.count = if sign > 0 {
            self.count.wrapping_add(1)
        } else {
            self.count.wrapping_sub(1)
        };
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.sum);
        out.extend_from_slice(&self.checksum.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
    }

    /// Reads one symbol of exactly [`SYMBOL_BYTES`].
    pub(crate) fn read(bytes: &[u8]) -> Option<Symbol> {
        if bytes.len() != SYMBOL_BYTES {
            return None;
        }
        Some(Symbol {
            sum: bytes[..32].try_into().ok()?,
            checksum: u64::from_le_bytes(bytes[32..40].try_into().ok()?),
            count: u16::from_le_bytes(bytes[40..42].try_into().ok()?),
        })
    }
}

/// Coded symbols `[first, first + count)` of `items`.
pub(crate) fn encode(items: &[Hashed], first: u64, count: usize) -> Vec<Symbol> {
    let end = first.saturating_add(count as u64);
    let mut symbols = vec![Symbol::default(); count];
    for item in items {
        for index in indices_below(item, first, end) {
            symbols[(index - first) as usize].apply(item, 1);
        }
    }
    symbols
}

/// The receiving side: takes the sender's symbols in order, as they come, and peels the
/// difference out of them.
#[derive(Debug)]
pub(crate) struct Decoder {
    key: [u8; 32],
    /// This side's ids (the sender's set is subtracted from them), each with its mapping
    /// at the first symbol not yet received, so a chunk costs only the indices it holds.
    local: Vec<(Hashed, Mapping)>,
    /// Ids peeled so far, with +1 for "only the sender has it", -1 for "only we have it",
    /// and their mappings likewise.
    peeled: Vec<(Hashed, i8, Mapping)>,
    /// The ids peeled, to notice one peeled twice.
    peeled_ids: std::collections::HashSet<[u8; 32]>,
    /// The symbols received, minus `local`, minus everything peeled.
    symbols: Vec<Symbol>,
    /// Symbols to look at for purity.
    queue: Vec<usize>,
    /// The stream cannot be one set's: an id peeled twice (the sender's set changed
    /// between requests, or symbols were made up), or more ids than symbols.
    inconsistent: bool,
}

/// Peeled ids past this many times the symbols received mean the symbols were made up
/// (an honest stream yields at most one id per symbol): the decoder stops peeling.
const PEELED_PER_SYMBOL_MAX: usize = 1;

impl Decoder {
    pub(crate) fn new(key: [u8; 32], local: Vec<Hashed>) -> Decoder {
        Decoder {
            key,
            local: local
                .into_iter()
                .map(|item| (item, Mapping::new(item.seed)))
                .collect(),
            peeled: Vec::new(),
            peeled_ids: std::collections::HashSet::new(),
            symbols: Vec::new(),
            queue: Vec::new(),
            inconsistent: false,
        }
    }

    /// True once the symbols proved not to come from one set: the sketch cannot decode.
    pub(crate) fn is_inconsistent(&self) -> bool {
        self.inconsistent
    }

    /// Symbols received so far.
    pub(crate) fn received(&self) -> u64 {
        self.symbols.len() as u64
    }

    /// Takes the next symbols of the sender's stream and peels what they free.
    pub(crate) fn receive(&mut self, chunk: &[Symbol]) {
        let first = self.received();
        self.symbols.extend_from_slice(chunk);
        let end = self.received();
        for (item, mapping) in &mut self.local {
            while mapping.index < end {
                self.symbols[mapping.index as usize].apply(item, -1);
                mapping.advance();
            }
        }
        for (item, sign, mapping) in &mut self.peeled {
            while mapping.index < end {
                self.symbols[mapping.index as usize].apply(item, -*sign);
                mapping.advance();
            }
        }
        self.queue.extend(first as usize..end as usize);
        self.peel();
    }

    fn peel(&mut self) {
        let limit = self.symbols.len().saturating_mul(PEELED_PER_SYMBOL_MAX);
        while let Some(at) = self.queue.pop() {
            if self.inconsistent {
                self.queue.clear();
                return;
            }
            let symbol = self.symbols[at];
            let sign: i8 = match symbol.count {
                1 => 1,
                u16::MAX => -1,
                _ => continue,
            };
            let item = Hashed::new(&symbol.sum, &self.key);
            if item.checksum != symbol.checksum {
                continue;
            }
            if self.peeled.len() >= limit || !self.peeled_ids.insert(item.id) {
                self.inconsistent = true;
                continue;
            }
            let mut mapping = Mapping::new(item.seed);
            while mapping.index < self.received() {
                self.symbols[mapping.index as usize].apply(&item, -sign);
                self.queue.push(mapping.index as usize);
                mapping.advance();
            }
            self.peeled.push((item, sign, mapping));
        }
    }

    /// True once the difference is wholly peeled: symbol 0 holds every differing id, so
    /// it is empty exactly when none is left.
    pub(crate) fn is_decoded(&self) -> bool {
        self.symbols
            .first()
            .is_some_and(|first| *first == Symbol::default())
    }

    /// How many ids this side holds.
    pub(crate) fn local_len(&self) -> usize {
        self.local.len()
    }

    /// This side's ids, as the decoder took them.
    pub(crate) fn local_ids(&self) -> impl Iterator<Item = [u8; 32]> + '_ {
        self.local.iter().map(|(item, _)| item.id)
    }

    /// The ids only the sender holds and those only we hold.
    pub(crate) fn difference(&self) -> (Vec<[u8; 32]>, Vec<[u8; 32]>) {
        let mut theirs = Vec::new();
        let mut ours = Vec::new();
        for (item, sign, _) in &self.peeled {
            if *sign > 0 {
                theirs.push(item.id);
            } else {
                ours.push(item.id);
            }
        }
        (theirs, ours)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(n: u32) -> [u8; 32] {
        *blake3::hash(&n.to_le_bytes()).as_bytes()
    }

    fn hashed(range: std::ops::Range<u32>, key: &[u8; 32]) -> Vec<Hashed> {
        range.map(|n| Hashed::new(&id(n), key)).collect()
    }

    /// Streams `sender`'s symbols to a decoder over `receiver` in chunks of `chunk`
    /// until it decodes; returns the symbols it took and the difference.
    fn decode(
        sender: &[Hashed],
        receiver: Vec<Hashed>,
        key: [u8; 32],
        chunk: usize,
    ) -> (u64, Vec<[u8; 32]>, Vec<[u8; 32]>) {
        let mut decoder = Decoder::new(key, receiver);
        while !decoder.is_decoded() {
            assert!(decoder.received() < 100_000, "did not decode");
            decoder.receive(&encode(sender, decoder.received(), chunk));
        }
        let (mut theirs, mut ours) = decoder.difference();
        theirs.sort_unstable();
        ours.sort_unstable();
        (decoder.received(), theirs, ours)
    }

    #[test]
    fn the_mapping_is_pinned() {
        // The first indices of one seed: changing the mapping splits the network, so a
        // change must show up here.
        let mut mapping = Mapping::new(0x0123_4567_89ab_cdef);
        let mut indices = vec![mapping.index];
        for _ in 0..6 {
            mapping.advance();
            indices.push(mapping.index);
        }
        assert_eq!(indices, [0, 1, 2, 4, 6, 8, 20]);
        let key = session_key(&[7; SALT_BYTES]);
        let item = Hashed::new(&[1; 32], &key);
        assert_eq!(item.checksum, 0x29f5_d201_f647_802e);
    }

    #[test]
    fn a_scattered_difference_decodes_from_about_its_size_in_symbols() {
        let key = session_key(&[1; SALT_BYTES]);
        // 10,000 shared ids; 300 only the sender has, 200 only the receiver.
        let shared = hashed(0..10_000, &key);
        let mut sender = shared.clone();
        sender.extend(hashed(20_000..20_300, &key));
        let mut receiver = shared;
        receiver.extend(hashed(30_000..30_200, &key));
        let (symbols, theirs, ours) = decode(&sender, receiver, key, 50);
        let mut expected_theirs: Vec<_> = (20_000..20_300).map(id).collect();
        let mut expected_ours: Vec<_> = (30_000..30_200).map(id).collect();
        expected_theirs.sort_unstable();
        expected_ours.sort_unstable();
        assert_eq!(theirs, expected_theirs);
        assert_eq!(ours, expected_ours);
        // 500 differing ids: well under 2 symbols each (the paper's figure is 1.35-1.4
        // for differences of this size).
        assert!(symbols < 1_000, "{symbols} symbols for 500 ids");
    }

    #[test]
    fn equal_sets_decode_from_the_first_symbol() {
        let key = session_key(&[2; SALT_BYTES]);
        let set = hashed(0..1_000, &key);
        let (symbols, theirs, ours) = decode(&set, set.clone(), key, 1);
        assert_eq!((symbols, theirs.len(), ours.len()), (1, 0, 0));
    }

    #[test]
    fn chunking_does_not_change_the_stream() {
        let key = session_key(&[3; SALT_BYTES]);
        let set = hashed(0..500, &key);
        let whole = encode(&set, 0, 300);
        let mut pieces = encode(&set, 0, 100);
        pieces.extend(encode(&set, 100, 150));
        pieces.extend(encode(&set, 250, 50));
        assert_eq!(whole, pieces);
        let mut bytes = Vec::new();
        whole[7].write(&mut bytes);
        assert_eq!(Symbol::read(&bytes), Some(whole[7]));
        assert_eq!(Symbol::read(&bytes[1..]), None);
    }

    #[test]
    fn made_up_symbols_end_without_decoding_or_looping() {
        let key = session_key(&[4; SALT_BYTES]);
        let local = hashed(0..100, &key);
        let mut decoder = Decoder::new(key, local);
        // Symbols that each look like one id ("pure") but whose ids do not match their
        // checksum, and pure symbols of ids the sender made up: the first are skipped,
        // the second are peeled (they are in the sender's power) but stay bounded.
        let fake = |n: u32| {
            let item = Hashed::new(&id(1_000_000 + n), &key);
            let mut symbol = Symbol::default();
            symbol.apply(&item, 1);
            if n.is_multiple_of(2) {
                symbol.checksum ^= 1;
            }
            symbol
        };
        let chunk: Vec<Symbol> = (0..200).map(fake).collect();
        decoder.receive(&chunk);
        assert!(!decoder.is_decoded());
        assert!(decoder.peeled.len() <= chunk.len());
    }

    #[test]
    fn a_sender_whose_set_changed_between_chunks_is_noticed() {
        let key = session_key(&[6; SALT_BYTES]);
        let before = hashed(0..2_000, &key);
        let mut after = before.clone();
        after.extend(hashed(5_000..5_001, &key));
        let receiver = hashed(0..1_990, &key);
        let mut decoder = Decoder::new(key, receiver);
        decoder.receive(&encode(&before, 0, 8));
        // The record that arrived meanwhile is in every later symbol it maps to, and
        // not in the first eight: peeling meets it with both signs.
        let mut rounds = 0;
        while !decoder.is_decoded() && !decoder.is_inconsistent() && rounds < 500 {
            decoder.receive(&encode(&after, decoder.received(), 8));
            rounds += 1;
        }
        assert!(decoder.is_inconsistent() || decoder.is_decoded());
        if decoder.is_decoded() {
            // Decoding anyway is fine only if it names exactly the ten ids.
            let (theirs, ours) = decoder.difference();
            assert_eq!(theirs.len() + ours.len(), 10);
        }
    }
}
