//! The full-text index filled outside the import: imported records wait in
//! `search_pending`, every search indexes them first, and every stored record is either
//! in the index or pending, never both, across closing the store, deleting records and
//! upgrading an archive from schema versions 9 and 11.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::path::Path;

use common::*;
use qoima_core::VerifiedRecord;
use qoima_core::fixtures;
use qoima_core::{Details, Link, LinkKind, Place, RecordId, RecordKind};
use qoima_store::{Acceptance, Policy, Quotas, SEARCH_INDEX_BATCH, SEARCH_OWN_INDEXING_MAX, Store};

/// Every record the fixtures make carries this tag.
const COMMON: &str = "almaty";

/// The store in `home`, keeping every valid record: these tests import more records
/// than the default quota lets an unknown author store in an hour.
fn open_without_quotas(home: &Path) -> Store {
    let mut store = open(home);
    store
        .set_policy(&Policy {
            accept: Acceptance::Open,
            quotas: Quotas::NONE,
        })
        .unwrap();
    store
}

/// The ids `search` returns for `text`.
fn found(store: &Store, text: &str) -> Vec<RecordId> {
    store
        .search(text, 100_000)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

/// The ids of `records`, newest stored first, as a search lists them.
fn newest_first<'a>(records: impl IntoIterator<Item = &'a VerifiedRecord>) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = records.into_iter().map(VerifiedRecord::id).collect();
    ids.reverse();
    ids
}

impl Chain {
    fn testimony(&mut self, text: &str) -> VerifiedRecord {
        let body = self.next_body(text);
        self.push_body(&body)
    }

    /// A retraction of `target` (one of this author's records).
    fn retraction(&mut self, target: RecordId) -> VerifiedRecord {
        let mut body = self.next_body("withdrawn");
        body.kind = RecordKind::Retraction;
        body.details = Details::None;
        body.links = vec![Link {
            kind: LinkKind::Retracts,
            target,
        }];
        self.push_body(&body)
    }
}

/// What the database holds, read directly: the rowids of all records, of those in the
/// full-text index (every record carries [`COMMON`]) and of those pending.
struct IndexState {
    records: Vec<i64>,
    indexed: Vec<i64>,
    pending: Vec<i64>,
}

fn index_state(home: &Path) -> IndexState {
    let db = keyed_db(&home.join(qoima_store::DB_FILE));
    let rowids = |sql: &str| -> Vec<i64> {
        db.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    IndexState {
        records: rowids("SELECT rowid FROM records ORDER BY rowid"),
        indexed: rowids(&format!(
            "SELECT rowid FROM records_fts WHERE records_fts MATCH '{COMMON}' ORDER BY rowid"
        )),
        pending: rowids("SELECT record FROM search_pending ORDER BY record"),
    }
}

/// Every record is indexed or pending, never both; returns the state for more checks.
fn assert_each_record_indexed_or_pending(home: &Path) -> IndexState {
    let state = index_state(home);
    let mut both: Vec<i64> = state.indexed.clone();
    both.extend(&state.pending);
    both.sort_unstable();
    assert_eq!(
        both, state.records,
        "indexed ∪ pending, disjoint, = records"
    );
    state
}

#[test]
fn imported_records_wait_for_indexing_and_the_next_search_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut chain = Chain::new(1);
    let strike = chain.testimony("Жанаозен: забастовка нефтяников");
    let mut body = chain.next_body("Қарулы адамдар алаңда, ёлка");
    body.place = Some(Place {
        name: "Республика алаңы".into(),
        point: None,
    });
    body.tags.push("шерутье".into());
    let square = chain.push_body(&body);
    let quiet = chain.testimony("nothing happened");
    import(&mut store, &chain.records);

    // The import indexed nothing: all three wait.
    assert_eq!(store.search_pending_count().unwrap(), 3);
    let state = assert_each_record_indexed_or_pending(dir.path());
    assert_eq!(state.indexed, Vec::<i64>::new());

    assert_eq!(found(&store, "забастовка"), vec![strike.id()]);
    assert_eq!(
        store.search_pending_count().unwrap(),
        0,
        "the search indexed"
    );
    let state = assert_each_record_indexed_or_pending(dir.path());
    assert_eq!(state.pending, Vec::<i64>::new());
    // Title, text, tags and place, folded as before.
    assert_eq!(found(&store, "АЛАҢ"), vec![square.id()]);
    assert_eq!(found(&store, "елка"), vec![square.id()]);
    assert_eq!(found(&store, "республика"), vec![square.id()]);
    assert_eq!(found(&store, "шерутье"), vec![square.id()]);
    assert_eq!(found(&store, "Свидетельство"), newest_first(&chain.records));
    assert_eq!(
        found(&store, COMMON),
        newest_first([&strike, &square, &quiet])
    );
    assert_eq!(found(&store, "nothing-like-this"), Vec::<RecordId>::new());
}

