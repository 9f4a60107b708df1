//! Word forms for search: the stems under which a word is indexed and looked for, so
//! that "задержан" finds "задержали", "Алмате" finds "Алматы" and "Жаңаөзен" finds
//! "Жаңаөзенде". Pure functions; `search.rs` writes the stems of a record's words into
//! the index's `stems` column and `query.rs` looks a typed word's stems up there.
//!
//! # Which language a word is taken to be in
//!
//! A record states a language (`lang`), but its text often holds two (a Russian account
//! quoting Kazakh place names and slogans) and a query states none, so each word is
//! judged alone, the same way when it is indexed and when it is typed,
//! which is what makes a query and a record meet:
//!
//! * a Cyrillic word with a letter only Kazakh uses (ә ғ қ ң ө ұ ү һ і) is Kazakh: the
//!   suffix stripper below;
//! * any other Cyrillic word is Russian: the Snowball Russian stemmer (`rust-stemmers`);
//! * a Latin word goes through the Snowball English stemmer: English is the third
//!   language of the archive's readers, and a Kazakh or Russian word in Latin letters
//!   that it trims is trimmed the same way in the query, so it still matches itself;
//! * a word with digits or mixed scripts has no stem: it matches as typed.
//!
//! Kazakh written without its own letters ("Алматыда") is taken for Russian, and its
//! Kazakh endings stay on; the word still matches by its beginning ("Алматы" finds
//! "Алматыда"), not the other way round. Stripping Kazakh endings from such words would
//! also cut Russian ones ("правда" would become "прав", the stem of "права").
//!
//! # Kazakh letters folded
//!
//! Kazakh stems are written with the Kazakh letters folded to the Russian letters they
//! are transliterated with (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ→у, ү→у, һ→х, і→и), so a Russian
//! text's "Жанаозене" (Russian stem "жанаозен") meets a Kazakh text's "Жаңаөзенде".
//!
//! # The Kazakh suffix stripper
//!
//! Kazakh adds suffixes in a fixed order: stem + plural + possessive + case. The
//! stripper removes them outermost first, in that order (a case ending, then a
//! possessive, then a plural), each layer at most once and each optional:
//!
//! * case: locative-adjectival -дағы/-дегі/-тағы/-тегі/-ндағы/-ндегі; ablative
//!   -дан/-ден/-тан/-тен/-нан/-нен; locative -да/-де/-та/-те/-нда/-нде; dative
//!   -ға/-ге/-қа/-ке/-на/-не; genitive -ның/-нің/-дың/-дің/-тың/-тің; accusative
//!   -ды/-ді/-ты/-ті/-ны/-ні, and -н after ы or і (after a possessive: "қаласын");
//!   instrumental -мен/-бен/-пен/-менен/-бенен/-пенен;
//! * possessive: -ымыз/-іміз/-мыз/-міз, -ыңыз/-іңіз/-ңыз/-ңіз, -ым/-ім/-ың/-ің,
//!   -сы/-сі, -ы/-і, and -м/-ң after a vowel;
//! * plural: -лар/-лер/-дар/-дер/-тар/-тер.
//!
//! Without a dictionary the stripper cannot tell a suffix from letters of the stem that
//! look like one: "Жаңаөзенде" is "Жаңаөзен" + "де", but could be "Жаңаөзе" + "нде". So
//! it does not choose: it keeps every stem that some way of stripping leaves, and a
//! query matches a record when their stems share one. Limits, on purpose:
//!
//! * no stem shorter than [`KAZAKH_STEM_MIN_CHARS`] letters is kept, so short words
//!   ("үйде", "оның") keep their endings rather than lose most of themselves;
//! * at most [`KAZAKH_STEMS_MAX`] stems per word;
//! * verb endings (tense, person, participles) are not stripped: documentation names
//!   places, people and events, mostly nouns; verbs still match by their beginning;
//! * a stem that itself ends like a suffix is cut too ("Қазақстан" also gives
//!   "Қазақс"), the same way in the query, so it costs precision, not recall.

use std::collections::HashSet;

use rust_stemmers::{Algorithm, Stemmer};

/// The shortest Kazakh stem kept, in letters.
pub const KAZAKH_STEM_MIN_CHARS: usize = 3;

