//! Large and odd histories: many tags, huge messages, commits touching 100k files,
//! paths that are not UTF-8, missing objects, and progress output. Histories are
//! built with `git fast-import`, so each test runs in seconds.

use std::io::{BufRead, BufReader, Write};

use crate::support::TestRepo;

/// Feeds a `git fast-import` stream to the repository.
fn import(repo: &TestRepo, stream: &[u8]) {
    let mut child = repo
        .git_command()
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream)
        .expect("write stream");
    assert!(child.wait().unwrap().success(), "fast-import failed");
}

/// Appends one commit on `main` to a fast-import stream.
fn commit(stream: &mut Vec<u8>, mark: usize, parent: Option<usize>, message: &[u8], files: &[u8]) {
    let time = 1_780_000_000 + mark as i64 * 60;
    stream.extend(format!("commit refs/heads/main\nmark :{mark}\n").bytes());
    stream.extend(format!("committer Ada Lovelace <ada@example.com> {time} +0000\n").bytes());
    stream.extend(format!("data {}\n", message.len()).bytes());
    stream.extend(message);
    stream.push(b'\n');
    if let Some(p) = parent {
        stream.extend(format!("from :{p}\n").bytes());
    }
    stream.extend(files);
    stream.push(b'\n');
}

fn inline_file(path: &[u8], content: &str) -> Vec<u8> {
    let mut out = b"M 100644 inline ".to_vec();
    out.extend(path);
    out.extend(format!("\ndata {}\n{content}\n", content.len()).bytes());
    out
}

/// The dry-run plan of 1.1.0 and its warnings about commits whose paths were skipped.
fn plan_with_skipped_paths(repo: &TestRepo) -> (serde_json::Value, Vec<String>) {
    let plan = repo.dry_run_plan("1.1.0");
    let skipped = warnings(&plan)
        .into_iter()
        .filter(|w| w.contains("skipped the paths"))
        .collect();
    (plan, skipped)
}

