//! The fields of a record, as human-rights documentation practice asks for them.
//!
//! The order and types of these fields *are* the format (bincode encodes structs as
//! their fields in order, enums as a varint variant index): changing them is a format
//! change and needs a new [`RECORD_FORMAT_VERSION`]. See `bundles/FORMAT.md`.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::hash::{BlobHash, RecordId, SealingKey, Sha256Digest};
use crate::keys::AuthorKey;
use crate::time::{ClaimedTime, TimeSpan};

/// Record format version 1: what every record that needs nothing newer is still written
/// as, so that nodes reading only version 1 keep carrying it.
pub const RECORD_FORMAT_VERSION: u16 = 1;
/// Record format version 2: version 1 plus key revocations, encryption keys, endorsement
/// details and a sealed part (FORMAT.md "Version 2").
pub const RECORD_FORMAT_V2: u16 = 2;

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A witness's account.
    Testimony,
    /// A report of an incident (use of force, dispersal, shooting…).
    Incident,
    /// A detained or missing person.
    Detention,
    /// An evidence item: a photo, video or document with its provenance.
    Evidence,
    /// A correction of an earlier record by the same author.
    Correction,
    /// The author withdraws one of their records.
    Retraction,
    /// One key vouches for another.
    KeyEndorsement,
    /// A key says it is compromised (version 2).
    KeyRevocation,
    /// A key publishes the X25519 key records are sealed to for it (version 2).
    EncryptionKey,
}

impl RecordKind {
    /// Every kind, in format order.
    pub const ALL: [RecordKind; 9] = [
        RecordKind::Testimony,
        RecordKind::Incident,
        RecordKind::Detention,
        RecordKind::Evidence,
        RecordKind::Correction,
        RecordKind::Retraction,
        RecordKind::KeyEndorsement,
        RecordKind::KeyRevocation,
        RecordKind::EncryptionKey,
    ];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Testimony => "testimony",
            RecordKind::Incident => "incident",
            RecordKind::Detention => "detention",
            RecordKind::Evidence => "evidence",
            RecordKind::Correction => "correction",
            RecordKind::Retraction => "retraction",
            RecordKind::KeyEndorsement => "key_endorsement",
            RecordKind::KeyRevocation => "key_revocation",
            RecordKind::EncryptionKey => "encryption_key",
        }
    }

    /// The kind called `name` (see [`RecordKind::name`]).
    pub fn from_name(name: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The stable small integer for this kind (its variant index in the format).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Whether this kind is about keys rather than events: such records are made by
    /// `qoima trust` and `qoima key`, never written by hand.
    pub fn is_about_keys(self) -> bool {
        matches!(
            self,
            RecordKind::KeyEndorsement | RecordKind::KeyRevocation | RecordKind::EncryptionKey
        )
    }

    /// The kind with [`RecordKind::code`] `code`.
    pub fn from_code(code: u8) -> Option<RecordKind> {
        RecordKind::ALL.get(usize::from(code)).copied()
    }
}

/// A record as its author wrote it, before signing.
///
/// Encoded field by field in this order; `sealed` only in version 2 (see the codec in
/// `record/codec.rs`), so a version 1 record has exactly the bytes it always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBody {
    /// [`RECORD_FORMAT_VERSION`] when written.
    pub version: u16,
    /// What the record is.
    pub kind: RecordKind,
    /// Who signs it.
    pub author: AuthorKey,
    /// The author's running count of records, from 1: a gap shows a withheld record.
    pub seq: u64,
    /// The id of the author's previous record (`None` only for `seq` 1).
    pub prev: Option<RecordId>,
    /// When the author says it was written, and by which clock.
    pub created: ClaimedTime,
    /// When the events happened.
    pub occurred: Option<TimeSpan>,
    /// Where they happened.
    pub place: Option<Place>,
    /// BCP 47 language of title and text (`ru`, `kk`, `en`…); empty if not stated.
    pub lang: String,
    /// A one-line summary.
    pub title: String,
    /// The account itself.
    pub text: String,
    /// Free tags (`almaty`, `january-2022`…).
    pub tags: Vec<String>,
    /// What this kind of record adds.
    pub details: Details,
    /// Media and documents, by hash.
    pub attachments: Vec<Attachment>,
    /// Relations to other records.
    pub links: Vec<Link>,
    /// What the person the record is about agreed to.
    pub consent: Consent,
    /// The part only the named recipients can read (version 2; always `None` in 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

