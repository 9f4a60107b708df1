//! Making signed records and bundle files for the benchmarks: a few fixed authors, each
//! writing a hash chain, signed in parallel (one author's chain per rayon task).

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{
    AuthorSecret, Details, IncidentType, RecordBody, RecordId, RecordKind, SourceType,
    VerifiedRecord, fixtures,
};
use rayon::prelude::*;

/// The word every Russian-language record holds (the filler text), for "common word"
/// searches.
pub const COMMON_WORD: &str = "выстрелы";
/// A name put in one record of every [`RARE_EVERY`] in the varied corpus.
pub const RARE_WORD: &str = "Кенжебек";
/// One record of this many (by global index) holds [`RARE_WORD`].
pub const RARE_EVERY: u64 = 20_000;
/// A Kazakh word (with the letters ң and ө) in the Kazakh-language tenth of the varied
/// corpus.
pub const KAZAKH_WORD: &str = "Жаңаөзен";

const RUSSIAN_FILLER: &str = "Площадь Республики, толпа, выстрелы. ";
const KAZAKH_FILLER: &str = "Жаңаөзен қаласында ереуілшілерге оқ атылды, адамдар қашты. ";
const SYLLABLES: [&str; 16] = [
    "ка", "ра", "мен", "тал", "до", "бур", "ли", "сан", "ко", "жан", "ур", "ми", "не", "ост", "ва",
    "зы",
];

/// What the records look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// All testimonies in Russian, like `qoima_core::fixtures::chain`.
    Plain,
    /// For queries: a quarter incidents, a twentieth detentions, a tenth in Kazakh, a
    /// few pseudo-words per record for a larger vocabulary, [`RARE_WORD`] now and then.
    Varied,
}

/// Where an author's chain has got to: the last sequence number and record id.
type Head = Option<(u64, RecordId)>;

/// The authors' keys and where each one's chain has got to.
pub struct Corpus {
    authors: Vec<AuthorSecret>,
    heads: Vec<Head>,
    text_bytes: usize,
    flavour: Flavour,
}

impl Corpus {
    /// `authors` fixed authors (seeds 1, 2, …) writing about `text_bytes` of text each.
    pub fn new(authors: usize, text_bytes: usize, flavour: Flavour) -> Corpus {
        let authors: Vec<AuthorSecret> = (1..=authors)
            .map(|seed| fixtures::author(u8::try_from(seed).unwrap_or(u8::MAX)))
            .collect();
        let heads = vec![None; authors.len()];
        Corpus {
            authors,
            heads,
            text_bytes,
            flavour,
        }
    }

    /// The authors.
    pub fn authors(&self) -> &[AuthorSecret] {
        &self.authors
    }

    /// The next `count` records, spread evenly over the authors and interleaved in the
    /// order a busy archive would receive them. Signed on the rayon pool.
    pub fn next(&mut self, count: usize) -> Vec<VerifiedRecord> {
        let n = self.authors.len();
        let (text_bytes, flavour) = (self.text_bytes, self.flavour);
        let chains: Vec<(Vec<VerifiedRecord>, Head)> = self
            .authors
            .par_iter()
            .zip(self.heads.par_iter())
            .enumerate()
            .map(|(a, (secret, head))| {
                let mine = count / n + usize::from(a < count % n);
                let mut head = *head;
                let mut out = Vec::with_capacity(mine);
                for _ in 0..mine {
                    let (seq, prev) = match head {
                        None => (1, None),
                        Some((seq, id)) => (seq + 1, Some(id)),
                    };
                    let global = (seq - 1) * n as u64 + a as u64;
                    let body = make_body(secret, seq, prev, global, text_bytes, flavour);
                    let record = VerifiedRecord::sign(&body, secret)
                        .expect("generated records are within the format's limits");
                    head = Some((seq, record.id()));
                    out.push(record);
                }
                (out, head)
            })
            .collect();
        let mut iters: Vec<_> = Vec::with_capacity(n);
        for (a, (chain, head)) in chains.into_iter().enumerate() {
            self.heads[a] = head;
            iters.push(chain.into_iter());
        }
        let mut out = Vec::with_capacity(count);
        loop {
            let before = out.len();
            for it in &mut iters {
                out.extend(it.next());
            }
            if out.len() == before {
                break;
            }
        }
        out
    }
}

/// `text` cut to at most `bytes` bytes at a character boundary.
fn cut(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A cheap deterministic mix of `x` (splitmix64's finaliser).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn make_body(
    secret: &AuthorSecret,
    seq: u64,
    prev: Option<RecordId>,
    global: u64,
    text_bytes: usize,
    flavour: Flavour,
) -> RecordBody {
    let filler_of = |filler: &str| filler.repeat(text_bytes / filler.len() + 1);
    if flavour == Flavour::Plain {
        let text = format!("{global}: {}", cut(&filler_of(RUSSIAN_FILLER), text_bytes));
        return fixtures::body(secret, seq, prev, &text);
    }
    let kazakh = global % 10 == 3;
    let mut words = String::new();
    let mut h = mix(global);
    for _ in 0..4 {
        for _ in 0..3 {
            words.push_str(SYLLABLES[(h & 15) as usize]);
            h >>= 4;
        }
        words.push(' ');
    }
    if global % RARE_EVERY == 7 {
        words.push_str(RARE_WORD);
        words.push(' ');
    }
    let filler = filler_of(if kazakh {
        KAZAKH_FILLER
    } else {
        RUSSIAN_FILLER
    });
    let rest = text_bytes.saturating_sub(words.len());
    let text = format!("{global}: {words}{}", cut(&filler, rest));
    let mut body = fixtures::body(secret, seq, prev, &text);
    if kazakh {
        body.lang = "kk".into();
        body.title = format!("Куәлік {seq}");
    }
    if global.is_multiple_of(20) {
        body.kind = RecordKind::Detention;
        body.details = Details::Detention {
            person_ref: format!("P-{global}"),
            facility: "ИВС ДП г. Алматы".into(),
            authority: "полиция".into(),
        };
    } else if global % 4 == 1 {
        body.kind = RecordKind::Incident;
        body.details = Details::Incident {
            incident_type: IncidentType::Dispersal,
            source: SourceType::FirstHand,
        };
    }
    body
}

/// Writes `records` as a bundle file at `path`, signed by `bundler`; returns its size
/// in bytes.
pub fn write_bundle(
    path: &Path,
    bundler: &AuthorSecret,
    records: &[VerifiedRecord],
) -> anyhow::Result<u64> {
    let items = records
        .iter()
        .map(|r| ItemRef {
            kind: ItemKind::Record,
            hash: *r.id().as_bytes(),
            size: r.bytes().len() as u64,
        })
        .collect();
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 1_641_400_000_000,
        collection: "default".into(),
        items,
    };
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = BundleWriter::new(BufWriter::with_capacity(1 << 20, file), manifest, bundler)?;
    for record in records {
        writer.write_record(record.bytes())?;
    }
    let mut out = writer.finish()?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}
