//! Risk assessment, deployment strategy and rollback plan: one repository per
//! signal, crafted to raise it (or, for look-alikes, not to), read back from the
//! written documents and the Plan JSON.

use serde_json::Value;

use crate::support::{json_of, stdout_of, TestRepo};

const RISKS: &str = "releases/v1.1.0/risks/risk_assessment.md";
const STRATEGY: &str = "releases/v1.1.0/planning/deployment_strategy.md";
const ROLLBACK: &str = "releases/v1.1.0/rollback/rollback_plan.md";

/// A repository released as v1.0.0 with a small app.
fn released() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.write("README.md", "# app\n");
    repo.commit("feat: first version");
    repo.tag("v1.0.0");
    repo
}

/// Plans 1.1.0 (writing the documents) and returns the Plan JSON.
fn plan(repo: &TestRepo) -> Value {
    json_of(
        repo.relplan()
            .args(["plan", "1.1.0", "--date", "2026-12-15", "--format", "json"])
            .assert()
            .success(),
    )
}

fn risk<'a>(plan: &'a Value, key: &str) -> &'a Value {
    plan["risk"]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {key} risk in {:#}", plan["risk"]))
}

fn has_risk(plan: &Value, key: &str) -> bool {
    plan["risk"]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"] == key)
}

fn evidence(risk: &Value) -> String {
    risk["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn short(id: &str) -> &str {
    &id[..7]
}

#[test]
fn documentation_only_release_is_low_with_no_invented_risks() {
    let repo = released();
    repo.write(
        "docs/migrations.md",
        "# How we migrate\nDROP TABLE is never used.\n",
    );
    repo.commit("docs: explain our migration process");
    repo.write("docs/migrations/guide.md", "ALTER TABLE x DROP COLUMN y;\n");
    repo.commit("docs: migration guide");
    repo.change("README.md", "docs: fix typo in readme");
    let plan = plan(&repo);
    assert_eq!(plan["risk"]["level"], "Low");
    assert_eq!(plan["risk"]["risks"].as_array().unwrap().len(), 0);
    assert_eq!(
        plan["risk"]["signals"]["migrations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(plan["strategy"]["recommended"], "rolling");

    let doc = repo.read(RISKS);
    assert!(doc.contains("**Overall risk level: LOW**"), "{doc}");
    assert!(
        doc.contains("No risk signal was found in the 3 commits"),
        "{doc}"
    );
    assert!(!doc.contains("quadrantChart"), "{doc}");
    let rollback = repo.read(ROLLBACK);
    assert!(!rollback.contains("## Database"), "{rollback}");
    assert!(!rollback.contains("cannot be rolled back"), "{rollback}");
}

#[test]
fn destructive_migration_with_a_breaking_change_is_critical_and_traced() {
    let repo = released();
    repo.write(
        "db/migrations/0001_create_users.sql",
        "CREATE TABLE users (id int, name text);\n",
    );
    let add = repo.commit("feat(db): users table");
    repo.write(
        "db/migrations/0002_drop_name.sql",
        "-- users.name moved to profiles\nALTER TABLE users DROP COLUMN name;\n",
    );
    repo.write("src/api.rs", "// v2 only\n");
    let drop = repo.commit(
        "feat(api)!: remove the v1 user endpoint\n\nBREAKING CHANGE: /v1/users is gone; use /v2/users.\n",
    );
    let plan = plan(&repo);

    let migration = risk(&plan, "migrations");
    assert_eq!(migration["severity"], "Critical");
    assert_eq!(migration["impact"], "Critical");
    assert_eq!(migration["probability"]["level"], "Medium");
    assert_eq!(migration["probability"]["percent"], 40);
    let ev = evidence(migration);
    assert!(
        ev.contains("`db/migrations/0002_drop_name.sql:2` DROP COLUMN")
            && ev.contains(short(&drop)),
        "{ev}"
    );
    assert!(
        ev.contains("`db/migrations/0001_create_users.sql`") && ev.contains(short(&add)),
        "{ev}"
    );
    assert!(migration["commits"]
        .as_array()
        .unwrap()
        .contains(&Value::from(drop.clone())));

    let breaking = risk(&plan, "breaking-changes");
    assert_eq!(breaking["severity"], "High");
    assert!(evidence(breaking).contains("remove the v1 user endpoint"));

    assert_eq!(plan["risk"]["level"], "Critical");
    assert_eq!(
        plan["risk"]["risks"][0]["key"], "migrations",
        "highest first"
    );
    assert_eq!(plan["strategy"]["recommended"], "blue-green");
    assert_eq!(plan["rollback"]["database"]["restore_required"], true);

    let doc = repo.read(RISKS);
    assert!(doc.contains("**Overall risk level: CRITICAL**"), "{doc}");
    assert!(
        doc.contains(
            "| 1 | Destructive database migration | Medium (40%) | Critical | **CRITICAL** |"
        ),
        "{doc}"
    );
    assert!(doc.contains("quadrantChart"), "{doc}");
    assert!(
        doc.contains("R1 Destructive database migration: [0.40, 0.90]"),
        "{doc}"
    );
    assert!(doc.contains("- [ ] Data owners accepted"), "{doc}");
    // Go/no-go items are gathered per schedule milestone, with its date.
    assert!(doc.contains("**Staging deployment, 2026-12-08**"), "{doc}");
    assert!(
        doc.contains("(gate: Change approval (CAB), 2026-12-11)"),
        "{doc}"
    );

    let strategy = repo.read(STRATEGY);
    assert!(
        strategy.contains("## Recommended strategy: Blue-green"),
        "{strategy}"
    );
    assert!(
        strategy.contains("2 migrations, 1 destructive"),
        "{strategy}"
    );
    assert!(strategy.contains("| Blue-green |"), "{strategy}");
    assert!(strategy.contains("DROP COLUMN at line 2"), "{strategy}");

    let rollback = repo.read(ROLLBACK);
    assert!(rollback.contains("Roll back to **v1.0.0**"), "{rollback}");
    assert!(rollback.contains("## Database"), "{rollback}");
    assert!(
        rollback.contains("| `db/migrations/0002_drop_name.sql` |"),
        "{rollback}"
    );
    assert!(
        rollback.contains("**restore from backup** (DROP COLUMN line 2)"),
        "{rollback}"
    );
    assert!(
        rollback.contains("| `db/migrations/0001_create_users.sql` |")
            && rollback.contains("leave in place"),
        "{rollback}"
    );
    assert!(
        rollback.contains("## What cannot be rolled back"),
        "{rollback}"
    );
    assert!(
        rollback.contains("external API or behaviour change"),
        "{rollback}"
    );
    assert!(
        rollback.contains("database query latency above 3× the baseline"),
        "{rollback}"
    );
}

#[test]
fn additive_migration_is_medium_and_needs_no_restore() {
    let repo = released();
    repo.write(
        "migrations/2026_add_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    let id = repo.commit("feat(db): store emails");
    let plan = plan(&repo);
    let m = risk(&plan, "migrations");
    assert_eq!(m["title"], "Database schema changes");
    assert_eq!(m["severity"], "Medium");
    assert!(evidence(m).contains(&format!(
        "`migrations/2026_add_email.sql` (additive) in `{}`",
        short(&id)
    )));
    assert_eq!(plan["rollback"]["database"]["restore_required"], false);
    let rollback = repo.read(ROLLBACK);
    assert!(
        rollback.contains("The migrations are additive"),
        "{rollback}"
    );
    assert!(!rollback.contains("cannot be rolled back"), "{rollback}");
}

#[test]
fn migration_reverted_in_the_same_range_raises_nothing() {
    let repo = released();
    repo.write("db/migrations/9_drop.sql", "DROP TABLE users;\n");
    let id = repo.commit("feat(db): drop users");
    repo.git(&["rm", "-q", "db/migrations/9_drop.sql"]);
    repo.commit(&format!(
        "Revert \"feat(db): drop users\"\n\nThis reverts commit {id}.\n"
    ));
    let plan = plan(&repo);
    // Added and removed within the range: nothing ships, nothing to assess.
    assert!(!has_risk(&plan, "migrations"), "{:#}", plan["risk"]);
    assert_eq!(
        plan["risk"]["signals"]["migrations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert!(!repo.read(ROLLBACK).contains("## Database"));
}

#[test]
fn dependency_bumps_count_changed_lockfile_entries() {
    let repo = released();
    repo.write(
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.100\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.8.5\"\n",
    );
    repo.commit("build: add lockfile");
    repo.tag("v1.0.1");
    repo.write(
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.9.0\"\n\n[[package]]\nname = \"rand_core\"\nversion = \"0.9.0\"\n",
    );
    let bump = repo.commit("build(deps): bump serde and rand");
    repo.change("src/search.rs", "feat: search");
    let plan = plan(&repo);
    let deps = risk(&plan, "dependencies");
    let ev = evidence(deps);
    assert!(
        ev.contains("3 dependency entries changed in `Cargo.lock` (0 major)"),
        "{ev}"
    );
    assert!(
        ev.contains(short(&bump)) && ev.contains("bump serde and rand"),
        "{ev}"
    );
    assert_eq!(
        deps["severity"], "Low",
        "3 entries are below the threshold of 10"
    );
    assert_eq!(deps["files"][0], "Cargo.lock");
    let doc = repo.read(RISKS);
    assert!(doc.contains("## 1. Dependency updates"), "{doc}");
}

#[test]
fn many_dependency_changes_raise_the_probability() {
    let repo = released();
    repo.write(
        ".relplan.toml",
        "[risk.thresholds]\nmany_dependencies = 2\n",
    );
    repo.write(
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"base\"\nversion = \"1.0.0\"\n",
    );
    repo.commit("chore: config");
    repo.tag("v1.0.1");
    let mut lock =
        String::from("version = 3\n\n[[package]]\nname = \"base\"\nversion = \"1.0.0\"\n");
    for i in 0..4 {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"dep{i}\"\nversion = \"1.0.0\"\n"
        ));
    }
    repo.write("Cargo.lock", &lock);
    repo.commit("chore(deps): add four crates");
    let plan = plan(&repo);
    let deps = risk(&plan, "dependencies");
    assert_eq!(
        deps["probability"]["level"], "High",
        "4 entries, twice the threshold of 2"
    );
    assert_eq!(deps["severity"], "High");
}

#[test]
fn infrastructure_changes_name_their_files() {
    let repo = released();
    repo.write("Dockerfile", "FROM rust:1.85\n");
    repo.write(".github/workflows/deploy.yml", "on: push\n");
    let id = repo.commit("ci: build the image in CI");
    repo.write("src/infra.rs", "// not infrastructure config\n");
    repo.write("src/authors.rs", "// not under an auth folder\n");
    repo.commit("refactor: tidy");
    let plan = plan(&repo);
    let infra = risk(&plan, "infrastructure");
    assert_eq!(infra["severity"], "Medium");
    let ev = evidence(infra);
    assert!(
        ev.contains(&format!("`Dockerfile` added in `{}`", short(&id))),
        "{ev}"
    );
    assert!(ev.contains("`.github/workflows/deploy.yml`"), "{ev}");
    assert_eq!(infra["files"].as_array().unwrap().len(), 2, "{ev}");
    assert!(!has_risk(&plan, "security"), "{:#}", plan["risk"]);
}

#[test]
fn security_changes_cite_advisories_and_auth_paths() {
    let repo = released();
    repo.write("src/auth/token.rs", "// constant-time compare\n");
    let id =
        repo.commit("fix(security): compare tokens in constant time\n\nFixes CVE-2026-12345.\n");
    let plan = plan(&repo);
    let sec = risk(&plan, "security");
    let ev = evidence(sec);
    assert!(
        ev.contains(&format!("CVE-2026-12345 referenced by `{}`", short(&id))),
        "{ev}"
    );
    assert!(ev.contains("`src/auth/token.rs`"), "{ev}");
    assert_eq!(
        sec["severity"], "High",
        "Medium probability (auth path) × High impact"
    );
    let rollback = repo.read(ROLLBACK);
    assert!(rollback.contains("users locked out"), "{rollback}");
}

#[test]
fn performance_commits_and_configured_hot_paths() {
    let repo = released();
    repo.change("src/cache.rs", "perf: cache query plans");
    let plan1 = plan(&repo);
    assert_eq!(risk(&plan1, "performance")["severity"], "Low");

    repo.write(".relplan.toml", "[risk.paths]\nhot = [\"src/query/**\"]\n");
    let id = repo.change("src/query/planner.rs", "fix: planner edge case");
    let plan2 = plan(&repo);
    let perf = risk(&plan2, "performance");
    assert_eq!(perf["severity"], "Medium");
    assert!(evidence(perf).contains(&format!("`src/query/planner.rs` added in `{}`", short(&id))));
}

#[test]
fn large_change_sets_use_the_configured_thresholds() {
    let repo = released();
    repo.write(".relplan.toml", "[risk.thresholds]\nlarge_files = 3\n");
    for i in 0..4 {
        repo.write(&format!("src/mod{i}.rs"), "// code\n");
    }
    repo.commit("feat: four modules");
    let plan = plan(&repo);
    let size = risk(&plan, "size");
    assert_eq!(size["probability"]["level"], "Medium");
    assert!(
        evidence(size).contains("5 files changed"),
        "{}",
        evidence(size)
    );
    assert!(size["rationale"]
        .as_str()
        .unwrap()
        .contains("thresholds: 3 files"));
}

#[test]
fn unclassified_and_reverted_work_are_flagged() {
    let repo = released();
    repo.change("src/a.rs", "Update stuff");
    repo.change("src/b.rs", "fixup! feat: first version");
    let plan = plan(&repo);
    assert!(evidence(risk(&plan, "unclassified")).contains("Update stuff"));
    assert!(evidence(risk(&plan, "churn")).contains("fixup! feat: first version"));
}

#[test]
fn custom_rules_raise_their_own_risks_with_evidence() {
    let repo = released();
    repo.write(
        ".relplan.toml",
        r#"
[[risk.rules]]
name = "Payment flow changed"
match = { paths = ["src/payments/**"], categories = ["features", "fixes"] }
probability = "medium"
impact = "critical"
mitigations = ["Run the payment sandbox suite"]
go_no_go = ["Payments team signed off"]

[[risk.rules]]
name = "Never raised"
match = { commits = "(?i)stripe" }
probability = "high"
impact = "high"
"#,
    );
    repo.commit("chore: relplan config");
    repo.tag("v1.0.1");
    let id = repo.change(
        "src/payments/charge.rs",
        "feat(payments): retry declined cards",
    );
    repo.change("src/payments/docs.rs", "docs: payments notes");
    let plan = plan(&repo);
    let rule = risk(&plan, "rule:Payment flow changed");
    assert_eq!(rule["severity"], "Critical", "Medium × Critical");
    let ev = evidence(rule);
    assert!(
        ev.contains(short(&id)) && ev.contains("`src/payments/charge.rs`"),
        "{ev}"
    );
    assert!(
        !ev.contains("docs.rs"),
        "the docs commit is not a feature or fix: {ev}"
    );
    assert!(!has_risk(&plan, "rule:Never raised"));
    let gates = serde_json::to_string(&plan["risk"]["go_no_go"]).unwrap();
    assert!(gates.contains("Payments team signed off"), "{gates}");
}

#[test]
fn rules_and_flags_read_whole_commit_messages_not_just_subjects() {
    // What the risk engine searches for lives in bodies as often as in subjects; the
    // walk keeps only the messages it can find something in, and these must be kept.
    let repo = released();
    repo.write(
        ".relplan.toml",
        r#"
[[risk.rules]]
name = "Payment provider"
match = { commits = "(?i)stripe" }
probability = "medium"
impact = "high"

[[deploy.flags]]
name = "fast_refunds"
"#,
    );
    repo.commit("chore: relplan config");
    repo.tag("v1.0.1");
    let stripe = repo.change(
        "src/pay.rs",
        "feat: retry declined cards\n\nThe provider (Stripe) now gets a second attempt.",
    );
    let flagged = repo.change(
        "src/refund.rs",
        "fix: refund rounding\n\nShips dark, behind fast_refunds.",
    );
    repo.change("src/other.rs", "fix: unrelated\n\nNothing to find here.");
    let plan = plan(&repo);
    let ev = evidence(risk(&plan, "rule:Payment provider"));
    assert!(ev.contains(short(&stripe)), "{ev}");
    assert!(!ev.contains("unrelated"), "{ev}");
    let flags = plan["rollback"]["flags"].to_string();
    assert!(
        flags.contains("fast_refunds") && flags.contains(short(&flagged)),
        "{flags}"
    );
}

#[test]
fn touched_feature_flags_drive_strategy_and_rollback() {
    let repo = released();
    repo.write(
        ".relplan.toml",
        r#"
[deploy]
supports = ["rolling", "canary", "feature-flags"]

[[deploy.flags]]
name = "new_checkout"
description = "Checkout v2"

[[deploy.flags]]
name = "dark_mode"
paths = ["web/theme/**"]
"#,
    );
    repo.commit("chore: relplan config");
    repo.tag("v1.0.1");
    repo.write(
        "src/checkout.rs",
        "if flags.enabled(\"new_checkout\") { v2() }\n",
    );
    repo.commit("feat(checkout): second checkout behind a flag");
    let plan = plan(&repo);
    assert_eq!(plan["strategy"]["recommended"], "feature-flags");
    assert_eq!(plan["strategy"]["capabilities_assumed"], false);
    let flags = plan["rollback"]["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "dark_mode is not touched: {flags:?}");
    assert_eq!(flags[0]["name"], "new_checkout");
    let rollback = repo.read(ROLLBACK);
    assert!(rollback.contains("## Feature flags"), "{rollback}");
    assert!(
        rollback.contains("`new_checkout`: Checkout v2 (named in changed file `src/checkout.rs`)"),
        "{rollback}"
    );
    let strategy = repo.read(STRATEGY);
    assert!(
        strategy.contains("| Blue-green |") && strategy.contains("| no |"),
        "{strategy}"
    );
}

#[test]
fn deploy_thresholds_reach_the_documents() {
    let repo = released();
    repo.write(
        ".relplan.toml",
        "[deploy.thresholds]\ncanary_steps = [10, 50, 100]\nrollback_error_rate = 4.5\nrollback_error_minutes = 3\n",
    );
    repo.commit("chore: config");
    let strategy_doc = {
        plan(&repo);
        repo.read(STRATEGY)
    };
    assert!(
        strategy_doc.contains("Error rate above 4.5% for 3 minutes."),
        "{strategy_doc}"
    );
    let rollback = repo.read(ROLLBACK);
    assert!(
        rollback.contains("error rate above 4.5% for 3 minutes"),
        "{rollback}"
    );
}

#[test]
fn summary_lists_the_top_risks_with_evidence() {
    let repo = released();
    repo.write("db/migrations/2_drop.sql", "DROP TABLE sessions;\n");
    let id = repo.commit("feat(db): drop sessions");
    let out = stdout_of(
        repo.relplan()
            .args(["plan", "1.1.0", "--date", "2026-12-15"])
            .assert()
            .success(),
    );
    assert!(out.contains("Risk level:    Critical"), "{out}");
    assert!(
        out.contains("[Critical] Destructive database migration"),
        "{out}"
    );
    assert!(
        out.contains("db/migrations/2_drop.sql:1") && out.contains(short(&id)),
        "{out}"
    );
    assert!(out.contains("Strategy:      Blue-green"), "{out}");
}

#[test]
fn bad_risk_and_deploy_config_is_exit_2_naming_the_key() {
    let repo = released();
    for (config, needle) in [
        ("[risk.paths]\nmigrations = [\"db/[\"]\n", "risk.paths.migrations"),
        ("[deploy]\nsupports = [\"big-bang\"]\n", "big-bang"),
        (
            "[deploy.thresholds]\ncanary_steps = [50, 10]\n",
            ".relplan.toml:2: deploy.thresholds.canary_steps",
        ),
        (
            "[[risk.rules]]\nname = \"x\"\nmatch = { commits = \"(\" }\nprobability = \"low\"\nimpact = \"low\"\n",
            "risk.rules[0]",
        ),
        (
            "[[risk.rules]]\nname = \"x\"\nmatch = {}\nprobability = \"low\"\nimpact = \"low\"\n",
            "match is empty",
        ),
        (
            "[[risk.rules]]\nname = \"x\"\nmatch = { paths = [\"a\"] }\nprobability = \"often\"\nimpact = \"low\"\n",
            "often",
        ),
    ] {
        repo.write(".relplan.toml", config);
        repo.relplan()
            .args(["plan", "1.1.0", "--date", "2026-12-15"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(needle));
    }
    assert!(!repo.exists("releases"));
}

#[test]
fn risk_go_no_go_items_land_on_their_milestone_in_the_timeline() {
    let repo = TestRepo::new();
    repo.change("src/lib.rs", "feat: start");
    repo.tag("v1.0.0");
    repo.write(
        "db/migrations/0002_drop.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n",
    );
    repo.commit("feat(db): drop the legacy column");
    repo.relplan()
        .args(["plan", "1.1.0", "--date", "2026-12-15"])
        .assert()
        .success();
    let timeline = repo.read("releases/v1.1.0/schedule/timeline.md");
    let staging = timeline
        .find("### Staging deployment")
        .expect("staging section");
    let next = timeline[staging + 1..]
        .find("\n### ")
        .map_or(timeline.len(), |i| staging + 1 + i);
    let section = &timeline[staging..next];
    assert!(
        section.contains("Migrations ran cleanly on staging")
            && section.contains("(Destructive database migration)"),
        "{section}"
    );
}

#[test]
fn a_lockfile_new_in_the_range_is_not_counted_as_updates() {
    // A first release: every entry of the new lockfile is "added", which updates nothing.
    let repo = TestRepo::new();
    let mut lock = String::from("version = 3\n");
    for i in 0..40 {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"dep{i}\"\nversion = \"1.0.0\"\n"
        ));
    }
    repo.write("Cargo.lock", &lock);
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.commit("feat: first version");
    let plan = plan(&repo);
    let deps = risk(&plan, "dependencies");
    assert_eq!(deps["severity"], "Low", "{deps}");
    assert!(
        !evidence(deps).contains("40 dependency entries"),
        "{}",
        evidence(deps)
    );
}
