//! Schedule engine tests: dates, moves and warnings with an injected "today".

use super::*;
use crate::config::Config;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn config(toml: &str) -> ScheduleConfig {
    Config::parse(toml, std::path::Path::new("t.toml"))
        .unwrap()
        .schedule
}

const YEAR_END: &str = r#"[schedule]
holidays = [{ date = "2026-12-25", name = "Christmas Day" }, { start = "2026-12-28", end = "2026-12-31", name = "Year-end break" }]
freezes = [{ start = "2026-12-18", end = "2027-01-04", name = "Year-end change freeze" }]
"#;

fn dates(s: &Schedule) -> Vec<(&str, String)> {
    s.milestones
        .iter()
        .map(|m| (m.key.as_str(), m.date.to_string()))
        .collect()
}

#[test]
fn default_milestones_on_a_tuesday_release() {
    let s = build(d("2026-12-15"), d("2026-11-20"), &ScheduleConfig::default());
    assert_eq!(
        dates(&s),
        vec![
            ("code-freeze", "2026-12-01".into()),
            ("qa", "2026-12-04".into()), // T-10 is Saturday 12-05: moved back to Friday
            ("staging", "2026-12-08".into()),
            ("uat", "2026-12-10".into()),
            ("approval", "2026-12-11".into()), // T-2 is Sunday 12-13: moved back
            ("release", "2026-12-15".into()),
            ("monitoring", "2026-12-16".into()),
            ("retrospective", "2026-12-22".into()),
        ]
    );
    let qa = &s.milestones[1];
    assert_eq!(qa.moved_from, Some(d("2026-12-05")));
    assert_eq!(qa.weekday, "Friday");
    assert!(
        qa.moved_note
            .as_deref()
            .unwrap()
            .contains("Saturday 2026-12-05"),
        "{:?}",
        qa.moved_note
    );
    assert_eq!(
        qa.end_date,
        d("2026-12-08"),
        "3 working days: Fri, Mon, Tue"
    );
    assert_eq!(qa.gantt_end, d("2026-12-09"));
    assert_eq!(qa.owner, "QA Lead");
    assert_eq!(qa.owner_role.as_deref(), Some("qa_lead"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.on_call.start, d("2026-12-14"));
    assert_eq!(s.on_call.end, d("2026-12-18"));
}

#[test]
fn holiday_friday_release_warns_and_moves_milestones() {
    let s = build(d("2026-12-25"), d("2026-12-01"), &config(YEAR_END));
    let all = s.warnings.join("\n");
    assert!(
        all.contains("2026-12-25 (Friday) is a holiday: Christmas Day"),
        "{all}"
    );
    assert!(all.contains("is a Friday"), "{all}");
    assert!(
        all.contains("inside the change freeze \"Year-end change freeze\""),
        "{all}"
    );
    // T+1 = Saturday 12-26 → over the weekend and the year-end break to Friday 2027-01-01.
    let monitoring = s.milestones.iter().find(|m| m.key == "monitoring").unwrap();
    assert_eq!(monitoring.date, d("2027-01-01"));
    assert_eq!(monitoring.moved_from, Some(d("2026-12-26")));
    // T+7 = Friday 2027-01-01 is a working day.
    let retro = s
        .milestones
        .iter()
        .find(|m| m.key == "retrospective")
        .unwrap();
    assert_eq!(retro.date, d("2027-01-01"));
    assert_eq!(retro.moved_from, None);
    // T-2 = Wednesday 12-23: unchanged. T-14 = Friday 12-11.
    assert_eq!(s.milestones[0].date, d("2026-12-11"));
    assert_eq!(s.holidays.len(), 2);
    assert_eq!(s.freezes.len(), 1);
}

#[test]
fn release_day_warning_table() {
    let cal = config(YEAR_END);
    // (release, expected warning fragments, unexpected)
    let table: &[(&str, &[&str], &[&str])] = &[
        (
            "2026-12-15",
            &[],
            &["Friday", "holiday", "freeze", "not a working day"],
        ),
        ("2026-12-11", &["is a Friday"], &["holiday", "freeze"]),
        (
            "2026-12-12",
            &["is a Saturday, not a working day"],
            &["Friday"],
        ),
        (
            "2026-12-29",
            &["holiday: Year-end break", "change freeze"],
            &["Friday"],
        ),
        ("2026-12-21", &["change freeze"], &["holiday"]),
    ];
    for (release, want, not) in table {
        let s = build(d(release), d("2026-11-01"), &cal);
        let all = s.warnings.join("\n");
        for w in *want {
            assert!(all.contains(w), "{release}: {w:?} missing in {all}");
        }
        for w in *not {
            assert!(!all.contains(w), "{release}: {w:?} unexpected in {all}");
        }
    }
}

#[test]
fn compressed_schedule_names_past_milestones_and_lateness() {
    let s = build(d("2026-12-15"), d("2026-12-09"), &ScheduleConfig::default());
    let all = s.warnings.join("\n");
    assert!(
        all.contains("compressed schedule: 3 of 8 milestones already past on 2026-12-09"),
        "{all}"
    );
    assert!(
        all.contains("Code freeze was due 2026-12-01 (8 days ago)"),
        "{all}"
    );
    assert!(
        all.contains("QA and testing was due 2026-12-04 (5 days ago)"),
        "{all}"
    );
    assert!(
        all.contains("Staging deployment was due 2026-12-08 (1 day ago)"),
        "{all}"
    );
    assert!(!all.contains("User acceptance"), "{all}");
    assert!(
        all.contains("lead time is 6 days (today 2026-12-09 to the release 2026-12-15), shorter than the 14 days"),
        "{all}"
    );
    let freeze = &s.milestones[0];
    assert_eq!(freeze.days_past, 8);
}

#[test]
fn past_release_date_is_one_warning() {
    let s = build(d("2026-11-15"), d("2026-12-01"), &ScheduleConfig::default());
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("2026-11-15 is in the past")),
        "{:?}",
        s.warnings
    );
    assert!(!s.warnings.iter().any(|w| w.contains("compressed")));
}

