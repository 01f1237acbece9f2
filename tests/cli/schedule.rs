//! The release calendar end to end: dates in timeline.md, release.ics read back with
//! an independent iCalendar parser, team allocation with CODEOWNERS, bad config.

use std::collections::BTreeMap;

use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
use predicates::prelude::*;

use crate::support::{json_of, stdout_of, TestRepo};

const YEAR_END: &str = r#"[project]
name = "acme"

[schedule]
holidays = [{ date = "2026-12-25", name = "Christmas Day" }, { start = "2026-12-28", end = "2026-12-31", name = "Year-end break" }]
freezes = [{ start = "2026-12-18", end = "2027-01-04", name = "Year-end change freeze" }]
"#;

fn repo_with(config: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.change("src/lib.rs", "feat: initial api");
    repo.tag("v1.3.0");
    repo.write(".relplan.toml", config);
    repo.change("src/api/search.rs", "feat(api): add search endpoint (#21)");
    repo.change("db/migrations/002.sql", "fix(db): index the search table");
    repo
}

/// Events of a calendar file by UID, read with the `icalendar` crate.
fn events(text: &str) -> BTreeMap<String, icalendar::Event> {
    let calendar: icalendar::Calendar = text.parse().expect("release.ics parses");
    calendar
        .components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some((e.get_uid().expect("UID").to_string(), e)),
            _ => None,
        })
        .collect()
}

fn day(e: &icalendar::Event) -> String {
    match e.get_start() {
        Some(DatePerhapsTime::Date(d)) => d.to_string(),
        other => panic!("expected an all-day event, got {other:?}"),
    }
}

#[test]
fn holiday_friday_release_shows_warnings_and_moved_milestones() {
    let repo = repo_with(YEAR_END);
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-25"])
            .assert()
            .success(),
    );
    // The summary: key dates with the moves, and the release-day warnings.
    assert!(out.contains("Key dates:"), "{out}");
    assert!(
        out.contains("Enhanced monitoring          2027-01-01 (Friday, moved from 2026-12-26)"),
        "{out}"
    );
    assert!(
        out.contains("2026-12-25 (Friday) is a holiday: Christmas Day"),
        "{out}"
    );
    assert!(out.contains("is a Friday: problems would surface"), "{out}");
    assert!(
        out.contains(
            "inside the change freeze \"Year-end change freeze\" (2026-12-18 to 2027-01-04)"
        ),
        "{out}"
    );

    let timeline = repo.read("releases/v1.4.0/schedule/timeline.md");
    assert!(
        timeline.contains("**Target release date:** 2026-12-25 (Friday)"),
        "{timeline}"
    );
    assert!(
        timeline.contains("| Code freeze | T-14 | 2026-12-11 (Friday) | Technical Lead |"),
        "{timeline}"
    );
    assert!(
        timeline.contains("| Enhanced monitoring | T+1 | 2027-01-01 (Friday) to 2027-01-05 (Tuesday) | DevOps Engineer | moved from Saturday 2026-12-26 (Saturday is not a working day) to the next working day |"),
        "{timeline}"
    );
    assert!(timeline.contains("## Schedule warnings"), "{timeline}");
    assert!(
        timeline.contains("- Holiday: Year-end break, 2026-12-28 to 2026-12-31"),
        "{timeline}"
    );
    assert!(timeline.contains("```mermaid\ngantt\n"), "{timeline}");
    assert!(
        timeline.contains("    Code freeze :2026-12-11, 2026-12-12\n"),
        "{timeline}"
    );
    assert!(
        timeline.contains("    Production release :crit, milestone, 2026-12-25, 0d\n"),
        "{timeline}"
    );
    assert!(
        timeline.contains("#### 07:00–07:30 UTC: Database migration"),
        "{timeline}"
    );
    assert!(timeline.contains("## Contingency"), "{timeline}");

    let risks = repo.read("releases/v1.4.0/risks/risk_assessment.md");
    assert!(risks.contains("is a holiday: Christmas Day"), "{risks}");

    // Scripts see the same facts in the Plan model.
    let plan = json_of(
        repo.relplan()
            .args([
                "plan",
                "1.4.0",
                "--date",
                "2026-12-25",
                "--dry-run",
                "--format",
                "json",
            ])
            .assert()
            .success(),
    );
    let monitoring = &plan["schedule"]["milestones"][6];
    assert_eq!(monitoring["key"], "monitoring");
    assert_eq!(monitoring["date"], "2027-01-01");
    assert_eq!(monitoring["moved_from"], "2026-12-26");
    assert_eq!(monitoring["phase"], "after");
    assert_eq!(plan["schedule"]["release_weekday"], "Friday");
    assert_eq!(plan["schedule"]["on_call"]["start"], "2026-12-24");
}