#[test]
fn records_pending_when_the_store_closed_are_found_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Chain::new(2);
    for i in 0..25 {
        chain.testimony(&format!("протокол номер{i}"));
    }
    {
        let mut store = open(dir.path());
        import(&mut store, &chain.records);
        // Closed before anything was indexed, as a crash after the import's commit.
    }
    let store = open(dir.path());
    assert_eq!(store.search_pending_count().unwrap(), 25);
    // Indexing stops part way (as a crash between two of its transactions would).
    assert_eq!(store.index_pending_search(10).unwrap(), 10);
    drop(store);
    let state = assert_each_record_indexed_or_pending(dir.path());
    assert_eq!((state.indexed.len(), state.pending.len()), (10, 15));
    assert_eq!(state.indexed, state.records[..10]);

    let store = open(dir.path());
    assert_eq!(store.search_pending_count().unwrap(), 15);
    // Each record found once: none was indexed twice or lost.
    assert_eq!(found(&store, "протокол"), newest_first(&chain.records));
    assert_eq!(found(&store, "номер7"), vec![chain.records[7].id()]);
    assert_eq!(found(&store, "номер24"), vec![chain.records[24].id()]);
    assert_eq!(store.search_pending_count().unwrap(), 0);
    assert_eq!(store.index_pending_search(usize::MAX).unwrap(), 0);
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn many_pending_records_are_indexed_in_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_without_quotas(dir.path());
    let count = SEARCH_INDEX_BATCH + 7;
    let records = fixtures::chain(&fixtures::author(3), count, 20);
    import(&mut store, &records);
    assert_eq!(store.search_pending_count().unwrap(), count as u64);
    assert_eq!(store.index_pending_search(usize::MAX).unwrap(), count);
    assert_eq!(store.search_pending_count().unwrap(), 0);
    assert_eq!(store.index_pending_search(usize::MAX).unwrap(), 0);
    assert_eq!(found(&store, "Площадь"), newest_first(&records));
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn a_search_indexes_a_bounded_number_of_pending_records_itself_and_the_rest_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_without_quotas(dir.path());
    // As after an upgrade that queued every record: more than a search does itself.
    let beyond = 5;
    let count = SEARCH_OWN_INDEXING_MAX + beyond;
    let records = fixtures::chain(&fixtures::author(3), count, 20);
    import(&mut store, &records);
    let all = newest_first(&records);
    // Compared by count and ends: a failure printing 20,000 ids says nothing.
    let summary = |ids: Vec<RecordId>| (ids.len(), ids.first().copied(), ids.last().copied());
    let oldest_bound = summary(all[beyond..].to_vec());

    // Another process holds the write lock: the temporary index covers the oldest
    // pending records up to the bound, and indexes nothing for good.
    let writer = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(summary(found(&store, "Площадь")), oldest_bound);
    assert_eq!(store.search_pending_count().unwrap(), count as u64);
    assert_eq!(store.search_would_miss().unwrap(), beyond as u64);
    writer.execute_batch("ROLLBACK").unwrap();

    // Free to write: the search indexes the bound's worth for good, and its temporary
    // index covers what is left (up to the bound again).
    assert_eq!(summary(found(&store, "Площадь")), summary(all.clone()));
    assert_eq!(store.search_pending_count().unwrap(), beyond as u64);
    assert_eq!(store.search_would_miss().unwrap(), 0);
    assert_each_record_indexed_or_pending(dir.path());
    // The next search (or the node, or `qoima search`) indexes the rest.
    assert_eq!(summary(found(&store, "Площадь")), summary(all.clone()));
    assert_eq!(store.search_pending_count().unwrap(), 0);
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn records_deleted_while_pending_or_indexed_leave_no_hit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut chain = Chain::new(4);

    // Indexed, then retracted.
    let indexed = chain.testimony("первоеудаление");
    import(&mut store, &chain.records[..]);
    assert_eq!(found(&store, "первоеудаление"), vec![indexed.id()]);
    let retract_indexed = chain.retraction(indexed.id());
    // Pending, then retracted by a later import.
    let pending = chain.testimony("второеудаление");
    import(&mut store, &chain.records[1..]);
    assert_eq!(store.search_pending_count().unwrap(), 2);
    let retract_pending = chain.retraction(pending.id());
    // Stored and retracted in the same import.
    let same_import = chain.testimony("третьеудаление");
    let retract_same = chain.retraction(same_import.id());
    import(&mut store, &chain.records[3..]);

    let state = assert_each_record_indexed_or_pending(dir.path());
    // Left: the three retractions, none searched for since it was stored.
    assert_eq!(state.records.len(), 3);
    assert_eq!(state.pending, state.records);
    for word in ["первоеудаление", "второеудаление", "третьеудаление"]
    {
        assert_eq!(found(&store, word), Vec::<RecordId>::new(), "{word}");
    }
    assert_eq!(
        found(&store, "withdrawn"),
        newest_first([&retract_indexed, &retract_pending, &retract_same])
    );
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn a_record_quarantined_while_pending_leaves_no_hit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut chain = Chain::new(5);
    let sound = chain.testimony("гниль соседняя");
    let victim = chain.testimony("гниль целевая");
    import(&mut store, &chain.records);
    let db = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    let mut bytes = victim.bytes().to_vec();
    bytes[50] ^= 0x08;
    db.execute(
        "UPDATE records SET bytes = ?1 WHERE id = ?2",
        rusqlite::params![bytes, victim.id().as_bytes()],
    )
    .unwrap();
    drop(db);

    let removed = store.quarantine(&[victim.id()]).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(store.search_pending_count().unwrap(), 1);
    assert_each_record_indexed_or_pending(dir.path());
    assert_eq!(found(&store, "гниль"), vec![sound.id()]);
    assert_eq!(found(&store, "целевая"), Vec::<RecordId>::new());
}

