//! The simulator's promises: a well-connected city is reached entirely, withholders
//! alone cannot stop the spread, a partition is never crossed, bytes are the real
//! messages' bytes, and a seed gives one report.

#![allow(clippy::unwrap_used)]

use qoima_sim::exchange::{Wire, replay, run_session};
use qoima_sim::fair_share::QuotaRule;
use qoima_sim::fetch::FetchOrder;
use qoima_sim::node_rules::LIMITS;
use qoima_sim::params::{DAY_MS, Link, Params};
use qoima_sim::records::TESTIMONY;
use qoima_sim::report::RunReport;
use qoima_sim::rng::Rng;
use qoima_sim::scenario::{Scenario, run_scenario};
use qoima_sim::sim::{Simulation, simulate};
use qoima_sim::world::Role;
use qoima_sync::{ArchiveIndex, Initiator, Position, Step, respond};

/// A small city where everyone meets often, nobody goes offline and nothing is seized.
fn small_city(nodes: usize, seed: u64) -> Params {
    let mut params = Params::city(nodes, false, false, seed);
    params.base_records = 400;
    params.horizon_ms = 2 * DAY_MS;
    params.offline_per_day = 0.0;
    params.seized_share = 0.0;
    params.public_place_size = 10;
    params.public_meetings_per_day = 24.0;
    params.workplace_attendance = 0.6;
    params.new_records_per_day = 40.0;
    params.courier_share = 0.1;
    params
}

#[test]
fn a_small_city_that_meets_often_is_reached_entirely() {
    let params = small_city(50, 11);
    let result = simulate(params.clone());
    let report = RunReport::new(&params, &result);
    assert_eq!(report.counted, 50);
    assert_eq!(report.reached_at_end, 1.0, "{report:?}");
    assert!(report.hours_to[2].is_some());
    assert!(report.counters.real_sessions > 0);
    assert_eq!(report.counters.sync_errors, 0);
    assert!(report.reconcile_bytes.median > 0 && report.record_bytes.median > 0);
}

#[test]
fn withholders_alone_cannot_stop_the_spread_where_honest_paths_exist() {
    let mut params = small_city(60, 5);
    params.hostile_share = 0.3;
    params.flooder_share_of_hostile = 0.0;
    let world = Simulation::new(params.clone()).world().clone();
    let withholders = world
        .people
        .iter()
        .filter(|p| p.role == Role::Withholder)
        .count();
    assert_eq!(withholders, 18);
    let result = simulate(params.clone());
    let report = RunReport::new(&params, &result);
    assert_eq!(report.counted, 42);
    assert_eq!(report.reached_at_end, 1.0, "{report:?}");
}

#[test]
fn a_partition_without_contacts_is_never_crossed() {
    let mut params = small_city(40, 3);
    params.partitioned = true;
    let world = Simulation::new(params.clone()).world().clone();
    let writer_half = world.people[world.writer as usize].half;
    let result = simulate(params.clone());
    let mut reached_per_half = [0, 0];
    for (node, person) in result.nodes.iter().zip(&world.people) {
        if node.reached_at.is_some() {
            reached_per_half[usize::from(person.half)] += 1;
        }
    }
    // The writer's side is reached entirely, the other side never.
    assert_eq!(reached_per_half[usize::from(writer_half)], 20);
    assert_eq!(reached_per_half[usize::from(1 - writer_half)], 0);
    let report = RunReport::new(&params, &result);
    assert_eq!(report.reached_at_end, 0.5);
    assert_eq!(report.hours_to[1], None);
}

#[test]
fn bytes_counted_are_the_real_messages_bytes() {
    let mut rng = Rng::new(9);
    let shared: Vec<(i64, [u8; 32])> = (0..3000).map(|i| (i, rng.id())).collect();
    let mut a = ArchiveIndex::from_entries(shared.iter().copied());
    let b = ArchiveIndex::from_entries(shared.iter().copied());
    a.extend((0..40).map(|i| (5000 + i, rng.id())));
    let salt = [7; qoima_sync::SALT_BYTES];
    let link = Link {
        bits_per_second: 1e6,
        rtt_ms: 100,
    };
    let wire = Wire {
        link,
        overhead: 64,
        budget_ms: f64::MAX,
    };
    let run = run_session(&b, &a, &Position::START, LIMITS, salt, &wire).unwrap();
    // The same session by hand.
    let (mut initiator, mut message) = Initiator::start_salted(&b, &Position::START, LIMITS, salt);
    let mut lengths = vec![];
    let outcome = loop {
        lengths.push(message.len());
        let reply = respond(&a, &message).unwrap();
        lengths.push(reply.len());
        match initiator.step(&b, &reply).unwrap() {
            Step::Send(next) => message = next,
            Step::Done(outcome) => break outcome,
        }
    };
    assert_eq!(run.messages, lengths);
    assert_eq!(run.outcome.as_ref(), Some(&outcome));
    assert_eq!(outcome.need.len(), 40);
    let payload: u64 = lengths.iter().map(|&n| n as u64).sum();
    assert_eq!(run.payload_bytes(), payload);
    assert_eq!(
        run.initiator_bytes + run.responder_bytes,
        payload + 64 * lengths.len() as u64
    );
    // A session counted again is counted alike, and takes its round trips.
    let timed = replay(&run.messages, &wire);
    assert_eq!(
        (timed.initiator_bytes, timed.responder_bytes),
        (run.initiator_bytes, run.responder_bytes)
    );
    assert!(timed.finished);
    assert!(timed.elapsed_ms >= 100.0 * lengths.len() as f64 / 2.0);
    // A contact that ends half-way moves only what fit, and finds nothing.
    let short = Wire {
        budget_ms: timed.elapsed_ms / 2.0,
        ..wire
    };
    let cut = run_session(&b, &a, &Position::START, LIMITS, salt, &short).unwrap();
    assert!(cut.outcome.is_none());
    assert!(cut.initiator_bytes + cut.responder_bytes < payload);
}

/// 40 nodes with the daily window, 10 % of them hostile.
fn small_hostile_city_with_window() -> (Scenario, Params) {
    let scenario = Scenario {
        nodes: 40,
        window: true,
        hostile: true,
    };
    let mut params = small_city(40, 21);
    params.window = true;
    params.hostile_share = 0.1;
    (scenario, params)
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let (scenario, mut params) = small_hostile_city_with_window();
    params.offline_per_day = 1.0;
    params.seized_share = 0.05;
    let first = run_scenario(scenario, &params, 2).unwrap();
    let second = run_scenario(scenario, &params, 2).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap()
    );
    params.seed = 99;
    let other = run_scenario(scenario, &params, 1).unwrap();
    assert_ne!(first.runs[0].curve, other.runs[0].curve);
    let _ = TESTIMONY;
}

#[test]
fn a_per_peer_share_in_random_order_is_a_function_of_the_seed_too() {
    let (scenario, mut params) = small_hostile_city_with_window();
    params.quota_rule = QuotaRule::PerPeer;
    params.fetch_order = FetchOrder::Random;
    params.pause_spent_peers = true;
    let first = run_scenario(scenario, &params, 2).unwrap();
    let second = run_scenario(scenario, &params, 2).unwrap();
    assert_eq!(first, second);
    assert!(first.name.ends_with("per-peer, random order, pause spent"));
    assert_eq!(
        first.runs[0].counters.testimony_declined, 0,
        "asked within the room"
    );
}
