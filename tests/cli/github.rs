//! GitHub: pull requests from a local fake GitHub (batched GraphQL, REST fallback,
//! failures that never lose the plan), the sticky PR comment, and the Actions
//! step summary and outputs. No test reaches the internet.

use std::time::Instant;

use serde_json::Value;

use crate::fake_github::{FakeGithub, FakePr, NAME, OWNER, TOKEN};
use crate::support::TestRepo;

/// relplan with the fake GitHub's environment.
fn relplan_gh(repo: &TestRepo, fake: &FakeGithub) -> assert_cmd::Command {
    let mut cmd = repo.relplan();
    for (k, v) in fake.env() {
        cmd.env(k, v);
    }
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> Run {
    let output = cmd.args(args).output().expect("run relplan");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stdout.contains(TOKEN), "token on stdout");
    assert!(
        !run.stderr.contains(TOKEN),
        "token on stderr: {}",
        run.stderr
    );
    run
}

/// The plan as JSON, planned with GitHub (dry run: nothing written).
fn plan_json(repo: &TestRepo, fake: &FakeGithub) -> (Value, Run) {
    let r = run(
        relplan_gh(repo, fake),
        &[
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    (serde_json::from_str(&r.stdout).expect("plan JSON"), r)
}

fn released_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.change("src/lib.rs", "feat: initial api");
    repo.tag("v1.3.0");
    repo
}

fn change<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["scope"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no change {id}"))
}

fn warnings(plan: &Value) -> String {
    plan["warnings"].to_string()
}

#[test]
fn without_a_token_relplan_says_what_it_skipped_and_plans_from_git() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let r = run(
        repo.relplan(),
        &["plan", "1.4.0", "--date", "2026-12-15", "--dry-run"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let skipped: Vec<&str> = r.stderr.lines().filter(|l| l.contains("GitHub")).collect();
    assert_eq!(skipped.len(), 1, "{}", r.stderr);
    let expected = if cfg!(feature = "github") {
        "no GITHUB_TOKEN or GH_TOKEN"
    } else {
        "built without the `github` feature"
    };
    assert!(skipped[0].contains(expected), "{}", r.stderr);

    // --offline wins over a token: no request at all.
    let fake = FakeGithub::start();
    let r = run(
        relplan_gh(&repo, &fake),
        &[
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--dry-run",
            "--offline",
        ],
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("skipped (--offline)"), "{}", r.stderr);
    assert_eq!(fake.requests().len(), 0);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_range_without_pull_requests_costs_one_query() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    let (plan, r) = plan_json(&repo, &fake);
    assert_eq!(plan["pull_requests"], serde_json::json!([]));
    assert_eq!(fake.requests().len(), 1, "{:?}", fake.requests());
    assert!(r.stderr.contains("0 merged pull requests"), "{}", r.stderr);
    // the token went to the fake as a bearer token, and only there
    let auth = fake.requests()[0].authorization.clone().unwrap_or_default();
    assert_eq!(auth, format!("Bearer {TOKEN}"));
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn two_hundred_fifty_commits_and_120_prs_cost_six_requests() {
    let repo = released_repo();
    let fake = FakeGithub::start();
    let mut ids = Vec::new();
    for i in 0..250 {
        ids.push(repo.commit(&format!("Change number {i}")));
    }
    for (i, id) in ids.iter().take(120).enumerate() {
        fake.add_pr(FakePr::new(
            i as u64 + 1,
            &format!("fix: change {i}"),
            &[id],
        ));
    }
    let (plan, r) = plan_json(&repo, &fake);
    assert_eq!(plan["pull_requests"].as_array().unwrap().len(), 120);
    // ceil(250/100) commit queries + ceil(120/50) detail queries
    assert_eq!(fake.count("POST", "/graphql"), 3 + 3, "{}", r.stderr);
    assert_eq!(fake.requests().len(), 6);
    assert!(r.stderr.contains("(6 API requests)"), "{}", r.stderr);
    // the PR titles classified the squash-merged commits
    assert_eq!(change(&plan, &ids[0])["category"], "fixes");
    assert_eq!(change(&plan, &ids[0])["pr"], 1);
    assert_eq!(change(&plan, &ids[200])["category"], "unclassified");
    // commit ids are GraphQL variables, never spliced into the query text
    let first = &fake.requests()[0];
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert!(!body["query"].as_str().unwrap().contains(&ids[0]));
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn squash_merge_commit_and_rebase_merged_prs_are_classified_once() {
    let repo = released_repo();
    let squash = repo.change("src/search.rs", "Add search (#5)");
    // a merge-commit PR: one unconventional branch commit and the merge
    repo.git(&["checkout", "-q", "-b", "topic"]);
    let branch = repo.change("src/crash.rs", "Stuff for the crash");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge pull request #7 from octo-org/topic",
    ]);
    let merge = repo.head();
    // a rebase-merged PR: two conventional commits
    let r1 = repo.change("src/r1.rs", "feat: first half");
    let r2 = repo.change("src/r2.rs", "perf: second half");
    let fork = repo.change("src/fork.rs", "Tweak");

    let fake = FakeGithub::start();
    fake.add_pr(FakePr::new(5, "feat(search): add search", &[&squash]));
    let mut merged = FakePr::new(7, "fix: crash on start", &[&merge, &branch]);
    merged.merge_commit = Some(merge.clone());
    fake.add_pr(merged);
    fake.add_pr(FakePr::new(8, "feat: both halves", &[&r2, &r1]));
    // the same commit in a PR of a fork network: ignored
    let mut other = FakePr::new(9, "feat: from a fork", &[&fork]);
    other.base_repo = format!("someone/{NAME}");
    fake.add_pr(other);

    let (plan, _) = plan_json(&repo, &fake);
    assert_eq!(change(&plan, &squash)["category"], "features");
    assert_eq!(change(&plan, &squash)["scope"], "search");
    assert_eq!(change(&plan, &merge)["category"], "fixes");
    assert_eq!(change(&plan, &branch)["category"], "unclassified");
    assert_eq!(change(&plan, &branch)["pr"], 7);
    assert_eq!(change(&plan, &r1)["category"], "features");
    assert_eq!(change(&plan, &r2)["category"], "performance");
    assert_eq!(change(&plan, &fork)["category"], "unclassified");
    assert_eq!(change(&plan, &fork)["pr"], Value::Null);
    let numbers: Vec<u64> = plan["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![5, 7, 8]);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn labels_mark_breaking_changes_skips_and_risks() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "feat: new config format");
    let b = repo.change("src/b.rs", "chore: bump ci image");
    let c = repo.change("src/c.rs", "fix: token refresh");
    let d = repo.change("src/d.rs", "Update the thing");
    let fake = FakeGithub::start();
    fake.add_pr(FakePr::new(1, "feat: new config format", &[&a]).labels(&["breaking-change"]));
    fake.add_pr(FakePr::new(2, "chore: bump ci image", &[&b]).labels(&["skip-changelog"]));
    fake.add_pr(FakePr::new(3, "fix: token refresh", &[&c]).labels(&["risk:high", "security"]));
    fake.add_pr(FakePr::new(4, "Update the thing", &[&d]));
    let (plan, _) = plan_json(&repo, &fake);
    assert_eq!(change(&plan, &a)["breaking"], true);
    assert_eq!(plan["suggested"]["next"], "2.0.0");
    assert_eq!(change(&plan, &b)["category"], "skipped");
    assert_eq!(change(&plan, &c)["category"], "security");
    let pr3 = &plan["pull_requests"][2];
    assert_eq!(pr3["risk"], "high");
    assert_eq!(pr3["labels"], serde_json::json!(["risk:high", "security"]));
    // The label is a reviewer's judgement: a High risk with the PR and its commit as evidence.
    let risks = plan["risk"]["risks"].as_array().unwrap();
    let labelled = risks
        .iter()
        .find(|r| r["key"] == "label:3")
        .unwrap_or_else(|| panic!("no risk from the risk:high label: {risks:?}"));
    assert_eq!(labelled["severity"], "High");
    assert_eq!(labelled["title"], "Pull request #3 is labelled risk:high");
    assert!(labelled["commits"]
        .as_array()
        .unwrap()
        .contains(&Value::String(c.clone())));
    assert!(labelled["files"]
        .as_array()
        .unwrap()
        .contains(&Value::String("src/c.rs".into())));
    // a PR that nothing classified is named in a warning
    assert!(warnings(&plan).contains("#4"), "{}", warnings(&plan));
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn an_unauthorized_token_never_loses_the_plan_and_is_never_shown() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    fake.fault(
        "POST",
        "/graphql",
        10,
        401,
        &[],
        r#"{"message":"Bad credentials"}"#,
    );
    let (plan, _) = plan_json(&repo, &fake);
    let w = warnings(&plan);
    assert!(w.contains("401"), "{w}");
    assert!(w.contains(&format!("{OWNER}/{NAME}")), "{w}");
    assert!(w.contains("GITHUB_TOKEN"), "{w}");
    assert!(!w.contains(TOKEN));

    let r = run(
        relplan_gh(&repo, &fake),
        &["plan", "1.4.0", "--date", "2026-12-15", "--require-github"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert!(!repo.exists("releases/v1.4.0/scope.md"));
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_missing_repository_is_named_in_the_warning() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    // GraphQL says NOT_FOUND (HTTP 200), REST says 404
    fake.fault("POST", "/graphql", 1, 200, &[], r#"{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a Repository with the name 'octo-org/octo-repo'."}]}"#);
    fake.fault("GET", "/repos/", 1, 404, &[], r#"{"message":"Not Found"}"#);
    let (plan, _) = plan_json(&repo, &fake);
    let w = warnings(&plan);
    assert!(w.contains("404") && w.contains("octo-org/octo-repo"), "{w}");
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn an_exhausted_rate_limit_degrades_at_once_naming_the_reset_time() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    fake.fault(
        "POST",
        "/graphql",
        10,
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "4102444800"),
        ],
        r#"{"message":"API rate limit exceeded"}"#,
    );
    let started = Instant::now();
    let (plan, _) = plan_json(&repo, &fake);
    assert!(started.elapsed().as_secs() < 10, "waited for the reset");
    let w = warnings(&plan);
    assert!(
        w.contains("rate limit") && w.contains("2100-01-01T00:00:00Z"),
        "{w}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_short_retry_after_is_honoured_then_the_request_succeeds() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "Add a");
    let fake = FakeGithub::start();
    fake.add_pr(FakePr::new(3, "feat: a", &[&a]));
    fake.fault(
        "POST",
        "/graphql",
        1,
        429,
        &[("retry-after", "1")],
        r#"{"message":"slow down"}"#,
    );
    let started = Instant::now();
    let (plan, _) = plan_json(&repo, &fake);
    assert!(started.elapsed().as_millis() >= 1000);
    assert_eq!(change(&plan, &a)["category"], "features");
    assert_eq!(fake.count("POST", "/graphql"), 3);

    // a Retry-After longer than github.max_rate_limit_wait_secs is not waited for
    let fake = FakeGithub::start();
    fake.fault("POST", "/graphql", 1, 429, &[("retry-after", "3600")], "{}");
    let started = Instant::now();
    let (plan, _) = plan_json(&repo, &fake);
    assert!(started.elapsed().as_secs() < 10);
    assert!(
        warnings(&plan).contains("rate limit"),
        "{}",
        warnings(&plan)
    );
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn graphql_rate_limited_errors_with_http_200_are_a_rate_limit() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    fake.fault(
        "POST",
        "/graphql",
        1,
        200,
        &[("x-ratelimit-reset", "4102444800")],
        r#"{"data":null,"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user"}]}"#,
    );
    let (plan, _) = plan_json(&repo, &fake);
    assert!(
        warnings(&plan).contains("rate limit"),
        "{}",
        warnings(&plan)
    );
    assert_eq!(
        fake.count("GET", "/repos/"),
        0,
        "no REST fallback on a rate limit"
    );
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_502_on_graphql_halves_the_batch() {
    let repo = released_repo();
    let fake = FakeGithub::start();
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(repo.commit(&format!("Change {i}")));
    }
    fake.add_pr(FakePr::new(1, "feat: one", &[&ids[0]]));
    fake.add_pr(FakePr::new(2, "feat: two", &[&ids[19]]));
    fake.fault("POST", "/graphql", 1, 502, &[], "<html>Bad gateway</html>");
    let (plan, _) = plan_json(&repo, &fake);
    assert_eq!(plan["pull_requests"].as_array().unwrap().len(), 2);
    let commit_queries: Vec<usize> = fake
        .requests()
        .iter()
        .filter(|r| r.body.contains("associatedPullRequests"))
        .map(|r| {
            let v: Value = serde_json::from_str(&r.body).unwrap();
            v["variables"].as_object().unwrap().len() - 2
        })
        .collect();
    assert_eq!(commit_queries, vec![20, 10, 10]);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn rest_fallback_matches_merge_commits_when_graphql_is_unavailable() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "Add a");
    let b = repo.change("src/b.rs", "Add b");
    let fake = FakeGithub::start();
    fake.world.lock().unwrap().graphql_enabled = false;
    fake.add_pr(FakePr::new(11, "feat: a", &[&a]));
    fake.add_pr(FakePr::new(12, "fix: b", &[&b]));
    let (plan, _) = plan_json(&repo, &fake);
    assert_eq!(change(&plan, &a)["category"], "features");
    assert_eq!(change(&plan, &b)["category"], "fixes");
    assert!(warnings(&plan).contains("REST"), "{}", warnings(&plan));
    // one list page, no per-commit lookups: both matched by merge commit
    assert_eq!(fake.count("GET", "/repos/octo-org/octo-repo/pulls"), 1);
    assert_eq!(fake.count("GET", "/repos/octo-org/octo-repo/commits/"), 0);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn malformed_json_falls_back_then_degrades_without_losing_the_plan() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    fake.fault("POST", "/graphql", 1, 200, &[], "{\"data\": {oops");
    fake.fault("GET", "/repos/", 1, 200, &[], "[{\"number\": ");
    let r = run(
        relplan_gh(&repo, &fake),
        &["plan", "1.4.0", "--date", "2026-12-15"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(repo.exists("releases/v1.4.0/scope.md"));
    assert!(r.stdout.contains("not understood"), "{}", r.stdout);
    assert!(!repo.read("releases/v1.4.0/metadata.json").contains(TOKEN));
}

fn comment_args() -> Vec<&'static str> {
    vec!["comment", "--pr", "42", "--date", "2026-12-15"]
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn the_comment_is_created_once_then_patched_and_left_alone_when_unchanged() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: thanks @octocat, fixes #12");
    let fake = FakeGithub::start();
    fake.add_comment(42, "LGTM, someone else's comment");

    let r = run(relplan_gh(&repo, &fake), &comment_args());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("created"), "{}", r.stdout);
    let comments = fake.comments(42);
    assert_eq!(comments.len(), 2);
    let body = &comments[1].1;
    assert!(body.starts_with("<!-- relplan:plan-summary -->"), "{body}");
    assert!(body.contains("Release plan"), "{body}");
    assert_eq!(
        fake.count("POST", "/repos/octo-org/octo-repo/issues/42/comments"),
        1
    );

    // same plan: listed, not rewritten
    let r = run(relplan_gh(&repo, &fake), &comment_args());
    assert!(r.stdout.contains("up to date"), "{}", r.stdout);
    assert_eq!(fake.count("POST", "/repos/"), 1);
    assert_eq!(fake.count("PATCH", "/repos/"), 0);

    // the plan changed: the same comment is PATCHed
    repo.change("src/b.rs", "fix: b");
    let r = run(relplan_gh(&repo, &fake), &comment_args());
    assert!(r.stdout.contains("updated"), "{}", r.stdout);
    assert_eq!(fake.comments(42).len(), 2);
    assert_eq!(fake.count("POST", "/repos/"), 1);
    assert_eq!(
        fake.count("PATCH", "/repos/octo-org/octo-repo/issues/comments/"),
        1
    );
    assert!(
        fake.comments(42)[1].1.contains("2 commits") || fake.comments(42)[1].1.contains("commits")
    );
}

#[test]
fn comment_text_from_commits_cannot_mention_close_or_break_markdown() {
    let repo = released_repo();
    repo.change(
        "migrations/001.sql",
        "feat(db)!: thanks @octocat, fixes #12 | <!-- relplan:plan-summary -->",
    );
    let fake = FakeGithub::start();
    let r = run(
        relplan_gh(&repo, &fake),
        &["comment", "--pr", "42", "--date", "2026-12-15", "--dry-run"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("@octocat"), "{}", r.stdout);
    assert!(!r.stdout.contains("#12"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("<!-- relplan:plan-summary -->").count(), 1);
    assert_eq!(fake.count("POST", "/repos/"), 0);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_failed_post_is_followed_by_a_fresh_listing_never_a_second_comment() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    fake.fault(
        "POST",
        "/repos/octo-org/octo-repo/issues/42/comments",
        1,
        500,
        &[],
        "{}",
    );
    let r = run(relplan_gh(&repo, &fake), &comment_args());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fake.comments(42).len(), 1);
    assert_eq!(
        fake.count("GET", "/repos/octo-org/octo-repo/issues/42/comments"),
        2
    );
}

/// A simulated Actions environment: event, output and summary files.
struct Actions {
    dir: tempfile::TempDir,
}

impl Actions {
    fn new(event: &str) -> Actions {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("event.json"), event).unwrap();
        Actions { dir }
    }
    fn apply(&self, cmd: &mut assert_cmd::Command) {
        let p = |n: &str| self.dir.path().join(n);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", p("event.json"))
            .env("GITHUB_OUTPUT", p("output"))
            .env("GITHUB_STEP_SUMMARY", p("summary.md"));
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

fn pr_event(number: u64, head_repo: &str) -> String {
    serde_json::json!({
        "action": "synchronize", "number": number,
        "pull_request": {"number": number,
            "head": {"sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repo": {"full_name": head_repo}},
            "base": {"repo": {"full_name": format!("{OWNER}/{NAME}")}}}
    })
    .to_string()
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn in_actions_the_plan_writes_outputs_summary_and_annotations() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "Add a");
    let fake = FakeGithub::start();
    fake.add_pr(FakePr::new(4, "Add a thing", &[&a]));
    let actions = Actions::new(&pr_event(42, &format!("{OWNER}/{NAME}")));
    let mut cmd = relplan_gh(&repo, &fake);
    actions.apply(&mut cmd);
    let r = run(cmd, &["plan", "1.4.0", "--date", "2026-12-15"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let output = actions.read("output");
    let first = output.lines().next().unwrap();
    let delimiter = first.strip_prefix("version<<").expect("heredoc output");
    assert!(delimiter.starts_with("ghadelimiter_"), "{output}");
    assert!(
        output.contains(&format!("version<<{delimiter}\n1.4.0\n{delimiter}\n")),
        "{output}"
    );
    assert!(output.contains("next-version<<"), "{output}");
    assert!(output.contains("risk-level<<"), "{output}");
    assert!(output.contains("strategy<<"), "{output}");
    assert!(output.contains("\nreleases/v1.4.0\n"), "{output}");

    let scope = repo.read("releases/v1.4.0/scope.md");
    assert!(scope.contains("## Pull requests"), "{scope}");
    assert!(scope.contains("[#4]"), "{scope}");
    let team = repo.read("releases/v1.4.0/resources/team_allocation.md");
    assert!(team.contains("#4 Add a thing: octocat"), "{team}");

    let summary = actions.read("summary.md");
    assert!(summary.contains("## Release plan"), "{summary}");
    assert!(
        summary.contains(&format!("{}/{OWNER}/{NAME}/tree/", fake.url)),
        "{summary}"
    );
    assert!(r.stderr.contains("::warning::"), "{}", r.stderr);
    for text in [&output, &summary] {
        assert!(!text.contains(TOKEN));
    }
}

#[test]
fn in_actions_errors_are_annotations() {
    let repo = released_repo();
    let fake = FakeGithub::start();
    let actions = Actions::new("{}");
    let mut cmd = relplan_gh(&repo, &fake);
    actions.apply(&mut cmd);
    let r = run(cmd, &["plan", "1.4", "--date", "2026-12-15"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("::error::version \"1.4\""),
        "{}",
        r.stderr
    );
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_pull_request_event_gives_the_number_and_a_fork_skips_the_comment() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();

    let same = Actions::new(&pr_event(42, &format!("{OWNER}/{NAME}")));
    let mut cmd = relplan_gh(&repo, &fake);
    same.apply(&mut cmd);
    let r = run(cmd, &["comment", "--date", "2026-12-15"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fake.comments(42).len(), 1);

    let fork = Actions::new(&pr_event(43, "someone/octo-repo"));
    let mut cmd = relplan_gh(&repo, &fake);
    fork.apply(&mut cmd);
    let r = run(cmd, &["comment", "--date", "2026-12-15"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("::notice::") && r.stderr.contains("fork"),
        "{}",
        r.stderr
    );
    assert_eq!(fake.count("GET", "/repos/octo-org/octo-repo/issues/43"), 0);
    assert_eq!(fake.count("POST", "/repos/octo-org/octo-repo/issues/43"), 0);
    assert!(fork.read("summary.md").contains("## Release plan"));
}

#[test]
fn comment_summarises_the_latest_written_plan() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let r = run(repo.relplan(), &["plan", "1.4.0", "--date", "2026-12-20"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fake = FakeGithub::start();
    let r = run(
        relplan_gh(&repo, &fake),
        &["comment", "--pr", "42", "--dry-run"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("v1.4.0") && r.stdout.contains("2026-12-20"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("releases/v1.4.0/scope.md"),
        "{}",
        r.stdout
    );
}

/// The fake's payloads still match octocrab's models of GitHub's API.
#[cfg(feature = "github")]
#[test]
fn fixtures_deserialize_with_octocrab_models() {
    let pr =
        crate::fake_github::rest_pr(&FakePr::new(5, "feat: x", &["abc"]).labels(&["security"]));
    let parsed: octocrab::models::pulls::PullRequest = serde_json::from_value(pr).unwrap();
    assert_eq!(parsed.number, 5);
    assert_eq!(parsed.merge_commit_sha.as_deref(), Some("abc"));
    let comment = crate::fake_github::comment_json(7, 42, "hello");
    let parsed: octocrab::models::issues::Comment = serde_json::from_value(comment).unwrap();
    assert_eq!(parsed.body.as_deref(), Some("hello"));
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn the_marked_comment_is_found_on_a_later_page() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    let fake = FakeGithub::start();
    for i in 0..130 {
        fake.add_comment(42, &format!("comment {i}"));
    }
    let marked = fake.add_comment(42, "<!-- relplan:plan-summary -->\nan old plan");
    fake.add_comment(42, "after");
    let r = run(relplan_gh(&repo, &fake), &comment_args());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("updated plan comment {marked}")),
        "{}",
        r.stdout
    );
    assert_eq!(
        fake.count("GET", "/repos/octo-org/octo-repo/issues/42/comments"),
        2
    );
    assert_eq!(fake.count("POST", "/repos/"), 0);
    assert_eq!(fake.comments(42).len(), 132);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn enterprise_server_urls_and_retried_server_errors() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "Add a");
    let fake = FakeGithub::start();
    fake.world.lock().unwrap().graphql_enabled = false;
    fake.add_pr(FakePr::new(11, "feat: a", &[&a]));
    // one 503 on the REST list: a GET is retried
    fake.fault(
        "GET",
        "/api/v3/repos/octo-org/octo-repo/pulls",
        1,
        503,
        &[],
        "{}",
    );
    let mut cmd = repo.relplan();
    cmd.env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", format!("{}/api/v3", fake.url))
        .env("GITHUB_REPOSITORY", format!("{OWNER}/{NAME}"));
    let r = run(
        cmd,
        &[
            "plan",
            "1.4.0",
            "--date",
            "2026-12-15",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(change(&plan, &a)["category"], "features");
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[0], "/api/graphql", "{paths:?}");
    assert!(
        paths[1].starts_with("/api/v3/repos/octo-org/octo-repo/pulls?"),
        "{paths:?}"
    );
    assert_eq!(paths.len(), 3, "{paths:?}");
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn rest_fallback_looks_up_unmatched_commits_one_by_one_up_to_the_cap() {
    let repo = released_repo();
    let a = repo.change("src/a.rs", "Add a");
    let b = repo.change("src/b.rs", "Add b");
    let c = repo.change("src/c.rs", "Add c");
    repo.write(".relplan.toml", "[github]\nmax_commit_lookups = 2\n");
    let fake = FakeGithub::start();
    fake.world.lock().unwrap().graphql_enabled = false;
    // rebase-merged: the PR's merge commit is not one of the range's commits
    let mut rebased = FakePr::new(21, "feat: rebased", &[&c, &b, &a]);
    rebased.merge_commit = Some("f".repeat(40));
    fake.add_pr(rebased);
    let (plan, _) = plan_json(&repo, &fake);
    assert_eq!(fake.count("GET", "/repos/octo-org/octo-repo/commits/"), 2);
    assert!(
        warnings(&plan).contains("max_commit_lookups"),
        "{}",
        warnings(&plan)
    );
    let pr = &plan["pull_requests"][0];
    assert_eq!(pr["number"], 21);
    assert_eq!(pr["commits"].as_array().unwrap().len(), 2);
}

#[test]
#[cfg_attr(not(feature = "github"), ignore = "needs the github feature")]
fn a_read_timeout_is_retried_then_the_plan_goes_on_without_github() {
    let repo = released_repo();
    repo.change("src/a.rs", "feat: a");
    repo.write(
        ".relplan.toml",
        "[github]\nread_timeout_secs = 1\nretries = 1\n",
    );
    let fake = FakeGithub::start();
    fake.world
        .lock()
        .unwrap()
        .delays
        .push(("POST".into(), "/graphql".into(), 3000, 10));
    let started = Instant::now();
    let (plan, _) = plan_json(&repo, &fake);
    assert!(started.elapsed().as_secs() < 15);
    assert_eq!(fake.count("POST", "/graphql"), 2, "one retry");
    assert!(
        warnings(&plan).contains("cannot reach GitHub"),
        "{}",
        warnings(&plan)
    );
}

/// action.yml passes inputs through `env:` only: an expression inside a `run:`
/// script would be pasted into the shell unescaped (script injection).
#[test]
fn the_action_never_expands_expressions_inside_run_scripts() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let mut run_indent: Option<usize> = None;
    let mut scripts = 0;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = run_indent {
            if line.trim().is_empty() || indent > at {
                assert!(!line.contains("${{"), "expression in a run script: {line}");
                continue;
            }
            run_indent = None;
        }
        if line.trim_start().starts_with("run: |") {
            run_indent = Some(indent);
            scripts += 1;
        }
    }
    assert_eq!(scripts, 3);
    for output in [
        "version",
        "next-version",
        "risk-level",
        "strategy",
        "plan-dir",
    ] {
        assert!(
            text.contains(&format!("steps.plan.outputs.{output}")),
            "{output}"
        );
    }
}