/// Undoes what schema versions after 9 added to an archive.
const AFTER_VERSION_9: &str = "
    DROP TABLE search_pending;
    DROP TRIGGER IF EXISTS author_usage_on_insert;
    DROP TRIGGER author_usage_on_update;
    DROP TRIGGER author_usage_on_delete;
    DROP TABLE author_usage;
";

fn schema_version(home: &Path) -> i64 {
    keyed_db(&home.join(qoima_store::DB_FILE))
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn an_archive_of_schema_version_9_keeps_its_search_hits() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Chain::new(6);
    let old = chain.testimony("старыйархив до обновления");
    chain.testimony("старыйархив второй");
    {
        let mut store = open(dir.path());
        import(&mut store, &chain.records);
        assert_eq!(store.index_pending_search(usize::MAX).unwrap(), 2);
    }
    // As version 9 left an archive: every record in the index, no queue.
    let db = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    db.execute_batch(AFTER_VERSION_9).unwrap();
    db.pragma_update(None, "user_version", 9).unwrap();
    drop(db);

    let mut store = open(dir.path());
    let fresh = tempfile::tempdir().unwrap();
    drop(open(fresh.path()));
    assert_eq!(
        schema_version(dir.path()),
        schema_version(fresh.path()),
        "migrated to the version a new archive has"
    );
    // The index was made anew with word forms (version 12): every record is queued
    // for it, and found meanwhile.
    assert_eq!(store.search_pending_count().unwrap(), 2);
    assert_each_record_indexed_or_pending(dir.path());
    assert_eq!(found(&store, "старыйархив"), newest_first(&chain.records));
    assert_eq!(found(&store, "обновления"), vec![old.id()]);
    assert_eq!(found(&store, "обновление"), vec![old.id()], "a word form");
    assert_eq!(store.search_pending_count().unwrap(), 0);

    let new = chain.testimony("старыйархив после обновления");
    import(&mut store, std::slice::from_ref(&new));
    assert_eq!(store.search_pending_count().unwrap(), 1);
    assert_eq!(found(&store, "обновления"), vec![new.id(), old.id()]);
    assert_eq!(found(&store, "старыйархив"), newest_first(&chain.records));
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn a_search_while_another_connection_holds_the_write_lock_still_finds_pending_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut chain = Chain::new(7);
    let first = chain.testimony("блокировка раньше");
    import(&mut store, &chain.records);
    assert_eq!(found(&store, "блокировка"), vec![first.id()]);
    let second = chain.testimony("блокировка позже, Қарулы адамдар алаңда, ёлка");
    let third = chain.testimony("блокировка последняя");
    import(&mut store, &chain.records[1..]);
    assert_eq!(store.search_pending_count().unwrap(), 2);

    // Another process (the node, say) is writing.
    let writer = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();

    let all = newest_first([&first, &second, &third]);
    for _ in 0..2 {
        assert_eq!(found(&store, "блокировка"), all);
        assert_eq!(found(&store, "позже"), vec![second.id()]);
        assert_eq!(found(&store, "АЛАҢ"), vec![second.id()]);
        assert_eq!(found(&store, "елка"), vec![second.id()]);
        assert_eq!(found(&store, "раньше"), vec![first.id()]);
        assert_eq!(found(&store, "nothing-like-this"), Vec::<RecordId>::new());
    }
    assert_eq!(
        store.search(COMMON, 2).unwrap().len(),
        2,
        "the limit holds with records pending"
    );
    // Nothing was waited for and nothing indexed: the lock is still the writer's.
    assert_eq!(store.search_pending_count().unwrap(), 2);

    writer.execute_batch("ROLLBACK").unwrap();
    assert_eq!(found(&store, "блокировка"), all);
    assert_eq!(store.search_pending_count().unwrap(), 0);
    assert_each_record_indexed_or_pending(dir.path());
}

