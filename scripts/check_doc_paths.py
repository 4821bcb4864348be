#!/usr/bin/env python3
"""Fails when a document names a file or directory of the repository that does not exist.

Reads every Markdown file of the repository (outside target/, fuzz/corpus and .git) and every path
it quotes in backticks or links to (`crates/x/src/y.rs`, `scripts/demo.sh`, `src/stage.rs`,
[text](docs/x.md)). A path counts when it looks like one of the repository's: it starts with a
top-level directory of the repository, or with src/, tests/, benches/ when the document lives in a
crate (another project's paths, e.g. tansu's sources, are not checked). `file.rs::test` and
`file.rs:12` name the file. It resolves against the document's directory, its
crate's directory and the repository root; one hit is enough. URLs, globs, placeholders (<...>,
{...}) and paths under /tmp, /etc, /var, ~ or target/ are ignored. Exit status 1 lists the misses.
Usage: scripts/check_doc_paths.py [REPO_ROOT]
"""
import os
import re
import sys

SKIP_DIRS = {"target", ".git", "corpus", "artifacts", "node_modules", ".leadflow", "findings"}


def docs(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith(".")]
        for f in files:
            if f.endswith(".md"):
                yield os.path.join(d, f)


def crate_dir(root, path):
    rel = os.path.relpath(path, root).split(os.sep)
    if len(rel) >= 2 and rel[0] in ("crates", "benches", "fuzz") and rel[0] != "fuzz":
        return os.path.join(root, rel[0], rel[1])
    if rel[0] == "fuzz":
        return os.path.join(root, "fuzz")
    return None


def candidates(text, top):
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks: commands, not references
    for m in re.finditer(r"`([^`\n]+)`", text):
        yield m.group(1)
    for m in re.finditer(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
        yield m.group(1)


def looks_like_path(p, top, in_crate):
    if any(c in p for c in " <>{}*$|=,;()\"'") or "://" in p or p.startswith(("/", "~", "-", ".")):
        return False
    if p.startswith(("target/", "tmp/")):
        return False
    first = p.split("/")[0]
    if "/" in p and (first in top or (in_crate and first in ("src", "tests", "benches", "fuzz_targets", "templates"))):
        return True
    return False


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    top = {e for e in os.listdir(root) if not e.startswith(".") and e != "target"}
    misses, checked = [], 0
    for doc in sorted(docs(root)):
        crate = crate_dir(root, doc)
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        for raw in candidates(text, top):
            p = raw.strip().rstrip(".:")
            p = re.sub(r":\d+(-\d+)?$", "", p)  # file.rs:123
            p = p.split("::")[0]  # file.rs::test_name
            if not looks_like_path(p, top, crate is not None):
                continue
            checked += 1
            bases = [os.path.dirname(doc), root] + ([crate] if crate else [])
            if not any(os.path.exists(os.path.join(b, p)) for b in bases):
                misses.append(f"{os.path.relpath(doc, root)}: {p}")
    if misses:
        print("documents name paths that do not exist:\n  " + "\n  ".join(sorted(set(misses))))
        return 1
    print(f"every path a document names exists ({checked} references)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
