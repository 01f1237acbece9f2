//! `schedule/release.ics`: the schedule as an RFC 5545 calendar. Pure text rendering.
//!
//! - One all-day event per milestone (`DTSTART;VALUE=DATE`, exclusive `DTEND`),
//!   one timed event per release-day window in `schedule.timezone` (`TZID` plus a
//!   `VTIMEZONE` describing that zone's offsets for the year, RFC 5545 §3.6.5).
//! - UIDs derive from the milestone, version and project only, so importing a
//!   regenerated file updates the events instead of duplicating them (§3.8.4.7).
//! - `DTSTAMP` is the plan's first planning time, never the wall clock.
//! - Lines end in CRLF and fold at 75 octets (§3.1); TEXT values are escaped (§3.3.11).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};

use super::{Milestone, Schedule, Window};

/// What the calendar needs besides the schedule.
pub struct CalendarInfo<'a> {
    pub project: &'a str,
    pub version: &'a str,
    pub tag: &'a str,
    pub relplan_version: &'a str,
    /// The DTSTAMP of every event.
    pub stamp: DateTime<Utc>,
}

/// Renders the calendar file (CRLF line ends, folded).
pub fn render(info: &CalendarInfo<'_>, schedule: &Schedule) -> String {
    let tz: Tz = schedule.timezone.parse().unwrap_or(chrono_tz::UTC);
    let zoned = tz != chrono_tz::UTC && tz.name() != "Etc/UTC";
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        format!("PRODID:-//relplan//relplan {}//EN", info.relplan_version),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!(
            "X-WR-CALNAME:{}",
            escape(&format!("{} {} release", info.project, info.tag))
        ),
    ];
    let window_years: Vec<i32> = schedule
        .milestones
        .iter()
        .filter(|m| !m.windows.is_empty())
        .map(|m| m.date.year())
        .collect();
    if let (true, Some(first), Some(last)) =
        (zoned, window_years.iter().min(), window_years.iter().max())
    {
        lines.extend(vtimezone(tz, *first, *last));
    }
    let stamp = info.stamp.format("%Y%m%dT%H%M%SZ").to_string();
    for m in &schedule.milestones {
        lines.extend(day_event(info, m, &stamp));
        for w in &m.windows {
            lines.extend(window_event(info, m, w, tz, zoned, &stamp));
        }
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        fold_into(&mut out, &line);
    }
    out
}

fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "project".into()
    } else {
        s
    }
}

/// The stable UID of a milestone (and optionally one of its windows).
pub fn uid(project: &str, version: &str, milestone: &str, window: Option<&str>) -> String {
    let what = match window {
        Some(w) => format!("{milestone}.{w}"),
        None => milestone.to_string(),
    };
    format!("{what}.v{version}.{}@relplan", slug(project))
}

