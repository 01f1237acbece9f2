//! `[schedule]` in `.relplan.toml`: the shape, the checklist's defaults, and validation.
//!
//! Values are checked while they are deserialized (`try_from`), so the TOML parser
//! reports each error at the line of the offending value: a bad holiday date points
//! at that date, overlapping freezes at the `freezes` array, a duplicate milestone
//! key at the `milestones` array.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, DayRange};
use crate::error::{Error, Result};

/// `[schedule]` in `.relplan.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Days from today to the release when `--date` is not given.
    pub lead_days: Option<i64>,
    /// Whether milestone offsets count calendar days or working days.
    pub offset_unit: OffsetUnit,
    /// The team's working weekdays.
    pub working_days: WorkingDays,
    /// Days off: single dates or ranges, each with a name.
    pub holidays: Holidays,
    /// Change-freeze windows: no production change should land inside one.
    pub freezes: Freezes,
    /// IANA time zone of the release-day windows.
    pub timezone: TimeZone,
    /// On-call window, in calendar days relative to the release.
    pub on_call: OnCall,
    /// The release's milestones; replaces the checklist's defaults when set.
    pub milestones: Milestones,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            lead_days: None,
            offset_unit: OffsetUnit::Calendar,
            working_days: WorkingDays::default(),
            holidays: Holidays::default(),
            freezes: Freezes::default(),
            timezone: TimeZone::default(),
            on_call: OnCall::default(),
            milestones: Milestones::default(),
        }
    }
}

impl ScheduleConfig {
    /// Checks what deserialization could not (ranges of plain numbers).
    pub fn validate(&self) -> Result<()> {
        if let Some(days) = self.lead_days {
            if !(0..=3650).contains(&days) {
                return Err(Error::input(format!(
                    "schedule.lead_days = {days} is out of range (expected 0 to 3650 days)"
                )));
            }
        }
        Ok(())
    }

    pub fn calendar(&self) -> Calendar {
        Calendar {
            working_days: self.working_days.0.clone(),
            holidays: self.holidays.0.clone(),
            freezes: self.freezes.0.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetUnit {
    /// Offsets are calendar days; a milestone landing on a day off moves to a working day.
    Calendar,
    /// Offsets count working days only.
    Business,
}

/// A calendar date written `"2026-12-25"` or as a TOML date `2026-12-25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Day, D::Error> {
        let value = toml::Value::deserialize(d)?;
        let text = match &value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(dt) => dt.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a date such as \"2026-12-25\", found {}",
                    other.type_str()
                )))
            }
        };
        let valid_shape = text.len() == 10;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .filter(|_| valid_shape)
            .map(Day)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a real calendar date; expected YYYY-MM-DD such as \"2026-12-25\""
                ))
            })
    }
}

/// One entry of `holidays`: `{ date, name }` or `{ start, end, name }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: Option<Day>,
    start: Option<Day>,
    end: Option<Day>,
    name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawHoliday")]
struct Holiday(DayRange);

impl TryFrom<RawHoliday> for Holiday {
    type Error = String;
    fn try_from(raw: RawHoliday) -> std::result::Result<Holiday, String> {
        let name = raw
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Holiday".into());
        let (start, end) = match (raw.date, raw.start, raw.end) {
            (Some(date), None, None) => (date.0, date.0),
            (None, Some(start), Some(end)) => (start.0, end.0),
            _ => {
                return Err(format!(
                    "schedule.holidays entry {name:?}: expected either `date` or both `start` and `end`"
                ))
            }
        };
        if end < start {
            return Err(format!(
                "schedule.holidays entry {name:?}: end {end} is before start {start}"
            ));
        }
        Ok(Holiday(DayRange { start, end, name }))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "Vec<Holiday>")]
pub struct Holidays(pub Vec<DayRange>);

