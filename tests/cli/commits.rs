//! Classification and versions on real histories: reverts, `git merge --no-ff`,
//! squash subjects, fixups, rules, the path fallback, 0.x and prerelease tags.

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{stdout_of, TestRepo};

fn scope_json(repo: &TestRepo) -> Vec<Value> {
    let json = repo.scope_json();
    json["changes"].as_array().cloned().unwrap_or_default()
}

fn change<'a>(changes: &'a [Value], id: &str) -> &'a Value {
    changes
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {changes:#?}"))
}

fn next_version(repo: &TestRepo, args: &[&str]) -> (String, String) {
    let assert = repo
        .relplan()
        .arg("next-version")
        .args(args)
        .assert()
        .success();
    let out = assert.get_output();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_revert_in_the_range_cancels_its_commit() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.0.0");
    let search = repo.change("search.rs", "feat(search)!: replace the query syntax");
    let fix = repo.change("b.txt", "fix: keep me");
    let revert = repo.git_commit_step(&["revert", "--no-edit", &search]);

    let changes = scope_json(&repo);
    assert_eq!(change(&changes, &search)["category"], "reverted");
    assert_eq!(change(&changes, &revert)["category"], "reverted");
    assert_eq!(change(&changes, &fix)["category"], "fixes");

    // Neither counts toward the version: only the fix is left.
    let (out, err) = next_version(&repo, &[]);
    assert_eq!(out, "1.0.1\n");
    assert!(
        err.contains("no breaking changes or features → patch: 1.0.0 → 1.0.1"),
        "{err}"
    );

    repo.relplan()
        .args(["plan", "1.0.1", "--date", "2026-12-15"])
        .assert()
        .success();
    let scope = repo.read("releases/v1.0.1/scope.md");
    let reverted = scope
        .split("## Reverted within this release")
        .nth(1)
        .unwrap_or_else(|| panic!("no reverted section:\n{scope}"));
    assert!(reverted.contains("replace the query syntax"), "{scope}");
    assert!(
        reverted.contains(&format!("reverted by {}", &revert[..7])),
        "{scope}"
    );
    assert!(!scope.contains("## Breaking changes"), "{scope}");
}

#[test]
fn a_revert_of_an_earlier_release_is_a_change_of_its_own() {
    let repo = TestRepo::new();
    let old = repo.change("a.txt", "feat: export to csv");
    repo.tag("v1.0.0");
    let revert = repo.git_commit_step(&["revert", "--no-edit", &old]);
    let changes = scope_json(&repo);
    let c = change(&changes, &revert);
    assert_eq!(c["category"], "features");
    assert_eq!(c["summary"], "Revert \"feat: export to csv\"");
}

#[test]
fn merge_commits_take_the_pull_request_title_or_are_skipped() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.0.0");
    repo.git(&["checkout", "-q", "-b", "octo/search"]);
    let wip = repo.change("search.rs", "feat(search): add search");
    repo.git(&["checkout", "-q", "main"]);
    repo.change("main.txt", "fix: on main");
    let pr = repo.git_commit_step(&[
        "merge",
        "--no-ff",
        "-q",
        "octo/search",
        "-m",
        "Merge pull request #42 from octo/search",
        "-m",
        "feat(search): add full-text search",
    ]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.change("t.txt", "docs: topic notes");
    repo.git(&["checkout", "-q", "main"]);
    let plain = repo.git_commit_step(&["merge", "--no-ff", "-q", "--no-edit", "topic"]);

    let changes = scope_json(&repo);
    let merged = change(&changes, &pr);
    assert_eq!(merged["category"], "features");
    assert_eq!(merged["pr"], 42);
    assert_eq!(merged["summary"], "feat(search): add full-text search");
    assert_eq!(merged["scope"], "search");
    // The branch's own commit is listed by the merge, not twice.
    let branch = change(&changes, &wip);
    assert_eq!(branch["category"], "skipped");
    assert_eq!(
        branch["note"],
        format!("in pull request #42, listed as {}", &pr[..7])
    );
    let structural = change(&changes, &plain);
    assert_eq!(structural["category"], "skipped");
    assert!(structural["summary"]
        .as_str()
        .unwrap()
        .starts_with("Merge branch 'topic'"));

    // Configurable: keep structural merges in the scope.
    repo.write(".relplan.toml", "[commits]\nskip_merge_commits = false\n");
    let changes = scope_json(&repo);
    assert_eq!(change(&changes, &plain)["category"], "unclassified");
}