fn date_value(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn day_event(info: &CalendarInfo<'_>, m: &Milestone, stamp: &str) -> Vec<String> {
    let mut desc = vec![format!("Owner: {}", m.owner)];
    if m.end_date != m.date {
        desc.push(format!("{} to {}", m.date, m.end_date));
    }
    if let Some(note) = &m.moved_note {
        desc.push(note.clone());
    }
    if !m.activities.is_empty() {
        desc.push(String::new());
        desc.push("Activities:".into());
        desc.extend(m.activities.iter().map(|a| format!("- {a}")));
    }
    if !m.checklist.is_empty() {
        desc.push(String::new());
        desc.push("Checklist:".into());
        desc.extend(m.checklist.iter().map(|a| format!("- [ ] {a}")));
    }
    vec![
        "BEGIN:VEVENT".into(),
        format!("UID:{}", uid(info.project, info.version, &m.key, None)),
        format!("DTSTAMP:{stamp}"),
        format!("DTSTART;VALUE=DATE:{}", date_value(m.date)),
        format!("DTEND;VALUE=DATE:{}", date_value(m.gantt_end)),
        format!(
            "SUMMARY:{}",
            escape(&format!("{} {}: {}", info.project, info.tag, m.name))
        ),
        format!("DESCRIPTION:{}", escape(&desc.join("\n"))),
        "TRANSP:TRANSPARENT".into(),
        "END:VEVENT".into(),
    ]
}

fn window_event(
    info: &CalendarInfo<'_>,
    m: &Milestone,
    w: &Window,
    tz: Tz,
    zoned: bool,
    stamp: &str,
) -> Vec<String> {
    let (start, end) = if zoned {
        let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string();
        (
            format!("DTSTART;TZID={}:{}", tz.name(), local(w.start_utc)),
            format!("DTEND;TZID={}:{}", tz.name(), local(w.end_utc)),
        )
    } else {
        (
            format!("DTSTART:{}", w.start_utc.format("%Y%m%dT%H%M%SZ")),
            format!("DTEND:{}", w.end_utc.format("%Y%m%dT%H%M%SZ")),
        )
    };
    let mut desc = vec![
        format!("Owner: {}", w.owner),
        format!("Part of: {} ({})", m.name, m.date),
    ];
    if !w.activities.is_empty() {
        desc.push(String::new());
        desc.push("Activities:".into());
        desc.extend(w.activities.iter().map(|a| format!("- {a}")));
    }
    vec![
        "BEGIN:VEVENT".into(),
        format!(
            "UID:{}",
            uid(info.project, info.version, &m.key, Some(&w.key))
        ),
        format!("DTSTAMP:{stamp}"),
        start,
        end,
        format!(
            "SUMMARY:{}",
            escape(&format!("{} {}: {}", info.project, info.tag, w.name))
        ),
        format!("DESCRIPTION:{}", escape(&desc.join("\n"))),
        "END:VEVENT".into(),
    ]
}

/// TEXT escaping (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (never inside a UTF-8 character), CRLF-terminated.
fn fold_into(out: &mut String, line: &str) {
    let mut budget = 75;
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > budget {
            out.push_str("\r\n ");
            budget = 74;
            used = 0;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec != 0 {
        format!("{sign}{h:02}{m:02}{sec:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// The zone's offsets from January 1 of `first` to the end of `last`: its state at
/// the start and every change after it, each an observance with an explicit DTSTART
/// (no RRULE needed).
fn vtimezone(tz: Tz, first: i32, last: i32) -> Vec<String> {
    // Dates come from NaiveDate, so the year is always representable; if not, the
    // scan below is empty and only the starting observance is written.
    let start = Utc
        .with_ymd_and_hms(first, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let end = Utc
        .with_ymd_and_hms(last.max(first) + 1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(start);
    let total = |at: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let state = |at: DateTime<Utc>| {
        let off = tz.offset_from_utc_datetime(&at.naive_utc());
        let dst = off.dst_offset().num_seconds() != 0;
        (off.fix().local_minus_utc(), dst, off.to_string())
    };
    let observance = |kind: bool, local: NaiveDateTime, from: i32, to: i32, name: &str| {
        let kind = if kind { "DAYLIGHT" } else { "STANDARD" };
        let mut v = vec![
            format!("BEGIN:{kind}"),
            format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")),
            format!("TZOFFSETFROM:{}", offset_text(from)),
            format!("TZOFFSETTO:{}", offset_text(to)),
        ];
        if !name.is_empty() && !name.starts_with(['+', '-']) {
            v.push(format!("TZNAME:{}", escape(name)));
        }
        v.push(format!("END:{kind}"));
        v
    };
    let mut lines = vec!["BEGIN:VTIMEZONE".into(), format!("TZID:{}", tz.name())];
    let (first, dst, name) = state(start);
    let jan1 = start
        .naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(first)))
        .unwrap_or(start.naive_utc());
    lines.extend(observance(dst, jan1, first, first, &name));
    let mut prev = first;
    let mut at = start;
    while at < end {
        let next = at + Duration::hours(1);
        let now = total(next);
        if now != prev {
            // Find the minute of the change inside this hour.
            let mut exact = next;
            let mut probe = at;
            while probe < next {
                probe += Duration::minutes(1);
                if total(probe) != prev {
                    exact = probe;
                    break;
                }
            }
            let (to, dst, name) = state(exact);
            let local = exact.naive_utc() + Duration::seconds(i64::from(prev));
            lines.extend(observance(dst, local, prev, to, &name));
            prev = to;
        }
        at = next;
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("DESCRIPTION:{}", "é".repeat(100));
        fold_into(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical:?}",
                physical.len()
            );
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{line}\r\n"));
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn uid_is_stable_and_safe() {
        assert_eq!(
            uid("Acme API", "1.4.0", "qa", None),
            "qa.v1.4.0.acme-api@relplan"
        );
        assert_eq!(
            uid("acme", "1.4.0", "release", Some("canary")),
            "release.canary.v1.4.0.acme@relplan"
        );
    }

    #[test]
    fn vtimezone_lists_both_dst_changes() {
        let lines = vtimezone(chrono_tz::Europe::Berlin, 2026, 2026);
        let text = lines.join("\n");
        assert!(text.contains("TZID:Europe/Berlin"), "{text}");
        // 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        assert!(
            text.contains(
                "BEGIN:DAYLIGHT\nDTSTART:20260329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200"
            ),
            "{text}"
        );
        // 2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET.
        assert!(
            text.contains(
                "BEGIN:STANDARD\nDTSTART:20261025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100"
            ),
            "{text}"
        );
    }

    #[test]
    fn vtimezone_covers_every_year_asked_and_fixed_zones() {
        let text = vtimezone(chrono_tz::America::New_York, 2026, 2027).join("\n");
        assert_eq!(text.matches("BEGIN:DAYLIGHT").count(), 2, "{text}");
        assert!(text.contains("DTSTART:20270314T020000"), "{text}");
        let fixed = vtimezone(chrono_tz::Asia::Tokyo, 2026, 2026).join("\n");
        assert_eq!(fixed.matches("BEGIN:STANDARD").count(), 1, "{fixed}");
        assert!(fixed.contains("TZOFFSETTO:+0900"), "{fixed}");
    }

    #[test]
    fn offsets_format() {
        assert_eq!(offset_text(3600), "+0100");
        assert_eq!(offset_text(-16200), "-0430");
        assert_eq!(offset_text(0), "+0000");
    }
}
