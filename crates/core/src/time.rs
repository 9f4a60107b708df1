//! Claimed times: instants and spans as the author states them, with their precision and
//! where the clock reading came from.
//!
//! Times are kept as claimed and never "corrected": evidence whose metadata was silently
//! altered is discredited. All instants are milliseconds since the Unix epoch, UTC.

use bincode::{Decode, Encode};
use jiff::civil::DateTime;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

/// How finely a time is known.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// To the second.
    Second,
    /// To the minute.
    Minute,
    /// To the hour.
    Hour,
    /// To the day.
    Day,
    /// To the month.
    Month,
    /// To the year.
    Year,
}

/// Where a creation time came from: courts weigh a network time differently from a
/// hand-typed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The device clock, as set by its owner.
    Device,
    /// A network time source.
    Network,
    /// A satellite fix.
    Gnss,
    /// Typed in by a person.
    Manual,
}

/// When the author says the record was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ClaimedTime {
    /// Milliseconds since the Unix epoch, UTC.
    pub unix_ms: i64,
    /// Where the reading came from.
    pub source: ClockSource,
    /// How far off the author thinks the clock may be, in seconds (0 = unknown).
    pub uncertainty_s: u32,
}

/// When the events happened: `[start_ms, end_ms]`, both inclusive, with a precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct TimeSpan {
    /// First instant, milliseconds since the Unix epoch, UTC.
    pub start_ms: i64,
    /// Last instant, milliseconds since the Unix epoch, UTC; equal to the start for an
    /// instant.
    pub end_ms: i64,
    /// How finely the span is known.
    pub precision: Precision,
}

/// Why text is not a time this crate understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a time: write 2022-01-05, 2022-01-05T14:30, 2022-01-05T14:30:15+06:00, \
     or a range such as 2022-01-05/2022-01-07"
)]
pub struct ParseTimeError(pub String);

impl TimeSpan {
    /// Parses an instant at any precision from a year down to a second (`2022`,
    /// `2022-01`, `2022-01-05`, `2022-01-05T14`, `2022-01-05T14:30`,
    /// `2022-01-05T14:30:15`, optionally followed by `Z` or an offset such as `+06:00`;
    /// without one, UTC), or a range `A/B`. A lone instant covers its whole unit: `2022-01-05`
    /// is that entire day.
    pub fn parse(text: &str) -> Result<TimeSpan, ParseTimeError> {
        let err = || ParseTimeError(text.to_owned());
        if let Some((a, b)) = text.split_once('/') {
            let a = parse_unit(a.trim()).ok_or_else(err)?;
            let b = parse_unit(b.trim()).ok_or_else(err)?;
            if b.end_ms < a.start_ms {
                return Err(err());
            }
            return Ok(TimeSpan {
                start_ms: a.start_ms,
                end_ms: b.end_ms,
                precision: a.precision.max(b.precision),
            });
        }
        parse_unit(text.trim()).ok_or_else(err)
    }

    /// The span's start formatted as RFC 3339 (UTC).
    pub fn start_rfc3339(&self) -> String {
        format_ms(self.start_ms)
    }
}

/// Parses the start of the unit written in `text` (see [`TimeSpan::parse`]); used for
/// filters such as `--since`.
pub fn parse_instant_ms(text: &str) -> Result<i64, ParseTimeError> {
    TimeSpan::parse(text).map(|span| span.start_ms)
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC (`2022-01-05T14:30:00Z`).
pub fn format_ms(unix_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(unix_ms) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{unix_ms} ms"),
    }
}

fn parse_unit(text: &str) -> Option<TimeSpan> {
    let (body, offset) = split_offset(text)?;
    let (date, time) = match body.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let date_parts: Vec<&str> = date.split('-').collect();
    let time_parts: Vec<&str> = time.map(|t| t.split(':').collect()).unwrap_or_default();
    if date_parts.is_empty() || date_parts.len() > 3 || time_parts.len() > 3 {
        return None;
    }
    if !time_parts.is_empty() && date_parts.len() != 3 {
        return None;
    }
    let number = |s: &str, digits: std::ops::RangeInclusive<usize>| -> Option<i64> {
        if !digits.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let year = number(date_parts[0], 4..=4)? as i16;
    let month = date_parts
        .get(1)
        .map(|s| number(s, 2..=2))
        .unwrap_or(Some(1))? as i8;
    let day = date_parts
        .get(2)
        .map(|s| number(s, 2..=2))
        .unwrap_or(Some(1))? as i8;
    let hour = time_parts
        .first()
        .map(|s| number(s, 2..=2))
        .unwrap_or(Some(0))? as i8;
    let minute = time_parts
        .get(1)
        .map(|s| number(s, 2..=2))
        .unwrap_or(Some(0))? as i8;
    let (second, millis) = match time_parts.get(2) {
        Some(s) => match s.split_once('.') {
            Some((whole, frac)) => (number(whole, 2..=2)? as i8, fraction_ms(frac)?),
            None => (number(s, 2..=2)? as i8, 0),
        },
        None => (0, 0),
    };
    let start = DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    let precision = match (date_parts.len(), time_parts.len()) {
        (1, _) => Precision::Year,
        (2, _) => Precision::Month,
        (3, 0) => Precision::Day,
        (3, 1) => Precision::Hour,
        (3, 2) => Precision::Minute,
        _ => Precision::Second,
    };
    let unit = match precision {
        Precision::Year => jiff::Span::new().years(1),
        Precision::Month => jiff::Span::new().months(1),
        Precision::Day => jiff::Span::new().days(1),
        Precision::Hour => jiff::Span::new().hours(1),
        Precision::Minute => jiff::Span::new().minutes(1),
        Precision::Second => jiff::Span::new().seconds(1),
    };
    let end = start.checked_add(unit).ok()?;
    let to_ms =
        |dt: DateTime| -> Option<i64> { Some(offset.to_timestamp(dt).ok()?.as_millisecond()) };
    let start_ms = to_ms(start)? + millis;
    let end_ms = if millis > 0 {
        start_ms
    } else {
        to_ms(end)? - 1
    };
    Some(TimeSpan {
        start_ms,
        end_ms,
        precision,
    })
}

/// Milliseconds from the digits after a decimal point (`5` is 500 ms, `1234` is 123 ms).
/// Only ASCII digits are looked at by position: user text may hold any character, and
/// slicing it by bytes elsewhere would split a multi-byte one.
fn fraction_ms(frac: &str) -> Option<i64> {
    if !(1..=9).contains(&frac.len()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        frac.bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0, |ms, digit| ms * 10 + i64::from(digit - b'0')),
    )
}

