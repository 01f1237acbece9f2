//! `relplan scope`: the classified changes, and the JSON contract of DESIGN.md.

use crate::support::TestRepo;

#[test]
fn scope_json_follows_the_contract() {
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: first");
    repo.tag("v1.4.0");
    let tagged = repo.head();
    let feat = repo.change("api.txt", "feat(api)!: drop v1 routes (#12)");
    let plain = repo.change("b.txt", "Update the readme");

    let json = repo.scope_json();
    assert_eq!(json["from"]["ref"], "v1.4.0");
    assert_eq!(json["from"]["id"], tagged);
    assert_eq!(json["to"]["ref"], "HEAD");
    assert_eq!(json["to"]["id"], plain);
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "every commit once: {changes:?}");
    // Newest first.
    assert_eq!(changes[0]["id"], plain);
    assert_eq!(changes[0]["conventional"], false);
    assert!(
        changes[0]["type"].is_null()
            && changes[0]["scope"].is_null()
            && changes[0]["description"].is_null()
    );
    assert_eq!(changes[0]["category"], "unclassified");
    let f = &changes[1];
    assert_eq!(f["id"], feat);
    assert_eq!(f["summary"], "feat(api)!: drop v1 routes (#12)");
    assert_eq!(f["conventional"], true);
    assert_eq!(f["type"], "feat");
    assert_eq!(f["scope"], "api");
    assert_eq!(f["breaking"], true);
    assert_eq!(f["description"], "drop v1 routes (#12)");
    assert_eq!(f["category"], "features");
    assert_eq!(f["pr"], 12);
    assert_eq!(f["authors"], serde_json::json!(["Ada Lovelace"]));
}

#[test]
fn scope_without_tags_starts_at_the_root() {
    let repo = TestRepo::new();
    repo.change("a.txt", "fix: one");
    repo.change("b.txt", "docs: two");
    let json = repo.scope_json();
    assert!(json["from"].is_null());
    assert_eq!(json["changes"].as_array().unwrap().len(), 2);
}

#[test]
fn unknown_revision_is_a_usage_error() {
    let repo = TestRepo::new();
    repo.change("a.txt", "fix: one");
    for format in ["markdown", "json"] {
        repo.relplan()
            .args(["scope", "--from", "v9.9.9", "--format", format])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicates::str::contains("\"v9.9.9\""));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_is_an_error() {
    let repo = TestRepo::new();
    repo.change("a.txt", "fix: one");
    repo.tag("v1.0.0");
    repo.change("b.txt", "fix: two");
    for format in ["markdown", "json"] {
        // Every write to /dev/full fails with "No space left on device".
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = repo
            .relplan_process()
            .args(["scope", "--format", format])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with("error: cannot write output: "),
            "{format}: {stderr}"
        );
    }
}

#[test]
fn outside_a_repository_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    repo.relplan()
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .arg("scope")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not inside a git repository"));
}
