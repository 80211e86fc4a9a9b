#!/usr/bin/env python3
"""Finds import cycles between the modules of a Rust crate.

    python3 scripts/module-cycles.py crates/continuum-sync
    python3 scripts/module-cycles.py --top crates/continuum-server

Walks the crate from its roots (src/lib.rs, src/main.rs, src/bin/*.rs, each one crate) along
its `mod` declarations, so each source file gets its module path (`src/a.rs` and `src/a/mod.rs`
are `crate::a`, `src/a/b.rs` is `crate::a::b`; `#[path]` is followed). In every file it
collects the references that name a module of the same crate: `use` statements (any tree
shape, bare first segments included, as in `pub use config::SyncConfig`) and inline paths
starting with `crate::`, `super::` or `self::`. Comments, doc comments (so doc links), string
literals and `$crate` are not references.

A reference is resolved to the module that defines what it names, not to the module it goes
through: `use crate::SyncError`, where lib.rs holds `pub use error::SyncError`, is a reference
to `crate::error`. Re-exports are followed (named ones and globs) until a module defines the
name; a name nobody defines (a macro-made item, say) counts for the module it was looked up in.
Following re-exports to the origin is what keeps a re-exporting parent from hiding a real cycle
between two of its children, and from making up one with every module that imports through it.

The graph is at file granularity: an inline module (`mod tests { .. }`) belongs to its file.
Modules declared under `#[cfg(test)]` (inline or in their own file) are left out unless
`--tests` is given: a unit test is a consumer of its crate, free to use any layer, not a layer.
An edge from a module to one of its own descendants is dropped: a parent declares, re-exports
and uses its children, and that is composition, not a layer reaching up. With `--top`, every
module is collapsed to its top-level module (`crate::x`), the level reported for
continuum-server.

Prints every strongly connected component of more than one module, with one reference for each
edge inside it, and exits 1 if there is any, 0 if there is none (2 on a usage error).
`--edges` also prints the whole graph.
"""

import argparse
import os
import re
import sys
from collections import defaultdict

# ---------------------------------------------------------------------------------------------
# Lexing: identifiers, `::`, punctuation and string literals, with comments dropped.

IDENT = re.compile(r"r#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*")
RAW_STRING = re.compile(r'(?:b|c)?r(#*)"')
STRING_START = re.compile(r'(?:b|c)?"')
CHAR = re.compile(r"b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]+\}|.)|[^\\'\n])'")
NUMBER = re.compile(r"[0-9][0-9A-Za-z_]*")


class Token:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind = kind  # "ident", "punct", "string"
        self.text = text
        self.line = line

    def __repr__(self):
        return f"{self.kind}:{self.text}@{self.line}"


def tokenize(text):
    """Tokens of a Rust source file; comments vanish, literals keep their (raw) content."""
    tokens = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += text.count("\n", i, j)
            i = j
        elif (m := RAW_STRING.match(text, i)) and not _ident_before(text, i):
            close = '"' + m.group(1)
            end = text.find(close, m.end())
            end = n if end < 0 else end
            tokens.append(Token("string", text[m.end() : end], line))
            line += text.count("\n", i, end)
            i = end + len(close)
        elif (m := STRING_START.match(text, i)) and not _ident_before(text, i):
            j = m.end()
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            tokens.append(Token("string", text[m.end() : j], line))
            line += text.count("\n", i, j)
            i = j + 1
        elif c in "'b" and (m := CHAR.match(text, i)) and not _ident_before(text, i):
            i = m.end()  # a char literal: nothing in it is a path
        elif c == "'":
            m = IDENT.match(text, i + 1)  # a lifetime or a label
            i = m.end() if m else i + 1
        elif m := IDENT.match(text, i):
            tokens.append(Token("ident", m.group(), line))
            i = m.end()
        elif m := NUMBER.match(text, i):
            i = m.end()
        elif text.startswith("::", i):
            tokens.append(Token("punct", "::", line))
            i += 2
        else:
            tokens.append(Token("punct", c, line))
            i += 1
    return tokens


def _ident_before(text, i):
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


# ---------------------------------------------------------------------------------------------
# Parsing one file: module declarations, items, `use` trees and inline paths, per scope.

ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}
PATH_STARTS = {"crate", "super", "self"}


