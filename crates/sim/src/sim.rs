//! The event loop: meetings, daily windows, writes and gossip deliveries in time
//! order, and at each contact the node's rules (sync on connect, again every minute,
//! fetch what a session found, gossip what is new).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::rc::Rc;

use qoima_sync::{ArchiveIndex, Position, SALT_BYTES, SyncError};

use crate::archive::{Holdings, IndexCache};
use crate::exchange::{Wire, replay, run_session};
use crate::fair_share::{Delivery, PEER_SHARE_PER_HOUR, PeerShares, QuotaRule, room_for};
use crate::fetch::{FetchCost, FetchOrder, Fetched, Take, fetch};
use crate::flood::{Flood, RECONCILE_BYTES_PER_FLOOD_ID};
use crate::node_rules::{
    DECLINED_FOR_MS, DECLINED_MAX, GOSSIP_MESH, HOUR_MS, LIMITS, QUEUED_IDS_MAX,
    RECORDS_PER_HOUR_ALL_UNKNOWN, SESSIONS_PER_SYNC_MAX, SYNC_INTERVAL_MS,
};
use crate::params::{DAY_MS, Link, Params};
use crate::records::{RecordNo, Records, TESTIMONY};
use crate::rng::Rng;
use crate::world::{PlaceKind, Role, World};

/// Contacts one node may be in at once (a meeting and its window peers).
const CONTACTS_PER_NODE_MAX: usize = 32;

/// Something that happens at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A place's next meeting is due.
    Meeting { place: u32 },
    /// A contact's periodic re-sync.
    Resync { contact: u32, generation: u32 },
    /// A contact ends.
    End { contact: u32, generation: u32 },
    /// The daily window opens.
    Window,
    /// Someone writes a new record.
    Write,
    /// A gossiped record arrives.
    Gossip {
        record: RecordNo,
        from: u32,
        to: u32,
        contact: u32,
        generation: u32,
    },
}

/// Two or more nodes that reach each other for a while.
#[derive(Debug)]
struct Contact {
    members: Vec<u32>,
    end: u64,
    link: Link,
    generation: u32,
    /// Per pair of members (in `pairs` order): the last sync, if it found nothing to
    /// fetch either way, with the holdings' versions then; an unchanged pair repeats
    /// it without running it again (the same sets give the same messages).
    pairs: Vec<(u32, u32, Option<Memo>)>,
}

#[derive(Debug, Clone, Copy)]
struct Memo {
    versions: (u64, u64),
    bytes: (u64, u64),
    elapsed_ms: f64,
}

/// The sets of a session's two sides and where it starts.
type SessionKey = ((usize, u128), (usize, u128), Position);

/// A session run once: its wire bytes each way, its time on a link with no delay and
/// infinite bandwidth is not kept; its messages are, so any link can time it.
#[derive(Debug)]
struct KnownSession {
    messages: Vec<usize>,
    need: Vec<[u8; 32]>,
    complete: bool,
    resume: Position,
}

/// A node's state during the run.
#[derive(Debug, Default, Clone)]
struct Node {
    holdings: Holdings,
    quota_hour: u64,
    quota_used: u64,
    /// What each delivering peer filled of this hour's quota (per-peer rules only).
    shares: PeerShares,
    /// Declined records and until when they are remembered (bounded by `DECLINED_MAX`).
    declined: Vec<(RecordNo, u64)>,
    /// Flood records declined and remembered, and until when: the store remembers
    /// declined ids (up to `DECLINED_MAX`, for an hour) so sync does not fetch them
    /// again; counted, like the flood.
    flood_declined: (u64, u64),
    /// The link is busy with earlier transfers until then.
    busy_until: u64,
    in_meeting_until: u64,
    contacts: Vec<u32>,
    reconcile_bytes: u64,
    record_bytes: u64,
    reached_at: Option<u64>,
}

impl Node {
    fn quota_room(&mut self, now: u64) -> u64 {
        let hour = now / HOUR_MS;
        if hour != self.quota_hour {
            self.quota_hour = hour;
            self.quota_used = 0;
        }
        RECORDS_PER_HOUR_ALL_UNKNOWN.saturating_sub(self.quota_used)
    }

    /// Records of unknown authors `peer` may still deliver by `delivery` at `now` under
    /// `rule`: the hour's quota left and, per peer, the peer's share left.
    fn admission_room(&mut self, peer: u32, now: u64, rule: QuotaRule, delivery: Delivery) -> u64 {
        let hour = room_for(
            rule,
            delivery,
            self.quota_room(now),
            RECORDS_PER_HOUR_ALL_UNKNOWN,
        );
        if !rule.per_peer() {
            return hour;
        }
        let share = room_for(
            rule,
            delivery,
            self.shares.room(peer, now),
            PEER_SHARE_PER_HOUR,
        );
        hour.min(share)
    }

