//! Differences scattered over the archive are found by the sketch, near their size;
//! new records still by ranges; a responder that makes symbols up costs bytes, never
//! the result.

#![allow(clippy::unwrap_used)]

use qoima_sync::{ArchiveIndex, Initiator, Limits, Outcome, Position, Step, respond};

/// The node's limits.
const LIMITS: Limits = Limits {
    rounds_max: 32,
    need_max: 65_536,
};

fn id(n: u32) -> [u8; 32] {
    *blake3::hash(&n.to_le_bytes()).as_bytes()
}

/// A month of records, one every 26 seconds.
fn created_ms(slot: u32) -> i64 {
    1_640_995_200_000 + i64::from(slot) * 26_000
}

/// Two archives of `records` each: `records - diff` shared, `diff` of each side's own,
/// either at the end of the month (new records) or at pseudo-random places in it.
fn pair(records: u32, diff: u32, scattered: bool) -> (ArchiveIndex, ArchiveIndex) {
    let common = records - diff;
    let place = |n: u32, side: u32| {
        let slot = if scattered {
            u32::from_le_bytes(id(n * 2 + side)[..4].try_into().unwrap()) % records
        } else {
            common + n
        };
        (created_ms(slot), id(1_000_000 * (side + 1) + n))
    };
    let shared = (0..common).map(|n| (created_ms(n), id(n)));
    let a = ArchiveIndex::from_entries(shared.clone().chain((0..diff).map(|n| place(n, 0))));
    let b = ArchiveIndex::from_entries(shared.chain((0..diff).map(|n| place(n, 1))));
    (a, b)
}

/// Runs one session of `a` against `b`, passing each reply through `tamper`; returns
/// the outcome, the bytes both ways and the round trips.
fn session(
    a: &ArchiveIndex,
    b: &ArchiveIndex,
    mut tamper: impl FnMut(&mut Vec<u8>),
) -> (Outcome, usize, u32) {
    let (mut initiator, mut message) = Initiator::start(a, &Position::START, LIMITS);
    let mut bytes = message.len();
    let mut round_trips = 0;
    loop {
        let mut reply = respond(b, &message).unwrap();
        tamper(&mut reply);
        round_trips += 1;
        bytes += reply.len();
        match initiator.step(a, &reply).unwrap() {
            Step::Send(next) => {
                bytes += next.len();
                message = next;
            }
            Step::Done(outcome) => return (outcome, bytes, round_trips),
        }
    }
}

/// The ids only `side` holds, sorted as an outcome lists them.
fn own(diff: u32, side: u32) -> Vec<[u8; 32]> {
    let mut ids: Vec<[u8; 32]> = (0..diff).map(|n| id(1_000_000 * (side + 1) + n)).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn one_percent_scattered_over_a_month_costs_under_three_times_its_ids() {
    let (a, b) = pair(100_000, 1_000, true);
    let (outcome, bytes, round_trips) = session(&a, &b, |_| {});
    assert!(outcome.sketched && outcome.complete);
    assert_eq!(outcome.need, own(1_000, 1));
    assert_eq!(outcome.have, own(1_000, 0));
    let ids_of_difference = 2 * 1_000 * 32;
    assert!(bytes <= 3 * ids_of_difference, "{bytes} bytes");
    assert!(round_trips <= 4, "{round_trips} round trips");
}

#[test]
fn new_records_are_still_found_by_ranges_below_their_ids() {
    let (a, b) = pair(100_000, 1_000, false);
    let (outcome, bytes, round_trips) = session(&a, &b, |_| {});
    assert!(!outcome.sketched && outcome.complete);
    assert_eq!(outcome.need, own(1_000, 1));
    assert_eq!(outcome.have, own(1_000, 0));
    // The responder lists its new records; the initiator learns its own by absence.
    assert!(bytes < 2 * 1_000 * 32, "{bytes} bytes");
    assert_eq!(round_trips, 2);
}

#[test]
fn a_node_far_behind_lists_rather_than_sketches() {
    // 2,000 held, 20,000 on the peer, scattered: mostly one-sided.
    let b = ArchiveIndex::from_entries((0..20_000u32).map(|n| (created_ms(n), id(n))));
    let a = ArchiveIndex::from_entries((0..20_000u32).step_by(10).map(|n| (created_ms(n), id(n))));
    let (outcome, _, _) = session(&a, &b, |_| {});
    assert!(!outcome.sketched && outcome.complete);
    assert_eq!(outcome.need.len(), 18_000);
    assert!(outcome.have.is_empty());
}

#[test]
fn made_up_symbols_fall_back_to_ranges_and_still_find_exactly_the_difference() {
    let (a, b) = pair(20_000, 200, true);
    let mut tampered = 0;
    let (outcome, _, _) = session(&a, &b, |reply| {
        // Symbols replies start with 0x72: garble every symbol's count.
        if reply.first() == Some(&0x72) {
            tampered += 1;
            for symbol in reply[1..].chunks_mut(42) {
                symbol[40] ^= 0x55;
            }
        }
    });
    assert!(tampered > 0, "the sketch was not tried");
    assert!(!outcome.sketched && outcome.complete);
    assert_eq!(outcome.need, own(200, 1));
    assert_eq!(outcome.have, own(200, 0));
}

#[test]
fn a_symbols_reply_of_the_wrong_length_is_the_peers_fault() {
    let (a, b) = pair(20_000, 200, true);
    let (mut initiator, first) = Initiator::start(&a, &Position::START, LIMITS);
    let reply = respond(&b, &first).unwrap();
    let Step::Send(ask) = initiator.step(&a, &reply).unwrap() else {
        panic!("no symbols asked");
    };
    assert_eq!(ask[0], 0x72);
    let mut symbols = respond(&b, &ask).unwrap();
    symbols.pop();
    assert!(initiator.step(&a, &symbols).is_err());
}
