#!/usr/bin/env python3
"""Fails when modules of one crate depend on each other in a cycle (an import cycle inside a crate).

Reads every crate under crates/ and benches/ as text. For each module (outside its `#[cfg(test)]`
part, with comments and string literals removed) it collects every path that names another module of
the crate: `use crate::a::b`, the groups of `use crate::{a, b::{c, d}}`, paths written inline
(`crate::a::f()`, `super::x::Y`), and `use super::...`. Each path resolves to the longest module path
that exists. A strongly connected set of two or more modules (a cycle of any length) is reported,
ignoring the edges between a module and its own ancestors or descendants (a parent re-exporting its
children and a child using its parent's items is how a module tree is built); exit status 1 then.
Usage: scripts/check_module_cycles.py [REPO_ROOT]
"""
import glob
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_name(crate_src, path):
    parts = os.path.relpath(path, crate_src)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def strip_code(text):
    """The text without comments, string and char literals (so a path in a doc or a message is not
    an import)."""
    text = text.split("#[cfg(test)]")[0]
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', text[i:]):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + 2 + len(hashes))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def group_paths(prefix, body):
    """The paths of a `{a, b::{c, d}, e::f}` group body (without the outer braces), each prefixed."""
    paths, depth, start = [], 0, 0
    items = []
    for k, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:k])
            start = k + 1
    items.append(body[start:])
    for item in items:
        item = item.strip()
        if not item or item == "self":
            paths.append(prefix)
            continue
        m = re.match(rf"((?:{IDENT}::)*)\{{(.*)\}}$", item, re.S)
        if m:
            inner = prefix + [p for p in m.group(1).split("::") if p]
            paths.extend(group_paths(inner, m.group(2)))
            continue
        item = re.split(r"\s+as\s+", item)[0].strip()
        paths.append(prefix + [p for p in item.split("::") if p and p != "*"])
    return paths


def imports(module, text):
    code = strip_code(text)
    parts = module.split("::") if module else []
    found = set()

    def add(base, rest):
        # rest: "a::b::{c, d}" or "a::b::f" (anything after crate:: / super::)
        m = re.match(rf"((?:{IDENT}::)*)\{{", rest)
        if m:
            # find the group's closing brace
            depth, k = 0, len(m.group(0)) - 1
            for k in range(k, len(rest)):
                if rest[k] == "{":
                    depth += 1
                elif rest[k] == "}":
                    depth -= 1
                    if depth == 0:
                        break
            prefix = base + [p for p in m.group(1).split("::") if p]
            for p in group_paths(prefix, rest[len(m.group(0)) : k]):
                found.add(tuple(p))
            return
        m = re.match(rf"{IDENT}(?:::{IDENT})*", rest)
        if m:
            found.add(tuple(base + m.group(0).split("::")))

    for m in re.finditer(r"\bcrate::", code):
        add([], code[m.end() : m.end() + 2000])
    for m in re.finditer(r"\b((?:super::)+)", code):
        ups = m.group(1).count("super::")
        if ups > len(parts):
            continue
        add(parts[: len(parts) - ups], code[m.end() : m.end() + 2000])
    return found


def related(a, b):
    return a == b or b.startswith(a + "::") or a.startswith(b + "::") or a == "" or b == ""


def cycles_in(crate_src):
    mods = {}
    for path in glob.glob(os.path.join(crate_src, "**", "*.rs"), recursive=True):
        name = module_name(crate_src, path)
        with open(path, encoding="utf-8") as f:
            mods.setdefault(name, set()).update(imports(name, f.read()))

    def resolve(p):
        for i in range(len(p), 0, -1):
            n = "::".join(p[:i])
            if n in mods:
                return n
        return None

    graph = {
        a: sorted({b for b in map(resolve, d) if b is not None and not related(a, b)})
        for a, d in mods.items()
    }
    # Tarjan's strongly connected components
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(sccs)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = []
    for src in sorted(glob.glob(os.path.join(root, "crates", "*", "src")) + glob.glob(os.path.join(root, "benches", "*", "src"))):
        for comp in cycles_in(src):
            found.append(f"{os.path.relpath(src, root)}: {' -> '.join(comp)} (each reaches the others)")
    if found:
        print("modules in an import cycle:\n  " + "\n  ".join(found))
        return 1
    print("no import cycles between modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
