#!/usr/bin/env python3
"""Shows that scripts/module-cycles.py catches what it is for, on small crates written here.

    python3 scripts/test_module_cycles.py
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module-cycles.py")


def check(files, *flags):
    """Runs the checker on a crate made of `files` ({path under src/: text}): (exit code, output)."""
    with tempfile.TemporaryDirectory() as crate:
        for path, text in files.items():
            full = os.path.join(crate, "src", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as out:
                out.write(textwrap.dedent(text))
        run = subprocess.run([sys.executable, SCRIPT, *flags, crate], capture_output=True, text=True)
        return run.returncode, run.stdout


LAYERS = {
    "lib.rs": "pub mod low;\npub mod high;\npub use low::Thing;\n",
    "low.rs": "pub struct Thing;\n",
    "high.rs": "use crate::low::Thing;\npub fn make() -> Thing { Thing }\n",
}


class ModuleCycles(unittest.TestCase):
    def test_layers_importing_downward_are_clean(self):
        code, out = check(LAYERS)
        self.assertEqual(code, 0, out)
        self.assertIn("no cycles", out)

    def test_a_layer_reaching_up_is_a_cycle(self):
        files = dict(LAYERS, **{"low.rs": "pub struct Thing;\nfn up() { crate::high::make(); }\n"})
        code, out = check(files)
        self.assertEqual(code, 1, out)
        self.assertIn("cycle (2 modules): crate::high, crate::low", out)
        self.assertIn("src/low.rs:2", out)

    def test_a_reexport_counts_for_the_module_defining_the_item(self):
        # `crate::Thing` goes through lib.rs but names low: still high -> low, no cycle.
        files = dict(LAYERS, **{"high.rs": "use crate::Thing;\npub fn make() -> Thing { Thing }\n"})
        self.assertEqual(check(files)[0], 0)
        # ... and a reference up through the re-exporting parent is still caught.
        files = dict(files, **{"lib.rs": LAYERS["lib.rs"] + "pub use high::make;\n"})
        files["low.rs"] = "pub struct Thing;\nfn up() { crate::make(); }\n"
        self.assertEqual(check(files)[0], 1)

    def test_comments_doc_links_and_strings_are_not_references(self):
        files = dict(LAYERS)
        files["low.rs"] = (
            "//! See [`crate::high::make`].\n"
            "/* crate::high::make() */\n"
            "pub struct Thing;\n"
            'const NAME: &str = "crate::high::make";\n'
        )
        code, out = check(files)
        self.assertEqual(code, 0, out)

    def test_unit_tests_are_consumers_not_layers(self):
        files = dict(LAYERS)
        files["low.rs"] = "pub struct Thing;\n#[cfg(test)]\nmod tests {\n    use crate::high::make;\n}\n"
        self.assertEqual(check(files)[0], 0)
        code, out = check(files, "--tests")
        self.assertEqual(code, 1, out)

    def test_top_collapses_to_top_level_modules(self):
        files = {
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a/mod.rs": "pub mod inner;\n",
            "a/inner.rs": "pub fn f() { crate::b::g(); }\n",
            "b.rs": "pub fn g() {}\npub fn h() { crate::a::inner::f(); }\n",
        }
        code, out = check(files, "--top")
        self.assertEqual(code, 1, out)
        self.assertIn("cycle (2 modules): crate::a, crate::b", out)


if __name__ == "__main__":
    unittest.main(verbosity=1)
