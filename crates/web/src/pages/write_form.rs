//! The form for writing a record: what the person typed, read from the multipart body
//! within bounds, checked field by field, and turned into a [`RecordDraft`].
//!
//! Uploads are held in memory, never in a temporary file: the archive may be encrypted
//! at rest, and a plaintext copy of a witness's photo in /tmp could be recovered from a
//! seized disk long after it was deleted. They reach the disk only through the blob
//! store, which encrypts them. Memory is bounded by [`REQUEST_BYTES_MAX`], and one
//! write is read at a time (`write.rs`).

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use qoima_core::draft::{PlaceDraft, RecordDraft};
use qoima_core::limits::{
    SEALED_RECIPIENTS_MAX, SHORT_BYTES_MAX, TAGS_MAX, TEXT_BYTES_MAX, TITLE_BYTES_MAX,
};
use qoima_core::{
    Consent, Details, IncidentType, RecordKind, SourceType, TimeSpan, WitnessRelation,
};
use qoima_write::Upload;

/// Largest request to `POST /write`: the typed fields and every attachment together.
/// Uploads are held in memory, so this is what one write may take of it.
pub const REQUEST_BYTES_MAX: usize = 50 * 1024 * 1024;
/// Largest attachment: a phone's photo is a few MB, a short video tens; larger files
/// go through `qoima add --attach`, which streams them from the file.
pub const FILE_BYTES_MAX: usize = 25 * 1024 * 1024;
/// Most attachments on one record written here.
pub const FILES_MAX: usize = 8;
/// Most parts in one form: the fields are fewer than 24, with at most
/// [`RECIPIENTS_MAX`] recipients; more is not a browser's form.
const PARTS_MAX: usize = 64;
/// Most recipients a record written here is sealed to: a sealed record has at most
/// [`SEALED_RECIPIENTS_MAX`], and the author's own key is always one of them.
pub const RECIPIENTS_MAX: usize = SEALED_RECIPIENTS_MAX - 1;

/// The kinds of record written by hand, in the order offered.
pub const KINDS: [RecordKind; 4] = [
    RecordKind::Testimony,
    RecordKind::Incident,
    RecordKind::Detention,
    RecordKind::Evidence,
];

/// How a witness knows: the form's value, the record's value.
pub const RELATIONS: [(&str, WitnessRelation); 5] = [
    ("victim", WitnessRelation::Victim),
    ("eyewitness", WitnessRelation::Eyewitness),
    ("relative", WitnessRelation::Relative),
    ("hearsay", WitnessRelation::Hearsay),
    ("other", WitnessRelation::Other),
];

/// What happened in an incident: the form's value, the record's value.
pub const INCIDENT_TYPES: [(&str, IncidentType); 9] = [
    ("detention", IncidentType::Detention),
    ("use-of-force", IncidentType::UseOfForce),
    ("shooting", IncidentType::Shooting),
    ("torture", IncidentType::Torture),
    ("disappearance", IncidentType::Disappearance),
    ("dispersal", IncidentType::Dispersal),
    ("censorship", IncidentType::Censorship),
    ("property-damage", IncidentType::PropertyDamage),
    ("other", IncidentType::Other),
];

/// The kind a form is for, from its name (`testimony`…); only kinds written by hand.
pub fn kind_named(name: &str) -> Option<RecordKind> {
    KINDS.into_iter().find(|k| k.name() == name)
}

/// What the person typed, as typed: shown again whatever was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// `testimony`, `incident`, `detention` or `evidence`.
    pub kind: String,
    /// The form's fields.
    pub title: String,
    /// The account.
    pub text: String,
    /// When it happened, as `TimeSpan::parse` reads it.
    pub occurred_at: String,
    /// Where, by name.
    pub place: String,
    /// Where, exactly: latitude in decimal degrees, as typed. Empty unless typed.
    pub lat: String,
    /// Longitude in decimal degrees, as typed.
    pub lon: String,
    /// How precise the coordinates are, in whole metres, as typed.
    pub radius: String,
    /// Tags, separated by commas.
    pub tags: String,
    /// Language of title and text.
    pub lang: String,
    /// Testimony: the witness's pseudonymous reference, and how they know.
    pub witness: String,
    /// See [`RELATIONS`].
    pub relation: String,
    /// Incident: see [`INCIDENT_TYPES`].
    pub incident_type: String,
    /// Detention: the person's pseudonymous reference, where held, by whom.
    pub person: String,
    /// Where the person is held.
    pub facility: String,
    /// Which authority holds them.
    pub authority: String,
    /// The persona to sign with; empty for the default one.
    pub persona: String,
    /// Consent: share with documenting organisations, publish, use in court.
    pub share: bool,
    /// Consent to publish.
    pub publish: bool,
    /// Consent to use in court.
    pub court: bool,
    /// The recipients to seal the record to (their keys, as the form offers them; a
    /// fingerprint or trusted name is read too); empty for a record not sealed.
    pub seal_to: Vec<String>,
}

