//! "Now", injectable so plans and tests do not depend on the wall clock.
//!
//! `RELPLAN_NOW` (RFC 3339 timestamp or `YYYY-MM-DD`) wins, then the
//! reproducible-builds convention `SOURCE_DATE_EPOCH` (seconds), then the system clock.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::error::{Error, Result};

pub fn now() -> Result<DateTime<FixedOffset>> {
    // An empty variable counts as unset, as shells and CI templates often leave them.
    if let Some(value) = std::env::var("RELPLAN_NOW")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return parse_now(&value).ok_or_else(|| {
            Error::input(format!(
                "RELPLAN_NOW={value:?} is not a date: expected RFC 3339 (2026-12-01T09:00:00Z) or YYYY-MM-DD"
            ))
        });
    }
    if let Some(value) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        let secs: i64 = value.trim().parse().map_err(|_| {
            Error::input(format!(
                "SOURCE_DATE_EPOCH={value:?} is not a number of seconds"
            ))
        })?;
        let at = Utc
            .timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| Error::input(format!("SOURCE_DATE_EPOCH={value:?} is out of range")))?;
        return Ok(at.fixed_offset());
    }
    Ok(Utc::now().fixed_offset())
}

fn parse_now(value: &str) -> Option<DateTime<FixedOffset>> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(at);
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(
        Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0)?)
            .fixed_offset(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            parse_now("2026-12-01").unwrap().to_rfc3339(),
            "2026-12-01T09:00:00+00:00"
        );
        assert_eq!(
            parse_now("2026-12-01T10:30:00+01:00").unwrap().to_rfc3339(),
            "2026-12-01T10:30:00+01:00"
        );
        assert!(parse_now("yesterday").is_none());
    }
}
