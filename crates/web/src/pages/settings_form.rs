//! The settings form: the saved acceptance policy as the form shows it, and a submitted
//! form checked into a new policy, or into the fields that are wrong. No I/O.

use qoima_store::{Acceptance, Policy};

/// Longest form body read.
pub const FORM_BYTES_MAX: usize = 4 * 1024;
/// Most records per unknown author per hour the form accepts.
pub const RECORDS_PER_HOUR_MAX: u64 = 1_000_000;
/// Most megabytes per unknown author the form accepts (1 TB).
pub const MEGABYTES_PER_AUTHOR_MAX: u64 = 1_000_000;
/// Most records per hour from all unknown authors together the form accepts.
pub const UNKNOWN_PER_HOUR_MAX: u64 = 10_000_000;
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
}

impl Field {
    /// The largest number it takes (0 for the choice).
    pub fn max(self) -> u64 {
        match self {
            Field::Accept => 0,
            Field::RecordsPerHour => RECORDS_PER_HOUR_MAX,
            Field::MegabytesPerAuthor => MEGABYTES_PER_AUTHOR_MAX,
            Field::UnknownPerHour => UNKNOWN_PER_HOUR_MAX,
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
}

impl FormValues {
    /// The form filled from `policy`.
    pub fn from_policy(policy: &Policy) -> FormValues {
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
                _ => continue,
            };
            // Bounded: what is kept to show again is at most a few characters.
            *slot = value.trim().chars().take(32).collect();
        }
        values
    }

    /// The policy these values make of `saved`, or every field that is wrong. A size
    /// left as the form showed it keeps its exact saved value, so saving other changes
    /// never rounds it.
    pub fn to_policy(&self, saved: &Policy) -> Result<Policy, Vec<Field>> {
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
        let megabytes_given = number(Field::MegabytesPerAuthor, &self.megabytes_per_author);
        let unknown = number(Field::UnknownPerHour, &self.unknown_per_hour);
        let (Some(accept), Some(records), Some(megabytes_given), Some(unknown)) =
            (accept, records, megabytes_given, unknown)
        else {
            return Err(wrong);
        };
        let mut policy = *saved;
        policy.accept = accept;
        policy.quotas.records_per_hour = limit_u32(records);
        if megabytes_given != megabytes(saved.quotas.bytes_per_author) {
            policy.quotas.bytes_per_author =
                (megabytes_given > 0).then(|| megabytes_given * MEGABYTE);
        }
        policy.quotas.unknown_per_hour = limit_u32(unknown);
        Ok(policy)
    }
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

    #[test]
    fn the_default_policy_reads_and_saves_back_unchanged() {
        let policy = Policy::default();
        let values = FormValues::from_policy(&policy);
        assert_eq!(values.megabytes_per_author, "269");
        assert_eq!(values.to_policy(&policy), Ok(policy));
    }

    #[test]
    fn zero_is_no_limit_and_sizes_are_megabytes() {
        let values = FormValues::parse(
            b"accept=trusted&records_per_hour=0&megabytes_per_author=5&unknown_per_hour=7",
        );
        assert_eq!(
            values.to_policy(&Policy::default()),
            Ok(Policy {
                accept: Acceptance::Trusted,
                quotas: Quotas {
                    records_per_hour: None,
                    bytes_per_author: Some(5_000_000),
                    unknown_per_hour: Some(7),
                },
            })
        );
    }

    #[test]
    fn every_wrong_field_is_named() {
        let values = FormValues::parse(
            b"accept=all&records_per_hour=-1&megabytes_per_author=1000001&unknown_per_hour=",
        );
        assert_eq!(
            values.to_policy(&Policy::default()),
            Err(vec![
                Field::Accept,
                Field::RecordsPerHour,
                Field::MegabytesPerAuthor,
                Field::UnknownPerHour
            ])
        );
    }
}
