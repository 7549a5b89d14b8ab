"""The copilot's public contract: a fixed two-turn conversation's responses, snapshotted."""

import json
import os
from pathlib import Path

from costplan.services.copilot import copilot
from costplan_contracts.copilot import CopilotRequest

SNAPSHOT = Path(__file__).resolve().parents[2] / "contracts" / "snapshots" / "copilot.json"
TURNS = ["cheapest for 5M tokens/day with 20% output, exclude openai, top 3", "What about with a $500 budget?"]


def test_copilot_responses_match_their_snapshot():
    """A change here is a contract change: review it, then UPDATE_SNAPSHOTS=1 make test."""
    got, context = [], None
    for message in TURNS:
        r = copilot(CopilotRequest(message=message, context=context))
        context = r.context
        got.append(r.model_dump(mode="json"))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps({"turns": TURNS, "response": got}, indent=2, sort_keys=True) + "\n")
    snap = json.loads(SNAPSHOT.read_text())
    assert snap["turns"] == TURNS and got == snap["response"]