    /// Counts `count` records of unknown authors kept from `peer`.
    fn charge(&mut self, peer: u32, count: u64, now: u64, rule: QuotaRule) {
        self.quota_used += count;
        if rule.per_peer() {
            self.shares.charge(peer, count, now);
        }
    }

    fn declined_now(&self, record: RecordNo, now: u64) -> bool {
        self.declined
            .iter()
            .any(|&(r, until)| r == record && now < until)
    }

    /// Flood records remembered as declined at `now`.
    fn flood_declined_now(&self, now: u64) -> u64 {
        if now < self.flood_declined.1 {
            self.flood_declined.0
        } else {
            0
        }
    }

    /// Remembers `count` more declined flood records, within `DECLINED_MAX` with the
    /// declined records.
    fn decline_flood(&mut self, count: u64, now: u64) {
        let room = DECLINED_MAX.saturating_sub(self.declined.len()) as u64;
        let held = self.flood_declined_now(now);
        self.flood_declined = ((held + count).min(room), now + DECLINED_FOR_MS);
    }

    fn decline(&mut self, record: RecordNo, now: u64) {
        self.declined.retain(|&(_, until)| now < until);
        if self.declined.len() < DECLINED_MAX {
            self.declined.push((record, now + DECLINED_FOR_MS));
        }
    }
}

/// Counters of what the run did, for the report and for judging its speed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    /// Contacts (meetings and window connections).
    pub contacts: u64,
    /// Sessions run with real messages between two different sets.
    pub real_sessions: u64,
    /// Sessions between two sets already reconciled in this run, counted again.
    pub known_sessions: u64,
    /// Sessions between equal sets, costed from a real session once per set.
    pub equal_sessions: u64,
    /// Syncs of an unchanged pair that found nothing the last time, repeated.
    pub repeated_syncs: u64,
    /// Indexes built.
    pub index_builds: u64,
    /// Gossip deliveries.
    pub gossip_deliveries: u64,
    /// Gossip deliveries dropped because the event queue was full.
    pub gossip_dropped: u64,
    /// New records written (the testimony included).
    pub records_written: u64,
    /// Times the testimony was declined by a quota.
    pub testimony_declined: u64,
    /// Of those, times it was pushed by gossip.
    #[serde(default)]
    pub testimony_declined_pushed: u64,
    /// Times a session found the testimony but the node did not ask for it, its quota
    /// or the peer's share being spent (per-peer rules only).
    #[serde(default)]
    pub testimony_not_asked: u64,
    /// Peer messages `qoima_sync` refused (never, between simulated nodes).
    pub sync_errors: u64,
}

/// What a run produced about each node.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// For each node: role, whether present at the end, when it got the testimony,
    /// reconciliation bytes, record bytes.
    pub nodes: Vec<NodeResult>,
    /// The counters.
    pub counters: Counters,
}

/// One node at the end of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeResult {
    /// Its role.
    pub role: Role,
    /// False if its device was seized during the run.
    pub present: bool,
    /// When it got the testimony.
    pub reached_at: Option<u64>,
    /// Bytes of reconciliation it sent and received.
    pub reconcile_bytes: u64,
    /// Bytes of fetches and gossip it sent and received.
    pub record_bytes: u64,
}

/// A run in progress.
pub struct Simulation {
    params: Params,
    world: World,
    records: Records,
    nodes: Vec<Node>,
    contacts: Vec<Option<Contact>>,
    free_contacts: Vec<u32>,
    generation: u32,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    sequence: u64,
    now: u64,
    rng: Rng,
    /// Draws of the fetch order when it is random: a stream of its own, so the other
    /// parts of a run are the same whatever the order.
    order_rng: Rng,
    indexes: IndexCache,
    /// What a session between two equal sets costs: initiator bytes, responder bytes,
    /// round trips, by the set. Bounded like the index cache.
    equal_costs: HashMap<(usize, u128), (u64, u64, u32)>,
    /// Sessions already run between two sets, by the sets: the same two sets give the
    /// same messages (up to the salt's few bytes), so the session is counted again
    /// rather than run again. Bounded like the index cache.
    known_sessions: HashMap<SessionKey, Rc<KnownSession>>,
    flood: Flood,
    counters: Counters,
}

impl Simulation {
    /// A city drawn from `params` (already validated).
    pub fn new(params: Params) -> Simulation {
        let mut world_rng = Rng::fork(params.seed, 1);
        let world = World::new(&params, &mut world_rng);
        let records = Records::new(&params, &mut Rng::fork(params.seed, 2));
        let flooders = world
            .people
            .iter()
            .filter(|p| p.role == Role::Flooder)
            .count();
        let flood = Flood::new(&params, flooders);
        Simulation {
            nodes: vec![Node::default(); params.nodes],
            indexes: IndexCache::new(params.index_cache),
            rng: Rng::fork(params.seed, 3),
            order_rng: Rng::fork(params.seed, 4),
            params,
            world,
            records,
            contacts: Vec::new(),
            free_contacts: Vec::new(),
            generation: 0,
            queue: BinaryHeap::new(),
            sequence: 0,
            now: 0,
            equal_costs: HashMap::new(),
            known_sessions: HashMap::new(),
            flood,
            counters: Counters::default(),
        }
    }

