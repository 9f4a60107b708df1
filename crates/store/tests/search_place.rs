//! Listing by place: `ListQuery::place` finds records by their place's name in any form
//! of its words, and only there; it combines with words, kind, author and time, and
//! reads records still waiting for the index as it reads indexed ones.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use qoima_core::fixtures;
use qoima_core::{Details, Place, RecordId, RecordKind, VerifiedRecord};
use qoima_store::{ListQuery, Store};

impl Chain {
    fn record(&mut self, kind: RecordKind, place: &str, text: &str) -> RecordId {
        let mut body = self.next_body(text);
        body.place = Some(Place {
            name: place.into(),
            point: None,
        });
        if kind == RecordKind::Incident {
            body.kind = kind;
            body.details = Details::None;
        }
        self.push_body(&body).id()
    }
}

/// The ids `list` returns, newest stored first.
fn listed(store: &Store, query: ListQuery) -> Vec<RecordId> {
    let query = ListQuery {
        limit: 1_000,
        ..query
    };
    store
        .list(&query)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

fn at(place: &str) -> ListQuery {
    ListQuery {
        place: Some(place.into()),
        ..ListQuery::default()
    }
}

/// Four records: two placed in Almaty (one an incident), one in Zhanaozen whose text
/// names Almaty, one in Shymkent.
struct Archive {
    almaty: RecordId,
    almaty_incident: RecordId,
    zhanaozen: RecordId,
    shymkent: RecordId,
    records: Vec<VerifiedRecord>,
}

fn archive() -> Archive {
    let mut chain = Chain::new(3);
    let almaty = chain.record(RecordKind::Testimony, "Алматы, площадь", "задержали двоих");
    let almaty_incident = chain.record(RecordKind::Incident, "г. Алматы", "стреляли у акимата");
    let zhanaozen = chain.record(
        RecordKind::Testimony,
        "Жаңаөзен",
        "колонна шла в Алматы, задержали",
    );
    let shymkent = chain.record(RecordKind::Testimony, "Шымкент", "тихо");
    Archive {
        almaty,
        almaty_incident,
        zhanaozen,
        shymkent,
        records: chain.records,
    }
}

#[test]
fn a_place_is_found_by_another_form_of_its_name_and_only_in_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = archive();
    import(&mut store, &a.records);

    let in_almaty = vec![a.almaty_incident, a.almaty];
    // As written, in another case, and in another form: the Zhanaozen record, which
    // names Almaty only in its text, is never among them.
    assert_eq!(listed(&store, at("Алматы")), in_almaty);
    assert_eq!(listed(&store, at("алмате")), in_almaty);
    assert_eq!(listed(&store, at("Алматинская")), Vec::<RecordId>::new());
    // Kazakh: the place as its locative and ablative forms say it.
    assert_eq!(listed(&store, at("Жаңаөзенде")), vec![a.zhanaozen]);
    assert_eq!(listed(&store, at("Жаңаөзеннен")), vec![a.zhanaozen]);
    // Every word must be in the place; a phrase in quotes only as written.
    assert_eq!(listed(&store, at("Алматы площадь")), vec![a.almaty]);
    assert_eq!(listed(&store, at("\"Алматы, площадь\"")), vec![a.almaty]);
    assert_eq!(listed(&store, at("Шымкент Алматы")), Vec::<RecordId>::new());
    assert_eq!(listed(&store, at("Шымкент")), vec![a.shymkent]);
}

#[test]
fn a_place_narrows_words_kind_and_time_and_they_narrow_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = archive();
    import(&mut store, &a.records);

    // Words anywhere (the Zhanaozen record's text), place in the place.
    let words_only = ListQuery {
        words: Some("Алмате задержаны".into()),
        ..ListQuery::default()
    };
    assert_eq!(listed(&store, words_only), vec![a.zhanaozen, a.almaty]);
    let words_in_almaty = ListQuery {
        words: Some("задержаны".into()),
        ..at("Алмате")
    };
    assert_eq!(listed(&store, words_in_almaty), vec![a.almaty]);
    let incidents_in_almaty = ListQuery {
        kind: Some(RecordKind::Incident),
        ..at("Алматы")
    };
    assert_eq!(listed(&store, incidents_in_almaty), vec![a.almaty_incident]);
    let after_the_first = ListQuery {
        since_ms: Some(store.get(&a.almaty).unwrap().record.body().created.unix_ms + 1),
        ..at("Алматы")
    };
    assert_eq!(listed(&store, after_the_first), vec![a.almaty_incident]);
    let by_someone_else = ListQuery {
        author: Some(fixtures::author(4).public()),
        ..at("Алматы")
    };
    assert_eq!(listed(&store, by_someone_else), Vec::<RecordId>::new());
    // The limit counts what the filters let through.
    let first_of_two = ListQuery {
        limit: 1,
        ..at("Алматы")
    };
    assert_eq!(store.list(&first_of_two).unwrap().len(), 1);
}

#[test]
fn a_place_finds_records_still_waiting_for_the_index_while_another_connection_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = archive();
    import(&mut store, &a.records);
    assert_eq!(store.search_pending_count().unwrap(), 4);

    // Another process (the node, say) is writing: nothing can be indexed now.
    let writer = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(
        listed(&store, at("Алмате")),
        vec![a.almaty_incident, a.almaty]
    );
    let incidents = ListQuery {
        kind: Some(RecordKind::Incident),
        ..at("Алматы")
    };
    assert_eq!(listed(&store, incidents), vec![a.almaty_incident]);
    assert_eq!(store.search_pending_count().unwrap(), 4);
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn search_syntax_typed_as_a_place_is_searched_for_literally() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = archive();
    import(&mut store, &a.records);

    for typed in [
        "Алматы\" OR text:задержали",
        "{text} : задержали",
        "NEAR(Алматы задержали)",
        "*",
        "\"",
        "-- ^ :",
    ] {
        let found = store.list(&ListQuery {
            limit: 10,
            ..at(typed)
        });
        // Never an error, never a record whose place does not have every word typed.
        let found: Vec<RecordId> = found.unwrap().into_iter().map(|s| s.id).collect();
        assert!(
            found.is_empty(),
            "{typed:?} found {found:?}, none has those words in its place"
        );
    }
    // Punctuation alone is no place at all: no filter, no records.
    assert_eq!(listed(&store, at("--")), Vec::<RecordId>::new());
}
