//! The byte encoding of [`RecordBody`], written out by hand because it depends on the
//! version: version 2 appends `sealed` after the fields of version 1, so that every
//! version 1 record keeps exactly the bytes (and so the id and signature) it always had.
//!
//! A body of a version this crate does not know is decoded as the newest layout; the
//! field rules then refuse it by its version, which names the problem better than a
//! decoding error would.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use super::body::{RECORD_FORMAT_V2, RecordBody};

impl Encode for RecordBody {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.version.encode(e)?;
        self.kind.encode(e)?;
        self.author.encode(e)?;
        self.seq.encode(e)?;
        self.prev.encode(e)?;
        self.created.encode(e)?;
        self.occurred.encode(e)?;
        self.place.encode(e)?;
        self.lang.encode(e)?;
        self.title.encode(e)?;
        self.text.encode(e)?;
        self.tags.encode(e)?;
        self.details.encode(e)?;
        self.attachments.encode(e)?;
        self.links.encode(e)?;
        self.consent.encode(e)?;
        if self.version >= RECORD_FORMAT_V2 {
            self.sealed.encode(e)?;
        }
        Ok(())
    }
}

impl<Context> Decode<Context> for RecordBody {
    fn decode<D: Decoder<Context = Context>>(d: &mut D) -> Result<Self, DecodeError> {
        let version = u16::decode(d)?;
        Ok(RecordBody {
            version,
            kind: Decode::decode(d)?,
            author: Decode::decode(d)?,
            seq: Decode::decode(d)?,
            prev: Decode::decode(d)?,
            created: Decode::decode(d)?,
            occurred: Decode::decode(d)?,
            place: Decode::decode(d)?,
            lang: Decode::decode(d)?,
            title: Decode::decode(d)?,
            text: Decode::decode(d)?,
            tags: Decode::decode(d)?,
            details: Decode::decode(d)?,
            attachments: Decode::decode(d)?,
            links: Decode::decode(d)?,
            consent: Decode::decode(d)?,
            sealed: if version >= RECORD_FORMAT_V2 {
                Decode::decode(d)?
            } else {
                None
            },
        })
    }
}

bincode::impl_borrow_decode!(RecordBody);