#[test]
fn release_ics_imports_as_one_event_per_milestone_and_window() {
    let repo = repo_with(YEAR_END);
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let text = repo.read("releases/v1.4.0/schedule/release.ics");

    // RFC 5545 §3.1: CRLF line ends, no line longer than 75 octets.
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(!line.contains('\n'), "bare LF in {line:?}");
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    assert!(text.contains("\r\n "), "long descriptions are folded");

    let first = events(&text);
    assert_eq!(first.len(), 8 + 6, "{:?}", first.keys());
    let freeze = &first["code-freeze.v1.4.0.acme@relplan"];
    assert_eq!(day(freeze), "2026-12-01");
    assert_eq!(freeze.get_summary(), Some("acme v1.4.0: Code freeze"));
    assert!(
        freeze
            .get_description()
            .unwrap()
            .contains("- Unit and integration tests green"),
        "{:?}",
        freeze.get_description()
    );
    assert_eq!(
        freeze.get_timestamp().unwrap().to_rfc3339(),
        "2026-12-01T09:00:00+00:00",
        "DTSTAMP is the planning time, not the wall clock"
    );
    let qa = &first["qa.v1.4.0.acme@relplan"];
    assert_eq!(day(qa), "2026-12-04", "Saturday T-10 moved to Friday");
    match qa.get_end() {
        Some(DatePerhapsTime::Date(d)) => assert_eq!(d.to_string(), "2026-12-09"),
        other => panic!("{other:?}"),
    }
    let migration = &first["release.migration.v1.4.0.acme@relplan"];
    match migration.get_start() {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => {
            assert_eq!(at.to_rfc3339(), "2026-12-15T07:00:00+00:00")
        }
        other => panic!("{other:?}"),
    }

    // A re-run on another day with a new date updates the same events (same UIDs).
    repo.relplan()
        .env("RELPLAN_NOW", "2026-12-03T10:00:00Z")
        .args(["plan", "1.4.0", "--date", "2026-12-17"])
        .assert()
        .success();
    let again = events(&repo.read("releases/v1.4.0/schedule/release.ics"));
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    assert_eq!(day(&again["release.v1.4.0.acme@relplan"]), "2026-12-17");
}

#[test]
fn release_day_windows_use_the_team_time_zone_across_dst() {
    let repo = repo_with("[project]\nname = \"acme\"\n[schedule]\ntimezone = \"Europe/Berlin\"\n");
    // Monday 2026-03-30: the day after Berlin moved to CEST (+02:00).
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-03-30"])
        .env("RELPLAN_NOW", "2026-03-01T09:00:00Z")
        .assert()
        .success();
    let text = repo.read("releases/v1.4.0/schedule/release.ics");
    assert!(
        text.contains("DTSTART;TZID=Europe/Berlin:20260330T060000\r\n"),
        "{text}"
    );

    let unfolded = icalendar::parser::unfold(&text);
    let parsed = icalendar::parser::read_calendar(&unfolded).expect("parses");
    let zone = parsed
        .components
        .iter()
        .find(|c| c.name == "VTIMEZONE")
        .expect("a VTIMEZONE for the TZID");
    assert_eq!(
        zone.find_prop("TZID").unwrap().val.as_str(),
        "Europe/Berlin"
    );
    let daylight = zone
        .components
        .iter()
        .find(|c| c.name == "DAYLIGHT")
        .expect("the March change");
    assert_eq!(
        daylight.find_prop("DTSTART").unwrap().val.as_str(),
        "20260329T020000"
    );
    assert_eq!(
        daylight.find_prop("TZOFFSETTO").unwrap().val.as_str(),
        "+0200"
    );

    let events = events(&text);
    match events["release.pre-deployment.v1.4.0.acme@relplan"].get_start() {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid })) => {
            assert_eq!(date_time.to_string(), "2026-03-30 06:00:00");
            assert_eq!(tzid, "Europe/Berlin");
        }
        other => panic!("{other:?}"),
    }

    let timeline = repo.read("releases/v1.4.0/schedule/timeline.md");
    assert!(
        timeline
            .contains("#### 06:00–07:00 Europe/Berlin (04:00–05:00 UTC): Pre-deployment checks"),
        "{timeline}"
    );
}

#[test]
fn compressed_schedule_lists_past_milestones_and_short_lead_time() {
    let repo = repo_with("");
    // Today is 2026-12-01 (support::NOW): a release on 12-08 leaves one week.
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-08"])
            .assert()
            .success(),
    );
    assert!(
        out.contains("compressed schedule: 2 of 8 milestones already past on 2026-12-01: Code freeze was due 2026-11-24 (7 days ago); QA and testing was due 2026-11-27 (4 days ago)"),
        "{out}"
    );
    assert!(out.contains("lead time is 7 days"), "{out}");
    let timeline = repo.read("releases/v1.4.0/schedule/timeline.md");
    assert!(timeline.contains("already 7 days past"), "{timeline}");
}

