//! A city in an internet shutdown, simulated.
//!
//! A discrete-event simulation of thousands of qoima nodes in a city whose internet is
//! cut (Kazakhstan, January 2022: the internet shut down nationwide for about five
//! days, a curfew from 23:00 to 07:00, people meeting at homes, offices, hospitals and
//! courts; in some places mobile data came back for an hour or two a day). It answers:
//! how long does one testimony, written at one node at time zero, take to reach 50 %,
//! 90 % and 99 % of the honest nodes whose devices survive, and how many bytes does
//! each node spend on the way?
//!
//! # What is real and what is modelled
//!
//! **Real:** every reconciliation between two nodes whose sets differ runs
//! `qoima_sync::{Initiator, respond}` over real [`qoima_sync::ArchiveIndex`]es, message
//! by message, with the node's [`Limits`](qoima_sync::Limits) (32 rounds, 65,536 ids),
//! resuming from the [`Position`](qoima_sync::Position) a session stopped at; the
//! bytes counted are the lengths of the messages it made, plus a per-message overhead
//! for framing ([`params::Params::message_overhead_bytes`]). What a session finds
//! (`need`) is what the node fetches.
//!
//! **Modelled:** time (a message takes half a round trip plus its bytes at the link's
//! rate; a contact that ends mid-transfer moves what fit), fetches (batches of 64 ids
//! doubling to 1,024, three in flight, records of [`params::Params::record_bytes`] and a
//! per-batch overhead, `fetch.rs`), gossip (a new record pushed inline to four
//! connected peers, forwarded by those who keep it), the acceptance policy's quotas
//! (`node_rules.rs`), and the flood (counted, not listed: `flood.rs`). The node's
//! scheduling rules, with the files they come from, are in [`node_rules`].
//!
//! Two shortcuts keep 10,000 nodes within minutes, neither changing what is counted:
//! a session between two equal sets is costed from one real session per set, and a
//! session between two sets already reconciled in the run is counted again rather than
//! run again (the same sets give the same messages, up to a few bytes of the estimate
//! that depend on the salt). A pair of nodes whose holdings did not change since a sync
//! that found nothing repeats that sync's bytes.
//!
//! # The model
//!
//! * **People and places** (`world.rs`): every node has a home (4 people), a workplace
//!   (20) and a public place (100: a hospital's waiting room, a court's corridor, a
//!   market); 2 % are couriers with 10 more workplaces and public places anywhere in
//!   the city. Meetings are Poisson events per place: homes twice a day for about 3
//!   hours (everyone at home meets), workplaces three times a day for about 45 minutes
//!   (30 % of their people), public places eight times a day for about 20 minutes (2 to
//!   4 strangers); none but at home during the curfew. Lengths are exponential, at
//!   least 2 minutes; at most 8 devices on one hotspot. A meeting's devices reach each
//!   other over a LAN or hotspot at 20 Mbit/s with a 5 ms round trip.
//! * **Node rules** (`sim.rs`): on connect, and every 60 s while connected, each node
//!   of a pair reconciles with the other and fetches what it lacks; a new record
//!   (written here or kept from gossip) is pushed to up to four connected peers; a
//!   record fetched by sync is not gossiped on, as the node announces only its own.
//! * **The daily window**: 30 % of the nodes get mobile data from 13:00 for 1 to 2
//!   hours (uniform); each dials 4 others online at the time, at 0.5 Mbit/s between
//!   two phones (1 Mbit/s down, 0.5 up) with a 100 ms round trip.
//! * **Churn**: a device goes offline about once a day for about 4 hours (exponential);
//!   3 % are seized at a random time and gone for good (and not counted).
//! * **Records**: every node holds the same base (20,000 records claimed over the month
//!   before; 2,000 in cities of 5,000 nodes or more, see below); 300 new records a day
//!   are written at random honest nodes; the testimony is the first, at one honest node
//!   at time zero, 10:00.
//! * **Hostile nodes**: 10 %, half flooders (20,000 valid useless records an hour each
//!   under fresh keys, offered to everyone they meet and kept by honest nodes only up
//!   to the quotas: 10,000 per unknown author per hour, 50,000 per hour from all
//!   unknown authors; what an honest node keeps it serves on), half withholders (they
//!   reconcile and take records but never serve one and never forward gossip).
//!   Authors of new honest records are unknown to most nodes too, so the testimony
//!   competes with the flood for the hourly quota; a declined record is not stored,
//!   not forwarded, and not fetched again for an hour.
//! * **Fetch order**: a node asks for what a session found in an order drawn afresh
//!   for each fetch (`--fetch-order random`, the default, as the node does since the
//!   simulation showed its worth); `--fetch-order id` is the node before.
//! * **Proposed rules** (options, off by default): a share of the hourly quota per
//!   delivering peer (`--quota-rule per-peer`, [`fair_share`]), and no sessions with a
//!   peer whose share is spent until the hour turns (`--pause-spent-peers`).
//!
//! # Why a smaller base in the large city
//!
//! A real session costs the responder a pass over its whole index (the estimate's
//! keyed hashes and sums), about 5 ms at 20,000 records. The large city runs ten times
//! the sessions of the small one, so it uses a base of 2,000: the difference between
//! two nodes (new records, claimed at the end of the order) is the same, the bytes of
//! a session grow only with the logarithm of the archive (one more round of
//! fingerprints), and the time to spread is set by meetings, not by the base. The
//! effect is measured in BENCHMARKS.md by running the small city at both sizes.
//!
//! **Invariants:** a run is a function of its parameters and seed (a hand-written
//! SplitMix64, no clock, no hash-map order); no I/O but the report files the binary
//! writes; no sockets; every collection bounded (records by
//! [`params::Params::new_records_max`], events by [`params::Params::events_max`],
//! indexes and session caches by [`params::Params::index_cache`], contacts per node,
//! declined ids per node).

pub mod archive;
pub mod exchange;
pub mod fair_share;
pub mod fetch;
pub mod flood;
pub mod node_rules;
pub mod params;
pub mod plots;
pub mod records;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod svg;
pub mod world;
