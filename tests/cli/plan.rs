//! `relplan plan`: the whole directory, re-runs that keep edits, and bad input.

use predicates::prelude::*;

use crate::support::{json_of, stdout_of, TestRepo};

const DOCUMENTS: [&str; 8] = [
    "scope.md",
    "risks/risk_assessment.md",
    "planning/deployment_strategy.md",
    "schedule/timeline.md",
    "resources/team_allocation.md",
    "rollback/rollback_plan.md",
    "communications/internal_announcement.md",
    "communications/release_notes.md",
];

fn released_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.change("src/lib.rs", "feat: initial api");
    repo.tag("v1.3.0");
    repo.change("src/api.rs", "feat(api): add search endpoint (#21)");
    repo.change("src/fix.rs", "fix(auth): reject expired tokens");
    repo.change("src/odd.rs", "Tidy things up");
    repo
}

#[test]
fn plan_writes_every_document_filled_with_the_history() {
    let repo = released_repo();
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-15"])
            .assert()
            .success(),
    );
    assert!(out.contains("releases/v1.4.0"), "{out}");
    for doc in DOCUMENTS {
        assert!(
            repo.exists(&format!("releases/v1.4.0/{doc}")),
            "missing {doc}"
        );
    }
    assert!(repo.exists("releases/v1.4.0/metadata.json"));
    assert!(repo.exists("releases/v1.4.0/planning.log"));

    let scope = repo.read("releases/v1.4.0/scope.md");
    assert!(
        scope.contains("**api:** add search endpoint (`") && !scope.contains("(#21)"),
        "{scope}"
    );
    assert!(scope.contains("#21"), "{scope}");
    assert!(scope.contains("**auth:** reject expired tokens"), "{scope}");
    assert!(scope.contains("## Unclassified"), "{scope}");
    assert!(scope.contains("Tidy things up"), "{scope}");

    let timeline = repo.read("releases/v1.4.0/schedule/timeline.md");
    assert!(timeline.contains("2026-12-15"), "{timeline}");

    let rollback = repo.read("releases/v1.4.0/rollback/rollback_plan.md");
    assert!(rollback.contains("v1.3.0"), "{rollback}");

    let meta: serde_json::Value =
        serde_json::from_str(&repo.read("releases/v1.4.0/metadata.json")).unwrap();
    assert_eq!(meta["version"], "1.4.0");
    assert_eq!(meta["release_date"], "2026-12-15");
    assert_eq!(meta["planning_started"], "2026-12-01T09:00:00Z");
    assert_eq!(meta["status"], "planning");
    assert_eq!(meta["previous_tag"], "v1.3.0");
    assert_eq!(meta["suggested_version"], "1.4.0");
    assert_eq!(meta["counts"]["features"], 1);
    assert_eq!(meta["counts"]["fixes"], 1);
    assert_eq!(meta["counts"]["unclassified"], 1);
    assert!(meta["files"]["scope.md"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
}

/// Plans are shared documents: written like any new file (0666 less the umask), not
/// private like the temporary files they are written through; a mode a person set
/// on a document survives the next run.
#[cfg(unix)]
#[test]
fn documents_get_ordinary_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let repo = released_repo();
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let mode = |rel: &str| {
        std::fs::metadata(repo.path().join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    repo.write(
        "ordinary.txt",
        "written by std::fs::write, as any new file is",
    );
    let ordinary = mode("ordinary.txt");
    assert_eq!(ordinary & 0o044, 0o044, "umask too strict for this test");
    for doc in [
        "releases/v1.4.0/scope.md",
        "releases/v1.4.0/metadata.json",
        "releases/v1.4.0/planning.log",
    ] {
        assert_eq!(mode(doc), ordinary, "{doc}");
    }
    let scope = repo.path().join("releases/v1.4.0/scope.md");
    std::fs::set_permissions(&scope, std::fs::Permissions::from_mode(0o640)).unwrap();
    repo.change("src/more.rs", "fix: handle empty query");
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .success();
    assert!(repo
        .read("releases/v1.4.0/scope.md")
        .contains("handle empty query"));
    assert_eq!(mode("releases/v1.4.0/scope.md"), 0o640);
}

#[test]
fn version_defaults_to_the_suggestion() {
    let repo = released_repo();
    repo.relplan()
        .args(["plan", "--date", "2026-12-15"])
        .assert()
        .success();
    assert!(repo.exists("releases/v1.4.0/scope.md"));
}

#[test]
fn rerun_keeps_a_person_s_edits() {
    let repo = released_repo();
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let edited = "# My own scope notes\n";
    repo.write("releases/v1.4.0/scope.md", edited);
    let untouched_before = repo.read("releases/v1.4.0/schedule/timeline.md");

    // A new commit and a new date: untouched documents follow, edited ones stay.
    repo.change("src/more.rs", "fix: handle empty query");
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-16"])
            .assert()
            .success(),
    );
    assert_eq!(repo.read("releases/v1.4.0/scope.md"), edited);
    let fresh = repo.read("releases/v1.4.0/scope.md.new");
    assert!(fresh.contains("handle empty query"), "{fresh}");
    assert!(out.contains("scope.md") && out.contains(".new"), "{out}");
    let timeline = repo.read("releases/v1.4.0/schedule/timeline.md");
    assert_ne!(timeline, untouched_before);
    assert!(timeline.contains("2026-12-16"));
    // The first run's start is kept.
    let meta: serde_json::Value =
        serde_json::from_str(&repo.read("releases/v1.4.0/metadata.json")).unwrap();
    assert_eq!(meta["planning_started"], "2026-12-01T09:00:00Z");
    assert_eq!(repo.read("releases/v1.4.0/planning.log").lines().count(), 2);

    // --force overwrites.
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-16", "--force"])
        .assert()
        .success();
    assert!(repo
        .read("releases/v1.4.0/scope.md")
        .contains("handle empty query"));
}

#[test]
fn dry_run_writes_nothing() {
    let repo = released_repo();
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-15", "--dry-run"])
            .assert()
            .success(),
    );
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("scope.md"), "{out}");
    assert!(!repo.exists("releases"));
}