#[test]
fn team_allocation_names_people_on_call_dates_and_code_owners() {
    let repo = TestRepo::new();
    repo.change("README.md", "docs: readme");
    repo.tag("v1.3.0");
    repo.write(
        ".github/CODEOWNERS",
        "# owners\n*            @acme/everyone\n/src/api/    @acme/api @grace\n*.sql        @acme/dba\n/vendor/\n",
    );
    repo.write(
        ".relplan.toml",
        "[team.release_manager]\nname = \"Ada Lovelace\"\nbackup = \"Grace Hopper\"\ncontact = \"@ada\"\n\n[team.on_call_primary]\nname = \"Linus\"\n",
    );
    repo.commit("chore: owners and config");
    repo.change("src/api/search.rs", "feat(api): search");
    repo.change("src/api/index.rs", "feat(api): index");
    repo.change("db/migrations/002.sql", "fix(db): index");
    repo.change("vendor/lib.c", "build: vendor lib");

    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-15"])
            .assert()
            .success(),
    );
    let team = repo.read("releases/v1.4.0/resources/team_allocation.md");
    assert!(
        team.contains("| Release Manager | Ada Lovelace | Grace Hopper | @ada |"),
        "{team}"
    );
    assert!(
        team.contains("On call from **2026-12-14 (Monday)** to **2026-12-18 (Friday)**"),
        "{team}"
    );
    assert!(
        team.contains("- **Primary On-Call:** Linus (TBD), backup TBD"),
        "{team}"
    );
    assert!(
        team.contains("### Planning (T-14 to T-8): 2026-12-01 to 2026-12-07"),
        "{team}"
    );
    assert!(
        team.contains("From `.github/CODEOWNERS` (last matching rule wins), for the 6 files this release changes:"),
        "{team}"
    );
    assert!(
        team.contains("| @acme/api | 2 | `/src/api/` (2) |"),
        "{team}"
    );
    assert!(team.contains("| @grace | 2 | `/src/api/` (2) |"), "{team}");
    assert!(
        team.contains("| @acme/everyone | 2 | `*` (2) |"),
        "the CODEOWNERS file itself and .relplan.toml: {team}"
    );
    assert!(team.contains("| @acme/dba | 1 | `*.sql` (1) |"), "{team}");
    assert!(team.contains("1 changed file without an owner"), "{team}");
    assert!(team.contains("- `vendor/lib.c`"), "{team}");
    assert!(team.contains("| Ada Lovelace | 5 |"), "{team}");

    // Only what config left out is to fill in.
    assert!(!out.contains("team.release_manager"), "{out}");
    assert!(
        out.contains("  - team.on_call_primary (Primary On-Call): backup, contact"),
        "{out}"
    );
}

#[test]
fn without_codeowners_the_team_page_says_so() {
    let repo = repo_with("");
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let team = repo.read("releases/v1.4.0/resources/team_allocation.md");
    assert!(
        team.contains("The repository has no CODEOWNERS file"),
        "{team}"
    );
}

#[test]
fn bad_schedule_config_fails_with_key_and_line() {
    // (config, expected fragments of the error)
    let table: &[(&str, &[&str])] = &[
        (
            "[schedule]\ntimezone = \"Europe/Atlantis\"\n",
            &[".relplan.toml:2:", "schedule.timezone", "Europe/Atlantis"],
        ),
        (
            "[schedule]\nholidays = [{ date = \"2026-13-01\", name = \"Smarch\" }]\n",
            &[".relplan.toml:2:", "2026-13-01", "YYYY-MM-DD"],
        ),
        (
            "[schedule]\nfreezes = [\n  { start = \"2026-12-18\", end = \"2027-01-04\", name = \"Year end\" },\n  { start = \"2026-12-01\", end = \"2026-12-20\", name = \"Audit\" },\n]\n",
            &[".relplan.toml:2:", "schedule.freezes", "overlaps"],
        ),
    ];
    for (config, fragments) in table {
        let repo = repo_with(config);
        let assert = repo
            .relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-15"])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        for f in *fragments {
            assert!(err.contains(f), "{f:?} missing: {err}");
        }
        assert!(
            !repo.exists("releases"),
            "nothing written on a config error"
        );
    }
    let repo = repo_with(
        "[[schedule.milestones]]\nkey = \"release\"\nname = \"Release\"\noffset = 0\n\n[[schedule.milestones]]\nkey = \"release\"\nname = \"Again\"\noffset = 2\n",
    );
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("duplicate key \"release\""));
}