class Module:
    """One module (a file's or an inline one) and what it binds at its top level."""

    def __init__(self, path, file):
        self.path = path  # tuple of names below the crate root
        self.file = file  # the file module it belongs to (its own path if it is one)
        self.children = set()
        self.defs = set()
        self.imports = {}  # bound name -> (scope, segments) as written
        self.globs = []  # (scope, segments) as written


class Reference:
    """A path naming something of this crate, as written in `scope`."""

    def __init__(self, scope, segments, line, text):
        self.scope = scope
        self.segments = segments
        self.line = line
        self.text = text


class FileParse:
    def __init__(self, module_path):
        self.module_path = module_path
        self.modules = {module_path: Module(module_path, module_path)}
        self.file_children = []  # (scope, name, path attribute or None, under #[cfg(test)])
        self.references = []
        self.test_modules = set()  # inline modules declared under #[cfg(test)]


def parse_use_tree(tokens, i, prefix):
    """Parses a use tree at `i`; returns ([(segments, binding, is_glob)], next index)."""
    segments = list(prefix)
    if tokens[i].text == "::":
        i += 1
    while True:
        tok = tokens[i]
        if tok.text == "{":
            i += 1
            results = []
            while tokens[i].text != "}":
                sub, i = parse_use_tree(tokens, i, segments)
                results += sub
                if tokens[i].text == ",":
                    i += 1
            return results, i + 1
        if tok.text == "*":
            return [(segments, None, True)], i + 1
        name = tok.text
        i += 1
        if tokens[i].text == "::":
            segments.append(name)
            i += 1
            continue
        binding = name
        if tokens[i].text == "as":
            binding = tokens[i + 1].text
            i += 2
        if name == "self":
            return [(segments, binding if binding != "self" else segments[-1], False)], i
        return [(segments + [name], binding, False)], i


def parse_file(text, module_path):
    tokens = tokenize(text)
    tokens.append(Token("punct", ";", 0))  # a sentinel for look-ahead
    parse = FileParse(module_path)
    scopes = [(module_path, 0)]  # (module path, the brace depth its items live at)
    depth = 0
    pending_mod = None
    pending_path = None
    pending_test = False  # a `#[cfg(test)]` waiting for the item it applies to
    i = 0
    while i < len(tokens) - 1:
        tok = tokens[i]
        prev = tokens[i - 1].text if i else ""
        scope, scope_depth = scopes[-1]
        module = parse.modules[scope]
        at_module_level = depth == scope_depth
        if tok.text == "{":
            depth += 1
            if pending_mod is not None:
                inner = scope + (pending_mod,)
                parse.modules.setdefault(inner, Module(inner, module_path))
                scopes.append((inner, depth))
                if pending_test:
                    parse.test_modules.add(inner)
                pending_mod = None
            pending_test = False
            i += 1
            continue
        if tok.text == "}":
            if len(scopes) > 1 and scope_depth == depth:
                scopes.pop()
            depth -= 1
            i += 1
            continue
        if tok.text == "#" and [t.text for t in tokens[i + 1 : i + 7]] == ["[", "cfg", "(", "test", ")", "]"]:
            pending_test = True
            i += 7
            continue
        if tok.text == ";":
            pending_test = False
        if tok.text == "#" and [t.text for t in tokens[i + 1 : i + 4]] == ["[", "path", "="]:
            if tokens[i + 4].kind == "string" and tokens[i + 5].text == "]":
                pending_path = tokens[i + 4].text
            i += 1
            continue
        if tok.kind != "ident":
            i += 1
            continue
        if tok.text == "mod" and prev != "::" and tokens[i + 1].kind == "ident":
            name = tokens[i + 1].text
            after = tokens[i + 2].text
            if at_module_level:
                module.children.add(name)
            if after == ";":
                parse.file_children.append((scope, name, pending_path, pending_test))
                pending_test = False
            elif after == "{":
                pending_mod = name
            pending_path = None
            i += 2
            continue
        if tok.text == "use" and prev != "::":
            start = i
            try:
                trees, i = parse_use_tree(tokens, i + 1, [])
            except IndexError:
                i = start + 1
                continue
            for segments, binding, is_glob in trees:
                if not segments:
                    continue
                ref = Reference(scope, segments, tok.line, "use " + "::".join(segments) + ("::*" if is_glob else ""))
                parse.references.append(ref)
                if at_module_level:
                    if is_glob:
                        module.globs.append((scope, segments))
                    elif binding != "_":
                        module.imports[binding] = (scope, segments)
            continue
        if tok.text in ITEM_KEYWORDS and at_module_level and tokens[i + 1].kind == "ident":
            name = tokens[i + 1].text
            if name not in ITEM_KEYWORDS and name not in {"unsafe", "extern", "async"}:
                module.defs.add(name)
        if tok.text == "macro_rules" and tokens[i + 1].text == "!" and at_module_level:
            module.defs.add(tokens[i + 2].text)
        if tok.text in PATH_STARTS and tokens[i + 1].text == "::" and prev not in {"::", "$", "in"}:
            segments = [tok.text]
            j = i + 1
            while tokens[j].text == "::" and tokens[j + 1].kind == "ident":
                segments.append(tokens[j + 1].text)
                j += 2
            if len(segments) > 1:
                parse.references.append(Reference(scope, segments, tok.line, "::".join(segments)))
            i = j
            continue
        i += 1
    return parse


