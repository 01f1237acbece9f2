#!/usr/bin/env python3
"""Streams a synthetic, deterministic git history in `git fast-import` format.

Usage: gen-repo.py COMMITS [--paths N] [--tag-every N] [--seed N] | git fast-import --quiet

The history looks like a busy project's: Conventional Commit messages (with scopes,
bodies, PR numbers, a few breaking changes and a few non-conventional ones), 1-3 changed
files per commit across a few thousand paths three folders deep, GitHub-style merge
commits, a lockfile bump now and then, a new database migration every few hundred
commits, and a release tag (some annotated) every --tag-every commits. The first commit
is tagged v0.1.0, so `v0.1.0..main` is the whole history but the root.
"""

import argparse
import random
import sys

AREAS = ["src/api", "src/core", "src/db", "src/auth", "src/ui", "src/billing",
         "src/search", "src/jobs", "crates/cli", "crates/proto", "web/app",
         "web/components", "tests/integration", "tests/unit", "docs/guide",
         "docs/reference", "config", "scripts", ".github/workflows", "deploy/k8s"]
EXTS = {"src": "rs", "crates": "rs", "web": "ts", "tests": "rs", "docs": "md",
        "config": "toml", "scripts": "sh", ".github": "yml", "deploy": "yaml"}
WORDS = ("account session token cache index query router handler worker queue retry "
         "timeout config parser schema invoice payment user profile search filter page "
         "upload export import report audit metrics tracing logging limit quota webhook "
         "migration backup replica shard lock pool buffer stream batch client server").split()
VERBS = ("add support for|handle|fix|improve|remove|rework|speed up|document|validate|"
         "cache|retry|log|expose|deprecate|simplify|split|rename|guard against").split("|")
TYPES = [("feat", 25), ("fix", 30), ("chore", 8), ("docs", 7), ("refactor", 8),
         ("test", 6), ("perf", 3), ("build", 2), ("ci", 2), ("deps", 5), ("none", 4)]
PEOPLE = [("Ada Lovelace", "ada"), ("Grace Hopper", "grace"), ("Alan Turing", "alan"),
          ("Edsger Dijkstra", "edsger"), ("Barbara Liskov", "barbara"),
          ("Ken Thompson", "ken"), ("Margaret Hamilton", "margaret"),
          ("Donald Knuth", "don"), ("Frances Allen", "fran"), ("Linus Torvalds", "linus"),
          ("Radia Perlman", "radia"), ("Dennis Ritchie", "dmr"), ("Hedy Lamarr", "hedy"),
          ("John Backus", "backus"), ("Adele Goldberg", "adele"), ("Niklaus Wirth", "wirth")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("commits", type=int)
    ap.add_argument("--paths", type=int, default=3000)
    ap.add_argument("--tag-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout.buffer
    w = out.write

    paths = []
    for i in range(args.paths):
        area = AREAS[i % len(AREAS)]
        ext = EXTS[area.split("/")[0]]
        sub = WORDS[(i // len(AREAS)) % len(WORDS)]
        paths.append(f"{area}/{sub}/{WORDS[(i * 7) % len(WORDS)]}_{i}.{ext}")
    paths += ["Cargo.lock", "Cargo.toml", "package-lock.json", "package.json", "README.md"]
    scopes = sorted({a.split("/")[-1] for a in AREAS})
    types = [t for t, n in TYPES for _ in range(n)]

    clock = [1_600_000_000]
    mark = [0]
    pr = [1000]
    migration = [0]

    def data(payload: bytes):
        w(b"data %d\n" % len(payload))
        w(payload)
        w(b"\n")

    def person():
        name, login = PEOPLE[rng.randrange(len(PEOPLE))]
        clock[0] += rng.randrange(30, 900)
        return f"{name} <{login}@example.com> {clock[0]} +0000".encode()

    def message():
        kind = rng.choice(types)
        scope = rng.choice(scopes)
        desc = f"{rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)}"
        breaking = rng.random() < 0.01
        if kind == "none":
            head = desc[0].upper() + desc[1:]
        elif kind == "deps":
            head = (f"build(deps): bump {rng.choice(WORDS)}-rs from 1.{rng.randrange(40)}.0 "
                    f"to 1.{rng.randrange(40, 80)}.0")
        else:
            sc = f"({scope})" if rng.random() < 0.7 else ""
            head = f"{kind}{sc}{'!' if breaking else ''}: {desc}"
        if rng.random() < 0.6:
            pr[0] += 1
            head += f" (#{pr[0]})"
        lines = [head]
        if rng.random() < 0.4:
            lines.append("")
            for _ in range(rng.randrange(1, 6)):
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 14))))
        if breaking:
            lines += ["", f"BREAKING CHANGE: the {rng.choice(WORDS)} endpoint changed shape."]
        return kind, ("\n".join(lines) + "\n").encode()

    def modify(path: str, n: int):
        w(b"M 100644 inline " + path.encode() + b"\n")
        data(f"// {path}\n// revision {n}\n".encode())

    def commit(parent, merge=None, msg=None, files=()):
        mark[0] += 1
        w(b"commit refs/heads/main\n")
        w(b"mark :%d\n" % mark[0])
        author = person()
        w(b"author " + author + b"\ncommitter " + author + b"\n")
        data(msg)
        if parent:
            w(b"from :%d\n" % parent)
        if merge:
            w(b"merge :%d\n" % merge)
        for f in files:
            modify(f, mark[0])
        w(b"\n")
        return mark[0]

    def changed_files(kind):
        picked = {rng.choice(paths[: args.paths]) for _ in range(rng.randrange(1, 4))}
        if kind == "deps" or rng.random() < 0.01:
            picked.add(rng.choice(["Cargo.lock", "package-lock.json"]))
        return sorted(picked)

    made = 0
    tags = 0

    def tag(at):
        nonlocal tags
        tags += 1
        name = f"v0.{tags}.0"
        if tags % 5 == 0:
            w(f"tag {name}\nfrom :{at}\ntagger ".encode() + person() + b"\n")
            data(f"Release {name}\n".encode())
        else:
            w(f"reset refs/tags/{name}\nfrom :{at}\n\n".encode())

    head = commit(None, msg=b"chore: initial import\n", files=paths)
    made = 1
    tag(head)
    while made < args.commits:
        if made % 25 == 0 and made + 2 <= args.commits:
            # A GitHub-style merge: one commit on a branch, merged with a merge commit
            # that carries the branch's tree change.
            kind, msg = message()
            files = changed_files(kind)
            side = commit(head, msg=msg, files=files)
            pr[0] += 1
            branch = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}"
            merge_msg = f"Merge pull request #{pr[0]} from team/{branch}\n\n{msg.decode().splitlines()[0]}\n"
            mark[0] += 1
            w(b"commit refs/heads/main\nmark :%d\n" % mark[0])
            author = person()
            w(b"author " + author + b"\ncommitter " + author + b"\n")
            data(merge_msg.encode())
            w(b"from :%d\nmerge :%d\n" % (head, side))
            for f in files:
                modify(f, side)
            w(b"\n")
            head = mark[0]
            made += 2
        else:
            kind, msg = message()
            files = changed_files(kind)
            if rng.random() < 0.005:
                migration[0] += 1
                files.append(f"migrations/{migration[0]:05d}_{rng.choice(WORDS)}.sql")
                msg = f"feat(db): add migration {migration[0]:05d}\n".encode()
            head = commit(head, msg=msg, files=files)
            made += 1
        if made % args.tag_every == 0:
            tag(head)
    w(b"reset refs/heads/main\nfrom :%d\n\n" % head)
    out.flush()


if __name__ == "__main__":
    main()
