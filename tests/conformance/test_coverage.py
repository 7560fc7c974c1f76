"""COVERAGE.md and the tests agree: every clause a test cites is listed,
every listed clause is tested by the tests it names (which exist and cite
it) or says why it does not apply."""

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROW = re.compile(r"^\| `([^`]+)` \| (.+?) \| (.+) \|$")
TEST_REF = re.compile(r"(test_\w+\.py)::(test_\w+)")


def coverage_rows():
    rows = {}
    for line in (HERE / "COVERAGE.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            assert m.group(1) not in rows, f"{m.group(1)} listed twice"
            rows[m.group(1)] = m.group(3)
    return rows


def cited_clauses():
    """{(file, test): {clause ids}} from the @clause(...) decorators."""
    cited = {}
    for path in sorted(HERE.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "clause":
                    cited.setdefault((path.name, node.name), set()).update(a.value for a in d.args)
    return cited


def test_every_cited_clause_is_listed():
    rows = coverage_rows()
    for test, ids in cited_clauses().items():
        for id in ids:
            assert id in rows, f"{test[0]}::{test[1]} cites {id}, which COVERAGE.md does not list"


def test_every_listed_clause_is_tested_or_explained():
    cited = cited_clauses()
    for id, checked_by in coverage_rows().items():
        if checked_by.startswith("n/a:"):
            continue
        refs = TEST_REF.findall(checked_by)
        assert refs, f"{id}: neither a test nor `n/a:` ({checked_by})"
        for ref in refs:
            assert ref in cited, f"{id}: {ref[0]}::{ref[1]} does not exist or cites no clause"
            assert id in cited[ref], f"{id}: {ref[0]}::{ref[1]} does not cite it"


def test_every_conformance_test_cites_a_clause():
    for path in sorted(HERE.glob("test_*.py")):
        if path.name == "test_coverage.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert (path.name, node.name) in cited_clauses(), f"{path.name}::{node.name} cites no clause"