impl RecordBody {
    /// The lowest format version that can hold this body: writers use it, so a record that
    /// uses nothing from version 2 stays readable by nodes that only know version 1.
    pub fn needed_version(&self) -> u16 {
        let new_kind = matches!(
            self.kind,
            RecordKind::KeyRevocation | RecordKind::EncryptionKey
        );
        if new_kind || self.details.is_about_keys() || self.sealed.is_some() {
            RECORD_FORMAT_V2
        } else {
            RECORD_FORMAT_VERSION
        }
    }
}

/// The sealed part of a record: a content key wrapped for each recipient, and the
/// content encrypted under it. Everyone can carry and verify it (the signature covers
/// these bytes); only a recipient can read it. Recipients are not named: a reader tries
/// its own keys (FORMAT.md "Sealed parts").
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Sealed {
    /// One entry per recipient, in an order that says nothing (shuffled by the writer).
    pub recipients: Vec<SealedRecipient>,
    /// The [`SealedContent`], encrypted under the content key.
    pub ciphertext: Vec<u8>,
}

/// The content key, wrapped for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SealedRecipient {
    /// How `enc` and `wrapped_key` are to be read. [`SEAL_SUITE_HPKE_X25519_CHACHA`] is the
    /// only one defined; entries of any other suite are carried unread, so a later suite
    /// does not make today's nodes refuse the record.
    pub suite: u16,
    /// The HPKE encapsulated key.
    pub enc: Vec<u8>,
    /// The content key, sealed by HPKE to the recipient.
    pub wrapped_key: Vec<u8>,
}

/// HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
/// ChaCha20-Poly1305.
pub const SEAL_SUITE_HPKE_X25519_CHACHA: u16 = 1;

/// What a sealed part holds once opened: fields that add to the public ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct SealedContent {
    /// A title only recipients see (may be empty).
    pub title: String,
    /// Text only recipients see.
    pub text: String,
    /// A precise place only recipients see.
    pub place: Option<Place>,
    /// Kind-specific fields only recipients see (the witness's name and contact, say).
    pub details: Details,
    /// What the record's encrypted attachments really are.
    pub attachments: Vec<SealedAttachment>,
}

/// One of a sealed record's attachments as its recipients see it. The record's public
/// attachment at `index` is its ciphertext (see `sealed_attachment.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SealedAttachment {
    /// Its position in the record's list of attachments.
    pub index: u32,
    /// What the plaintext is: its hashes, size, media type and name.
    pub plain: Attachment,
}

/// A place, by name and optionally by coordinates.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Place {
    /// The name as the author gives it (`Republic Square, Almaty`).
    pub name: String,
    /// Coordinates, if known.
    pub point: Option<GeoPoint>,
}

/// WGS 84 coordinates as fixed-point integers (floats have several encodings of one
/// value and are banned from signed data), with a radius saying how precise they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude in units of 10⁻⁷ degree (−900000000 ..= 900000000).
    pub lat_e7: i32,
    /// Longitude in units of 10⁻⁷ degree (−1800000000 ..= 1800000000).
    pub lon_e7: i32,
    /// Radius of uncertainty in metres (0 = not stated).
    pub radius_m: u32,
}

/// An attachment: a photo, video, audio or document, referenced by its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Attachment {
    /// BLAKE3 of the bytes: the blob's address.
    pub blake3: BlobHash,
    /// SHA-256 of the same bytes, for outside tooling.
    pub sha256: Sha256Digest,
    /// Length in bytes.
    pub size: u64,
    /// Media type (`image/jpeg`, `video/mp4`…).
    pub media_type: String,
    /// The file name it was attached under (may be empty).
    pub file_name: String,
}