    /// The city.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Runs to the horizon.
    pub fn run(mut self) -> RunResult {
        self.write_at(self.world.writer, 0);
        for place in 0..self.world.places.len() {
            let first = self.next_meeting_gap(place);
            self.schedule(
                first,
                Event::Meeting {
                    place: place as u32,
                },
            );
        }
        if self.params.new_records_per_day > 0.0 {
            let gap = self
                .rng
                .exponential(DAY_MS as f64 / self.params.new_records_per_day);
            self.schedule(gap as u64, Event::Write);
        }
        if self.params.window {
            let hours = (self.params.window_start_hour + 24 - self.params.start_hour) % 24;
            self.schedule(hours * HOUR_MS, Event::Window);
        }
        while let Some(Reverse((time, _, event))) = self.queue.pop() {
            if time > self.params.horizon_ms {
                break;
            }
            self.now = time;
            self.handle(event);
        }
        self.counters.index_builds = self.indexes.builds;
        let nodes = self
            .nodes
            .iter()
            .zip(&self.world.people)
            .map(|(node, person)| NodeResult {
                role: person.role,
                present: person.present(self.params.horizon_ms),
                reached_at: node.reached_at,
                reconcile_bytes: node.reconcile_bytes,
                record_bytes: node.record_bytes,
            })
            .collect();
        RunResult {
            nodes,
            counters: self.counters,
        }
    }