# ---------------------------------------------------------------------------------------------
# The crate: files found along `mod` declarations, then references resolved to modules.


class Crate:
    def __init__(self, root_file, tests=False):
        self.root_file = root_file
        self.tests = tests
        self.test_modules = set()  # module paths under #[cfg(test)], left out unless `tests`
        self.modules = {}  # path -> Module
        self.files = {}  # file module path -> file name
        self.references = []  # (file module path, Reference)
        self.missing = []
        self._load(root_file, ())

    def _load(self, file, module_path):
        with open(file, encoding="utf-8") as source:
            parse = parse_file(source.read(), module_path)
        self.files[module_path] = file
        self.modules.update(parse.modules)
        self.test_modules |= parse.test_modules
        self.references += [(module_path, ref) for ref in parse.references]
        directory = os.path.dirname(file)
        own_dir = os.path.basename(file) in {"lib.rs", "main.rs", "mod.rs"} or module_path == ()
        base = directory if own_dir else os.path.join(directory, os.path.basename(file)[:-3])
        for scope, name, path_attr, under_test in parse.file_children:
            inline = scope[len(module_path) :]
            child = scope + (name,)
            if under_test:
                self.test_modules.add(child)
            if path_attr is not None:
                candidates = [os.path.join(directory, path_attr)]
            else:
                nested = os.path.join(base, *inline)
                candidates = [os.path.join(nested, name + ".rs"), os.path.join(nested, name, "mod.rs")]
            found = next((c for c in candidates if os.path.isfile(c)), None)
            if found is None:
                self.missing.append((file, name))
                continue
            self._load(found, child)

    def absolute(self, scope, segments):
        """The path from the crate root that `segments` (written in `scope`) names, or None."""
        first, rest = segments[0], list(segments[1:])
        if first == "crate":
            return rest
        if first == "super":
            base = list(scope)
            while segments and segments[0] == "super":
                base = base[:-1]
                segments = segments[1:]
            return base + list(segments)
        if first == "self":
            return list(scope) + rest
        module = self.modules.get(scope)
        if module is None:
            return None
        if first in module.children or first in module.defs:
            return list(scope) + list(segments)
        if first in module.imports:
            target_scope, target = module.imports[first]
            if (target_scope, target) != (scope, segments):
                base = self.absolute(target_scope, target)
                return None if base is None else base + rest
        return None  # another crate

    def resolve(self, path, seen=None):
        """The module that defines what `path` names, and whether a definition was found."""
        seen = set() if seen is None else seen
        key = tuple(path)
        if key in seen:
            return (), False
        seen.add(key)
        current = ()
        for index, name in enumerate(path):
            module = self.modules.get(current)
            if module is None:
                return current, False
            if name in module.children:
                current = current + (name,)
                continue
            if name in module.defs:
                return current, True
            rest = list(path[index + 1 :])
            if name in module.imports:
                scope, segments = module.imports[name]
                target = self.absolute(scope, segments)
                if target is None:
                    return current, True  # a re-export from another crate
                return self.resolve(target + rest, seen)
            for scope, segments in module.globs:
                target = self.absolute(scope, segments)
                if target is None:
                    continue
                found, certain = self.resolve(target + [name] + rest, seen)
                if certain:
                    return found, True
            return current, False
        return current, True

    def in_test(self, path):
        """Whether `path` is, or is inside, a module declared under `#[cfg(test)]`."""
        return any(tuple(path[:n]) in self.test_modules for n in range(1, len(path) + 1))

    def file_of(self, path):
        """The file module an (inline or file) module belongs to."""
        path = tuple(path)
        while path not in self.files:
            path = path[:-1]
        return path

    def edges(self, top):
        """{(from, to): [(file, line, text)]} over file modules (or top-level ones)."""
        edges = defaultdict(list)
        for file_module, ref in self.references:
            if not self.tests and self.in_test(ref.scope):
                continue
            target = self.absolute(ref.scope, ref.segments)
            if target is None:
                continue
            resolved, _ = self.resolve(target)
            source, dest = file_module, self.file_of(resolved)
            if top:
                source, dest = source[:1], dest[:1]
            if source == dest or dest[: len(source)] == source:
                continue  # itself, or one of its own descendants
            edges[(source, dest)].append((self.files[file_module], ref.line, ref.text))
        return edges