#[test]
fn squash_subjects_fixups_and_co_authors() {
    let repo = TestRepo::new();
    repo.change("a.txt", "chore: base");
    repo.tag("v2.1.0");
    let squash = repo.change(
        "b.txt",
        "fix(parser): accept trailing commas (#311)\n\n* wip\n* more\n\nCo-authored-by: Grace Hopper <grace@example.com>\n",
    );
    let fixup = repo.change("b.txt", "fixup! fix(parser): accept trailing commas (#311)");
    let orphan = repo.change("c.txt", "squash! feat: from another branch");

    let changes = scope_json(&repo);
    let s = change(&changes, &squash);
    assert_eq!(s["pr"], 311);
    assert_eq!(s["category"], "fixes");
    assert_eq!(
        s["authors"],
        serde_json::json!(["Ada Lovelace", "Grace Hopper"])
    );
    let f = change(&changes, &fixup);
    assert_eq!(f["category"], "skipped");
    assert_eq!(f["note"], format!("folded into {}", &squash[..7]));
    let o = change(&changes, &orphan);
    assert_eq!(o["category"], "skipped");
    assert!(o["note"].as_str().unwrap().contains("not in this range"));
}

#[test]
fn messy_messages_are_read_forgivingly() {
    let repo = TestRepo::new();
    repo.change("a.txt", "chore: base");
    repo.tag("v1.0.0");
    let crlf = repo.change(
        "b.txt",
        "\r\nFeat(Config):  load profiles  \r\n\r\nBody.\r\n\r\nBREAKING CHANGE: `profile` is now a table.\r\n",
    );
    let lower = repo.change(
        "c.txt",
        "fix: x\n\nbreaking change: not a footer in lower case\n",
    );
    let changes = scope_json(&repo);
    let c = change(&changes, &crlf);
    assert_eq!(c["type"], "feat");
    assert_eq!(c["scope"], "Config");
    assert_eq!(c["description"], "load profiles");
    assert_eq!(c["breaking"], true);
    assert_eq!(c["breaking_note"], "`profile` is now a table.");
    assert_eq!(change(&changes, &lower)["breaking"], false);

    repo.relplan()
        .args(["plan", "2.0.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let scope = repo.read("releases/v2.0.0/scope.md");
    let breaking = scope.split("## Breaking changes").nth(1).unwrap();
    assert!(
        breaking.contains("**Migration:** `profile` is now a table."),
        "{scope}"
    );
    assert!(scope.contains("2.0.0 (1 breaking change ("), "{scope}");
}

#[test]
fn configured_rules_and_the_path_fallback() {
    let repo = TestRepo::new();
    repo.change("a.txt", "chore: base");
    repo.tag("v1.0.0");
    repo.write(
        ".relplan.toml",
        r#"[commits]
aliases = { story = "feat" }
[[commits.rules]]
subject = '^chore\(release\)'
skip = true
[[commits.rules]]
subject = '^Terraform'
category = "infrastructure"
"#,
    );
    repo.commit("chore: add config");
    let release = repo.change("CHANGELOG.md", "chore(release): 1.0.0");
    let infra = repo.change("infra/main.tf", "Terraform: bigger nodes");
    let story = repo.change("s.rs", "story: onboarding flow");
    let guide = repo.change("docs/guide.md", "Reword the install guide");
    let tests = repo.change("tests/more.rs", "Add cases for empty input");
    let odd = repo.change("src/odd.rs", "Tidy things up");

    let changes = scope_json(&repo);
    assert_eq!(change(&changes, &release)["category"], "skipped");
    assert_eq!(change(&changes, &infra)["category"], "infrastructure");
    assert_eq!(change(&changes, &story)["type"], "feat");
    assert_eq!(change(&changes, &story)["category"], "features");
    assert_eq!(change(&changes, &guide)["category"], "documentation");
    assert_eq!(change(&changes, &guide)["classified_by"], "paths");
    assert_eq!(change(&changes, &tests)["category"], "tests");
    assert_eq!(change(&changes, &odd)["category"], "unclassified");

    // A plan lists the custom category as its own section.
    repo.relplan()
        .args(["plan", "1.1.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let scope = repo.read("releases/v1.1.0/scope.md");
    assert!(scope.contains("## Infrastructure"), "{scope}");
}

#[test]
fn the_path_fallback_answers_the_same_from_a_helper_process() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: base");
    repo.tag("v1.0.0");
    let mut docs = Vec::new();
    let mut tests = Vec::new();
    let mut other = Vec::new();
    for i in 0..4 {
        docs.push(repo.change(&format!("docs/page{i}.md"), &format!("Reword page {i}")));
        tests.push(repo.change(&format!("tests/case{i}.rs"), &format!("Cover case {i}")));
        other.push(repo.change(&format!("src/m{i}.rs"), &format!("Tidy module {i}")));
    }
    repo.git(&["rm", "-q", "docs/page0.md"]);
    docs.push(repo.commit("Drop the first page"));
    // Several files: a diff may stop at `src/` (no rule can match all three paths any
    // more), and must still leave the commit unclassified; all-documentation files
    // are listed in full.
    repo.write("docs/page9.md", "9")
        .write("src/m9.rs", "9")
        .write("tests/case9.rs", "9");
    other.push(repo.commit("Touch docs, code and tests"));
    repo.write("docs/page8.md", "8")
        .write("guide/intro.md", "8")
        .write("NOTES.md", "8");
    docs.push(repo.commit("Rework the guides"));
    repo.change("src/lib.rs", "feat: conventional, never diffed");

    let scope = |env: &[(&str, &str)]| {
        let output = repo
            .relplan()
            .env("CI", "true")
            .envs(env.iter().copied())
            .args(["scope", "--format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        (String::from_utf8(output.stdout).unwrap(), log)
    };
    let helper = ("RELPLAN_HELPER_MIN", "1");
    let (helped, log) = scope(&[helper]);
    assert!(
        log.contains("path fallback: 15 commits diffed, 15 of them by a helper process"),
        "{log}"
    );
    // A helper kept two requests ahead: most requests wait in its backlog until the
    // walk ends, then this process and the helper share them.
    let (shared, log) = scope(&[helper, ("RELPLAN_HELPER_AHEAD", "2")]);
    assert!(log.contains("path fallback: 15 commits diffed, "), "{log}");
    assert!(!log.contains(", 0 of them"), "{log}");
    assert_eq!(shared, helped);
    // A helper that dies after one answer, with fourteen more requests sent: those
    // are diffed here.
    let (rescued, log) = scope(&[helper, ("RELPLAN_HELPER_STOP_AFTER", "1")]);
    assert!(
        log.contains("path fallback: 15 commits diffed, 1 of them"),
        "{log}"
    );
    assert_eq!(rescued, helped);
    let (alone, log) = scope(&[("RELPLAN_HELPER_MIN", "off")]);
    assert!(
        log.contains("path fallback: 15 commits diffed, 0 of them by a helper process"),
        "{log}"
    );
    assert_eq!(helped, alone);

    let json: Value = serde_json::from_str(&helped).unwrap();
    let changes = json["changes"].as_array().unwrap();
    for (ids, category) in [
        (&docs, "documentation"),
        (&tests, "tests"),
        (&other, "unclassified"),
    ] {
        for id in ids {
            assert_eq!(change(changes, id)["category"], category, "{id}");
        }
    }
}

#[test]
fn bad_commits_config_names_the_key() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: a");
    repo.write(
        ".relplan.toml",
        "[commits]\n[[commits.rules]]\nsubject = '(unclosed'\nskip = true\n",
    );
    repo.relplan()
        .arg("scope")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("commits.rules[0].subject"));
}

#[test]
fn next_version_explains_the_bump() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.4.2");
    let a = repo.change("b.txt", "feat(api)!: drop v1 routes");
    repo.change("c.txt", "fix: typo");
    let b = repo.change(
        "d.txt",
        "refactor: x\n\nBREAKING CHANGE: `Client::new` takes options\n",
    );

    let (out, err) = next_version(&repo, &[]);
    assert_eq!(out, "2.0.0\n");
    let reason = format!(
        "2 breaking changes ({}, {}) → major: 1.4.2 → 2.0.0",
        &b[..7],
        &a[..7]
    );
    assert!(err.contains(&reason), "{err}");
    let (out, _) = next_version(&repo, &["--explain"]);
    assert_eq!(out, format!("2.0.0\n{reason}\n"));

    repo.relplan()
        .args(["plan", "2.0.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let meta: Value = serde_json::from_str(&repo.read("releases/v2.0.0/metadata.json")).unwrap();
    assert_eq!(meta["version_reason"], reason);
    assert_eq!(meta["suggested_level"], "major");
    assert!(repo.read("releases/v2.0.0/scope.md").contains(&reason));
}

#[test]
fn zero_major_versions_bump_gently_by_default() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v0.3.1");
    repo.change("b.txt", "feat!: new format");
    let (out, err) = next_version(&repo, &[]);
    assert_eq!(out, "0.4.0\n");
    assert!(
        err.contains("0.x: breaking changes bump the minor version"),
        "{err}"
    );

    repo.write("c.txt", "x");
    repo.write(
        ".relplan.toml",
        "[commits]\nzero_major_breaking = \"major\"\n",
    );
    let (out, _) = next_version(&repo, &[]);
    assert_eq!(out, "1.0.0\n");
}

#[test]
fn prereleases_count_up_and_finals_start_from_the_last_final() {
    let repo = TestRepo::new();
    let base = repo.change("a.txt", "feat: base");
    repo.tag("v1.4.2");
    let breaking = repo.change("b.txt", "feat!: new engine");

    let (out, _) = next_version(&repo, &["--pre", "rc"]);
    assert_eq!(out, "2.0.0-rc.1\n");
    repo.tag("v2.0.0-rc.1");
    repo.change("c.txt", "fix: engine crash");
    let (out, err) = next_version(&repo, &["--pre", "rc"]);
    assert_eq!(out, "2.0.0-rc.2\n");
    assert!(err.contains("(2.0.0-rc.1 is already tagged)"), "{err}");
    // The same when the range is given: by a tag name (the tags are then read only
    // to number the prerelease) or by a commit id (the tag is found on the commit).
    let (out, _) = next_version(&repo, &["--from", "v1.4.2", "--pre", "rc"]);
    assert_eq!(out, "2.0.0-rc.2\n");
    let (out, err) = next_version(&repo, &["--from", &base, "--explain"]);
    assert!(out.contains("1.4.2 → 2.0.0"), "{out}{err}");

    // The final release is measured from v1.4.2, not from the release candidate.
    let (out, err) = next_version(&repo, &["--explain"]);
    assert_eq!(out.lines().next(), Some("2.0.0"));
    assert!(out.contains("1.4.2 → 2.0.0"), "{out}{err}");
    let plan = repo.dry_run_plan("2.0.0");
    assert_eq!(plan["previous"]["tag"], "v1.4.2");
    assert_eq!(plan["range"]["commits"], 2);
    assert_eq!(plan["scope"]["breaking"][0]["id"], breaking);

    // The next release candidate starts after the previous one.
    let plan = repo.dry_run_plan("2.0.0-rc.2");
    assert_eq!(plan["previous"]["tag"], "v2.0.0-rc.1");
    assert_eq!(plan["range"]["commits"], 1);
    assert_eq!(plan["suggested"]["next"], "2.0.0-rc.2");
    assert_eq!(plan["warnings"], serde_json::json!([]));

    repo.relplan()
        .args(["next-version", "--pre", "rc.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"rc.1\""));
}

#[test]
fn a_version_smaller_than_the_changes_is_a_warning_not_greater_is_an_error() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.4.2");
    repo.change("b.txt", "feat!: new engine");

    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.5.0", "--date", "2026-12-15"])
            .assert()
            .success(),
    );
    assert!(
        out.contains("version 1.5.0 is smaller than the changes call for (major bump)"),
        "{out}"
    );
    let risks = repo.read("releases/v1.5.0/risks/risk_assessment.md");
    assert!(
        risks.contains("version 1.5.0 is smaller than the changes call for"),
        "{risks}"
    );

    repo.relplan()
        .args(["plan", "1.4.2", "--date", "2026-12-15"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "not greater than the previous release",
        ));
}

/// A released repository with a pull request #`number` titled `title` merged after
/// v1.0.0; its one branch commit adds a destructive migration. Returns the branch
/// commit and the merge commit.
fn merged_pull_request_with_a_migration(
    repo: &TestRepo,
    number: u32,
    title: &str,
) -> (String, String) {
    repo.change("a.txt", "feat: base");
    repo.tag("v1.0.0");
    repo.git(&["checkout", "-q", "-b", "octo/cleanup"]);
    repo.write("db/migrations/0002_drop.sql", "DROP TABLE sessions;\n");
    let feat = repo.commit("feat(db): drop the sessions table");
    repo.git(&["checkout", "-q", "main"]);
    repo.change("main.txt", "fix: on main");
    let subject = format!("Merge pull request #{number} from octo/cleanup");
    let merge = repo.git_commit_step(&[
        "merge",
        "--no-ff",
        "-q",
        "octo/cleanup",
        "-m",
        &subject,
        "-m",
        title,
    ]);
    (feat, merge)
}

/// Plans 1.1.0 and returns the risk assessment.
fn planned_risks(repo: &TestRepo) -> String {
    repo.relplan()
        .args(["plan", "1.1.0", "--date", "2026-12-15"])
        .assert()
        .success();
    repo.read("releases/v1.1.0/risks/risk_assessment.md")
}

#[test]
fn a_pull_request_with_a_plain_title_keeps_its_commits_and_their_risks() {
    let repo = TestRepo::new();
    let (feat, pr) = merged_pull_request_with_a_migration(&repo, 7, "Cleanup");

    let changes = scope_json(&repo);
    // "Cleanup" classifies nothing: the branch commit is listed, the merge is plumbing.
    assert_eq!(change(&changes, &feat)["category"], "features");
    assert_eq!(change(&changes, &pr)["category"], "skipped");

    let risks = planned_risks(&repo);
    assert!(risks.contains("db/migrations/0002_drop.sql"), "{risks}");
}

#[test]
fn files_of_commits_folded_into_a_pull_request_still_raise_risks() {
    let repo = TestRepo::new();
    let (feat, _) = merged_pull_request_with_a_migration(&repo, 8, "feat(db): retire sessions");
    assert_eq!(change(&scope_json(&repo), &feat)["category"], "skipped");

    let risks = planned_risks(&repo);
    assert!(risks.contains("Destructive database migration"), "{risks}");
    assert!(risks.contains("db/migrations/0002_drop.sql"), "{risks}");
}

#[test]
fn the_path_fallback_skips_commits_a_pull_request_merge_folds() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.0.0");
    let branch = |name: &str, files: &[(&str, &str)], number: u32, title: &str| {
        repo.git(&["checkout", "-q", "-b", name]);
        let commits: Vec<String> = files
            .iter()
            .map(|(path, subject)| {
                repo.write(path, subject);
                repo.commit(subject)
            })
            .collect();
        repo.git(&["checkout", "-q", "main"]);
        repo.change(&format!("{name}.txt"), "fix: on main");
        let subject = format!("Merge pull request #{number} from octo/{name}");
        repo.git_commit_step(&["merge", "--no-ff", "-q", name, "-m", &subject, "-m", title]);
        commits
    };
    // Folded into "docs: the guide": their own paths would change nothing.
    let folded = branch(
        "guide",
        &[("docs/a.md", "Write the guide"), ("docs/b.md", "Polish it")],
        3,
        "docs: the guide",
    );
    // A plain title: its commit is listed on its own, classified by its paths.
    let listed = branch("pages", &[("docs/c.md", "More pages")], 4, "Pages");

    // Without a helper process, and with one started at the first request, which the
    // walk would send the folded commits to as it finds them (before their merge
    // is known to fold them) if it did not hold them back.
    for helper_min in ["off", "1"] {
        let output = repo
            .relplan()
            .env("CI", "true")
            .env("RELPLAN_HELPER_MIN", helper_min)
            .args(["scope", "--format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let log = String::from_utf8_lossy(&output.stderr);
        // "More pages", and the plain-titled merge itself (a merge lists no paths);
        // not the two commits "docs: the guide" folds.
        assert!(
            log.contains("path fallback: 2 commits diffed, "),
            "helper {helper_min}: {log}"
        );
        if helper_min == "off" {
            assert!(log.contains("0 of them by a helper process"), "{log}");
        }
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let changes = json["changes"].as_array().unwrap();
        for id in &folded {
            assert_eq!(change(changes, id)["category"], "skipped");
        }
        assert_eq!(change(changes, &listed[0])["category"], "documentation");
        assert_eq!(change(changes, &listed[0])["classified_by"], "paths");
    }
}
