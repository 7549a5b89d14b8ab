"""catalog/data/llm_offerings.json is reviewable: one offering per line in an explicit order, so a price change is
a one-line diff; the layout is whitespace only, so the catalog the engine loads is the same as from the compact form."""

import copy
import difflib
import json
import pickle
import random

import pytest

from costplan.catalog import build_llm
from costplan.catalog.llm import from_json_bytes


@pytest.fixture(scope="module")
def text() -> str:
    return build_llm.ARTIFACT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(text) -> dict:
    return json.loads(text)


def _offering_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index('"offerings":[') + 1
    end = lines.index("]}")
    return lines[start:end]


def test_the_committed_file_is_in_the_writers_layout(text, doc):
    assert text == build_llm.render(doc)


def test_each_offering_is_one_line_sorted_by_provider_then_model(text, doc):
    lines = _offering_lines(text)
    rows = [json.loads(line.removesuffix(",")) for line in lines]
    assert rows == doc["offerings"] and len(rows) >= 2000
    keys = [build_llm.offering_key(r) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # strictly increasing: the order is total


def test_render_sorts_offerings_by_the_explicit_key_whatever_order_it_gets(doc):
    shuffled = copy.deepcopy(doc)
    random.Random(7).shuffle(shuffled["offerings"])
    assert shuffled["offerings"] != doc["offerings"]
    assert build_llm.render(shuffled) == build_llm.render(doc)


def test_a_price_change_is_a_one_line_diff(doc):
    changed = copy.deepcopy(doc)
    row = next(o for o in changed["offerings"] if o["provider"] == "anthropic" and o["model"] == "claude-sonnet-4-5")
    row["prices"]["input"] = 2.75
    diff = [line for line in difflib.unified_diff(build_llm.render(doc).splitlines(),
                                                  build_llm.render(changed).splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(diff) == 2  # the offering's line, before and after: that line is the whole offering
    assert json.loads(diff[1][1:].removesuffix(",")) == row


def test_the_loaded_catalog_is_the_same_as_from_the_compact_one_line_form(text, doc):
    compact = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"  # the layout before this one
    assert compact != text
    assert pickle.dumps(from_json_bytes(compact.encode())) == pickle.dumps(from_json_bytes(text.encode()))
