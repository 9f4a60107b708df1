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
            Some((whole, frac)) => {
                let ms = number(&format!("{frac:0<3}")[..3], 3..=3)?;
                (number(whole, 2..=2)? as i8, ms)
            }
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

/// Splits a trailing `Z` or `±HH:MM` from `text`.
fn split_offset(text: &str) -> Option<(&str, Offset)> {
    if let Some(body) = text.strip_suffix(['Z', 'z']) {
        return Some((body, Offset::UTC));
    }
    let looks_like_offset = |tail: &[u8]| {
        tail.len() == 6
            && matches!(tail[0], b'+' | b'-')
            && tail[3] == b':'
            && [1, 2, 4, 5].iter().all(|&i| tail[i].is_ascii_digit())
    };
    let Some(time_start) = text.find(['T', 't', ' ']) else {
        return Some((text, Offset::UTC));
    };
    if text.len() >= time_start + 6 && looks_like_offset(&text.as_bytes()[text.len() - 6..]) {
        let (body, tail) = text.split_at(text.len() - 6);
        let sign = if tail.starts_with('-') { -1 } else { 1 };
        let hours: i32 = tail[1..3].parse().ok()?;
        let minutes: i32 = tail[4..6].parse().ok()?;
        return Some((
            body,
            Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?,
        ));
    }
    Some((text, Offset::UTC))
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
}