/// How many times a Russian stem is stemmed again (see `WordForms::russian_stems`).
pub const RUSSIAN_RESTEMS: usize = 3;

/// The shortest Russian stem kept from stemming again, in letters: below it, a stem is
/// shared by too many unrelated words. The first stem is kept whatever its length.
pub const RUSSIAN_STEM_MIN_CHARS: usize = 4;

/// The most stems kept for one Kazakh word.
pub const KAZAKH_STEMS_MAX: usize = 8;

/// Letters of the Kazakh Cyrillic alphabet that Russian does not have, with the Russian
/// letter each is folded to in stems.
const KAZAKH_LETTERS: [(char, char); 9] = [
    ('ә', 'а'),
    ('ғ', 'г'),
    ('қ', 'к'),
    ('ң', 'н'),
    ('ө', 'о'),
    ('ұ', 'у'),
    ('ү', 'у'),
    ('һ', 'х'),
    ('і', 'и'),
];

/// Kazakh vowels (Cyrillic), for the suffixes that only follow one.
const KAZAKH_VOWELS: &[char] = &[
    'а', 'ә', 'е', 'ё', 'и', 'о', 'ө', 'ұ', 'ү', 'у', 'ы', 'і', 'э', 'ю', 'я',
];

/// What must come before a suffix for it to be one.
#[derive(Debug, Clone, Copy)]
enum After {
    /// Anything.
    Any,
    /// A vowel.
    Vowel,
    /// ы or і (the end of a third-person possessive).
    HighVowel,
}

/// One layer of suffixes: (suffix, what must precede it).
type Layer = &'static [(&'static str, After)];

/// Case endings, the outermost layer.
const CASE: Layer = &[
    ("ндағы", After::Any),
    ("ндегі", After::Any),
    ("дағы", After::Any),
    ("дегі", After::Any),
    ("тағы", After::Any),
    ("тегі", After::Any),
    ("нан", After::Any),
    ("нен", After::Any),
    ("дан", After::Any),
    ("ден", After::Any),
    ("тан", After::Any),
    ("тен", After::Any),
    ("нда", After::Any),
    ("нде", After::Any),
    ("да", After::Any),
    ("де", After::Any),
    ("та", After::Any),
    ("те", After::Any),
    ("ға", After::Any),
    ("ге", After::Any),
    ("қа", After::Any),
    ("ке", After::Any),
    ("на", After::Any),
    ("не", After::Any),
    ("ның", After::Any),
    ("нің", After::Any),
    ("дың", After::Any),
    ("дің", After::Any),
    ("тың", After::Any),
    ("тің", After::Any),
    ("ны", After::Any),
    ("ні", After::Any),
    ("ды", After::Any),
    ("ді", After::Any),
    ("ты", After::Any),
    ("ті", After::Any),
    ("н", After::HighVowel),
    ("менен", After::Any),
    ("бенен", After::Any),
    ("пенен", After::Any),
    ("мен", After::Any),
    ("бен", After::Any),
    ("пен", After::Any),
];

/// Possessive endings, inside the case ending.
const POSSESSIVE: Layer = &[
    ("ымыз", After::Any),
    ("іміз", After::Any),
    ("мыз", After::Vowel),
    ("міз", After::Vowel),
    ("ыңыз", After::Any),
    ("іңіз", After::Any),
    ("ңыз", After::Vowel),
    ("ңіз", After::Vowel),
    ("ым", After::Any),
    ("ім", After::Any),
    ("ың", After::Any),
    ("ің", After::Any),
    ("сы", After::Vowel),
    ("сі", After::Vowel),
    ("ы", After::Any),
    ("і", After::Any),
    ("м", After::Vowel),
    ("ң", After::Vowel),
];

/// Plural endings, next to the stem.
const PLURAL: Layer = &[
    ("лар", After::Any),
    ("лер", After::Any),
    ("дар", After::Any),
    ("дер", After::Any),
    ("тар", After::Any),
    ("тер", After::Any),
];

/// The layers, outermost first.
const LAYERS: [Layer; 3] = [CASE, POSSESSIVE, PLURAL];

/// Stems a word with the stemmers it calls for. Holds the Snowball stemmers, which are
/// plain function pointers: cheap to make, cheap to keep.
pub(crate) struct WordForms {
    russian: Stemmer,
    english: Stemmer,
}

