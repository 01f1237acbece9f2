//! The release calendar: milestone dates from the release date on a working-day
//! calendar (weekdays, holidays, change freezes), release-day windows in the team's
//! time zone, the warnings a release manager must see, and the iCalendar export.
//! Pure: "today" is passed in, never read from the clock here.

pub mod calendar;
pub mod config;
mod defaults;
pub mod ics;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use serde::Serialize;

use self::calendar::weekday_name;
pub use self::calendar::{Calendar, DayOff, DayRange};
use self::config::MilestoneConfig;
pub use self::config::{OffsetUnit, ScheduleConfig};

/// Where a milestone sits relative to the release day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Before,
    Release,
    After,
}

/// A timed block of a milestone's day, in the configured time zone.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub key: String,
    pub name: String,
    /// Local clock times, `HH:MM`.
    pub start: String,
    pub end: String,
    /// The same instants in UTC (RFC 3339).
    pub start_utc: DateTime<Utc>,
    pub end_utc: DateTime<Utc>,
    /// The same times as UTC clock times, `HH:MM`.
    pub start_utc_time: String,
    pub end_utc_time: String,
    /// `+01:00`-style UTC offset in force at the start.
    pub utc_offset: String,
    pub owner: String,
    pub activities: Vec<String>,
}

/// One dated step of the release.
#[derive(Debug, Clone, Serialize)]
pub struct Milestone {
    pub key: String,
    pub name: String,
    /// Offset relative to the release, in `schedule.offset_unit` (negative: before).
    pub offset: i64,
    pub phase: Phase,
    /// The day it happens (a working day unless it is the release day itself).
    pub date: NaiveDate,
    pub weekday: String,
    /// Last day (inclusive) and its weekday.
    pub end_date: NaiveDate,
    pub end_weekday: String,
    /// Length in working days.
    pub duration: i64,
    /// The day the offset pointed at, when that was a day off and the milestone moved.
    pub moved_from: Option<NaiveDate>,
    /// Why and where it moved, e.g. "moved from Saturday 2026-12-05 (Saturday is not a working day)".
    pub moved_note: Option<String>,
    /// Who owns it: a role title (`QA Lead`) or the configured text.
    pub owner: String,
    /// The `[team]` role key when `owner` names one.
    pub owner_role: Option<String>,
    pub activities: Vec<String>,
    pub checklist: Vec<String>,
    pub windows: Vec<Window>,
    /// Days it is already overdue on the planning day (0 when not past).
    pub days_past: i64,
    /// Mermaid-safe label and exclusive end date for the Gantt chart.
    pub gantt_label: String,
    pub gantt_end: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct OnCallDates {
    /// Calendar-day offsets relative to the release.
    pub start_offset: i64,
    pub end_offset: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub start_weekday: String,
    pub end_weekday: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub release_date: NaiveDate,
    pub release_weekday: String,
    /// The planning day ("today", injected).
    pub today: NaiveDate,
    /// Calendar days from today to the release (negative when past).
    pub lead_days: i64,
    pub offset_unit: OffsetUnit,
    /// IANA name of the release-day windows' zone.
    pub timezone: String,
    pub working_days: Vec<String>,
    /// Milestones in date order.
    pub milestones: Vec<Milestone>,
    pub on_call: OnCallDates,
    /// Holidays and freezes that touch the schedule's span.
    pub holidays: Vec<DayRange>,
    pub freezes: Vec<DayRange>,
    pub warnings: Vec<String>,
}

fn weekday_of(d: NaiveDate) -> String {
    weekday_name(d.weekday()).to_string()
}

fn days(d: i64) -> String {
    if d.abs() == 1 {
        format!("{d} day")
    } else {
        format!("{d} days")
    }
}

/// Mermaid gantt task names end at `:` and comments start at `#` or `%%`.
fn gantt_label(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            ':' | '#' | ';' | '%' => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn owner_of(text: &str) -> (String, Option<String>) {
    match crate::team::role_title(text) {
        Some(title) => (title.to_string(), Some(text.to_string())),
        None if text.trim().is_empty() => (crate::team::TBD.to_string(), None),
        None => (text.to_string(), None),
    }
}

/// Local `day` + `time` in `tz` as UTC. A time skipped by a DST change moves forward
/// to the first instant after the gap; a repeated time takes its first occurrence.
fn local_to_utc(
    tz: chrono_tz::Tz,
    day: NaiveDate,
    time: chrono::NaiveTime,
) -> (DateTime<Utc>, String, bool) {
    let local = day.and_time(time);
    let (at, shifted) = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => (t, false),
        LocalResult::Ambiguous(first, _) => (first, false),
        LocalResult::None => {
            // The gap is at most a few hours; step to its end.
            let mut probe = local;
            let mut found = None;
            for _ in 0..(24 * 4) {
                probe += Duration::minutes(15);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    found = Some(t);
                    break;
                }
            }
            match found {
                Some(t) => (t, true),
                None => (Utc.from_utc_datetime(&local).with_timezone(&tz), true),
            }
        }
    };
    let offset = at.format("%:z").to_string();
    (at.with_timezone(&Utc), offset, shifted)
}