/// The plan's `files.paths`: every path the range changed.
fn planned_paths(plan: &serde_json::Value) -> Vec<&str> {
    plan["files"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect()
}

fn warnings(plan: &serde_json::Value) -> Vec<String> {
    plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_previous_release_is_the_nearest_of_thousands_of_tags() {
    let repo = TestRepo::new();
    let mut stream = Vec::new();
    for n in 1..=3000 {
        let file = inline_file(format!("src/f{}.rs", n % 50).as_bytes(), &n.to_string());
        commit(
            &mut stream,
            n,
            (n > 1).then(|| n - 1),
            format!("fix: change {n}").as_bytes(),
            &file,
        );
        if n <= 2990 {
            stream.extend(format!("reset refs/tags/v1.{n}.0\nfrom :{n}\n\n").bytes());
        }
    }
    import(&repo, &stream);

    let json = repo.scope_json();
    assert_eq!(json["from"]["ref"], "v1.2990.0");
    assert_eq!(json["changes"].as_array().unwrap().len(), 10);
    let next = repo.relplan().args(["next-version"]).assert().success();
    assert_eq!(
        String::from_utf8_lossy(&next.get_output().stdout),
        "1.2990.1\n"
    );
}

#[test]
fn a_message_of_several_megabytes_is_read_whole() {
    let repo = TestRepo::new();
    let mut stream = Vec::new();
    commit(
        &mut stream,
        1,
        None,
        b"chore: start",
        &inline_file(b"a.txt", "1"),
    );
    stream.extend(b"reset refs/tags/v1.0.0\nfrom :1\n\n");
    let mut huge = b"feat(api): accept very long payloads\n\n".to_vec();
    for i in 0..60_000 {
        huge.extend(format!("line {i} of a body that goes on and on\n").bytes());
    }
    huge.extend(b"\nBREAKING CHANGE: payloads over 1 MiB are streamed\n");
    assert!(huge.len() > 2_000_000);
    commit(&mut stream, 2, Some(1), &huge, &inline_file(b"api.rs", "2"));
    import(&repo, &stream);

    let json = repo.scope_json();
    let change = &json["changes"][0];
    assert_eq!(change["summary"], "feat(api): accept very long payloads");
    assert_eq!(change["breaking"], true, "the footer after 2 MB was read");
}

#[test]
fn a_commit_touching_100k_files_is_planned() {
    let repo = TestRepo::new();
    let mut stream = b"blob\nmark :1\ndata 2\nx\n\n".to_vec();
    commit(
        &mut stream,
        2,
        None,
        b"chore: start",
        &inline_file(b"README.md", "hi"),
    );
    stream.extend(b"reset refs/tags/v1.0.0\nfrom :2\n\n");
    let mut files = Vec::new();
    for i in 0..100_000 {
        files.extend(format!("M 100644 :1 vendor/d{}/f{i}.txt\n", i / 1000).bytes());
    }
    commit(
        &mut stream,
        3,
        Some(2),
        b"build(deps): vendor everything",
        &files,
    );
    import(&repo, &stream);

    let plan = repo.dry_run_plan("1.1.0");
    let files = &plan["files"];
    assert_eq!(files["areas"][0]["name"], "vendor");
    assert_eq!(files["areas"][0]["files"], 100_000);
    assert_eq!(
        files["paths"].as_array().unwrap().len()
            + files["paths_omitted"].as_u64().unwrap() as usize,
        100_000
    );
}

#[test]
fn paths_that_are_not_utf8_are_shown_lossily() {
    let repo = TestRepo::new();
    let mut stream = Vec::new();
    commit(
        &mut stream,
        1,
        None,
        b"chore: start",
        &inline_file(b"a.txt", "1"),
    );
    stream.extend(b"reset refs/tags/v1.0.0\nfrom :1\n\n");
    commit(
        &mut stream,
        2,
        Some(1),
        b"docs: latin-1 name",
        &inline_file(b"docs/caf\xe9.md", "2"),
    );
    import(&repo, &stream);

    let plan = repo.dry_run_plan("1.0.1");
    assert_eq!(plan["files"]["paths"][0], "docs/caf\u{fffd}.md");
}

/// The loose object file of `id`.
fn object_file(repo: &TestRepo, id: &str) -> std::path::PathBuf {
    repo.path()
        .join(".git/objects")
        .join(&id[..2])
        .join(&id[2..])
}

#[test]
fn a_clone_without_trees_gets_one_warning_not_one_per_commit() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: start");
    repo.tag("v1.0.0");
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(repo.change(&format!("src/f{i}.rs"), &format!("feat: part {i}")));
    }
    // A treeless partial clone: the commits are there, their root trees are not.
    for id in &ids {
        let tree = repo.git(&["rev-parse", &format!("{id}^{{tree}}")]);
        std::fs::remove_file(object_file(&repo, tree.trim())).expect("loose tree object");
    }

    let (plan, skipped) = plan_with_skipped_paths(&repo);
    assert_eq!(skipped.len(), 1, "{:?}", warnings(&plan));
    assert!(
        skipped[0].contains("skipped the paths of 8 commits") && skipped[0].contains("and 3 more"),
        "{skipped:?}"
    );
    // The newest commits are named (the walk is newest first).
    assert!(skipped[0].contains(ids.last().unwrap()), "{skipped:?}");
    assert_eq!(plan["range"]["commits"], 8);
    // The same when a helper process reads the trees.
    let (helped, _) = plan_with_helper_min(&repo, "1");
    let (alone, _) = plan_with_helper_min(&repo, "off");
    assert_eq!(helped, alone);
}

const DRY_RUN_JSON: [&str; 7] = [
    "plan",
    "1.1.0",
    "--date",
    "2026-12-15",
    "--dry-run",
    "--format",
    "json",
];

/// `relplan plan 1.1.0 --dry-run --format json` in CI mode with `RELPLAN_HELPER_MIN`
/// set: (stdout, stderr).
fn plan_with_helper_min(repo: &TestRepo, helper_min: &str) -> (String, String) {
    plan_with_helper(repo, &[("RELPLAN_HELPER_MIN", helper_min)])
}