impl Default for WordForms {
    fn default() -> Self {
        WordForms {
            russian: Stemmer::create(Algorithm::Russian),
            english: Stemmer::create(Algorithm::English),
        }
    }
}

/// The writing a word is in, which decides its stemmer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Kazakh,
    Russian,
    Latin,
    /// Digits, mixed scripts, other alphabets: no stem.
    Other,
}

fn script_of(word: &str) -> Script {
    let cyrillic = |c: char| ('\u{0400}'..='\u{04FF}').contains(&c);
    if word.chars().all(cyrillic) {
        if word
            .chars()
            .any(|c| KAZAKH_LETTERS.iter().any(|(k, _)| *k == c))
        {
            Script::Kazakh
        } else {
            Script::Russian
        }
    } else if word.chars().all(|c| c.is_alphabetic() && c <= '\u{024F}') {
        Script::Latin
    } else {
        Script::Other
    }
}

/// The words of `text` as the index sees them (runs of letters and digits), lowercased,
/// with 'ё' written 'е'.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(normalise)
}

/// Lowercase, 'ё' as 'е' (Russian writes it so more often than not).
fn normalise(word: &str) -> String {
    word.to_lowercase().replace('ё', "е")
}

/// Kazakh letters written as their Russian counterparts.
fn fold_kazakh(word: &str) -> String {
    word.chars()
        .map(|c| {
            KAZAKH_LETTERS
                .iter()
                .find(|(k, _)| *k == c)
                .map_or(c, |(_, r)| *r)
        })
        .collect()
}

impl WordForms {
    /// The stems of one normalised word (see [`words`]) other than the word itself, in
    /// a stable order: what the index holds for it and what a query looks for.
    pub(crate) fn stems(&self, word: &str) -> Vec<String> {
        let stems = match script_of(word) {
            Script::Kazakh => kazakh_stems(word),
            Script::Russian => self.russian_stems(word),
            Script::Latin => vec![self.english.stem(word).into_owned()],
            Script::Other => Vec::new(),
        };
        let mut seen = HashSet::new();
        stems
            .into_iter()
            .filter(|s| !s.is_empty() && s != word && seen.insert(s.clone()))
            .collect()
    }

    /// The Snowball stem of a Russian word, and the stem of that stem, and so on while
    /// it changes (at most [`RUSSIAN_RESTEMS`] times). Snowball leaves more of some forms
    /// than of others ("задержания" → "задержан", "задержали" → "задержа"); stemming
    /// the stem again ("задержан" → "задержа") lets the forms of a word share a stem,
    /// when the index and the query both hold the whole chain.
    fn russian_stems(&self, word: &str) -> Vec<String> {
        let mut stems: Vec<String> = Vec::new();
        let mut current = word.to_owned();
        for _ in 0..RUSSIAN_RESTEMS {
            let next = self.russian.stem(&current).into_owned();
            if next == current
                || (!stems.is_empty() && next.chars().count() < RUSSIAN_STEM_MIN_CHARS)
            {
                break;
            }
            stems.push(next.clone());
            current = next;
        }
        stems
    }

    /// The stems of every word of `text`, each once, separated by spaces: the `stems`
    /// column of the index. Order and repetition do not matter there (phrases are only
    /// searched in the original text), so each stem is written once per record.
    pub(crate) fn stems_of_texts<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> String {
        let mut seen_words = HashSet::new();
        let mut seen_stems = HashSet::new();
        let mut out = String::new();
        for text in texts {
            for word in words(text) {
                if !seen_words.insert(word.clone()) {
                    continue;
                }
                for stem in self.stems(&word) {
                    if seen_stems.insert(stem.clone()) {
                        if !out.is_empty() {
                            out.push(' ');
                        }
                        out.push_str(&stem);
                    }
                }
            }
        }
        out
    }
}

/// Every stem the Kazakh suffix stripper leaves of `word` (normalised), Kazakh letters
/// folded; the folded word itself too, when folding changed it.
fn kazakh_stems(word: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    strip_from(word, 0, &mut found);
    let mut stems = vec![fold_kazakh(word)];
    stems.extend(found.iter().map(|s| fold_kazakh(s)));
    stems
}

