//! Records: the signed, immutable unit of the archive.

mod body;
mod signed;
mod validate;

pub use body::{
    Attachment, Consent, Details, GeoPoint, IncidentType, Link, LinkKind, Place,
    RECORD_FORMAT_VERSION, RecordBody, RecordKind, SourceType, WitnessRelation,
};
pub use signed::{RECORD_SIGNATURE_CONTEXT, RecordError, VerifiedRecord};