/// What is wrong with a form, field by field: each becomes a translated sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A required field is empty.
    Missing {
        /// The field's name in the form.
        field: &'static str,
    },
    /// A field is longer than the record format allows.
    TooLong {
        /// The field's name in the form.
        field: &'static str,
        /// The bound, in bytes.
        max: usize,
    },
    /// More tags than a record may carry.
    TooManyTags,
    /// The date is not understood.
    BadDate,
    /// A choice that is not one of the form's options.
    BadChoice {
        /// The field's name in the form.
        field: &'static str,
    },
    /// A coordinate or the radius is not a number.
    NotANumber {
        /// `lat`, `lon` or `radius`.
        field: &'static str,
    },
    /// A coordinate is off the globe.
    OffTheGlobe {
        /// `lat` or `lon`.
        field: &'static str,
    },
    /// One coordinate is given and the other is not.
    CoordinateMissing {
        /// The one not given: `lat` or `lon`.
        field: &'static str,
    },
    /// A radius without coordinates to be precise about.
    RadiusAlone,
    /// More recipients than [`RECIPIENTS_MAX`].
    TooManyRecipients,
    /// A field is not UTF-8 text.
    NotText {
        /// The field's name in the form.
        field: &'static str,
    },
    /// An attachment is over [`FILE_BYTES_MAX`]; `number` from 1.
    FileTooLarge {
        /// Which attachment.
        number: usize,
    },
    /// More than [`FILES_MAX`] attachments.
    TooManyFiles,
    /// The whole form is over [`REQUEST_BYTES_MAX`].
    RequestTooLarge,
    /// The body is not a form a browser sends.
    Unreadable,
}

/// A form as received: the typed fields, the attachments, and what went wrong while
/// reading it (the fields read before the fault are kept, to be shown again).
#[derive(Debug, Default)]
pub struct Received {
    /// The fields.
    pub typed: Typed,
    /// The attachments, in order.
    pub uploads: Vec<Upload>,
    /// Why reading stopped early, if it did.
    pub problem: Option<Problem>,
}

/// Reads the multipart body, stopping at the first bound exceeded.
pub async fn receive(mut multipart: Multipart) -> Received {
    let mut received = Received::default();
    let mut parts = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                received.problem = Some(body_problem(e.status()));
                break;
            }
        };
        parts += 1;
        if parts > PARTS_MAX {
            received.problem = Some(Problem::Unreadable);
            break;
        }
        let result = match field.name().unwrap_or_default() {
            "attachments" => receive_file(field, &mut received.uploads).await,
            name => receive_text(name.to_owned(), field, &mut received.typed).await,
        };
        if let Err(problem) = result {
            received.problem = Some(problem);
            break;
        }
    }
    received
}

/// What a failure of the body itself means: over the request's bound, or not a form.
fn body_problem(status: axum::http::StatusCode) -> Problem {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Problem::RequestTooLarge
    } else {
        Problem::Unreadable
    }
}