impl From<Vec<Holiday>> for Holidays {
    fn from(list: Vec<Holiday>) -> Holidays {
        let mut days: Vec<DayRange> = list.into_iter().map(|h| h.0).collect();
        days.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
        Holidays(days)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFreeze {
    start: Day,
    end: Day,
    name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "Vec<RawFreeze>")]
pub struct Freezes(pub Vec<DayRange>);

impl TryFrom<Vec<RawFreeze>> for Freezes {
    type Error = String;
    fn try_from(raw: Vec<RawFreeze>) -> std::result::Result<Freezes, String> {
        let mut list = Vec::with_capacity(raw.len());
        for f in raw {
            let name = f
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "Change freeze".into());
            if f.end.0 < f.start.0 {
                return Err(format!(
                    "schedule.freezes entry {name:?}: end {} is before start {}",
                    f.end.0, f.start.0
                ));
            }
            list.push(DayRange {
                start: f.start.0,
                end: f.end.0,
                name,
            });
        }
        list.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
        for pair in list.windows(2) {
            if pair[1].start <= pair[0].end {
                return Err(format!(
                    "schedule.freezes: {:?} ({} to {}) overlaps {:?} ({} to {}); expected separate windows (merge them into one)",
                    pair[0].name, pair[0].start, pair[0].end, pair[1].name, pair[1].start, pair[1].end
                ));
            }
        }
        Ok(Freezes(list))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct WorkingDays(pub Vec<Weekday>);

impl Default for WorkingDays {
    fn default() -> Self {
        WorkingDays(Calendar::default().working_days)
    }
}

impl TryFrom<Vec<String>> for WorkingDays {
    type Error = String;
    fn try_from(raw: Vec<String>) -> std::result::Result<WorkingDays, String> {
        let mut days = Vec::new();
        for name in raw {
            let day = Weekday::from_str(name.trim()).map_err(|_| {
                format!("schedule.working_days: {name:?} is not a weekday; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun")
            })?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        if days.is_empty() {
            return Err("schedule.working_days is empty; expected at least one weekday, e.g. [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"]".into());
        }
        days.sort_by_key(|d| d.num_days_from_monday());
        Ok(WorkingDays(days))
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZone(pub chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(chrono_tz::UTC)
    }
}

impl TryFrom<String> for TimeZone {
    type Error = String;
    fn try_from(name: String) -> std::result::Result<TimeZone, String> {
        chrono_tz::Tz::from_str(name.trim()).map(TimeZone).map_err(|_| {
            format!("schedule.timezone = {name:?} is not an IANA time zone name; expected e.g. \"UTC\", \"Europe/Berlin\" or \"America/New_York\"")
        })
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "RawOnCall")]
pub struct OnCall {
    pub start: i64,
    pub end: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnCall {
    start: i64,
    end: i64,
}

impl Default for OnCall {
    fn default() -> Self {
        OnCall { start: -1, end: 3 }
    }
}

impl TryFrom<RawOnCall> for OnCall {
    type Error = String;
    fn try_from(raw: RawOnCall) -> std::result::Result<OnCall, String> {
        if raw.end < raw.start || raw.start.abs() > 365 || raw.end.abs() > 365 {
            return Err(format!(
                "schedule.on_call: start = {}, end = {}; expected start <= end, both within 365 days of the release",
                raw.start, raw.end
            ));
        }
        Ok(OnCall {
            start: raw.start,
            end: raw.end,
        })
    }
}

/// A local clock time written `"06:00"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock(pub NaiveTime);

impl<'de> Deserialize<'de> for Clock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Clock, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map(Clock)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a time of day; expected HH:MM such as \"06:00\""
                ))
            })
    }
}

/// A timed block of one milestone's day (e.g. the release day's deployment window).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    pub key: String,
    pub name: String,
    pub start: Clock,
    pub end: Clock,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub activities: Vec<String>,
}

/// One `[[schedule.milestones]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneConfig {
    /// Stable identifier (calendar UIDs derive from it): lowercase letters, digits, `-`.
    pub key: String,
    pub name: String,
    /// Days relative to the release: negative before, 0 the release day, positive after.
    pub offset: i64,
    /// Length in working days, at least 1.
    #[serde(default = "one")]
    pub duration: i64,
    /// A `[team]` role key (`qa_lead`, `devops`, ...) or free text.
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub activities: Vec<String>,
    /// Go/no-go items: what must be true before the milestone is done.
    #[serde(default)]
    pub checklist: Vec<String>,
    /// Timed windows on this milestone's day, in `schedule.timezone`.
    #[serde(default)]
    pub windows: Vec<WindowConfig>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<MilestoneConfig>")]
