//! The working calendar: which days count as working days (weekdays, holidays), which
//! days sit inside a change freeze, and day arithmetic on top of that. Pure.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Serialize;

/// Guard for every day-by-day walk: ten years without a working day means the
/// configuration leaves no working day at all.
const MAX_WALK: i64 = 3660;

/// A named day or range of days (inclusive) off work or under a change freeze.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub name: String,
}

impl DayRange {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    pub fn overlaps(&self, start: NaiveDate, end: NaiveDate) -> bool {
        self.start <= end && start <= self.end
    }
}

/// Why a day is not a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOff {
    Weekend(Weekday),
    Holiday(String),
}

impl DayOff {
    pub fn describe(&self) -> String {
        match self {
            DayOff::Weekend(day) => format!("{} is not a working day", weekday_name(*day)),
            DayOff::Holiday(name) => format!("holiday: {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub working_days: Vec<Weekday>,
    pub holidays: Vec<DayRange>,
    pub freezes: Vec<DayRange>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            working_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays: Vec::new(),
            freezes: Vec::new(),
        }
    }
}

impl Calendar {
    /// `None` for a working day, else the reason it is not one (a holiday wins over a weekend).
    pub fn day_off(&self, day: NaiveDate) -> Option<DayOff> {
        if let Some(h) = self.holidays.iter().find(|h| h.contains(day)) {
            return Some(DayOff::Holiday(h.name.clone()));
        }
        if !self.working_days.contains(&day.weekday()) {
            return Some(DayOff::Weekend(day.weekday()));
        }
        None
    }

    pub fn is_working(&self, day: NaiveDate) -> bool {
        self.day_off(day).is_none()
    }

    pub fn freeze_at(&self, day: NaiveDate) -> Option<&DayRange> {
        self.freezes.iter().find(|f| f.contains(day))
    }

    /// The nearest working day from `day` (inclusive) walking in `step` (+1 or -1) direction.
    pub fn nearest_working(&self, day: NaiveDate, step: i64) -> Option<NaiveDate> {
        let mut d = day;
        for _ in 0..MAX_WALK {
            if self.is_working(d) {
                return Some(d);
            }
            d = d.checked_add_signed(Duration::days(step))?;
        }
        None
    }

    /// The day `n` working days away from `from` (not counting `from` itself);
    /// `n` = 0 is `from`. Negative `n` counts backwards.
    pub fn add_working_days(&self, from: NaiveDate, n: i64) -> Option<NaiveDate> {
        if n == 0 {
            return Some(from);
        }
        let step = n.signum();
        let mut left = n.abs();
        let mut d = from;
        let mut walked = 0;
        while left > 0 {
            d = d.checked_add_signed(Duration::days(step))?;
            walked += 1;
            if walked > MAX_WALK + n.abs() {
                return None;
            }
            if self.is_working(d) {
                left -= 1;
            }
        }
        Some(d)
    }
}

pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn year_end() -> Calendar {
        Calendar {
            holidays: vec![
                DayRange {
                    start: d("2026-12-25"),
                    end: d("2026-12-25"),
                    name: "Christmas Day".into(),
                },
                DayRange {
                    start: d("2026-12-28"),
                    end: d("2026-12-31"),
                    name: "Year-end break".into(),
                },
            ],
            freezes: vec![DayRange {
                start: d("2026-12-18"),
                end: d("2027-01-04"),
                name: "Year-end change freeze".into(),
            }],
            ..Calendar::default()
        }
    }

    #[test]
    fn working_days_table() {
        let cal = year_end();
        // (day, working?, reason)
        let table: [(&str, bool, Option<DayOff>); 7] = [
            ("2026-12-24", true, None),
            (
                "2026-12-25",
                false,
                Some(DayOff::Holiday("Christmas Day".into())),
            ),
            ("2026-12-26", false, Some(DayOff::Weekend(Weekday::Sat))),
            ("2026-12-27", false, Some(DayOff::Weekend(Weekday::Sun))),
            (
                "2026-12-29",
                false,
                Some(DayOff::Holiday("Year-end break".into())),
            ),
            (
                "2026-12-31",
                false,
                Some(DayOff::Holiday("Year-end break".into())),
            ),
            ("2027-01-01", true, None),
        ];
        for (day, working, reason) in table {
            assert_eq!(cal.is_working(d(day)), working, "{day}");
            assert_eq!(cal.day_off(d(day)), reason, "{day}");
        }
    }

    #[test]
    fn nearest_working_day_table() {
        let cal = year_end();
        // (day, direction, expected)
        let table = [
            ("2026-12-25", -1, "2026-12-24"),
            ("2026-12-25", 1, "2027-01-01"),
            ("2026-12-27", -1, "2026-12-24"),
            ("2026-12-05", 1, "2026-12-07"),
            ("2026-12-05", -1, "2026-12-04"),
            ("2026-12-07", -1, "2026-12-07"),
        ];
        for (day, step, want) in table {
            assert_eq!(
                cal.nearest_working(d(day), step),
                Some(d(want)),
                "{day} {step}"
            );
        }
    }

    #[test]
    fn business_day_offsets_table() {
        let cal = year_end();
        // (from, n, expected)
        let table = [
            ("2026-12-15", -1, "2026-12-14"),
            ("2026-12-15", -2, "2026-12-11"),
            ("2026-12-15", -10, "2026-12-01"),
            ("2026-12-15", 0, "2026-12-15"),
            ("2026-12-24", 1, "2027-01-01"),
            ("2027-01-04", -1, "2027-01-01"),
            ("2027-01-04", -2, "2026-12-24"),
            ("2026-12-19", -1, "2026-12-18"),
        ];
        for (from, n, want) in table {
            assert_eq!(
                cal.add_working_days(d(from), n),
                Some(d(want)),
                "{from} {n}"
            );
        }
    }

    #[test]
    fn custom_working_week() {
        let cal = Calendar {
            working_days: vec![
                Weekday::Sun,
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
            ],
            ..Calendar::default()
        };
        assert!(cal.is_working(d("2026-12-06")), "Sunday works");
        assert!(!cal.is_working(d("2026-12-04")), "Friday is off");
        assert_eq!(
            cal.nearest_working(d("2026-12-05"), -1),
            Some(d("2026-12-03"))
        );
    }

    #[test]
    fn freeze_lookup() {
        let cal = year_end();
        assert_eq!(
            cal.freeze_at(d("2026-12-18")).map(|f| f.name.as_str()),
            Some("Year-end change freeze")
        );
        assert!(cal.freeze_at(d("2026-12-17")).is_none());
        assert!(cal.freeze_at(d("2027-01-05")).is_none());
    }

    #[test]
    fn no_working_day_at_all_is_none_not_a_hang() {
        let cal = Calendar {
            working_days: vec![],
            ..Calendar::default()
        };
        assert_eq!(cal.nearest_working(d("2026-12-05"), 1), None);
        assert_eq!(cal.add_working_days(d("2026-12-05"), 3), None);
    }
}