/// One attachment, into memory, up to [`FILE_BYTES_MAX`]. The empty part a browser
/// sends when no file was chosen is skipped.
async fn receive_file(mut field: Field<'_>, uploads: &mut Vec<Upload>) -> Result<(), Problem> {
    let file_name = field.file_name().unwrap_or_default().to_owned();
    let number = uploads.len() + 1;
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| body_problem(e.status()))? {
        if bytes.len() + chunk.len() > FILE_BYTES_MAX {
            return Err(Problem::FileTooLarge { number });
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() && file_name.is_empty() {
        return Ok(());
    }
    if number > FILES_MAX {
        return Err(Problem::TooManyFiles);
    }
    uploads.push(Upload { file_name, bytes });
    Ok(())
}

/// One text field. Its length is checked later, against the record's bounds; here it is
/// bounded by the request's (so what was typed can be shown again, to be shortened).
async fn receive_text(
    name: String,
    mut field: Field<'_>,
    typed: &mut Typed,
) -> Result<(), Problem> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| body_problem(e.status()))? {
        bytes.extend_from_slice(&chunk);
    }
    let Some(slot) = slot(typed, &name) else {
        return Ok(()); // A field this form does not have: nothing to keep.
    };
    match slot {
        Slot::Text(slot, field) => {
            *slot = String::from_utf8(bytes).map_err(|_| Problem::NotText { field })?;
        }
        Slot::Flag(flag) => *flag = true,
        Slot::List(list, field) => {
            let value = String::from_utf8(bytes).map_err(|_| Problem::NotText { field })?;
            if !value.trim().is_empty() {
                list.push(value.trim().to_owned());
            }
        }
    }
    Ok(())
}

enum Slot<'a> {
    Text(&'a mut String, &'static str),
    Flag(&'a mut bool),
    /// A field sent once per value (the recipients' check boxes).
    List(&'a mut Vec<String>, &'static str),
}

/// Where the field `name` goes.
fn slot<'a>(typed: &'a mut Typed, name: &str) -> Option<Slot<'a>> {
    Some(match name {
        "kind" => Slot::Text(&mut typed.kind, "kind"),
        "title" => Slot::Text(&mut typed.title, "title"),
        "text" => Slot::Text(&mut typed.text, "text"),
        "occurred_at" => Slot::Text(&mut typed.occurred_at, "occurred_at"),
        "place" => Slot::Text(&mut typed.place, "place"),
        "lat" => Slot::Text(&mut typed.lat, "lat"),
        "lon" => Slot::Text(&mut typed.lon, "lon"),
        "radius" => Slot::Text(&mut typed.radius, "radius"),
        "seal_to" => Slot::List(&mut typed.seal_to, "seal_to"),
        "tags" => Slot::Text(&mut typed.tags, "tags"),
        "lang" => Slot::Text(&mut typed.lang, "lang"),
        "witness" => Slot::Text(&mut typed.witness, "witness"),
        "relation" => Slot::Text(&mut typed.relation, "relation"),
        "incident_type" => Slot::Text(&mut typed.incident_type, "incident_type"),
        "person" => Slot::Text(&mut typed.person, "person"),
        "facility" => Slot::Text(&mut typed.facility, "facility"),
        "authority" => Slot::Text(&mut typed.authority, "authority"),
        "persona" => Slot::Text(&mut typed.persona, "persona"),
        "share" => Slot::Flag(&mut typed.share),
        "publish" => Slot::Flag(&mut typed.publish),
        "court" => Slot::Flag(&mut typed.court),
        _ => return None,
    })
}

impl Typed {
    /// The tags: separated by commas, trimmed, empty ones dropped.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags
            .split([',', '،', '、'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every problem with the fields, in the form's order; empty if the record can be
    /// written.
    pub fn problems(&self, kind: RecordKind) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() {
            problems.push(Problem::Missing { field: "title" });
        }
        let mut bounded = |field: &'static str, value: &str, max: usize| {
            if value.len() > max {
                problems.push(Problem::TooLong { field, max });
            }
        };
        bounded("title", &self.title, TITLE_BYTES_MAX);
        bounded("text", &self.text, TEXT_BYTES_MAX);
        bounded("occurred_at", &self.occurred_at, SHORT_BYTES_MAX);
        bounded("place", &self.place, SHORT_BYTES_MAX);
        match kind {
            RecordKind::Testimony => bounded("witness", &self.witness, SHORT_BYTES_MAX),
            RecordKind::Detention => {
                bounded("person", &self.person, SHORT_BYTES_MAX);
                bounded("facility", &self.facility, SHORT_BYTES_MAX);
                bounded("authority", &self.authority, SHORT_BYTES_MAX);
            }
            _ => {}
        }
        problems.extend(self.coordinate_problems());
        let tags = self.tag_list();
        if tags.iter().any(|t| t.len() > SHORT_BYTES_MAX) {
            problems.push(Problem::TooLong {
                field: "tags",
                max: SHORT_BYTES_MAX,
            });
        }
        if tags.len() > TAGS_MAX {
            problems.push(Problem::TooManyTags);
        }
        if !self.occurred_at.trim().is_empty()
            && self.occurred_at.len() <= SHORT_BYTES_MAX
            && TimeSpan::parse(self.occurred_at.trim()).is_err()
        {
            problems.push(Problem::BadDate);
        }
        if kind == RecordKind::Testimony && choice(&RELATIONS, &self.relation).is_err() {
            problems.push(Problem::BadChoice { field: "relation" });
        }
        if kind == RecordKind::Incident && choice(&INCIDENT_TYPES, &self.incident_type).is_err() {
            problems.push(Problem::BadChoice {
                field: "incident_type",
            });
        }
        if !matches!(self.lang.as_str(), "" | "kk" | "ru" | "en") {
            problems.push(Problem::BadChoice { field: "lang" });
        }
        if self.seal_to.len() > RECIPIENTS_MAX {
            problems.push(Problem::TooManyRecipients);
        }
        problems
    }

