//! The release calendar: milestone dates from the release date. Pure: "today" is
//! passed in, never read from the clock here.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[schedule]` in `.relplan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Days from today to the release when `--date` is not given.
    pub lead_days: Option<i64>,
}

impl ScheduleConfig {
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
}

/// One dated step of the release.
#[derive(Debug, Clone, Serialize)]
pub struct Milestone {
    pub key: String,
    pub name: String,
    /// Days relative to the release (negative: before).
    pub offset: i64,
    pub date: NaiveDate,
    pub weekday: String,
    pub owner: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub release_date: NaiveDate,
    pub milestones: Vec<Milestone>,
    pub warnings: Vec<String>,
}

const DEFAULT_MILESTONES: [(&str, &str, i64, &str); 9] = [
    ("code-freeze", "Code freeze", -14, "Engineering Team"),
    ("qa", "QA start", -10, "QA Team"),
    ("staging", "Staging deployment", -7, "DevOps + Product Team"),
    ("uat", "User acceptance testing", -5, "Product Team"),
    ("approval", "Change approval (CAB)", -2, "Release Manager"),
    ("release", "Production release", 0, "DevOps Team"),
    ("monitoring", "Enhanced monitoring", 1, "DevOps + Support"),
    ("stability", "Stability period ends", 3, "Engineering Team"),
    (
        "retrospective",
        "Release retrospective",
        7,
        "Release Manager",
    ),
];

/// Builds the schedule for `release_date`, warning about dates already past on `today`.
pub fn build(release_date: NaiveDate, today: NaiveDate, _config: &ScheduleConfig) -> Schedule {
    let milestones: Vec<Milestone> = DEFAULT_MILESTONES
        .iter()
        .map(|&(key, name, offset, owner)| {
            let date = release_date + Duration::days(offset);
            Milestone {
                key: key.into(),
                name: name.into(),
                offset,
                date,
                weekday: date.weekday().to_string(),
                owner: owner.into(),
            }
        })
        .collect();
    let mut warnings = Vec::new();
    if release_date < today {
        warnings.push(format!(
            "the release date {release_date} is in the past (today is {today})"
        ));
    } else {
        let past: Vec<String> = milestones
            .iter()
            .filter(|m| m.date < today)
            .map(|m| format!("{} ({})", m.name, m.date))
            .collect();
        if !past.is_empty() {
            warnings.push(format!(
                "compressed schedule: already past: {}",
                past.join(", ")
            ));
        }
    }
    Schedule {
        release_date,
        milestones,
        warnings,
    }
}