/// Splits a trailing `Z` or `±HH:MM` from `text`.
fn split_offset(text: &str) -> Option<(&str, Offset)> {
    if let Some(body) = text.strip_suffix(['Z', 'z']) {
        return Some((body, Offset::UTC));
    }
    let Some(time_start) = text.find(['T', 't', ' ']) else {
        return Some((text, Offset::UTC));
    };
    // `split_at_checked` refuses a position inside a multi-byte character, so text such
    // as `2022-01-05T14:30:15.éé` is simply not an offset rather than a panic.
    let offset = text
        .len()
        .checked_sub(6)
        .filter(|&at| at >= time_start)
        .and_then(|at| text.split_at_checked(at))
        .and_then(|(body, tail)| Some((body, parse_offset(tail)?)));
    Some(offset.unwrap_or((text, Offset::UTC)))
}

/// `+HH:MM` or `-HH:MM`.
fn parse_offset(tail: &str) -> Option<Offset> {
    let [sign, h1, h2, b':', m1, m2] = *tail.as_bytes() else {
        return None;
    };
    let digit = |b: u8| b.is_ascii_digit().then(|| i32::from(b - b'0'));
    let hours = digit(h1)? * 10 + digit(h2)?;
    let minutes = digit(m1)? * 10 + digit(m2)?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, start: &str, end: &str, precision: Precision) {
        let span = TimeSpan::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format_ms(span.start_ms), start, "{text}");
        assert_eq!(format_ms(span.end_ms), end, "{text}");
        assert_eq!(span.precision, precision, "{text}");
    }

    #[test]
    fn parses_every_precision_and_ranges() {
        check(
            "2022",
            "2022-01-01T00:00:00Z",
            "2022-12-31T23:59:59.999Z",
            Precision::Year,
        );
        check(
            "2022-01",
            "2022-01-01T00:00:00Z",
            "2022-01-31T23:59:59.999Z",
            Precision::Month,
        );
        check(
            "2022-01-05",
            "2022-01-05T00:00:00Z",
            "2022-01-05T23:59:59.999Z",
            Precision::Day,
        );
        check(
            "2022-01-05T14",
            "2022-01-05T14:00:00Z",
            "2022-01-05T14:59:59.999Z",
            Precision::Hour,
        );
        check(
            "2022-01-05T14:30+06:00",
            "2022-01-05T08:30:00Z",
            "2022-01-05T08:30:59.999Z",
            Precision::Minute,
        );
        check(
            "2022-01-05T14:30:15Z",
            "2022-01-05T14:30:15Z",
            "2022-01-05T14:30:15.999Z",
            Precision::Second,
        );
        check(
            "2022-01-05/2022-01-07",
            "2022-01-05T00:00:00Z",
            "2022-01-07T23:59:59.999Z",
            Precision::Day,
        );
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "yesterday",
            "2022-13-01",
            "2022-01-05/2021-01-01",
            "22-01-05",
            "2022-01-05T25",
        ] {
            assert!(TimeSpan::parse(bad).is_err(), "{bad}");
        }
    }

    /// `qoima add --occurred-at '2022-01-05T14:30:15.éé'` used to panic: the fraction was
    /// padded and cut at byte 3, inside the two-byte `é`.
    #[test]
    fn non_ascii_fraction_of_a_second_is_refused_not_a_panic() {
        for bad in [
            "2022-01-05T14:30:15.éé",
            "2022-01-05T14:30:15.é",
            "2022-01-05T14:30:15.1é",
            "2022-01-05T14:30:15.١٢٣", // Arabic-Indic digits are not ASCII digits
            "2022-01-05T14:30:15.",
            "2022-01-05T14:30:15.1234567890",
            "2022-01-05/2022-01-05T14:30:15.éé",
            "2022-01-05T14:30:éé+06:00",
            "2022-01-05T14:30+0é:00",
            "2022-01-05Tжжжжжж",
            "2022-01-05T+06:00",
        ] {
            assert_eq!(
                TimeSpan::parse(bad),
                Err(ParseTimeError(bad.to_owned())),
                "{bad}"
            );
            assert!(parse_instant_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fractions_of_a_second_are_milliseconds() {
        for (text, start) in [
            ("2022-01-05T14:30:15.5Z", "2022-01-05T14:30:15.5Z"),
            ("2022-01-05T14:30:15.25Z", "2022-01-05T14:30:15.25Z"),
            (
                "2022-01-05T14:30:15.123456+06:00",
                "2022-01-05T08:30:15.123Z",
            ),
        ] {
            let span = TimeSpan::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format_ms(span.start_ms), start, "{text}");
            assert_eq!(span.end_ms, span.start_ms, "{text}");
        }
    }
}
