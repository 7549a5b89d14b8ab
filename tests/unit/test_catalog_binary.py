"""The compact catalog binary (costplan.catalog.binary): the same catalog as the JSON, and never a stale one."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from costplan.catalog import binary, llm


def same(a, b, path="catalog") -> None:
    """Deep equality over the catalog's dataclasses, dicts, tuples and arrays (NaN equals NaN, dtypes must match)."""
    assert type(a) is type(b), path
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, path


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A copy of the bundled JSON in a scratch directory, with the user cache in another."""
    monkeypatch.setenv(binary.CACHE_ENV, str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    return shutil.copy(llm.ARTIFACT, data / llm.ARTIFACT.name)


def test_the_packaged_binary_is_exactly_the_catalog_the_json_gives(source):
    binary.write_packaged(source, llm.from_json_bytes)
    loaded, where = binary.load(source, llm.from_json_bytes)
    assert where == "packaged"
    same(loaded, llm.from_document(json.loads(source.read_text())))
    assert loaded.snapshot == "bundled" and len(loaded) > 1000


def test_without_a_binary_the_json_is_loaded_and_cached_outside_the_package(source):
    first, where = binary.load(source, llm.from_json_bytes)
    assert where == "json"
    assert binary.cache_path(source).is_file() and not binary.packaged_path(source).exists()
    second, where = binary.load(source, llm.from_json_bytes)
    assert where == "cache"
    same(first, second)


def _edit_first_input_price(source, price: float) -> None:
    doc = json.loads(source.read_text())
    doc["offerings"][0]["prices"]["input"] = price
    source.write_text(json.dumps(doc))


@pytest.mark.parametrize("kind", ["packaged", "cache"])
def test_a_stale_binary_is_rebuilt_from_the_edited_json_not_served(source, kind):
    if kind == "packaged":
        binary.write_packaged(source, llm.from_json_bytes)
    else:
        binary.load(source, llm.from_json_bytes)
    old = llm.from_json_bytes(source.read_bytes())
    _edit_first_input_price(source, 123.456)
    loaded, where = binary.load(source, llm.from_json_bytes)
    assert where == "json"
    assert loaded.tiers["input"].prices[0, 0] == 123.456 != old.tiers["input"].prices[0, 0]
    same(loaded, llm.from_json_bytes(source.read_bytes()))
    again, where = binary.load(source, llm.from_json_bytes)  # the cache now holds the rebuilt catalog
    assert where == "cache" and again.tiers["input"].prices[0, 0] == 123.456


def test_a_truncated_or_foreign_binary_is_never_trusted(source):
    path = binary.packaged_path(source)
    binary.write_packaged(source, llm.from_json_bytes)
    path.write_bytes(path.read_bytes()[:1000])
    assert binary.load(source, llm.from_json_bytes)[1] == "json"
    binary.dump({"not": "a catalog"}, "0" * 64, path)  # a valid pickle built from some other JSON
    assert binary.load(source, llm.from_json_bytes)[1] == "cache"


def test_the_bundled_catalog_does_not_parse_the_json_when_a_binary_matches(source, monkeypatch):
    binary.write_packaged(source, llm.from_json_bytes)
    monkeypatch.setattr(llm, "ARTIFACT", source)

    def no_json(raw):
        raise AssertionError("the JSON was parsed although a matching binary exists")

    monkeypatch.setattr(llm, "from_json_bytes", no_json)
    assert len(llm.bundled_catalog()) > 1000


def test_the_layer_build_command_writes_a_binary_the_loader_takes(source, tmp_path):
    """What layers/engine/Makefile runs (python -m costplan.catalog.binary DATA_DIR) in a fresh interpreter."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "costplan.catalog.binary", str(source.parent)], check=True,
                   capture_output=True, timeout=120)
    assert binary.packaged_path(source).is_file()
    loaded, where = binary.load(source, llm.from_json_bytes)
    assert where == "packaged" and len(loaded) == len(llm.from_json_bytes(source.read_bytes()))
