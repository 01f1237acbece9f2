#!/usr/bin/env python3
"""Builds three large public-style git histories for checking relplan's classification.

    scripts/gen-histories.py OUT_DIR [COMMITS]

Writes OUT_DIR/{squash,merges,legacy}: deterministic (seeded) repositories made with
`git fast-import`, each tagged v1.0.0 near the start, so `relplan scope --format json`
classifies everything after it.

- squash:  a squash-merge project (angular style): conventional subjects with `(#N)`,
           bodies, BREAKING CHANGE footers, dependabot, release commits, reverts, and the
           usual few percent of people who forget the convention.
- merges:  a merge-commit project: `Merge pull request #N from ...` with PR titles (half
           conventional), feature-branch commits ("wip", "address review", fixups),
           `Merge branch 'main' into ...` back-merges, real two-parent merges.
- legacy:  a project that never adopted the convention: "subsystem: description"
           subjects (which look conventional), prose, docs-only and tests-only commits,
           CVE fixes, `Merge tag` commits.
"""
import os
import random
import subprocess
import sys

T0 = 1_700_000_000


class Stream:
    def __init__(self):
        self.parts = []
        self.mark = 0
        self.time = T0

    def blob_commit(self, ref, message, files, parent=None, merge=None, author="Ada Lovelace <ada@example.com>"):
        self.mark += 1
        self.time += 600
        msg = message.encode()
        out = [f"commit {ref}\nmark :{self.mark}\n".encode(),
               f"author {author} {self.time} +0000\ncommitter {author} {self.time} +0000\n".encode(),
               f"data {len(msg)}\n".encode(), msg, b"\n"]
        if parent:
            out.append(f"from :{parent}\n".encode())
        if merge:
            out.append(f"merge :{merge}\n".encode())
        for path in files:
            content = f"{path} {self.mark}\n".encode()
            out.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n")
        self.parts.append(b"".join(out))
        return self.mark

    def tag(self, name, mark):
        self.parts.append(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())

    def write(self, path):
        subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
        subprocess.run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(self.parts), check=True)
        subprocess.run(["git", "-C", path, "checkout", "-q", "-f", "main"], check=True)


SCOPES = ["api", "cli", "parser", "auth", "ui", "db", "cache", "config", "http", "core"]
WORDS = ["search", "export", "retry", "timeout", "pagination", "login", "token", "index",
         "schema", "logging", "metrics", "upload", "preview", "theme", "locale", "webhook"]
PEOPLE = ["Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.com>",
          "Linus Ng <linus@example.com>", "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"]
SLOPPY = ["WIP", "fix typo", "Feat add {w} support", "update {w}", "oops", "Fixed {w} bug",
          "{w} tweaks", "Refactoring {w}", "feat {w} endpoint", "Minor changes", "more {w}"]


def src(rng):
    return f"src/{rng.choice(SCOPES)}/{rng.choice(WORDS)}.rs"


def squash(rng, n):
    s = Stream()
    head = s.blob_commit("refs/heads/main", "chore: initial commit\n", ["README.md"])
    for _ in range(10):
        head = s.blob_commit("refs/heads/main", f"feat: {rng.choice(WORDS)}\n", [src(rng)], head)
    s.tag("v1.0.0", head)
    subjects = []
    pr = 100
    for i in range(n):
        pr += 1
        w, sc = rng.choice(WORDS), rng.choice(SCOPES)
        r = rng.random()
        author = rng.choice(PEOPLE[:3])
        files = [src(rng)]
        if r < 0.30:
            msg = f"feat({sc}): add {w} (#{pr})\n\n* add {w}\n* tests\n"
        elif r < 0.55:
            msg = f"fix({sc}): handle empty {w} (#{pr})\n"
        elif r < 0.60:
            msg = f"docs: document {w} (#{pr})\n"
            files = [f"docs/{w}.md"]
        elif r < 0.65:
            msg = f"test({sc}): cover {w} (#{pr})\n"
            files = [f"tests/{w}.rs"]
        elif r < 0.70:
            msg = f"refactor({sc}): simplify {w} (#{pr})\n"
        elif r < 0.73:
            msg = f"perf({sc}): cache {w} lookups (#{pr})\n"
        elif r < 0.76:
            msg = f"ci: run {w} checks on pull requests (#{pr})\n"
            files = [".github/workflows/ci.yml"]
        elif r < 0.82:
            msg = f"build(deps): bump {w}-rs from 1.{i % 9}.0 to 1.{i % 9 + 1}.0 (#{pr})\n\nBumps {w}-rs.\n"
            author, files = PEOPLE[3], ["Cargo.lock"]
        elif r < 0.84:
            msg = f"chore(release): 1.{i // 100}.{i % 100}\n"
            files = ["CHANGELOG.md"]
        elif r < 0.86:
            msg = f"feat({sc})!: rename {w} option (#{pr})\n\nBREAKING CHANGE: `{w}` is now `{w}_mode`.\n"
        elif r < 0.88 and subjects:
            target = rng.choice(subjects[-50:])
            msg = f"Revert \"{target}\"\n\nThis reverts an earlier change.\n"
        elif r < 0.90:
            msg = f"fix(security): escape {w} in templates (#{pr})\n\nFixes CVE-2025-{1000 + i}.\n"
        elif r < 0.95:
            msg = f"chore: tidy {w} (#{pr})\n"
        else:
            msg = rng.choice(SLOPPY).format(w=w) + f" (#{pr})\n"
        subjects.append(msg.split("\n")[0])
        head = s.blob_commit("refs/heads/main", msg, files, head, author=author)
    return s


