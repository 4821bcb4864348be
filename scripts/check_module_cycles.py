#!/usr/bin/env python3
"""Fails when a module imports a module that imports it back (an import cycle inside a crate).

Reads every crate under crates/ and benches/ as text: the `use crate::...` and `use super::...` lines of
each module outside its `#[cfg(test)]` part, resolved to the longest module path that exists. A pair of
modules that import each other (neither being the other's parent) is reported; exit status 1 then.
Usage: scripts/check_module_cycles.py [REPO_ROOT]
"""
import glob
import os
import re
import sys


def module_name(crate_src, path):
    parts = os.path.relpath(path, crate_src)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def imports(module, text):
    text = text.split("#[cfg(test)]")[0]
    parts = module.split("::") if module else []
    found = set()
    for m in re.finditer(r"use crate::([A-Za-z_][A-Za-z0-9_:]*)", text):
        found.add(tuple(m.group(1).split("::")))
    for m in re.finditer(r"use super::([A-Za-z_][A-Za-z0-9_]*)", text):
        found.add(tuple(parts[:-1] + [m.group(1)]))
    return found


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

    graph = {n: {resolve(p) for p in d} - {None, n} for n, d in mods.items()}
    out = []
    for a, deps in graph.items():
        for b in deps:
            related = b.startswith(a + "::") or a.startswith(b + "::")
            if a < b and a in graph.get(b, ()) and not related:
                out.append((a, b))
    return sorted(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = []
    for src in sorted(glob.glob(os.path.join(root, "crates", "*", "src")) + glob.glob(os.path.join(root, "benches", "*", "src"))):
        for a, b in cycles_in(src):
            found.append(f"{os.path.relpath(src, root)}: {a} <-> {b}")
    if found:
        print("modules that import each other:\n  " + "\n  ".join(found))
        return 1
    print("no import cycles between modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