def strongly_connected(nodes, edges):
    """Tarjan's algorithm, iterative; components in reverse topological order."""
    successors = defaultdict(list)
    for a, b in edges:
        successors[a].append(b)
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(successors[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def name(path):
    return "::".join(("crate",) + tuple(path))


def crate_roots(crate_dir):
    src = os.path.join(crate_dir, "src")
    roots = [os.path.join(src, f) for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))]
    bin_dir = os.path.join(src, "bin")
    if os.path.isdir(bin_dir):
        for entry in sorted(os.listdir(bin_dir)):
            full = os.path.join(bin_dir, entry)
            if entry.endswith(".rs"):
                roots.append(full)
            elif os.path.isfile(os.path.join(full, "main.rs")):
                roots.append(os.path.join(full, "main.rs"))
    return roots


def report(crate, crate_dir, top, show_edges):
    root_file = crate.root_file
    edges = crate.edges(top)
    nodes = {path[:1] if top else path for path in crate.files if crate.tests or not crate.in_test(path)}
    relative = os.path.relpath(root_file, crate_dir)
    level = "top-level modules" if top else "modules"
    print(f"{os.path.basename(os.path.abspath(crate_dir))} ({relative}): {len(nodes)} {level}, {len(edges)} edges")
    for file, child in crate.missing:
        print(f"  warning: {os.path.relpath(file, crate_dir)} declares `mod {child};` but no file was found")
    if show_edges:
        for (a, b), refs in sorted(edges.items()):
            print(f"  {name(a)} -> {name(b)}")
    cycles = [c for c in strongly_connected(nodes, edges) if len(c) > 1]
    for component in sorted(cycles):
        print(f"cycle ({len(component)} modules): {', '.join(name(m) for m in component)}")
        members = set(component)
        for (a, b), refs in sorted(edges.items()):
            if a in members and b in members:
                file, line, text = refs[0]
                more = f" (+{len(refs) - 1} more)" if len(refs) > 1 else ""
                print(f"  {name(a)} -> {name(b)}: {os.path.relpath(file, crate_dir)}:{line} {text}{more}")
    if not cycles:
        print("no cycles")
    return bool(cycles)


def main():
    parser = argparse.ArgumentParser(description="Finds import cycles between a Rust crate's modules.")
    parser.add_argument("crate_dir", help="the crate's directory (the one holding Cargo.toml and src/)")
    parser.add_argument("--top", action="store_true", help="collapse modules to their top-level module (crate::x)")
    parser.add_argument("--edges", action="store_true", help="also print every edge of the graph")
    parser.add_argument("--tests", action="store_true", help="also count modules under #[cfg(test)]")
    args = parser.parse_args()
    roots = crate_roots(args.crate_dir)
    if not roots:
        parser.error(f"no src/lib.rs, src/main.rs or src/bin/ in {args.crate_dir}")
    crates = [Crate(root, args.tests) for root in roots]
    found = False
    for crate in crates:
        found |= report(crate, args.crate_dir, args.top, args.edges)
    reached = {os.path.normpath(file) for crate in crates for file in crate.files.values()}
    for directory, _, names in sorted(os.walk(os.path.join(args.crate_dir, "src"))):
        for file in sorted(names):
            full = os.path.normpath(os.path.join(directory, file))
            if file.endswith(".rs") and full not in reached:
                print(f"warning: {os.path.relpath(full, args.crate_dir)} is in no module tree (not analysed)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
