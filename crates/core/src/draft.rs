//! A new record as a person describes it (command-line flags or the documented JSON form
//! of `qoima add --from FILE`), before the node fills in author, sequence and signature.

use serde::Deserialize;

use crate::hash::RecordId;
use crate::keys::AuthorKey;
use crate::record::{
    Attachment, Consent, Details, GeoPoint, Link, Place, RECORD_FORMAT_VERSION, RecordBody,
    RecordKind,
};
use crate::time::{ClaimedTime, TimeSpan};

/// The JSON form of a new record. Unknown fields are refused so a typo is not silently
/// dropped from signed evidence. Attachments are file paths, read by the caller.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDraft {
    /// `testimony`, `incident`, `detention`, `evidence`…
    pub kind: Option<RecordKind>,
    /// One-line summary.
    #[serde(default)]
    pub title: String,
    /// The account.
    #[serde(default)]
    pub text: String,
    /// When the events happened, as accepted by [`TimeSpan::parse`].
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// Where.
    #[serde(default)]
    pub place: Option<PlaceDraft>,
    /// Language code of title and text.
    #[serde(default)]
    pub lang: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Kind-specific fields.
    #[serde(default)]
    pub details: Details,
    /// Paths of files to attach.
    #[serde(default)]
    pub attach: Vec<String>,
    /// Links to other records.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Consent given.
    #[serde(default)]
    pub consent: Consent,
}

/// A place in a draft: a name, and optionally decimal-degree coordinates.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceDraft {
    /// The place's name.
    pub name: String,
    /// Latitude in decimal degrees.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude in decimal degrees.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Uncertainty radius in metres.
    #[serde(default)]
    pub radius_m: u32,
}

impl PlaceDraft {
    /// The place as stored: coordinates become fixed-point integers.
    pub fn to_place(&self) -> Result<Place, String> {
        let point = match (self.lat, self.lon) {
            (None, None) => None,
            (Some(lat), Some(lon)) => Some(GeoPoint::from_degrees(lat, lon, self.radius_m)?),
            _ => return Err("give both latitude and longitude, or neither".into()),
        };
        Ok(Place {
            name: self.name.clone(),
            point,
        })
    }
}

impl GeoPoint {
    /// Converts decimal degrees to the fixed-point form, refusing values off the globe.
    pub fn from_degrees(lat: f64, lon: f64, radius_m: u32) -> Result<GeoPoint, String> {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(format!("coordinates {lat},{lon} are off the globe"));
        }
        Ok(GeoPoint {
            lat_e7: (lat * 1e7).round() as i32,
            lon_e7: (lon * 1e7).round() as i32,
            radius_m,
        })
    }

    /// Decimal degrees, for display.
    pub fn degrees(&self) -> (f64, f64) {
        (f64::from(self.lat_e7) / 1e7, f64::from(self.lon_e7) / 1e7)
    }
}

/// What the node adds to a draft to make a record body.
pub struct Authorship {
    /// The signing author.
    pub author: AuthorKey,
    /// The author's last record (sequence number and id), if any.
    pub previous: Option<(u64, RecordId)>,
    /// Creation time and its source.
    pub created: ClaimedTime,
}

impl RecordDraft {
    /// Assembles the record body. `attachments` are the hashed files of `self.attach`.
    pub fn into_body(
        self,
        authorship: Authorship,
        attachments: Vec<Attachment>,
    ) -> Result<RecordBody, String> {
        let kind = self.kind.ok_or("the record's kind is missing")?;
        if kind.is_about_keys() || self.details.is_about_keys() {
            return Err(format!(
                "a {} record is made by `qoima trust` or `qoima key`, not written by hand",
                kind.name()
            ));
        }
        if self.title.trim().is_empty() {
            return Err("a record needs a title".into());
        }
        let occurred = self
            .occurred_at
            .as_deref()
            .map(TimeSpan::parse)
            .transpose()
            .map_err(|e| e.to_string())?;
        let place = self.place.as_ref().map(PlaceDraft::to_place).transpose()?;
        let (seq, prev) = match authorship.previous {
            Some((seq, id)) => (seq + 1, Some(id)),
            None => (1, None),
        };
        let mut body = RecordBody {
            version: RECORD_FORMAT_VERSION,
            kind,
            author: authorship.author,
            seq,
            prev,
            created: authorship.created,
            occurred,
            place,
            lang: self.lang,
            title: self.title,
            text: self.text,
            tags: self.tags,
            details: self.details,
            attachments,
            links: self.links,
            consent: self.consent,
            sealed: None,
        };
        body.version = body.needed_version();
        Ok(body)
    }
}