/// The date a milestone's offset points at, and the date it moves to on a day off.
fn place(
    cal: &Calendar,
    unit: OffsetUnit,
    release: NaiveDate,
    offset: i64,
) -> (NaiveDate, NaiveDate) {
    match unit {
        OffsetUnit::Business => {
            let d = cal
                .add_working_days(release, offset)
                .unwrap_or(release + Duration::days(offset));
            (d, d)
        }
        OffsetUnit::Calendar => {
            let target = release + Duration::days(offset);
            if offset == 0 {
                return (target, target);
            }
            let moved = cal
                .nearest_working(target, offset.signum())
                .unwrap_or(target);
            (target, moved)
        }
    }
}

/// The last day of a milestone lasting `duration` working days from `start`
/// (a day off at the start counts as the first day: the release day may be one).
fn end_of(cal: &Calendar, start: NaiveDate, duration: i64) -> NaiveDate {
    let n = duration.max(1) - 1;
    cal.add_working_days(start, n)
        .unwrap_or(start + Duration::days(n))
}

/// Builds the schedule for `release_date`, warning about dates already past on `today`.
pub fn build(release_date: NaiveDate, today: NaiveDate, config: &ScheduleConfig) -> Schedule {
    let cal = config.calendar();
    let unit = config.offset_unit;
    let tz = config.timezone.0;
    let mut warnings = Vec::new();

    let mut milestones: Vec<Milestone> = config
        .milestones
        .0
        .iter()
        .map(|m| milestone(&cal, unit, tz, release_date, today, m, &mut warnings))
        .collect();
    milestones.sort_by(|a, b| a.date.cmp(&b.date).then(a.offset.cmp(&b.offset)));

    release_day_warnings(&cal, release_date, &mut warnings);
    if release_date < today {
        warnings.push(format!(
            "the release date {release_date} is in the past (today is {today})"
        ));
    } else {
        let past: Vec<String> = milestones
            .iter()
            .filter(|m| m.days_past > 0)
            .map(|m| format!("{} was due {} ({} ago)", m.name, m.date, days(m.days_past)))
            .collect();
        if !past.is_empty() {
            warnings.push(format!(
                "compressed schedule: {} of {} milestones already past on {today}: {}",
                past.len(),
                milestones.len(),
                past.join("; ")
            ));
        }
        let freeze = milestones
            .iter()
            .find(|m| m.key == "code-freeze")
            .or_else(|| milestones.first().filter(|m| m.date < release_date));
        if let Some(freeze) = freeze {
            let lead = (release_date - today).num_days();
            let needed = (release_date - freeze.date).num_days();
            if lead < needed {
                warnings.push(format!(
                    "lead time is {} (today {today} to the release {release_date}), shorter than the {} the schedule needs from {} ({})",
                    days(lead),
                    days(needed),
                    freeze.name,
                    freeze.date
                ));
            }
        }
    }

    let on_call_start = release_date + Duration::days(config.on_call.start);
    let on_call_end = release_date + Duration::days(config.on_call.end);
    let span_start = milestones
        .iter()
        .map(|m| m.date)
        .chain([on_call_start, release_date])
        .min()
        .unwrap_or(release_date);
    let span_end = milestones
        .iter()
        .map(|m| m.end_date)
        .chain([on_call_end, release_date])
        .max()
        .unwrap_or(release_date);
    let touching = |list: &[DayRange]| -> Vec<DayRange> {
        list.iter()
            .filter(|r| r.overlaps(span_start, span_end))
            .cloned()
            .collect()
    };

    Schedule {
        release_date,
        release_weekday: weekday_of(release_date),
        today,
        lead_days: (release_date - today).num_days(),
        offset_unit: unit,
        timezone: tz.name().to_string(),
        working_days: cal
            .working_days
            .iter()
            .map(|d| weekday_name(*d).to_string())
            .collect(),
        milestones,
        on_call: OnCallDates {
            start_offset: config.on_call.start,
            end_offset: config.on_call.end,
            start: on_call_start,
            end: on_call_end,
            start_weekday: weekday_of(on_call_start),
            end_weekday: weekday_of(on_call_end),
        },
        holidays: touching(&cal.holidays),
        freezes: touching(&cal.freezes),
        warnings,
    }
}

