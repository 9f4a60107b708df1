//! The settings form: the saved acceptance and attachment policies as the form shows
//! them, and a submitted form checked into new policies, or into the fields that are
//! wrong. No I/O.

use qoima_store::{Acceptance, BlobPolicy, Policy};

/// Longest form body read.
pub const FORM_BYTES_MAX: usize = 4 * 1024;
/// Most records per unknown author per hour the form accepts.
pub const RECORDS_PER_HOUR_MAX: u64 = 1_000_000;
/// Most megabytes per unknown author the form accepts (1 TB).
pub const MEGABYTES_PER_AUTHOR_MAX: u64 = 1_000_000;
/// Most records per hour from all unknown authors together the form accepts.
pub const UNKNOWN_PER_HOUR_MAX: u64 = 10_000_000;
/// Largest attachment fetched without asking the form accepts, in megabytes (1 TB).
pub const FETCH_UP_TO_MAX: u64 = 1_000_000;
/// Most megabytes of attachments in all the form accepts (100 TB).
pub const BLOB_QUOTA_MAX: u64 = 100_000_000;
/// Most megabytes of attachments per run of the node the form accepts (1 TB).
pub const BUDGET_MAX: u64 = 1_000_000;
/// A megabyte, as the command line counts it (`--quota-bytes 256MB`).
const MEGABYTE: u64 = 1_000_000;

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Whose records are kept.
    Accept,
    /// Records per unknown author per hour.
    RecordsPerHour,
    /// Megabytes of records per unknown author.
    MegabytesPerAuthor,
    /// Records per hour from all unknown authors.
    UnknownPerHour,
    /// Megabytes: the largest attachment fetched without asking.
    FetchUpTo,
    /// Megabytes of attachments kept in all.
    BlobQuota,
    /// Megabytes of attachments each run of the node may receive.
    Budget,
}

impl Field {
    /// The largest number it takes (0 for the choice).
    pub fn max(self) -> u64 {
        match self {
            Field::Accept => 0,
            Field::RecordsPerHour => RECORDS_PER_HOUR_MAX,
            Field::MegabytesPerAuthor => MEGABYTES_PER_AUTHOR_MAX,
            Field::UnknownPerHour => UNKNOWN_PER_HOUR_MAX,
            Field::FetchUpTo => FETCH_UP_TO_MAX,
            Field::BlobQuota => BLOB_QUOTA_MAX,
            Field::Budget => BUDGET_MAX,
        }
    }
}

/// The form's values, as text (what was typed stays on the page when it is wrong).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormValues {
    /// `open` or `trusted`.
    pub accept: String,
    /// A whole number; 0 is no limit.
    pub records_per_hour: String,
    /// A whole number; 0 is no limit.
    pub megabytes_per_author: String,
    /// A whole number; 0 is no limit.
    pub unknown_per_hour: String,
    /// Megabytes, a whole number; 0 is none fetched without asking.
    pub fetch_up_to: String,
    /// Megabytes, a whole number; 0 is no limit.
    pub blob_quota: String,
    /// Megabytes, a whole number; 0 is no limit.
    pub budget: String,
}

/// Both policies the form edits, as saved together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// Whose records are kept, and the quotas.
    pub policy: Policy,
    /// Which attachments are fetched.
    pub blobs: BlobPolicy,
}

impl FormValues {
    /// The form filled from the saved `settings`.
    pub fn from_settings(settings: &Settings) -> FormValues {
        let Settings { policy, blobs } = settings;
        let quotas = policy.quotas;
        FormValues {
            accept: match policy.accept {
                Acceptance::Open => "open",
                Acceptance::Trusted => "trusted",
            }
            .to_owned(),
            records_per_hour: quotas.records_per_hour.map_or(0, u64::from).to_string(),
            megabytes_per_author: megabytes(quotas.bytes_per_author).to_string(),
            unknown_per_hour: quotas.unknown_per_hour.map_or(0, u64::from).to_string(),
            fetch_up_to: megabytes(Some(blobs.fetch_up_to)).to_string(),
            blob_quota: megabytes(blobs.quota).to_string(),
            budget: megabytes(blobs.budget).to_string(),
        }
    }

    /// The values of a submitted form (`application/x-www-form-urlencoded`); a field
    /// missing is empty, and so wrong.
    pub fn parse(body: &[u8]) -> FormValues {
        let mut values = FormValues::default();
        for (name, value) in form_urlencoded::parse(body) {
            let slot = match name.as_ref() {
                "accept" => &mut values.accept,
                "records_per_hour" => &mut values.records_per_hour,
                "megabytes_per_author" => &mut values.megabytes_per_author,
                "unknown_per_hour" => &mut values.unknown_per_hour,
                "fetch_up_to" => &mut values.fetch_up_to,
                "blob_quota" => &mut values.blob_quota,
                "budget" => &mut values.budget,
                _ => continue,
            };
            // Bounded: what is kept to show again is at most a few characters.
            *slot = value.trim().chars().take(32).collect();
        }
        values
    }