    /// What is wrong with the coordinates and radius, in the form's order: each field
    /// on its own (a number, on the globe), then both coordinates or neither, and a
    /// radius only with them.
    fn coordinate_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (field, typed, bound) in [("lat", &self.lat, 90.0), ("lon", &self.lon, 180.0)] {
            match degrees(typed) {
                Err(()) => problems.push(Problem::NotANumber { field }),
                Ok(Some(value)) if value.abs() > bound => {
                    problems.push(Problem::OffTheGlobe { field })
                }
                Ok(_) => {}
            }
        }
        match (self.lat.trim().is_empty(), self.lon.trim().is_empty()) {
            (false, true) => problems.push(Problem::CoordinateMissing { field: "lon" }),
            (true, false) => problems.push(Problem::CoordinateMissing { field: "lat" }),
            _ => {}
        }
        if metres(&self.radius).is_err() {
            problems.push(Problem::NotANumber { field: "radius" });
        } else if !self.radius.trim().is_empty()
            && self.lat.trim().is_empty()
            && self.lon.trim().is_empty()
        {
            problems.push(Problem::RadiusAlone);
        }
        problems
    }

    /// The place typed: by name, by coordinates, or both; `None` when neither.
    fn place_draft(&self) -> Option<PlaceDraft> {
        let name = self.place.trim();
        let lat = degrees(&self.lat).ok().flatten();
        let lon = degrees(&self.lon).ok().flatten();
        if name.is_empty() && lat.is_none() && lon.is_none() {
            return None;
        }
        Some(PlaceDraft {
            name: name.to_owned(),
            lat,
            lon,
            radius_m: metres(&self.radius).ok().flatten().unwrap_or(0),
        })
    }

    /// The record described, for a form without [`Typed::problems`].
    pub fn draft(&self, kind: RecordKind) -> RecordDraft {
        RecordDraft {
            kind: Some(kind),
            title: self.title.trim().to_owned(),
            text: self.text.trim_end().to_owned(),
            occurred_at: Some(self.occurred_at.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            place: self.place_draft(),
            lang: self.lang.clone(),
            tags: self.tag_list(),
            details: self.details(kind),
            attach: Vec::new(),
            links: Vec::new(),
            consent: Consent {
                share_with_organisations: self.share,
                publish: self.publish,
                use_in_court: self.court,
            },
        }
    }

    /// The kind's own fields, as `qoima add` fills them: none unless one was given.
    fn details(&self, kind: RecordKind) -> Details {
        let given = |s: &str| s.trim().to_owned();
        match kind {
            RecordKind::Testimony => {
                let relation = choice(&RELATIONS, &self.relation).ok().flatten();
                if self.witness.trim().is_empty() && relation.is_none() {
                    return Details::None;
                }
                Details::Testimony {
                    witness_ref: given(&self.witness),
                    relation: relation.unwrap_or(WitnessRelation::Other),
                }
            }
            RecordKind::Incident => match choice(&INCIDENT_TYPES, &self.incident_type) {
                Ok(Some(incident_type)) => Details::Incident {
                    incident_type,
                    source: SourceType::FirstHand,
                },
                _ => Details::None,
            },
            RecordKind::Detention => {
                if [&self.person, &self.facility, &self.authority]
                    .iter()
                    .all(|s| s.trim().is_empty())
                {
                    return Details::None;
                }
                Details::Detention {
                    person_ref: given(&self.person),
                    facility: given(&self.facility),
                    authority: given(&self.authority),
                }
            }
            _ => Details::None,
        }
    }
}