pub struct Milestones(pub Vec<MilestoneConfig>);

impl Default for Milestones {
    fn default() -> Self {
        Milestones(super::defaults::milestones())
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl TryFrom<Vec<MilestoneConfig>> for Milestones {
    type Error = String;
    fn try_from(list: Vec<MilestoneConfig>) -> std::result::Result<Milestones, String> {
        check_milestones(&list)?;
        Ok(Milestones(list))
    }
}

/// The rules one milestone follows on its own; `at` names it in messages.
fn check_milestone(at: &str, m: &MilestoneConfig) -> std::result::Result<(), String> {
    if !valid_key(&m.key) {
        return Err(format!(
            "{at}: key must be lowercase letters, digits, '-' or '_' (it names calendar events)"
        ));
    }
    if m.name.trim().is_empty() {
        return Err(format!("{at}: name is empty"));
    }
    if m.offset.abs() > 365 {
        return Err(format!(
            "{at}: offset = {} is out of range (expected -365 to 365 days)",
            m.offset
        ));
    }
    if !(1..=90).contains(&m.duration) {
        return Err(format!(
            "{at}: duration = {} is out of range (expected 1 to 90 working days)",
            m.duration
        ));
    }
    for (w, window) in m.windows.iter().enumerate() {
        if !valid_key(&window.key) {
            return Err(format!(
                "{at}: windows[{w}].key {:?} must be lowercase letters, digits, '-' or '_'",
                window.key
            ));
        }
        if window.end.0 <= window.start.0 {
            return Err(format!(
                "{at}: windows[{w}] ({:?}) ends at {} before it starts at {}; expected end after start on the same day",
                window.name,
                window.end.0.format("%H:%M"),
                window.start.0.format("%H:%M")
            ));
        }
        if m.windows[..w].iter().any(|o| o.key == window.key) {
            return Err(format!("{at}: duplicate window key {:?}", window.key));
        }
    }
    Ok(())
}

/// The rules the whole list follows (the defaults included): unique keys, one
/// release day, pre-release milestones before it and post-release ones after it.
pub fn check_milestones(list: &[MilestoneConfig]) -> std::result::Result<(), String> {
    if list.is_empty() {
        return Err(
            "schedule.milestones is empty; expected at least the release day (offset = 0)".into(),
        );
    }
    let mut release_at = None;
    for (i, m) in list.iter().enumerate() {
        let at = format!("schedule.milestones[{i}] (key = {:?})", m.key);
        check_milestone(&at, m)?;
        if let Some(j) = list[..i].iter().position(|o| o.key == m.key) {
            return Err(format!(
                "schedule.milestones: duplicate key {:?} in schedule.milestones[{j}] and schedule.milestones[{i}] (counting from 0); expected each key once",
                m.key
            ));
        }
        if m.offset == 0 && release_at.is_none() {
            release_at = Some(i);
        }
        // Listed after the release day, a milestone belongs to the post-release phase:
        // a negative offset would date it before the release it follows.
        if let Some(r) = release_at {
            if i > r && m.offset < 0 {
                return Err(format!(
                    "{at}: offset = {} puts a post-release milestone (listed after {:?}) before the release; expected 0 or more",
                    m.offset, list[r].key
                ));
            }
        } else if m.offset > 0 {
            return Err(format!(
                "{at}: offset = {} puts a pre-release milestone (listed before the release day) after the release; expected 0 or less, or list it after the offset = 0 milestone",
                m.offset
            ));
        }
    }
    if release_at.is_none() {
        return Err(
            "schedule.milestones has no release day; expected one milestone with offset = 0".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("c.toml"))
    }

    #[test]
    fn issue_example_parses() {
        let c = parse(
            r#"[schedule]
holidays = [{ date = "2026-12-25", name = "Christmas Day" }, { start = "2026-12-28", end = "2026-12-31", name = "Year-end break" }]
freezes = [{ start = "2026-12-18", end = "2027-01-04", name = "Year-end change freeze" }]
"#,
        )
        .unwrap();
        assert_eq!(c.schedule.holidays.0.len(), 2);
        assert_eq!(c.schedule.holidays.0[1].name, "Year-end break");
        assert_eq!(c.schedule.freezes.0[0].end.to_string(), "2027-01-04");
    }

    #[test]
    fn toml_dates_work_too() {
        let c = parse("[schedule]\nholidays = [{ date = 2026-12-25, name = \"Xmas\" }]\n").unwrap();
        assert_eq!(c.schedule.holidays.0[0].start.to_string(), "2026-12-25");
    }

    /// (config, expected line, words the message must contain)
    #[test]
    fn bad_schedule_config_names_key_and_line() {
        let table: &[(&str, usize, &[&str])] = &[
            (
                "[schedule]\ntimezone = \"Mars/Olympus\"\n",
                2,
                &["schedule.timezone", "Mars/Olympus", "IANA"],
            ),
            (
                "[schedule]\nholidays = [\n  { date = \"2026-12-25\" },\n  { date = \"2026-02-30\", name = \"Bad\" },\n]\n",
                4,
                &["2026-02-30", "YYYY-MM-DD"],
            ),
            (
                "[schedule]\nholidays = [{ start = \"2026-12-31\", end = \"2026-12-28\", name = \"Back\" }]\n",
                2,
                &["schedule.holidays", "Back", "before start"],
            ),
            (
                "[schedule]\nholidays = [{ name = \"Nothing\" }]\n",
                2,
                &["schedule.holidays", "date"],
            ),
            (
                "[schedule]\n\nfreezes = [\n { start = \"2026-12-18\", end = \"2027-01-04\", name = \"A\" },\n { start = \"2027-01-02\", end = \"2027-01-10\", name = \"B\" },\n]\n",
                3,
                &["schedule.freezes", "overlaps", "\"A\"", "\"B\""],
            ),
            (
                "[schedule]\nfreezes = [{ start = \"2026-12-18\" }]\n",
                2,
                &["end"],
            ),
            (
                "[schedule]\nworking_days = [\"Mon\", \"Funday\"]\n",
                2,
                &["schedule.working_days", "Funday"],
            ),
            (
                "[schedule]\noffset_unit = \"fortnights\"\n",
                2,
                &["fortnights"],
            ),
            (
                "[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\n\n[[schedule.milestones]]\nkey = \"release\"\nname = \"Again\"\noffset = 1\n",
                1,
                &["schedule.milestones", "duplicate key \"release\""],
            ),
            (
                "[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\n\n[[schedule.milestones]]\nkey = \"retro\"\nname = \"Retro\"\noffset = -3\n",
                1,
                &["schedule.milestones[1]", "retro", "post-release", "before the release"],
            ),
            (
                "[[schedule.milestones]]\nkey = \"freeze\"\nname = \"Freeze\"\noffset = -3\n",
                1,
                &["schedule.milestones", "offset = 0"],
            ),
            (
                "[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\nwindows = [{ key = \"deploy\", name = \"Deploy\", start = \"09:00\", end = \"08:00\" }]\n",
                1,
                &["windows[0]", "before it starts"],
            ),
            (
                "[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\nwindows = [{ key = \"deploy\", name = \"Deploy\", start = \"25:00\", end = \"10:00\" }]\n",
                5,
                &["25:00", "HH:MM"],
            ),
            (
                "[schedule]\n\n[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\n\n[[schedule.milestones]]\nkey = \"retro\"\nname = \"Retro\"\noffset = 7\nduration = 0\n",
                3,
                &["schedule.milestones[1] (key = \"retro\")", "duration = 0"],
            ),
            (
                "[schedule]\non_call = { start = 3, end = -1 }\n",
                2,
                &["schedule.on_call"],
            ),
        ];
        for (text, line, words) in table {
            let err = parse(text).expect_err(text);
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.message.starts_with(&format!("c.toml:{line}:")),
                "expected line {line}: {}",
                err.message
            );
            for word in *words {
                assert!(
                    err.message.contains(word),
                    "{word:?} missing: {}",
                    err.message
                );
            }
        }
    }

    #[test]
    fn defaults_follow_their_own_rules() {
        check_milestones(&super::super::defaults::milestones()).unwrap();
    }
}