def merges(rng, n):
    s = Stream()
    head = s.blob_commit("refs/heads/main", "Initial commit\n", ["README.md"])
    for _ in range(10):
        head = s.blob_commit("refs/heads/main", f"Add {rng.choice(WORDS)}\n", [src(rng)], head)
    s.tag("v1.0.0", head)
    made, pr = 0, 200
    while made < n:
        pr += 1
        w, sc = rng.choice(WORDS), rng.choice(SCOPES)
        branch = f"refs/heads/topic-{pr}"
        tip = head
        first = None
        for k in range(rng.randint(1, 4)):
            r = rng.random()
            if k == 0:
                msg = rng.choice([f"feat({sc}): {w} support", f"Add {w} support", f"fix: {w} crash", f"Implement {w}"])
                first = msg
            elif r < 0.3:
                msg = "wip"
            elif r < 0.5:
                msg = "address review comments"
            elif r < 0.7 and first:
                msg = f"fixup! {first}"
            elif r < 0.8:
                msg = f"test: {w} cases"
            else:
                msg = rng.choice(SLOPPY).format(w=w)
            files = [f"docs/{w}.md"] if "docs" in msg else ([f"tests/{w}.rs"] if msg.startswith("test") else [src(rng)])
            tip = s.blob_commit(branch, msg + "\n", files, tip, author=rng.choice(PEOPLE[:3]))
            made += 1
        if rng.random() < 0.15:
            # A back-merge of main into the topic branch.
            tip = s.blob_commit(branch, f"Merge branch 'main' into topic-{pr}\n", [], tip, merge=head)
            made += 1
        title = rng.choice([f"feat({sc}): {w} support", f"fix({sc}): {w} edge cases", f"Add {w}",
                            f"Improve {w} handling", f"docs: {w} guide", f"chore(deps): update {w}"])
        head = s.blob_commit("refs/heads/main", f"Merge pull request #{pr} from octo/topic-{pr}\n\n{title}\n",
                             [], head, merge=tip)
        made += 1
    return s


def legacy(rng, n):
    s = Stream()
    head = s.blob_commit("refs/heads/main", "Initial import\n", ["README"])
    for _ in range(10):
        head = s.blob_commit("refs/heads/main", f"net: add {rng.choice(WORDS)}\n", [src(rng)], head)
    s.tag("v1.0.0", head)
    subsystems = ["net", "mm", "fs/ext4", "drm/i915", "usb", "sched", "kvm", "Documentation", "selftests", "tools/perf"]
    for i in range(n):
        w, sub = rng.choice(WORDS), rng.choice(subsystems)
        r = rng.random()
        files = [f"{sub}/{w}.c"]
        if r < 0.55:
            msg = f"{sub}: fix {w} refcount leak\n\nThe {w} path forgot to drop a reference.\n\nSigned-off-by: Ada <ada@example.com>\n"
        elif r < 0.65:
            msg = f"Update {w} documentation\n"
            files = [f"Documentation/{w}.rst"]
        elif r < 0.72:
            msg = f"Add tests for {w}\n"
            files = [f"tests/{w}_test.py"]
        elif r < 0.75:
            msg = f"Fix {w} overflow\n\nThis addresses CVE-2024-{2000 + i}.\n"
        elif r < 0.80:
            msg = f"Merge tag '{sub}-for-6.{i % 20}' of git://git.example.org/{sub}\n"
            files = []
            head = s.blob_commit("refs/heads/main", msg, files, head, merge=head)
            continue
        elif r < 0.83:
            msg = f"Bump {w} from 2.{i % 7}.0 to 2.{i % 7 + 1}.0\n"
            files = ["requirements.txt"]
        else:
            msg = rng.choice(["Clean up {w}", "Make {w} faster", "Handle {w} errors", "Remove dead {w} code",
                              "Rework {w} locking", "Release 6.{w}"]).format(w=w) + "\n"
        head = s.blob_commit("refs/heads/main", msg, files, head)
    return s


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    os.makedirs(out, exist_ok=True)
    for name, make in [("squash", squash), ("merges", merges), ("legacy", legacy)]:
        make(random.Random(name), n).write(os.path.join(out, name))
        print(os.path.join(out, name))


if __name__ == "__main__":
    main()