#[test]
fn business_day_offsets_skip_weekends_and_holidays() {
    let cfg = config(&format!("{YEAR_END}offset_unit = \"business\"\n"));
    let s = build(d("2027-01-05"), d("2026-11-01"), &cfg);
    let get = |k: &str| s.milestones.iter().find(|m| m.key == k).unwrap();
    // Working days before Tue 2027-01-05: Mon 01-04, Fri 01-01, Thu 12-24, Wed 12-23, Tue 12-22.
    assert_eq!(get("approval").date, d("2027-01-01"));
    assert_eq!(get("uat").date, d("2026-12-22"));
    assert_eq!(get("monitoring").date, d("2027-01-06"));
    assert_eq!(
        get("monitoring").end_date,
        d("2027-01-08"),
        "3 working days"
    );
    assert!(s.milestones.iter().all(|m| m.moved_from.is_none()));
}

#[test]
fn windows_follow_the_time_zone_across_dst() {
    let cfg = config("[schedule]\ntimezone = \"Europe/Berlin\"\n");
    // (release day, pre-deployment start in UTC): CET is +01:00, CEST +02:00.
    let table = [
        ("2026-03-27", "2026-03-27T05:00:00Z", "+01:00"),
        ("2026-03-30", "2026-03-30T04:00:00Z", "+02:00"),
        ("2026-10-23", "2026-10-23T04:00:00Z", "+02:00"),
        ("2026-10-26", "2026-10-26T05:00:00Z", "+01:00"),
    ];
    for (day, utc, offset) in table {
        let s = build(d(day), d("2026-01-01"), &cfg);
        let release = s.milestones.iter().find(|m| m.key == "release").unwrap();
        let w = &release.windows[0];
        assert_eq!(w.start, "06:00");
        assert_eq!(
            w.start_utc
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            utc,
            "{day}"
        );
        assert_eq!(w.utc_offset, offset, "{day}");
    }
}

#[test]
fn window_in_a_dst_gap_starts_after_it_and_warns() {
    let cfg = config(
        "[schedule]\ntimezone = \"Europe/Berlin\"\n[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\nwindows = [{ key = \"night\", name = \"Night deploy\", start = \"02:30\", end = \"04:00\" }]\n",
    );
    // Sunday 2026-03-29: 02:00 → 03:00 in Berlin.
    let s = build(d("2026-03-29"), d("2026-01-01"), &cfg);
    let w = &s.milestones[0].windows[0];
    assert_eq!(
        w.start_utc
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "2026-03-29T01:00:00Z"
    );
    assert_eq!(
        w.end_utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "2026-03-29T02:00:00Z"
    );
    assert!(
        s.warnings.iter().any(|x| x.contains("skips")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn custom_milestones_replace_the_defaults() {
    let cfg = config(
        "[[schedule.milestones]]\nkey = \"freeze\"\nname = \"Freeze: all\"\noffset = -3\nowner = \"Platform team\"\n\n[[schedule.milestones]]\nkey = \"ship\"\nname = \"Ship\"\noffset = 0\n",
    );
    let s = build(d("2026-12-15"), d("2026-12-01"), &cfg);
    assert_eq!(
        dates(&s),
        vec![
            ("freeze", "2026-12-11".into()),
            ("ship", "2026-12-15".into())
        ]
    );
    assert_eq!(s.milestones[0].owner, "Platform team");
    assert_eq!(s.milestones[0].owner_role, None);
    assert_eq!(s.milestones[0].gantt_label, "Freeze all");
    assert_eq!(s.milestones[1].owner, "TBD");
}
