"""The committed catalog artifact is exactly what the pinned genai-prices and the committed LiteLLM extract produce."""

import json
from datetime import date

import pytest

from costplan.catalog import build_llm

pytestmark = pytest.mark.integration


def test_artifact_is_regenerated_from_the_installed_genai_prices(tmp_path, monkeypatch, capsys):
    """``python -m tools.build_catalog --offline`` (the committed LiteLLM extract, no download) rewrites the artifact
    byte for byte."""
    import genai_prices

    from tools import build_catalog

    text = build_llm.ARTIFACT.read_text()
    committed = json.loads(text)
    if committed["source_version"] != genai_prices.__version__:
        pytest.fail(f"artifact built from genai-prices {committed['source_version']}, installed "
                    f"{genai_prices.__version__}: run `make catalog AS_OF=YYYY-MM-DD`")
    out = tmp_path / "llm_offerings.json"
    monkeypatch.setattr(build_llm, "ARTIFACT", out)
    build_catalog.main(["--offline", "--as-of", committed["built_on"]])
    assert out.read_text() == text
    assert f"wrote {len(committed['offerings'])} offerings" in capsys.readouterr().out


def test_no_missing_price_is_written_as_zero():
    from genai_prices import data

    committed = {(o["provider"], o["model"]): o for o in json.loads(build_llm.ARTIFACT.read_text())["offerings"]}
    checked = 0
    for provider in data.providers:
        for model in provider.models:
            row = committed.get((provider.id, model.id))
            if row is None:
                continue
            standard, _ = build_llm._active_prices(model, date.fromisoformat("2026-11-26"))
            for direction, key in build_llm.PRICE_KEYS.items():
                if getattr(standard, key, None) is None:
                    assert row["prices"][direction] is None
                    checked += 1
    assert checked > 100
