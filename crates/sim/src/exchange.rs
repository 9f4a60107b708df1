//! One real reconciliation session between two simulated nodes: the messages are made
//! and answered by `qoima_sync` exactly as two nodes would, and each is timed on the
//! link between them. Nothing is modelled here but time.

use qoima_sync::{
    ArchiveIndex, Initiator, Limits, Outcome, Position, Salt, Step, SyncError, respond,
};

use crate::params::Link;

/// What one session cost and found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionRun {
    /// Lengths of the messages as `qoima_sync` made them, in order: the initiator's
    /// first, the reply, the initiator's next, and so on.
    pub messages: Vec<usize>,
    /// Bytes on the wire the initiator sent (messages plus per-message overhead).
    pub initiator_bytes: u64,
    /// Bytes on the wire the responder sent.
    pub responder_bytes: u64,
    /// Time the session took, or as much of the budget as it used.
    pub elapsed_ms: f64,
    /// What it found; `None` when the budget ran out first (the contact ended).
    pub outcome: Option<Outcome>,
}

impl SessionRun {
    /// Sum of the real message lengths.
    pub fn payload_bytes(&self) -> u64 {
        self.messages.iter().map(|&n| n as u64).sum()
    }
}

/// The link a session runs over and the time it has.
#[derive(Debug, Clone, Copy)]
pub struct Wire {
    /// The link.
    pub link: Link,
    /// Bytes added to every message on the wire (framing, Yamux, Noise).
    pub overhead: u64,
    /// Time left before the contact ends.
    pub budget_ms: f64,
}

/// Runs a session of `initiator` against `responder` from `from`, each message taking
/// half a round trip plus its bytes at the link's rate, within the wire's budget. A
/// message that does not fit is counted for the bytes that fit, and the session ends
/// without an outcome.
pub fn run_session(
    initiator: &ArchiveIndex,
    responder: &ArchiveIndex,
    from: &Position,
    limits: Limits,
    salt: Salt,
    wire: &Wire,
) -> Result<SessionRun, SyncError> {
    let mut run = SessionRun::default();
    let (mut session, mut message) = Initiator::start_salted(initiator, from, limits, salt);
    loop {
        if !send(&mut run, message.len(), true, wire) {
            return Ok(run);
        }
        let reply = respond(responder, &message)?;
        if !send(&mut run, reply.len(), false, wire) {
            return Ok(run);
        }
        match session.step(initiator, &reply)? {
            Step::Send(next) => message = next,
            Step::Done(outcome) => {
                run.outcome = Some(outcome);
                return Ok(run);
            }
        }
    }
}

/// Puts one message of `len` bytes on the link; false (with the bytes that fit
/// counted) if the budget ends before it has arrived.
fn send(run: &mut SessionRun, len: usize, by_initiator: bool, wire_of: &Wire) -> bool {
    let Wire {
        link,
        overhead,
        budget_ms,
    } = *wire_of;
    let wire = len as u64 + overhead;
    let needed = link.rtt_ms as f64 / 2.0 + link.transfer_ms(wire);
    let left = budget_ms - run.elapsed_ms;
    let (bytes, fits) = if needed <= left {
        (wire, true)
    } else {
        // What crossed before the contact ended.
        let share = ((left - link.rtt_ms as f64 / 2.0) / link.transfer_ms(wire)).clamp(0.0, 1.0);
        ((wire as f64 * share) as u64, false)
    };
    if by_initiator {
        run.initiator_bytes += bytes;
    } else {
        run.responder_bytes += bytes;
    }
    if fits {
        run.messages.push(len);
        run.elapsed_ms += needed;
    } else {
        run.elapsed_ms = budget_ms;
    }
    fits
}

/// A session's messages timed on a wire: what [`run_session`] would count for them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timed {
    /// Wire bytes the initiator sent.
    pub initiator_bytes: u64,
    /// Wire bytes the responder sent.
    pub responder_bytes: u64,
    /// Time taken (the whole budget if it ran out).
    pub elapsed_ms: f64,
    /// False if the budget ran out before the last message arrived.
    pub finished: bool,
}

/// Times the messages of a session already run (initiator first, then alternating) on
/// `wire`, exactly as [`run_session`] does.
pub fn replay(messages: &[usize], wire: &Wire) -> Timed {
    let mut run = SessionRun::default();
    let finished = messages
        .iter()
        .enumerate()
        .all(|(i, &len)| send(&mut run, len, i % 2 == 0, wire));
    Timed {
        initiator_bytes: run.initiator_bytes,
        responder_bytes: run.responder_bytes,
        elapsed_ms: run.elapsed_ms,
        finished,
    }
}
