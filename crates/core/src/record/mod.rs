//! Records: the signed, immutable unit of the archive.

mod body;
mod codec;
mod seal;
mod sealed_attachment;
mod signed;
mod validate;

pub use body::{
    Attachment, Consent, Details, GeoPoint, IncidentType, Link, LinkKind, Place, RECORD_FORMAT_V2,
    RECORD_FORMAT_VERSION, RecordBody, RecordKind, SEAL_SUITE_HPKE_X25519_CHACHA, Sealed,
    SealedAttachment, SealedContent, SealedRecipient, SourceType, WitnessRelation,
};
pub use seal::{SealError, SealingSecret, open as open_sealed, seal, unwrap_key, wrap_key};
pub use sealed_attachment::{ContentKey, decrypt_attachment, encrypt_attachment};
pub use signed::{RECORD_SIGNATURE_CONTEXT, RecordError, VerifiedRecord};