    fn schedule(&mut self, at: u64, event: Event) -> bool {
        if let Event::Gossip { .. } = event
            && self.queue.len() >= self.params.events_max
        {
            self.counters.gossip_dropped += 1;
            return false;
        }
        self.sequence += 1;
        self.queue.push(Reverse((at, self.sequence, event)));
        true
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Meeting { place } => self.meeting(place as usize),
            Event::Resync {
                contact,
                generation,
            } => {
                if self.live(contact, generation) {
                    self.sync_all(contact);
                    self.schedule_resync(contact);
                }
            }
            Event::End {
                contact,
                generation,
            } => {
                if self.live(contact, generation) {
                    self.close(contact);
                }
            }
            Event::Window => self.window(),
            Event::Write => {
                let gap = self
                    .rng
                    .exponential(DAY_MS as f64 / self.params.new_records_per_day);
                self.schedule(self.now + gap as u64, Event::Write);
                if let Some(writer) = self.random_honest_online() {
                    self.write_at(writer, self.now);
                }
            }
            Event::Gossip {
                record,
                from,
                to,
                contact,
                generation,
            } => self.deliver(record, from, to, contact, generation),
        }
    }

    // ----- meetings and windows ----------------------------------------------------

    fn next_meeting_gap(&mut self, place: usize) -> u64 {
        let per_day = match self.world.places[place].kind {
            PlaceKind::Home => self.params.home_meetings_per_day,
            PlaceKind::Workplace => self.params.workplace_meetings_per_day,
            PlaceKind::Public => self.params.public_meetings_per_day,
        };
        if per_day <= 0.0 {
            return u64::MAX / 2;
        }
        self.rng.exponential(DAY_MS as f64 / per_day) as u64
    }

    fn in_curfew(&self, t: u64) -> bool {
        let hour = (self.params.start_hour + t / HOUR_MS) % 24;
        let (start, end) = (self.params.curfew_start_hour, self.params.curfew_end_hour);
        if start > end {
            hour >= start || hour < end
        } else {
            hour >= start && hour < end
        }
    }

    fn meeting(&mut self, place: usize) {
        let gap = self.next_meeting_gap(place);
        self.schedule(
            self.now.saturating_add(gap),
            Event::Meeting {
                place: place as u32,
            },
        );
        let kind = self.world.places[place].kind;
        if kind != PlaceKind::Home && self.in_curfew(self.now) {
            return;
        }
        let now = self.now;
        let mut present: Vec<u32> = self.world.places[place]
            .regulars
            .iter()
            .copied()
            .filter(|&p| {
                self.world.people[p as usize].online(now)
                    && self.nodes[p as usize].in_meeting_until <= now
            })
            .collect();
        self.rng.shuffle(&mut present);
        let (wanted, mean_ms) = match kind {
            PlaceKind::Home => (present.len(), self.params.home_meeting_mean_ms),
            PlaceKind::Workplace => {
                let attending = present
                    .iter()
                    .filter(|_| self.rng.chance(self.params.workplace_attendance))
                    .count();
                (attending, self.params.workplace_meeting_mean_ms)
            }
            PlaceKind::Public => (2 + self.rng.below(3), self.params.public_meeting_mean_ms),
        };
        present.truncate(wanted.min(self.params.group_max));
        if present.len() < 2 {
            return;
        }
        let length = (self.rng.exponential(mean_ms as f64) as u64).max(self.params.meeting_min_ms);
        let end = (now + length).min(self.params.horizon_ms);
        for &member in &present {
            self.nodes[member as usize].in_meeting_until = end;
        }
        self.open(present, end, self.params.lan);
    }

    /// Everyone with a window who is online dials a few others online.
    fn window(&mut self) {
        self.schedule(self.now + DAY_MS, Event::Window);
        let now = self.now;
        let online: Vec<(u32, u64, u8)> = self
            .world
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.online(now))
            .filter_map(|(i, p)| p.window_ms.map(|w| (i as u32, w, p.half)))
            .collect();
        let mut dialled: HashSet<(u32, u32)> = HashSet::new();
        for &(a, window_a, half) in &online {
            for _ in 0..self.params.window_peers {
                let (b, window_b, half_b) = online[self.rng.below(online.len())];
                let pair = (a.min(b), a.max(b));
                if b == a || half_b != half || !dialled.insert(pair) {
                    continue;
                }
                let end = (now + window_a.min(window_b)).min(self.params.horizon_ms);
                self.open(vec![a, b], end, self.params.mobile);
            }
        }
    }

    fn open(&mut self, members: Vec<u32>, end: u64, link: Link) {
        let members: Vec<u32> = members
            .into_iter()
            .filter(|&m| self.nodes[m as usize].contacts.len() < CONTACTS_PER_NODE_MAX)
            .collect();
        if members.len() < 2 {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        let mut pairs = Vec::new();
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                pairs.push((a, b, None));
            }
        }
        let contact = Contact {
            members,
            end,
            link,
            generation: self.generation,
            pairs,
        };
        let id = match self.free_contacts.pop() {
            Some(id) => {
                self.contacts[id as usize] = Some(contact);
                id
            }
            None => {
                self.contacts.push(Some(contact));
                (self.contacts.len() - 1) as u32
            }
        };
        self.counters.contacts += 1;
        let (members, generation) = {
            let c = self.contacts[id as usize].as_ref().expect("just stored");
            (c.members.clone(), c.generation)
        };
        for &m in &members {
            self.nodes[m as usize].contacts.push(id);
        }
        // Sync on connect.
        self.sync_all(id);
        self.schedule_resync(id);
        self.schedule(
            end,
            Event::End {
                contact: id,
                generation,
            },
        );
    }

    fn live(&self, contact: u32, generation: u32) -> bool {
        self.contacts
            .get(contact as usize)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.generation == generation)
    }

    fn schedule_resync(&mut self, contact: u32) {
        let Some(c) = self.contacts[contact as usize].as_ref() else {
            return;
        };
        let (end, generation) = (c.end, c.generation);
        let at = self.now + SYNC_INTERVAL_MS;
        if at < end {
            self.schedule(
                at,
                Event::Resync {
                    contact,
                    generation,
                },
            );
        }
    }

    fn close(&mut self, contact: u32) {
        if let Some(c) = self.contacts[contact as usize].take() {
            for m in c.members {
                self.nodes[m as usize].contacts.retain(|&x| x != contact);
            }
            self.free_contacts.push(contact);
        }
    }

    // ----- syncing ----------------------------------------------------------------------

    fn sync_all(&mut self, contact: u32) {
        let count = self.contacts[contact as usize]
            .as_ref()
            .map_or(0, |c| c.pairs.len());
        let mut order: Vec<usize> = (0..count).collect();
        self.rng.shuffle(&mut order);
        for pair in order {
            self.sync_pair(contact, pair);
        }
    }

    /// Both nodes of a pair start a session on connect and on every tick: `a` pulls
    /// from `b`, then `b` from `a`, one after the other on their link.
    fn sync_pair(&mut self, contact: u32, pair: usize) {
        let now = self.now;
        let Some(c) = self.contacts[contact as usize].as_ref() else {
            return;
        };
        let (a, b, memo) = c.pairs[pair];
        let (end, link) = (c.end, c.link);
        let people = &self.world.people;
        if !people[a as usize].online(now) || !people[b as usize].online(now) {
            return;
        }
        let start = now
            .max(self.nodes[a as usize].busy_until)
            .max(self.nodes[b as usize].busy_until);
        if start >= end {
            return;
        }
        let versions = (
            self.nodes[a as usize].holdings.version(),
            self.nodes[b as usize].holdings.version(),
        );
        if let Some(memo) = memo
            && memo.versions == versions
        {
            self.counters.repeated_syncs += 1;
            self.nodes[a as usize].reconcile_bytes += memo.bytes.0;
            self.nodes[b as usize].reconcile_bytes += memo.bytes.1;
            let done = start + memo.elapsed_ms.ceil() as u64;
            self.nodes[a as usize].busy_until = done;
            self.nodes[b as usize].busy_until = done;
            return;
        }
        let before = (
            self.nodes[a as usize].reconcile_bytes,
            self.nodes[b as usize].reconcile_bytes,
        );
        let mut elapsed = 0.0;
        let mut found = false;
        for (x, y) in [(a, b), (b, a)] {
            let at = start + elapsed as u64;
            if at >= end {
                break;
            }
            let (ms, found_here) = self.pull(x, y, at, end, &link);
            elapsed += ms;
            found |= found_here;
        }
        let done = start + elapsed.ceil() as u64;
        self.nodes[a as usize].busy_until = done;
        self.nodes[b as usize].busy_until = done;
        let memo = (!found).then(|| Memo {
            versions: (
                self.nodes[a as usize].holdings.version(),
                self.nodes[b as usize].holdings.version(),
            ),
            bytes: (
                self.nodes[a as usize].reconcile_bytes - before.0,
                self.nodes[b as usize].reconcile_bytes - before.1,
            ),
            elapsed_ms: elapsed,
        });
        if let Some(c) = self.contacts[contact as usize].as_mut() {
            c.pairs[pair].2 = memo;
        }
    }

    /// `x` reconciles with `y` and fetches what it lacks, in sessions back to back while
    /// a session stops at a limit. Returns the time taken and whether anything was
    /// found to fetch.
    fn pull(&mut self, x: u32, y: u32, at: u64, end: u64, link: &Link) -> (f64, bool) {
        let (xi, yi) = (x as usize, y as usize);
        let mut elapsed = 0.0f64;
        let mut found = false;
        let mut from = Position::START;
        let budget = |elapsed: f64| (end - at) as f64 - elapsed;
        if self.params.pause_spent_peers && self.share_spent(x, y, at) {
            // Nothing a session found could be kept before the hour turns. Counted as
            // found, so the pair is synced again (not repeated from a memo) then.
            return (0.0, true);
        }
        for _ in 0..SESSIONS_PER_SYNC_MAX {
            if budget(elapsed) <= 0.0 {
                break;
            }
            // The records' part: real messages.
            let (need, complete, resume, ms) =
                match self.reconcile(x, y, &from, link, budget(elapsed)) {
                    Ok(Some(found)) => found,
                    Ok(None) => return (budget(0.0), found),
                    Err(_) => {
                        self.counters.sync_errors += 1;
                        return (elapsed, found);
                    }
                };
            elapsed += ms;
            // The flood's part: modelled.
            let flood_need = self.flood_need(x, y, at + elapsed as u64);
            let flood_need = flood_need.min(QUEUED_IDS_MAX.saturating_sub(need.len()) as u64);
            let flood_difference = self.nodes[xi]
                .holdings
                .flood
                .abs_diff(self.nodes[yi].holdings.flood)
                .max(flood_need)
                .min(QUEUED_IDS_MAX as u64);
            if flood_difference > 0 {
                let bytes = flood_difference * RECONCILE_BYTES_PER_FLOOD_ID / 2;
                self.nodes[xi].reconcile_bytes += 2 * bytes;
                self.nodes[yi].reconcile_bytes += 2 * bytes;
                elapsed += link.transfer_ms(2 * bytes);
            }
            found |= !need.is_empty() || flood_need > 0;
            let now = at + elapsed as u64;
            let lacked: Vec<RecordNo> = need
                .iter()
                .filter_map(|id| self.records.number(id))
                .filter(|&r| {
                    !self.nodes[xi].holdings.holds(r) && !self.nodes[xi].declined_now(r, now)
                })
                .collect();
            let wanted: Vec<(RecordNo, f64)> = lacked
                .into_iter()
                .map(|r| (r, self.flood_share_before(r)))
                .collect();
            if self.world.people[xi].role != Role::Flooder && (!wanted.is_empty() || flood_need > 0)
            {
                let fetched =
                    self.fetch_from(x, y, &wanted, flood_need, link, budget(elapsed), now);
                elapsed += fetched.elapsed_ms;
                self.nodes[xi].record_bytes += fetched.bytes;
                self.nodes[yi].record_bytes += fetched.bytes;
                let done = at + elapsed as u64;
                self.take(x, y, &fetched, done);
            }
            if complete && flood_need < QUEUED_IDS_MAX.saturating_sub(need.len()) as u64 {
                break;
            }
            if self.share_spent(x, y, at + elapsed as u64) {
                // What another session would find could not be kept: it waits for the
                // next tick, when the hour or the share may have turned.
                break;
            }
            from = if complete { Position::START } else { resume };
        }
        (elapsed, found)
    }

    /// One session of `x` against `y`: the ids `x` lacks, whether it was complete,
    /// where the next starts, and its time; `None` if the contact ended first.
    #[allow(clippy::type_complexity)]
    fn reconcile(
        &mut self,
        x: u32,
        y: u32,
        from: &Position,
        link: &Link,
        budget_ms: f64,
    ) -> Result<Option<(Vec<[u8; 32]>, bool, Position, f64)>, SyncError> {
        let (xi, yi) = (x as usize, y as usize);
        let overhead = self.params.message_overhead_bytes;
        if self.nodes[xi]
            .holdings
            .same_records(&self.nodes[yi].holdings)
            && *from == Position::START
        {
            self.counters.equal_sessions += 1;
            let (sent, received, rounds) = self.equal_cost(x)?;
            let ms = f64::from(rounds) * link.rtt_ms as f64
                + link.transfer_ms(sent + received + 2 * u64::from(rounds) * overhead);
            let share = (budget_ms / ms).min(1.0);
            let wire = |b: u64| ((b + u64::from(rounds) * overhead) as f64 * share) as u64;
            let bytes = wire(sent) + wire(received);
            self.nodes[xi].reconcile_bytes += bytes;
            self.nodes[yi].reconcile_bytes += bytes;
            if share < 1.0 {
                return Ok(None);
            }
            return Ok(Some((Vec::new(), true, Position::START, ms)));
        }
        let key = (
            self.nodes[xi].holdings.set_key(),
            self.nodes[yi].holdings.set_key(),
            *from,
        );
        let known = match self.known_sessions.get(&key) {
            Some(known) => {
                self.counters.known_sessions += 1;
                Rc::clone(known)
            }
            None => {
                self.counters.real_sessions += 1;
                let initiator = self.index(x);
                let responder = self.index(y);
                let unlimited = Wire {
                    link: *link,
                    overhead,
                    budget_ms: f64::MAX,
                };
                let run = run_session(
                    &initiator,
                    &responder,
                    from,
                    LIMITS,
                    self.salt(),
                    &unlimited,
                )?;
                let outcome = run.outcome.unwrap_or_default();
                let known = Rc::new(KnownSession {
                    messages: run.messages,
                    need: outcome.need,
                    complete: outcome.complete,
                    resume: outcome.resume,
                });
                if self.known_sessions.len() >= self.params.index_cache * 256 {
                    self.known_sessions.clear();
                }
                self.known_sessions.insert(key, Rc::clone(&known));
                known
            }
        };
        let timed = replay(
            &known.messages,
            &Wire {
                link: *link,
                overhead,
                budget_ms,
            },
        );
        let bytes = timed.initiator_bytes + timed.responder_bytes;
        self.nodes[xi].reconcile_bytes += bytes;
        self.nodes[yi].reconcile_bytes += bytes;
        if !timed.finished {
            return Ok(None);
        }
        Ok(Some((
            known.need.clone(),
            known.complete,
            known.resume,
            timed.elapsed_ms,
        )))
    }

    /// The bytes and round trips of a session between two equal sets, from a real
    /// session of `x`'s index with itself, once per set.
    fn equal_cost(&mut self, x: u32) -> Result<(u64, u64, u32), SyncError> {
        let key = self.nodes[x as usize].holdings.set_key();
        if let Some(&cost) = self.equal_costs.get(&key) {
            return Ok(cost);
        }
        let index = self.index(x);
        let wire = Wire {
            link: self.params.lan,
            overhead: 0,
            budget_ms: f64::MAX,
        };
        let run = run_session(&index, &index, &Position::START, LIMITS, self.salt(), &wire)?;
        let rounds = run.outcome.map_or(1, |o| o.rounds);
        let cost = (run.initiator_bytes, run.responder_bytes, rounds);
        if self.equal_costs.len() >= self.params.index_cache * 16 {
            self.equal_costs.clear();
        }
        self.equal_costs.insert(key, cost);
        Ok(cost)
    }

    fn index(&mut self, node: u32) -> Rc<ArchiveIndex> {
        self.indexes
            .get(node, &self.nodes[node as usize].holdings, &self.records)
    }

    fn salt(&mut self) -> [u8; SALT_BYTES] {
        let mut salt = [0; SALT_BYTES];
        for chunk in salt.chunks_mut(8) {
            let bytes = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        salt
    }

    /// Under a per-peer rule, whether `x` may keep nothing more from `y` at `now` (the
    /// peer's share or the hour's quota spent). The store today goes on with sessions
    /// and declines what they bring, so this is never true under the shared rule.
    fn share_spent(&mut self, x: u32, y: u32, now: u64) -> bool {
        let rule = self.params.quota_rule;
        rule.per_peer() && self.nodes[x as usize].admission_room(y, now, rule, Delivery::Sync) == 0
    }

    /// The share of a fetch's flood asked for before `record`: by id, fixed by its id;
    /// in random order, a fresh draw.
    fn flood_share_before(&mut self, record: RecordNo) -> f64 {
        match self.params.fetch_order {
            FetchOrder::Id => Records::id_share(&self.records.entry(record).1),
            FetchOrder::Random => self.order_rng.unit(),
        }
    }

    /// Flood records `x` lacks that `y` offers, less those `x` remembers declining.
    fn flood_need(&self, x: u32, y: u32, now: u64) -> u64 {
        let mine = self.nodes[x as usize].holdings.flood;
        let declined = self.nodes[x as usize].flood_declined_now(now);
        let offered = match self.world.people[y as usize].role {
            Role::Flooder => self
                .flood
                .within_author_quota(self.flood.level(now).saturating_sub(mine)),
            _ => self.nodes[y as usize].holdings.flood.saturating_sub(mine),
        };
        offered.saturating_sub(declined)
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch_from(
        &mut self,
        x: u32,
        y: u32,
        wanted: &[(RecordNo, f64)],
        flood: u64,
        link: &Link,
        budget_ms: f64,
        now: u64,
    ) -> Fetched {
        let cost = FetchCost {
            link: *link,
            record_bytes: self.params.record_bytes,
            batch_overhead: self.params.fetch_overhead_bytes,
        };
        if self.world.people[y as usize].role == Role::Withholder {
            // Asked, never served: the requests cross, nothing comes back.
            let ids = wanted.len() as u64 + flood.min(QUEUED_IDS_MAX as u64);
            let bytes = ids * 32 + self.params.fetch_overhead_bytes;
            return Fetched {
                bytes,
                elapsed_ms: (link.rtt_ms as f64 + link.transfer_ms(bytes)).min(budget_ms.max(0.0)),
                ..Fetched::default()
            };
        }
        let rule = self.params.quota_rule;
        let room = self.nodes[x as usize].admission_room(y, now, rule, Delivery::Sync);
        // Per peer, the node knows what it may still keep from this peer and asks for
        // no more: the rest is not declined (and remembered for an hour) but left for
        // another peer or the next hour. The store today asks for all it found.
        let asked_max = if rule.per_peer() { room } else { u64::MAX };
        fetch(wanted, flood, Take { room, asked_max }, &cost, budget_ms)
    }

    /// `x` keeps what a fetch from `y` brought.
    fn take(&mut self, x: u32, y: u32, fetched: &Fetched, now: u64) {
        let xi = x as usize;
        let kept = fetched.accepted.len() as u64 + fetched.flood_accepted;
        self.nodes[xi].charge(y, kept, now, self.params.quota_rule);
        if fetched.not_asked.contains(&TESTIMONY) {
            self.counters.testimony_not_asked += 1;
        }
        self.nodes[xi].holdings.add_flood(fetched.flood_accepted);
        let flood_declined = fetched
            .transferred
            .saturating_sub(fetched.accepted.len() as u64 + fetched.declined.len() as u64)
            .saturating_sub(fetched.flood_accepted);
        if flood_declined > 0 {
            self.nodes[xi].decline_flood(flood_declined, now);
        }
        for &record in &fetched.accepted {
            self.keep(x, record, now);
        }
        for &record in &fetched.declined {
            if record == TESTIMONY {
                self.counters.testimony_declined += 1;
            }
            self.nodes[xi].decline(record, now);
        }
    }

    fn keep(&mut self, x: u32, record: RecordNo, now: u64) -> bool {
        let node = &mut self.nodes[x as usize];
        if !node.holdings.insert(record, &self.records) {
            return false;
        }
        if record == TESTIMONY && node.reached_at.is_none() {
            node.reached_at = Some(now);
        }
        true
    }

    // ----- writing and gossip -------------------------------------------------------

    fn random_honest_online(&mut self) -> Option<u32> {
        for _ in 0..32 {
            let node = self.rng.below(self.params.nodes);
            let person = &self.world.people[node];
            if person.role == Role::Honest && person.online(self.now) {
                return Some(node as u32);
            }
        }
        None
    }

    fn write_at(&mut self, writer: u32, now: u64) {
        let Some(record) = self.records.write(now, &mut self.rng) else {
            return;
        };
        self.counters.records_written += 1;
        self.keep(writer, record, now);
        self.publish(writer, record, None);
    }

    /// Pushes `record` to up to `GOSSIP_MESH` connected peers (the mesh), not back to
    /// `source`.
    fn publish(&mut self, node: u32, record: RecordNo, source: Option<u32>) {
        let mut peers: Vec<(u32, u32)> = Vec::new();
        for &contact in &self.nodes[node as usize].contacts {
            if let Some(c) = self.contacts[contact as usize].as_ref() {
                peers.extend(
                    c.members
                        .iter()
                        .filter(|&&m| m != node && Some(m) != source)
                        .map(|&m| (m, contact)),
                );
            }
        }
        self.rng.shuffle(&mut peers);
        peers.dedup_by_key(|(m, _)| *m);
        let bytes = self.params.record_bytes + self.params.gossip_overhead_bytes;
        for (peer, contact) in peers.into_iter().take(GOSSIP_MESH) {
            let Some(c) = self.contacts[contact as usize].as_ref() else {
                continue;
            };
            let arrival =
                self.now + (c.link.rtt_ms as f64 / 2.0 + c.link.transfer_ms(bytes)).ceil() as u64;
            if arrival < c.end {
                let generation = c.generation;
                self.schedule(
                    arrival,
                    Event::Gossip {
                        record,
                        from: node,
                        to: peer,
                        contact,
                        generation,
                    },
                );
            }
        }
    }

    fn deliver(&mut self, record: RecordNo, from: u32, to: u32, contact: u32, generation: u32) {
        let now = self.now;
        if !self.live(contact, generation) || !self.world.people[to as usize].online(now) {
            return;
        }
        self.counters.gossip_deliveries += 1;
        let bytes = self.params.record_bytes + self.params.gossip_overhead_bytes;
        self.nodes[from as usize].record_bytes += bytes;
        self.nodes[to as usize].record_bytes += bytes;
        let role = self.world.people[to as usize].role;
        if role == Role::Flooder || self.nodes[to as usize].holdings.holds(record) {
            return;
        }
        let rule = self.params.quota_rule;
        let node = &mut self.nodes[to as usize];
        if node.admission_room(from, now, rule, Delivery::Gossip) == 0 {
            // Declined: not kept, so not forwarded. Remembered only when the hour's
            // quota is spent: over one peer's share, another peer may still bring it.
            if node.quota_room(now) == 0 || !rule.per_peer() {
                node.decline(record, now);
            }
            if record == TESTIMONY {
                self.counters.testimony_declined += 1;
                self.counters.testimony_declined_pushed += 1;
            }
            return;
        }
        node.charge(from, 1, now, rule);
        self.keep(to, record, now);
        if role == Role::Honest {
            self.publish(to, record, Some(from));
        }
    }
}

/// Runs `params` to the horizon.
pub fn simulate(params: Params) -> RunResult {
    Simulation::new(params).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declined_flood_is_remembered_for_an_hour_within_the_bound() {
        let mut node = Node::default();
        node.decline_flood(100, 0);
        node.decline_flood(100_000, 10);
        assert_eq!(node.flood_declined_now(11), DECLINED_MAX as u64);
        assert_eq!(node.flood_declined_now(10 + DECLINED_FOR_MS), 0);
    }

    #[test]
    fn per_peer_each_peer_fills_its_share_within_the_hours_quota() {
        let rule = QuotaRule::PerPeer;
        let mut node = Node::default();
        assert_eq!(
            node.admission_room(1, 0, rule, Delivery::Sync),
            PEER_SHARE_PER_HOUR
        );
        node.charge(1, PEER_SHARE_PER_HOUR, 0, rule);
        assert_eq!(node.admission_room(1, 1, rule, Delivery::Gossip), 0);
        assert_eq!(
            node.admission_room(2, 1, rule, Delivery::Sync),
            PEER_SHARE_PER_HOUR
        );
        // The hour's quota still bounds the peers together.
        node.charge(
            2,
            RECORDS_PER_HOUR_ALL_UNKNOWN - PEER_SHARE_PER_HOUR - 5,
            2,
            rule,
        );
        assert_eq!(node.admission_room(3, 3, rule, Delivery::Sync), 5);
        assert_eq!(
            node.admission_room(3, HOUR_MS, rule, Delivery::Sync),
            PEER_SHARE_PER_HOUR
        );
        // Under the shared rule one peer may fill the whole hour.
        let mut shared = Node::default();
        shared.charge(1, PEER_SHARE_PER_HOUR, 0, QuotaRule::Shared);
        assert_eq!(
            shared.admission_room(1, 1, QuotaRule::Shared, Delivery::Sync),
            RECORDS_PER_HOUR_ALL_UNKNOWN - PEER_SHARE_PER_HOUR
        );
    }

    #[test]
    fn the_quota_for_unknown_authors_starts_again_every_hour() {
        let mut node = Node::default();
        assert_eq!(node.quota_room(0), RECORDS_PER_HOUR_ALL_UNKNOWN);
        node.quota_used = RECORDS_PER_HOUR_ALL_UNKNOWN;
        assert_eq!(node.quota_room(HOUR_MS - 1), 0);
        assert_eq!(node.quota_room(HOUR_MS), RECORDS_PER_HOUR_ALL_UNKNOWN);
        node.decline(3, 0);
        assert!(node.declined_now(3, DECLINED_FOR_MS - 1));
        assert!(!node.declined_now(3, DECLINED_FOR_MS));
    }
}
