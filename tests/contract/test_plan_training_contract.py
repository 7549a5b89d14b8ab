"""plan/training's response snapshot: a change here is a contract change (review, then UPDATE_SNAPSHOTS=1)."""

from test_contracts import check_snapshot

from costplan.services.training.estimate import plan_training
from costplan_contracts.plan_training import PlanTrainingRequest

TRAINING_REQUEST = {
    "model": "llama-3.1-8b-instruct", "method": "qlora", "dataset_tokens": 50_000_000, "epochs": 3, "seq_len": 4096,
    "instance_types": ["p5.48xlarge", "g6e.xlarge", "gpu_1x_a100"], "deadline_hours": 48, "budget_usd": 500,
    "lifecycle": {"serve_months": 12, "retrain_every_months": 6, "evaluation_runs": 2, "evaluation_tokens": 2_000_000,
                  "checkpoints_retained": 2},
    "top_k": 5,
}


def test_plan_training_response_matches_its_snapshot():
    got = plan_training(PlanTrainingRequest.model_validate(TRAINING_REQUEST)).model_dump(mode="json")
    check_snapshot("plan_training", TRAINING_REQUEST, got)