#[test]
fn an_archive_of_schema_version_11_is_queued_for_the_index_with_word_forms() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Chain::new(8);
    let detained = chain.testimony("задержали в Алмате");
    let zhanaozen = chain.testimony("Жаңаөзенде наразылық");
    {
        let mut store = open(dir.path());
        import(&mut store, &chain.records);
        assert_eq!(store.index_pending_search(usize::MAX).unwrap(), 2);
    }
    // As version 11 left an archive: the index without stems, every record in it.
    let db = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    db.execute_batch(
        "DROP TABLE records_fts;
         CREATE VIRTUAL TABLE records_fts USING fts5(
             title, text, tags, place,
             content = '', contentless_delete = 1,
             tokenize = 'unicode61 remove_diacritics 2');",
    )
    .unwrap();
    let rowid = |id: RecordId| -> i64 {
        db.query_row(
            "SELECT rowid FROM records WHERE id = ?1",
            [id.as_bytes()],
            |r| r.get(0),
        )
        .unwrap()
    };
    for record in &chain.records {
        let body = record.body();
        db.execute(
            "INSERT INTO records_fts (rowid, title, text, tags, place) VALUES (?1, ?2, ?3, ?4, '')",
            rusqlite::params![
                rowid(record.id()),
                body.title,
                body.text,
                body.tags.join(" ")
            ],
        )
        .unwrap();
    }
    db.pragma_update(None, "user_version", 11).unwrap();
    drop(db);

    let store = open(dir.path());
    assert_eq!(schema_version(dir.path()), 14);
    assert_eq!(
        store.search_pending_count().unwrap(),
        2,
        "every record queued"
    );
    assert_each_record_indexed_or_pending(dir.path());

    // Another process holds the write lock: the overlay answers, with word forms.
    let writer = keyed_db(&dir.path().join(qoima_store::DB_FILE));
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(found(&store, "задержан Алматы"), vec![detained.id()]);
    assert_eq!(found(&store, "Жаңаөзен"), vec![zhanaozen.id()]);
    assert_eq!(found(&store, "\"в Алматы\""), Vec::<RecordId>::new());
    assert_eq!(store.search_pending_count().unwrap(), 2);
    writer.execute_batch("ROLLBACK").unwrap();

    assert_eq!(found(&store, "Жанаозен"), vec![zhanaozen.id()]);
    assert_eq!(found(&store, "\"в Алмате\""), vec![detained.id()]);
    assert_eq!(store.search_pending_count().unwrap(), 0);
    assert_each_record_indexed_or_pending(dir.path());
}