fn release_day_warnings(cal: &Calendar, release: NaiveDate, warnings: &mut Vec<String>) {
    let day = weekday_of(release);
    match cal.day_off(release) {
        Some(DayOff::Holiday(name)) => warnings.push(format!(
            "the release day {release} ({day}) is a holiday: {name}"
        )),
        Some(DayOff::Weekend(_)) => warnings.push(format!(
            "the release day {release} is a {day}, not a working day"
        )),
        None => {}
    }
    if release.weekday() == Weekday::Fri {
        warnings.push(format!(
            "the release day {release} is a Friday: problems would surface over the weekend, with fewer people around"
        ));
    }
    if let Some(freeze) = cal.freeze_at(release) {
        warnings.push(format!(
            "the release day {release} is inside the change freeze \"{}\" ({} to {})",
            freeze.name, freeze.start, freeze.end
        ));
    }
}

fn milestone(
    cal: &Calendar,
    unit: OffsetUnit,
    tz: chrono_tz::Tz,
    release: NaiveDate,
    today: NaiveDate,
    m: &MilestoneConfig,
    warnings: &mut Vec<String>,
) -> Milestone {
    let (target, date) = place(cal, unit, release, m.offset);
    let moved_from = (target != date).then_some(target);
    let moved_note = moved_from.map(|from| {
        let why = cal
            .day_off(from)
            .map(|off| off.describe())
            .unwrap_or_default();
        format!(
            "moved from {} {from} ({why}) to the {} working day",
            weekday_of(from),
            if m.offset < 0 { "previous" } else { "next" }
        )
    });
    let end_date = end_of(cal, date, m.duration);
    let (owner, owner_role) = owner_of(&m.owner);
    let windows = m
        .windows
        .iter()
        .map(|w| {
            let (start_utc, utc_offset, shifted) = local_to_utc(tz, date, w.start.0);
            let (end_utc, _, _) = local_to_utc(tz, date, w.end.0);
            if shifted {
                warnings.push(format!(
                    "{} window \"{}\" starts at {} on {date}, a time the {} clock skips (daylight saving); it starts at the end of the gap",
                    m.name,
                    w.name,
                    w.start.0.format("%H:%M"),
                    tz.name()
                ));
            }
            let (owner, _) = owner_of(&w.owner);
            Window {
                key: w.key.clone(),
                name: w.name.clone(),
                start: w.start.0.format("%H:%M").to_string(),
                end: w.end.0.format("%H:%M").to_string(),
                start_utc_time: start_utc.format("%H:%M").to_string(),
                end_utc_time: end_utc.format("%H:%M").to_string(),
                start_utc,
                end_utc,
                utc_offset,
                owner,
                activities: w.activities.clone(),
            }
        })
        .collect();
    Milestone {
        key: m.key.clone(),
        name: m.name.clone(),
        offset: m.offset,
        phase: match m.offset {
            o if o < 0 => Phase::Before,
            0 => Phase::Release,
            _ => Phase::After,
        },
        date,
        weekday: weekday_of(date),
        end_date,
        end_weekday: weekday_of(end_date),
        duration: m.duration,
        moved_from,
        moved_note,
        owner,
        owner_role,
        activities: m.activities.clone(),
        checklist: m.checklist.clone(),
        windows,
        days_past: (today - date).num_days().max(0),
        gantt_label: gantt_label(&m.name),
        gantt_end: end_date + Duration::days(1),
    }
}

#[cfg(test)]
mod tests;