/// A typed reference to another record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Link {
    /// How this record relates to the target.
    pub kind: LinkKind,
    /// The other record.
    pub target: RecordId,
}

/// How one record relates to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Corrects the target (same author).
    Corrects,
    /// Supports the target's account.
    Corroborates,
    /// Disagrees with the target's account.
    Contradicts,
    /// Describes the same event.
    SameEvent,
    /// A translation of the target.
    TranslationOf,
    /// Made from the target (redacted copy, excerpt).
    DerivedFrom,
    /// Withdraws the target (same author).
    Retracts,
}

/// What the person concerned agreed to. Defaults to nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(default)]
pub struct Consent {
    /// May be shared with documenting organisations.
    pub share_with_organisations: bool,
    /// May be published.
    pub publish: bool,
    /// May be used in court.
    pub use_in_court: bool,
}

/// Fields particular to a kind of record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Details {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// A testimony.
    Testimony {
        /// A pseudonymous reference to the witness (never a name: identities are only
        /// ever kept sealed).
        witness_ref: String,
        /// How the witness knows what they describe.
        relation: WitnessRelation,
    },
    /// An incident report.
    Incident {
        /// What happened, from a controlled list.
        incident_type: IncidentType,
        /// How the author knows.
        source: SourceType,
    },
    /// A detention or disappearance.
    Detention {
        /// A pseudonymous reference to the person.
        person_ref: String,
        /// Where they are or were held, if known.
        facility: String,
        /// Which authority holds them, if known.
        authority: String,
    },
    /// The author vouches for `key` (version 2; kind `KeyEndorsement` only).
    KeyEndorsement {
        /// The key vouched for.
        key: AuthorKey,
        /// The name the author knows its holder by.
        name: String,
        /// Since when the author vouches for it, ms since the epoch.
        since_ms: i64,
    },
    /// The author's own key is compromised (version 2; kind `KeyRevocation` only).
    KeyRevocation {
        /// From when, ms since the epoch; `None` (a revocation made in advance and kept
        /// on paper) means from when a node first sees this revocation.
        since_ms: Option<i64>,
        /// Why, in the author's words (may be empty).
        reason: String,
    },
    /// The author's X25519 key for sealed records (version 2; kind `EncryptionKey` only).
    EncryptionKey {
        /// The X25519 public key.
        x25519: SealingKey,
    },
}

impl Details {
    /// Whether these are the details of a record about keys (endorsement, revocation,
    /// encryption key).
    pub fn is_about_keys(&self) -> bool {
        matches!(
            self,
            Details::KeyEndorsement { .. }
                | Details::KeyRevocation { .. }
                | Details::EncryptionKey { .. }
        )
    }
}

/// How a witness knows what they describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WitnessRelation {
    /// It happened to them.
    Victim,
    /// They saw it.
    Eyewitness,
    /// A relative of the person concerned.
    Relative,
    /// They were told.
    Hearsay,
    /// Something else.
    Other,
}

/// Incident types (a controlled list, so reports can be counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentType {
    /// Arbitrary arrest or detention.
    Detention,
    /// Beating or other force.
    UseOfForce,
    /// Use of firearms.
    Shooting,
    /// Torture or ill-treatment in custody.
    Torture,
    /// Enforced disappearance.
    Disappearance,
    /// Dispersal of an assembly.
    Dispersal,
    /// Blocking of communications or publications.
    Censorship,
    /// Destruction or seizure of property.
    PropertyDamage,
    /// Anything else.
    Other,
}

/// How the author of an incident report knows.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceType {
    /// The author saw it.
    FirstHand,
    /// The author was told.
    SecondHand,
    /// Published material.
    OpenSource {
        /// Where it was published.
        url: String,
        /// When it was captured, ms since the epoch (0 = not stated).
        captured_ms: i64,
    },
}