/// Adds to `found` what stripping one suffix of a layer from `first_layer` on leaves of
/// `word`, and recursively what stripping inner layers leaves of that.
fn strip_from(word: &str, first_layer: usize, found: &mut Vec<String>) {
    for (layer_index, layer) in LAYERS.iter().enumerate().skip(first_layer) {
        for (suffix, after) in layer.iter() {
            if found.len() >= KAZAKH_STEMS_MAX {
                return;
            }
            let Some(stem) = word.strip_suffix(suffix) else {
                continue;
            };
            if stem.chars().count() < KAZAKH_STEM_MIN_CHARS {
                continue;
            }
            let before = stem.chars().next_back();
            let fits = match after {
                After::Any => true,
                After::Vowel => before.is_some_and(|c| KAZAKH_VOWELS.contains(&c)),
                After::HighVowel => matches!(before, Some('ы' | 'і')),
            };
            if !fits || found.iter().any(|f| f == stem) {
                continue;
            }
            found.push(stem.to_owned());
            strip_from(stem, layer_index + 1, found);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;

    fn stems(word: &str) -> Vec<String> {
        WordForms::default().stems(&normalise(word))
    }

    /// Whether a query word and a record word meet: the query's stems or the word
    /// itself (as a prefix, as a search does) against the record word and its stems.
    fn meet(query: &str, record: &str) -> bool {
        let (q, r) = (normalise(query), normalise(record));
        let mut r_terms = stems(record);
        r_terms.push(r.clone());
        r_terms.iter().any(|t| t.starts_with(&q))
            || stems(query).iter().any(|s| r_terms.contains(s))
    }

    #[test]
    fn russian_word_forms_meet() {
        for form in ["задержания", "задержали", "задержанный", "задержан"]
        {
            assert!(meet("задержан", form), "задержан / {form}");
        }
        assert!(meet("Алматы", "Алмате"));
        assert!(meet("Алмате", "Алматы"));
        assert!(meet("расстрел", "расстреляли") || meet("расстрела", "расстрелы"));
        assert!(meet("ёлка", "елки"));
        assert!(!meet("правда", "права"));
    }

    #[test]
    fn kazakh_case_endings_meet_the_bare_word() {
        for form in ["Жаңаөзенде", "Жаңаөзеннен", "Жаңаөзенге", "Жаңаөзеннің"]
        {
            assert!(meet("Жаңаөзен", form), "Жаңаөзен / {form}");
            assert!(meet(form, "Жаңаөзен"), "{form} / Жаңаөзен");
        }
        assert!(meet("Алматы", "Алматыдағы"));
        assert!(meet("Алмате", "Алматыдағы"));
        assert!(meet("қала", "қаласында"));
        assert!(meet("қаласында", "қалада"));
        assert!(meet("ұсталғандар", "ұсталғандардың"));
    }

    #[test]
    fn kazakh_and_russian_spellings_of_a_place_meet() {
        assert!(meet("Жанаозен", "Жаңаөзенде"));
        assert!(meet("Жаңаөзен", "Жанаозене"));
    }

    #[test]
    fn short_kazakh_words_keep_their_endings() {
        // "үй" + "де": the stem would be two letters.
        assert_eq!(stems("үйде"), ["уйде"]);
    }

    #[test]
    fn kazakh_stems_are_bounded() {
        assert!(stems("балаларымыздың").len() <= KAZAKH_STEMS_MAX + 1);
        assert!(stems("балаларымыздың").contains(&"бала".to_owned()));
    }

    #[test]
    fn scripts_are_told_apart() {
        assert_eq!(script_of("алматы"), Script::Russian);
        assert_eq!(script_of("алматыдағы"), Script::Kazakh);
        assert_eq!(script_of("detained"), Script::Latin);
        assert_eq!(script_of("2022"), Script::Other);
        assert_eq!(script_of("a1"), Script::Other);
        assert_eq!(script_of("qoимa"), Script::Other);
        assert_eq!(stems("detained"), ["detain"]);
        assert!(stems("2022").is_empty());
    }

    #[test]
    fn stems_of_texts_writes_each_stem_once() {
        let forms = WordForms::default();
        let column = forms.stems_of_texts(["Задержали в Алмате", "задержали, Алмате"]);
        let stems: Vec<&str> = column.split(' ').collect();
        assert_eq!(stems, ["задержа", "задерж", "алмат"]);
    }
}