    /// The settings these values make of `saved`, or every field that is wrong. A size
    /// left as the form showed it keeps its exact saved value, so saving other changes
    /// never rounds it.
    pub fn to_settings(&self, saved: &Settings) -> Result<Settings, Vec<Field>> {
        let mut wrong = Vec::new();
        let accept = match self.accept.as_str() {
            "open" => Some(Acceptance::Open),
            "trusted" => Some(Acceptance::Trusted),
            _ => {
                wrong.push(Field::Accept);
                None
            }
        };
        let mut number = |field: Field, text: &str| {
            let parsed = text.parse::<u64>().ok().filter(|n| *n <= field.max());
            if parsed.is_none() {
                wrong.push(field);
            }
            parsed
        };
        let records = number(Field::RecordsPerHour, &self.records_per_hour);
        let per_author = number(Field::MegabytesPerAuthor, &self.megabytes_per_author);
        let unknown = number(Field::UnknownPerHour, &self.unknown_per_hour);
        let fetch_up_to = number(Field::FetchUpTo, &self.fetch_up_to);
        let blob_quota = number(Field::BlobQuota, &self.blob_quota);
        let budget = number(Field::Budget, &self.budget);
        let (
            Some(accept),
            Some(records),
            Some(per_author),
            Some(unknown),
            Some(fetch_up_to),
            Some(blob_quota),
            Some(budget),
        ) = (
            accept,
            records,
            per_author,
            unknown,
            fetch_up_to,
            blob_quota,
            budget,
        )
        else {
            return Err(wrong);
        };
        let Settings {
            mut policy,
            mut blobs,
        } = *saved;
        policy.accept = accept;
        policy.quotas.records_per_hour = limit_u32(records);
        policy.quotas.bytes_per_author =
            byte_limit(per_author, saved.policy.quotas.bytes_per_author);
        policy.quotas.unknown_per_hour = limit_u32(unknown);
        blobs.fetch_up_to = byte_limit(fetch_up_to, Some(saved.blobs.fetch_up_to)).unwrap_or(0);
        blobs.quota = byte_limit(blob_quota, saved.blobs.quota);
        blobs.budget = byte_limit(budget, saved.blobs.budget);
        Ok(Settings { policy, blobs })
    }
}

/// `given` megabytes as bytes (0: none), or the exact `saved` bytes if `given` is what
/// the form showed for them.
fn byte_limit(given: u64, saved: Option<u64>) -> Option<u64> {
    if given == megabytes(saved) {
        return saved.filter(|bytes| *bytes > 0);
    }
    (given > 0).then(|| given * MEGABYTE)
}

/// A byte limit in whole megabytes, rounded up so that a small limit never reads as
/// "no limit" (0).
fn megabytes(bytes: Option<u64>) -> u64 {
    bytes.map_or(0, |b| b.div_ceil(MEGABYTE))
}

/// 0 is no limit; the form's maxima fit in a u32.
fn limit_u32(n: u64) -> Option<u32> {
    u32::try_from(n).ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qoima_store::Quotas;

    const FORM: &[u8] =
        b"accept=trusted&records_per_hour=0&megabytes_per_author=5&unknown_per_hour=7\
        &fetch_up_to=2&blob_quota=0&budget=300";

    #[test]
    fn the_default_settings_read_and_save_back_unchanged() {
        let settings = Settings::default();
        let values = FormValues::from_settings(&settings);
        assert_eq!(values.megabytes_per_author, "269");
        assert_eq!(values.fetch_up_to, "269");
        assert_eq!(values.blob_quota, "0");
        assert_eq!(values.to_settings(&settings), Ok(settings));
    }

    #[test]
    fn zero_is_no_limit_and_sizes_are_megabytes() {
        let values = FormValues::parse(FORM);
        assert_eq!(
            values.to_settings(&Settings::default()),
            Ok(Settings {
                policy: Policy {
                    accept: Acceptance::Trusted,
                    quotas: Quotas {
                        records_per_hour: None,
                        bytes_per_author: Some(5_000_000),
                        unknown_per_hour: Some(7),
                    },
                },
                blobs: BlobPolicy {
                    fetch_up_to: 2_000_000,
                    quota: None,
                    budget: Some(300_000_000),
                },
            })
        );
    }

    #[test]
    fn fetching_nothing_without_asking_is_zero() {
        let values = FormValues::parse(
            b"accept=open&records_per_hour=1&megabytes_per_author=1&unknown_per_hour=1\
            &fetch_up_to=0&blob_quota=0&budget=0",
        );
        let settings = values.to_settings(&Settings::default()).unwrap();
        assert_eq!(settings.blobs.fetch_up_to, 0);
        assert_eq!(FormValues::from_settings(&settings).fetch_up_to, "0");
    }

    #[test]
    fn every_wrong_field_is_named() {
        let values = FormValues::parse(
            b"accept=all&records_per_hour=-1&megabytes_per_author=1000001&unknown_per_hour=\
            &fetch_up_to=1000001&blob_quota=1.5&budget=x",
        );
        assert_eq!(
            values.to_settings(&Settings::default()),
            Err(vec![
                Field::Accept,
                Field::RecordsPerHour,
                Field::MegabytesPerAuthor,
                Field::UnknownPerHour,
                Field::FetchUpTo,
                Field::BlobQuota,
                Field::Budget,
            ])
        );
    }
}