fn plan_with_helper(repo: &TestRepo, env: &[(&str, &str)]) -> (String, String) {
    let output = repo
        .relplan()
        .env("CI", "true")
        .envs(env.iter().copied())
        .args(DRY_RUN_JSON)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    (stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_plan_diffed_partly_by_a_helper_process_is_the_same_plan() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: start");
    repo.tag("v1.0.0");
    for i in 0..10 {
        repo.change(&format!("src/m{i}.rs"), &format!("feat: module {i}"));
        repo.write(
            &format!("db/migrations/{i:03}_drop.sql"),
            &format!("DROP TABLE t{i};\n"),
        );
        repo.commit(&format!("fix: migrate {i}"));
        repo.git(&["rm", "-q", &format!("src/m{i}.rs")]);
        repo.commit(&format!("refactor: drop module {i}"));
    }

    let (helped, log) = plan_with_helper_min(&repo, "1");
    assert!(
        log.contains("relplan: reading changed paths: 30 commits in")
            && log.contains("(29 of them by a helper process)"),
        "{log}"
    );
    let (alone, log) = plan_with_helper_min(&repo, "off");
    assert!(!log.contains("helper process"), "{log}");
    assert_eq!(helped, alone);
    // Two requests ahead: the two processes meet somewhere in the middle.
    let ahead = [("RELPLAN_HELPER_MIN", "1"), ("RELPLAN_HELPER_AHEAD", "2")];
    let (shared, log) = plan_with_helper(&repo, &ahead);
    assert!(log.contains("of them by a helper process"), "{log}");
    assert_eq!(shared, alone);
    // A helper that dies after five answers: the rest is diffed here, nothing lost.
    let dying = [
        ("RELPLAN_HELPER_MIN", "1"),
        ("RELPLAN_HELPER_STOP_AFTER", "5"),
    ];
    let (rescued, log) = plan_with_helper(&repo, &dying);
    assert!(log.contains("(5 of them by a helper process)"), "{log}");
    assert_eq!(rescued, alone);

    let plan: serde_json::Value = serde_json::from_str(&helped).unwrap();
    let paths = planned_paths(&plan);
    for i in 0..10 {
        assert!(
            paths.contains(&format!("db/migrations/{i:03}_drop.sql").as_str()),
            "{paths:?}"
        );
    }
}

#[test]
fn a_commit_with_a_malformed_signature_is_still_planned() {
    let repo = TestRepo::new();
    repo.change("a.txt", "chore: base");
    repo.tag("v1.0.0");
    let parent = repo.head();
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    // git fsck would reject this author line; relplan reads what it can of it.
    let raw = format!(
        "tree {}\nparent {parent}\nauthor Nobody without an email 1700000000 +0000\ncommitter C <c@example.com> notatime\n\nfix: odd author line\n",
        tree.trim()
    );
    repo.write("raw-commit", &raw);
    let id = repo.git(&[
        "hash-object",
        "-t",
        "commit",
        "--literally",
        "-w",
        "raw-commit",
    ]);
    std::fs::remove_file(repo.path().join("raw-commit")).unwrap();
    repo.git(&["update-ref", "HEAD", id.trim()]);
    let tip = repo.change("b.txt", "feat: after the odd one");

    let json = repo.scope_json();
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{json:#}");
    assert_eq!(changes[0]["id"], tip);
    assert_eq!(changes[1]["id"], id.trim());
    assert_eq!(changes[1]["category"], "fixes");
    assert_eq!(
        changes[1]["authors"][0],
        "Nobody without an email 1700000000 +0000"
    );
    repo.relplan()
        .args(["plan", "1.1.0", "--date", "2026-12-15", "--dry-run"])
        .assert()
        .success();
}

#[test]
fn a_missing_tree_skips_that_commits_paths_with_one_warning() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: start");
    repo.tag("v1.0.0");
    let before = repo.change("src/lib.rs", "feat: library");
    let broken = repo.change("feature/a.txt", "feat: feature a");
    let after = repo.change("src/lib.rs", "fix: library");
    // The `feature` folder's tree exists in `broken` and every later commit; remove it
    // as a partial clone or an aggressive prune would.
    let tree = repo.git(&["rev-parse", &format!("{broken}:feature")]);
    std::fs::remove_file(object_file(&repo, tree.trim())).expect("loose tree object");

    let (plan, skipped) = plan_with_skipped_paths(&repo);
    assert_eq!(
        skipped.len(),
        1,
        "one warning, for one commit: {:?}",
        warnings(&plan)
    );
    assert!(skipped[0].contains(&broken), "{skipped:?}");
    // The other commits keep their evidence.
    let paths = planned_paths(&plan);
    assert_eq!(paths, ["src/lib.rs"]);
    assert_eq!(plan["range"]["commits"], 3);
    let _ = (before, after);
}

#[test]
fn a_pruned_blob_does_not_stop_the_plan() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: start");
    repo.tag("v1.0.0");
    let commit = repo.change("big.bin", "feat: add data");
    let blob = repo.git(&["rev-parse", &format!("{commit}:big.bin")]);
    std::fs::remove_file(object_file(&repo, blob.trim())).expect("loose blob object");

    let plan = repo.dry_run_plan("1.1.0");
    // Paths come from trees alone, so the commit keeps its evidence.
    assert_eq!(plan["files"]["paths"][0], "big.bin");
    assert!(
        warnings(&plan).iter().any(|w| w.contains("line counts")),
        "{:?}",
        warnings(&plan)
    );
}