#[test]
fn json_format_prints_the_plan_model() {
    let repo = released_repo();
    let plan = json_of(
        repo.relplan()
            .args(["plan", "1.4.0", "--date", "2026-12-15", "--format", "json"])
            .assert()
            .success(),
    );
    assert_eq!(plan["version"], "1.4.0");
    assert_eq!(plan["tag"], "v1.4.0");
    assert_eq!(plan["previous"]["tag"], "v1.3.0");
    assert_eq!(plan["range"]["commits"], 3);
    assert_eq!(plan["scope"]["changes"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_is_exit_2_and_writes_nothing() {
    let repo = released_repo();
    for (args, needle) in [
        (vec!["plan", "1.4", "--date", "2026-12-15"], "\"1.4\""),
        (vec!["plan", "1.2.0", "--date", "2026-12-15"], "not greater"),
        (vec!["plan", "1.3.0", "--date", "2026-12-15"], "not greater"),
        (vec!["plan", "1.4.0", "--date", "2026-02-30"], "2026-02-30"),
        (vec!["plan", "1.4.0", "--date", "next week"], "next week"),
        (vec!["plan", "1.4.0"], "--date"),
        (
            vec!["plan", "1.4.0", "--date", "2026-12-15", "--to", "nope"],
            "\"nope\"",
        ),
    ] {
        repo.relplan()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(needle));
        assert!(!repo.exists("releases"), "{args:?} wrote files");
    }
}

#[test]
fn broken_config_names_file_line_and_key() {
    let repo = released_repo();
    repo.write(
        ".relplan.toml",
        "[release]\noutput_dir = \"plans\"\ncolour = \"blue\"\n",
    );
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15"])
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains(".relplan.toml:3:1").and(predicates::str::contains("colour")),
        );
    assert!(!repo.exists("plans") && !repo.exists("releases"));
}

#[test]
fn template_errors_name_the_template_and_line() {
    let repo = released_repo();
    let fails_at = |place: &str| {
        repo.relplan()
            .args([
                "plan",
                "1.4.0",
                "--date",
                "2026-12-15",
                "--templates",
                "tpl",
            ])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(place));
        assert!(!repo.exists("releases"));
    };
    repo.write("tpl/scope.md.j2", "# ok\n{{ plan.no_such_field }}\n");
    fails_at("scope.md.j2 line 2");
    // The last document failing: the others, already rendered, go too.
    repo.write("tpl/scope.md.j2", "# ok\n");
    repo.write("tpl/release_notes.md.j2", "{% for %}\n");
    fails_at("release_notes.md.j2 line 1");
    let left: Vec<String> = std::fs::read_dir(repo.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".relplan-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn custom_templates_override_one_file_at_a_time() {
    let repo = released_repo();
    repo.relplan()
        .args(["templates", "export", "tpl"])
        .assert()
        .success();
    repo.write("tpl/scope.md.j2", "Custom scope for {{ plan.tag }}\n");
    std::fs::remove_file(repo.path().join("tpl/timeline.md.j2")).unwrap();
    repo.relplan()
        .args([
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--templates",
            "tpl",
        ])
        .assert()
        .success();
    assert_eq!(
        repo.read("releases/v1.4.0/scope.md"),
        "Custom scope for v1.4.0\n"
    );
    assert!(repo
        .read("releases/v1.4.0/schedule/timeline.md")
        .contains("2026-12-15"));
}

#[test]
fn a_template_walks_a_change_like_a_map() {
    let repo = released_repo();
    // Each line ends in text: a newline right after a block tag is trimmed.
    repo.write(
        "tpl/scope.md.j2",
        "{% for section in plan.scope.sections %}{% for c in section.changes %}\
         {% for key in c %}{{ key }} {% endfor %}|\n\
         {% for key, value in c|items if key not in ['id', 'short_id', 'time'] %}{{ key }}={{ value }};{% endfor %}|\n\
         {{ c|length }} {{ c.authors|join(',') }} {{ c.description|strip_pr }}\n\
         {% endfor %}{% endfor %}",
    );
    repo.relplan()
        .args([
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--templates",
            "tpl",
        ])
        .assert()
        .success();
    let scope = repo.read("releases/v1.4.0/scope.md");
    let lines: Vec<&str> = scope.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "id summary conventional type scope breaking description category pr authors \
             short_id breaking_note time subject classified_by note |",
            "summary=feat(api): add search endpoint (#21);conventional=True;type=feat;scope=api;\
             breaking=False;description=add search endpoint (#21);category=features;pr=21;\
             authors=[\"Ada Lovelace\"];breaking_note=None;\
             subject=feat(api): add search endpoint (#21);classified_by=type;note=None;|",
            "16 Ada Lovelace add search endpoint",
        ],
        "{scope}"
    );
    assert_eq!(lines[8], "16 Ada Lovelace None", "{scope}");
}