/// Decimal degrees as typed: `Ok(None)` when empty. A decimal comma (as Russian and
/// Kazakh keyboards and habits write it) and the typographic minus are read too;
/// anything but a plain decimal number (`1e2`, `inf`, `NaN`, `43°14'`) is not.
fn degrees(typed: &str) -> Result<Option<f64>, ()> {
    let text = typed.trim().replace('\u{2212}', "-").replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(&text);
    let plain = digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if !plain {
        return Err(());
    }
    text.parse::<f64>().map(Some).map_err(|_| ())
}

/// Whole metres as typed: `Ok(None)` when empty.
fn metres(typed: &str) -> Result<Option<u32>, ()> {
    let text = typed.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    text.parse::<u32>().map(Some).map_err(|_| ())
}

/// The option `value` of `options`: `Ok(None)` for none chosen, `Err` for one that is
/// not offered.
fn choice<T: Copy>(options: &[(&str, T)], value: &str) -> Result<Option<T>, ()> {
    if value.is_empty() {
        return Ok(None);
    }
    options
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| Some(*v))
        .ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_split_on_commas_and_trimmed() {
        let typed = Typed {
            tags: " Алматы, январь ,, 2022 ".into(),
            ..Typed::default()
        };
        assert_eq!(typed.tag_list(), ["Алматы", "январь", "2022"]);
    }

    #[test]
    fn a_form_without_a_title_or_with_a_bad_date_has_problems() {
        let typed = Typed {
            occurred_at: "вчера".into(),
            relation: "liar".into(),
            ..Typed::default()
        };
        assert_eq!(
            typed.problems(RecordKind::Testimony),
            [
                Problem::Missing { field: "title" },
                Problem::BadDate,
                Problem::BadChoice { field: "relation" }
            ]
        );
    }

    #[test]
    fn coordinates_are_read_as_typed_and_checked_field_by_field() {
        let typed = Typed {
            title: "t".into(),
            lat: "43,2383".into(),
            lon: "\u{2212}76.9453".into(),
            radius: "50".into(),
            ..Typed::default()
        };
        assert_eq!(typed.problems(RecordKind::Evidence), []);
        let place = typed.draft(RecordKind::Evidence).place.unwrap();
        assert_eq!(
            (place.name.as_str(), place.lat, place.lon, place.radius_m),
            ("", Some(43.2383), Some(-76.9453), 50)
        );
        let typed = Typed {
            title: "t".into(),
            lat: "91".into(),
            lon: "1e2".into(),
            radius: "-5".into(),
            ..Typed::default()
        };
        assert_eq!(
            typed.problems(RecordKind::Evidence),
            [
                Problem::OffTheGlobe { field: "lat" },
                Problem::NotANumber { field: "lon" },
                Problem::NotANumber { field: "radius" },
            ]
        );
        let typed = Typed {
            title: "t".into(),
            lon: "76.9".into(),
            ..Typed::default()
        };
        assert_eq!(
            typed.problems(RecordKind::Evidence),
            [Problem::CoordinateMissing { field: "lat" }]
        );
        let typed = Typed {
            title: "t".into(),
            radius: "100".into(),
            ..Typed::default()
        };
        assert_eq!(typed.problems(RecordKind::Evidence), [Problem::RadiusAlone]);
        for bad in ["inf", "NaN", ".", "-", "43.1.2", "43°"] {
            assert_eq!(degrees(bad), Err(()), "{bad}");
        }
        assert_eq!(degrees("  "), Ok(None));
    }

    #[test]
    fn details_are_left_out_unless_given() {
        let typed = Typed {
            title: "t".into(),
            ..Typed::default()
        };
        assert_eq!(typed.draft(RecordKind::Testimony).details, Details::None);
        let typed = Typed {
            title: "t".into(),
            incident_type: "torture".into(),
            ..Typed::default()
        };
        assert!(matches!(
            typed.draft(RecordKind::Incident).details,
            Details::Incident {
                incident_type: IncidentType::Torture,
                ..
            }
        ));
    }
}
