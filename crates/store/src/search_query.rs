//! What a person types into a search, turned into an FTS5 query over `records_fts`
//! (`search.rs` fills it; `query.rs` runs the query with the other filters).

/// How the words of a search match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// A word matches its other forms (the same stem) and the words it begins.
    #[default]
    WordForms,
    /// A word matches only the words it begins, as written (search before word forms).
    WordsAsTyped,
}

/// The index's columns of text as written: what phrases and [`Matching::WordsAsTyped`]
/// read, leaving out the stems.
const WRITTEN_COLUMNS: &str = "{title text tags place}";

/// A piece of what a person typed.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// A word outside quotes (normalised: lowercase, 'ё' as 'е').
    Word(String),
    /// The words between a pair of double quotes; an opening quote without its closing
    /// one runs to the end.
    Phrase(Vec<String>),
}

/// Splits typed text into words and quoted phrases. Anything but letters and digits
/// separates words, so nothing of FTS5's syntax survives into a part.
fn parse(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, piece) in text.split('"').enumerate() {
        if i % 2 == 1 {
            let words: Vec<String> = crate::stemming::words(piece).collect();
            if !words.is_empty() {
                parts.push(Part::Phrase(words));
            }
        } else {
            parts.extend(crate::stemming::words(piece).map(Part::Word));
        }
    }
    parts
}

/// The FTS5 query for a search: every part of `words` must match anywhere in a record
/// ([`word_terms`]), and every part of `place` in its place's name ([`place_terms`]).
/// `None` when neither holds a word.
pub(crate) fn fts_query(words: &str, place: &str, matching: Matching) -> Option<String> {
    let terms: Vec<String> = word_terms(words, matching)
        .chain(place_terms(place))
        .collect();
    // Explicit AND: FTS5 takes juxtaposition for AND between phrases only, not after
    // a parenthesised group.
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// A term per part of what a person typed. A word matches as the beginning of a word as
/// written, or (with [`Matching::WordForms`]) by one of its stems in the `stems` column;
/// a phrase matches its words as written, in order. Each word is quoted, so FTS5 syntax
/// in the input (`AND`, `*`, column filters) is searched for literally instead of being
/// interpreted.
fn word_terms(text: &str, matching: Matching) -> impl Iterator<Item = String> {
    let word_forms = crate::stemming::WordForms::default();
    parse(text).into_iter().map(move |part| match part {
        Part::Phrase(words) => format!("{WRITTEN_COLUMNS} : \"{}\"", words.join(" ")),
        Part::Word(word) => match matching {
            Matching::WordsAsTyped => format!("{WRITTEN_COLUMNS} : \"{word}\"*"),
            Matching::WordForms => {
                let stems = word_forms.stems(&word);
                if stems.is_empty() {
                    format!("\"{word}\"*")
                } else {
                    // Stems match whole: an exact term is read lazily, a prefix term's
                    // matches are all gathered first (slow for a common stem).
                    let stems: Vec<String> = stems.iter().map(|s| format!(" OR \"{s}\"")).collect();
                    format!("(\"{word}\"*{})", stems.concat())
                }
            }
        },
    })
}

/// A term per part of a place's name, matched in the place alone: a word as the
/// beginning of a word of the place as written, or by one of its stems in
/// `place_stems` ("Алмате" finds "Алматы", "Жаңаөзеннен" finds "Жаңаөзен"); a phrase as
/// written, in order.
fn place_terms(text: &str) -> impl Iterator<Item = String> {
    let word_forms = crate::stemming::WordForms::default();
    parse(text).into_iter().map(move |part| match part {
        Part::Phrase(words) => format!("{{place}} : \"{}\"", words.join(" ")),
        Part::Word(word) => {
            let stems: Vec<String> = word_forms
                .stems(&word)
                .iter()
                .map(|s| format!(" OR {{place_stems}} : \"{s}\""))
                .collect();
            format!("({{place}} : \"{word}\"*{})", stems.concat())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{Matching, Part, parse};

    fn fts_query(words: &str, matching: Matching) -> Option<String> {
        super::fts_query(words, "", matching)
    }

    fn words(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn typed_text_splits_into_words_and_quoted_phrases() {
        assert_eq!(
            parse("Задержан \"в Алмате\" ёлка"),
            vec![
                Part::Word("задержан".into()),
                Part::Phrase(words(&["в", "алмате"])),
                Part::Word("елка".into()),
            ]
        );
        // An opening quote without its closing one runs to the end.
        assert_eq!(
            parse("a \"b c"),
            vec![Part::Word("a".into()), Part::Phrase(words(&["b", "c"]))]
        );
        assert_eq!(parse("\"\" \" - \" x"), vec![Part::Word("x".into())]);
        assert_eq!(parse(" -- "), vec![]);
    }

    #[test]
    fn words_as_typed_become_quoted_prefix_terms_over_the_written_text() {
        assert_eq!(
            fts_query("Алматы протест", Matching::WordsAsTyped).as_deref(),
            Some(
                "{title text tags place} : \"алматы\"* AND {title text tags place} : \"протест\"*"
            )
        );
        assert_eq!(fts_query(" -- ", Matching::WordsAsTyped), None);
    }

    #[test]
    fn a_word_matches_its_beginning_or_its_stems() {
        assert_eq!(
            fts_query("Алматы", Matching::WordForms).as_deref(),
            Some("(\"алматы\"* OR \"алмат\")")
        );
        // Snowball's stem, and the stem of that stem, while it changes.
        assert_eq!(
            fts_query("задержания", Matching::WordForms).as_deref(),
            Some("(\"задержания\"* OR \"задержан\" OR \"задержа\" OR \"задерж\")")
        );
        // No stem but the word itself: the prefix alone.
        assert_eq!(
            fts_query("2022", Matching::WordForms).as_deref(),
            Some("\"2022\"*")
        );
    }

    #[test]
    fn every_part_must_match() {
        assert_eq!(
            fts_query("Алматы 2022 \"без вести\"", Matching::WordForms).as_deref(),
            Some(
                "(\"алматы\"* OR \"алмат\") AND \"2022\"* AND {title text tags place} : \"без вести\""
            )
        );
    }

    #[test]
    fn a_quoted_phrase_matches_the_written_words_in_order() {
        assert_eq!(
            fts_query("\"Задержали в Алмате\"", Matching::WordForms).as_deref(),
            Some("{title text tags place} : \"задержали в алмате\"")
        );
    }

    #[test]
    fn fts5_syntax_in_the_input_stays_inert() {
        for matching in [Matching::WordForms, Matching::WordsAsTyped] {
            let query = fts_query("a\" OR title:x* NEAR(b c) {stems}: -d ^e", matching).unwrap();
            // Every word is inside quotes; only the query's own syntax is outside.
            let outside = query.split('"').step_by(2).collect::<Vec<_>>().concat();
            let rest = outside
                .replace("{title text tags place}", "")
                .replace("OR", "")
                .replace("AND", "");
            assert!(rest.chars().all(|c| " ()*:".contains(c)), "{query}");
        }
        assert_eq!(
            fts_query("a\" OR title:x", Matching::WordsAsTyped).as_deref(),
            Some("{title text tags place} : \"a\"* AND {title text tags place} : \"or title x\"")
        );
    }
}