#[test]
fn a_reader_that_stops_after_one_line_ends_the_json_quietly() {
    let repo = TestRepo::new();
    let mut stream = Vec::new();
    // About 1 MB of JSON: far more than a pipe holds, so relplan is still writing
    // when the reader leaves.
    for n in 1..=2000 {
        let file = inline_file(format!("src/f{}.rs", n % 50).as_bytes(), &n.to_string());
        let message = format!("fix(api): change number {n} of a long history");
        commit(
            &mut stream,
            n,
            (n > 1).then(|| n - 1),
            message.as_bytes(),
            &file,
        );
        if n == 1 {
            stream.extend(b"reset refs/tags/v1.0.0\nfrom :1\n\n");
        }
    }
    import(&repo, &stream);

    for args in [&["scope", "--format", "json"][..], &DRY_RUN_JSON] {
        let mut child = repo
            .relplan_process()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run relplan");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader is dropped here: the pipe is closed.
        assert_eq!(first, "{\n", "{args:?}");
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn ci_gets_one_progress_line_per_phase_and_quiet_gets_none() {
    let repo = TestRepo::new();
    repo.change("README.md", "chore: start");
    repo.tag("v1.0.0");
    repo.change("src/lib.rs", "feat: library");
    repo.change("src/lib.rs", "fix: library");

    let ci = repo
        .relplan()
        .env("CI", "true")
        .args(["plan", "1.1.0", "--date", "2026-12-15", "--dry-run"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&ci.get_output().stderr).into_owned();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("relplan: "))
        .collect();
    let phases = [
        "walking history",
        "reading changed paths",
        "classifying",
        "assessing risks",
        "rendering documents",
    ];
    assert_eq!(lines.len(), phases.len(), "{stderr}");
    for (line, phase) in lines.iter().zip(phases) {
        assert!(
            line.starts_with(&format!("relplan: {phase}: 2 commits in ")),
            "{stderr}"
        );
    }

    for args in [
        vec![
            "--quiet",
            "plan",
            "1.1.0",
            "--date",
            "2026-12-15",
            "--dry-run",
        ],
        vec!["plan", "1.1.0", "--date", "2026-12-15", "--dry-run", "-q"],
    ] {
        let quiet = repo
            .relplan()
            .env("CI", "true")
            .args(&args)
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&quiet.get_output().stderr).into_owned();
        assert!(!stderr.contains("relplan: "), "{args:?}: {stderr}");
    }
    // Not a terminal and not CI (as in every other test): no progress at all.
    let plain = repo
        .relplan()
        .args(["plan", "1.1.0", "--date", "2026-12-15", "--dry-run"])
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&plain.get_output().stderr).contains("relplan: "));
}

#[test]
fn a_packed_history_plans_as_its_loose_objects_do() {
    // relplan reads commits and trees straight from pack files where it can, and
    // through libgit2 otherwise: the plan must not depend on how git stored them.
    let repo = TestRepo::new();
    repo.change("a.txt", "feat: base");
    repo.tag("v1.0.0");
    for i in 0..40 {
        let body = format!("// revision {i}\n").repeat(30);
        repo.write(&format!("src/m{}/f{}.rs", i % 4, i % 10), &body);
        repo.commit(&format!("fix(m{}): change {i}", i % 4));
    }
    repo.write("docs/guide.md", "how to\n");
    repo.commit("Update the guide"); // classified by its paths: a tree diff
    repo.write("migrations/001_init.sql", "DROP TABLE users;\n");
    repo.commit("feat(db)!: new schema");
    let loose = (repo.scope_json(), repo.dry_run_plan("2.0.0"));
    assert_eq!(loose.0["changes"][1]["category"], "documentation");

    // Deltas against their bases' ids, then against offsets (git's default), and a
    // commit made after the pack, loose beside it.
    for offsets in ["false", "true"] {
        let option = format!("repack.useDeltaBaseOffset={offsets}");
        repo.git(&[
            "-c",
            &option,
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
            "--depth=50",
        ]);
        assert!(repo.git(&["count-objects", "-v"]).starts_with("count: 0\n"));
        let packed = (repo.scope_json(), repo.dry_run_plan("2.0.0"));
        assert_eq!(packed, loose, "useDeltaBaseOffset={offsets}");
    }
    repo.change("b.txt", "fix: after the pack");
    let scope = repo.scope_json();
    let (now, before) = (
        scope["changes"].as_array().unwrap(),
        loose.0["changes"].as_array().unwrap(),
    );
    assert_eq!(now[0]["summary"], "fix: after the pack");
    assert_eq!(now[1..], before[..]);
}