#[test]
fn non_utf8_messages_and_authors_are_read_lossily() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: start");
    repo.tag("v0.1.0");
    repo.write("b.txt", "x");
    repo.git(&["add", "-A"]);
    let mut cmd = repo.git_command();
    cmd.env("GIT_AUTHOR_NAME", std::ffi::OsStr::new("Ren\u{e9}e"));
    // Latin-1 bytes that are not UTF-8.
    let message = b"fix: caf\xe9 cr\xe8me\n";
    std::fs::write(repo.path().join(".git/MSG"), message).unwrap();
    let status = cmd
        .args(["commit", "-q", "-F", ".git/MSG"])
        .status()
        .unwrap();
    assert!(status.success());
    let out = stdout_of(
        repo.relplan()
            .args(["scope", "--format", "json"])
            .assert()
            .success(),
    );
    assert!(out.contains("fix: caf"), "{out}");
    repo.relplan()
        .args(["plan", "--date", "2026-12-15"])
        .assert()
        .success();
    assert!(repo.read("releases/v0.1.1/scope.md").contains("caf"));
}

#[test]
fn init_writes_the_example_once() {
    let repo = released_repo();
    repo.relplan().arg("init").assert().success();
    assert!(repo.read(".relplan.toml").contains("[release]"));
    repo.relplan()
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    // The written example is a valid config.
    repo.relplan()
        .args(["plan", "1.4.0", "--date", "2026-12-15", "--dry-run"])
        .assert()
        .success();
}

#[test]
fn first_release_without_tags_says_so() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: first feature");
    repo.change("b.txt", "fix: first fix");
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "--date", "2026-12-15"])
            .assert()
            .success(),
    );
    assert!(out.contains("v0.1.0"), "{out}");
    assert!(out.contains("starts at the root commit"), "{out}");
    let scope = repo.read("releases/v0.1.0/scope.md");
    assert!(scope.contains("the root commit"), "{scope}");
    let rollback = repo.read("releases/v0.1.0/rollback/rollback_plan.md");
    assert!(rollback.contains("first release"), "{rollback}");
}

#[test]
fn merged_branches_are_in_the_range_and_merge_commits_are_not_features() {
    let repo = released_repo();
    repo.git(&["checkout", "-q", "-b", "topic"]);
    let topic = repo.change("src/topic.rs", "feat(search): fuzzy matching");
    repo.git(&["checkout", "-q", "main"]);
    repo.change("src/main_line.rs", "fix: main line fix");
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge branch 'topic'",
    ]);
    let json = repo.scope_json();
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        6,
        "3 before, topic, main fix, merge: {changes:?}"
    );
    let merge = &changes[0];
    assert_eq!(merge["summary"], "Merge branch 'topic'");
    assert_eq!(merge["category"], "skipped");
    assert!(changes
        .iter()
        .any(|c| c["id"] == topic && c["category"] == "features"));
}

#[test]
fn past_dates_and_empty_ranges_are_warnings_not_failures() {
    let repo = released_repo();
    repo.tag("v1.4.0");
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.4.1", "--date", "2026-11-20"])
            .assert()
            .success(),
    );
    assert!(out.contains("is in the past"), "{out}");
    assert!(out.contains("is empty"), "{out}");
}

#[test]
fn out_flag_moves_the_plan_folder() {
    let repo = released_repo();
    repo.relplan()
        .args([
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--out",
            "docs/plans",
        ])
        .assert()
        .success();
    assert!(repo.exists("docs/plans/v1.4.0/scope.md"));
    assert!(!repo.exists("releases"));
}
