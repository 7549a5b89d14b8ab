"""The report job machinery and template.yaml agree: the service's timing and retry constants are the
queue's, the sparse index is the one the job store queries, and the sweeper and DLQ handler exist,
run on a schedule and hold exactly the permissions they use."""

import pytest

from costplan.adapters.jobs import PENDING, PENDING_INDEX, UPDATED_AT
from costplan.services.reports.jobs import DEADLINE_MARGIN_S, STRANDED_AFTER_S
from costplan_contracts.bounds import REPORT_MAX_RECEIVES
from tools.template import ROOT, load_template

RES = load_template()["Resources"]
QUEUE = RES["ReportQueue"]["Properties"]
WORKER = RES["ReportWorkerFunction"]["Properties"]


def _statements(fn: str) -> list[dict]:
    """Every statement the function can hold: both branches of a conditional policy (Fn::If) included."""
    policies = []
    for p in RES[fn]["Properties"]["Policies"]:
        branches = p["Fn::If"][1:] if set(p) == {"Fn::If"} else [p]
        policies += [b for b in branches if b != {"Ref": "AWS::NoValue"}]
    assert all(set(p) == {"Statement"} for p in policies), f"{fn}: explicit statements only, no SAM policy templates"
    return [s for p in policies for s in p["Statement"]]


def _actions(fn: str) -> set[str]:
    out = set()
    for s in _statements(fn):
        out |= set([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    return out


def test_the_stranded_threshold_is_the_queue_visibility_timeout():
    assert QUEUE["VisibilityTimeout"] == STRANDED_AFTER_S


def test_the_attempts_budget_is_the_queue_max_receive_count():
    assert QUEUE["RedrivePolicy"]["maxReceiveCount"] == REPORT_MAX_RECEIVES


def test_the_visibility_timeout_covers_six_worker_timeouts_and_the_deadline_fits_inside_one():
    assert QUEUE["VisibilityTimeout"] >= 6 * WORKER["Timeout"]
    assert 0 < DEADLINE_MARGIN_S < WORKER["Timeout"] / 2


def test_the_jobs_table_has_the_sparse_pending_index_the_job_store_queries():
    table = RES["JobsTable"]["Properties"]
    index = next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == PENDING_INDEX)
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [(PENDING, "HASH"), (UPDATED_AT, "RANGE")]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} >= {
        (PENDING, "S"), (UPDATED_AT, "S")}


@pytest.mark.parametrize("fn,code", [("ReportSweeperFunction", "report_sweeper"),
                                     ("ReportDeadLetterFunction", "report_dlq")])
def test_the_sweeper_and_the_dlq_handler_run_every_five_minutes_with_a_thin_handler(fn, code):
    props = RES[fn]["Properties"]
    assert [e["Type"] for e in props["Events"].values()] == ["Schedule"]
    assert [e["Properties"]["Schedule"] for e in props["Events"].values()] == ["rate(5 minutes)"]
    assert props["CodeUri"].rstrip("/") == f"functions/{code}" and props["Handler"] == "app.handler"
    assert len((ROOT / props["CodeUri"] / "app.py").read_text().splitlines()) < 60
    assert (ROOT / "events" / f"{code}.json").exists()
    assert "Runtime" not in props  # python3.13 from Globals


def test_the_sweeper_queries_the_index_and_never_scans():
    assert _actions("ReportSweeperFunction") == {"dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"}
    query = next(s for s in _statements("ReportSweeperFunction") if s["Action"] == "dynamodb:Query")
    assert query["Resource"] == {"Fn::Sub": "${JobsTable.Arn}/index/" + PENDING_INDEX}


def test_the_dlq_handler_reads_without_deleting_so_messages_stay_for_a_redrive():
    actions = _actions("ReportDeadLetterFunction")
    assert "sqs:ReceiveMessage" in actions and "sqs:DeleteMessage" not in actions
    env = RES["ReportDeadLetterFunction"]["Properties"]["Environment"]["Variables"]
    assert env["REPORT_DLQ_URL"] == {"Ref": "ReportDeadLetterQueue"}


def test_the_worker_can_dead_letter_a_poison_message_and_store_dropped_requests():
    assert WORKER["Environment"]["Variables"]["REPORT_DLQ_URL"] == {"Ref": "ReportDeadLetterQueue"}
    send = [s for s in _statements("ReportWorkerFunction") if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"] for s in send] == [{"Fn::GetAtt": "ReportDeadLetterQueue.Arn"}]
    assert "sqs:SendMessage" in _actions("ReportGenerateFunction")  # the API enqueues; the sweeper re-sends


@pytest.mark.parametrize("fn", ["ReportSweeperFunction", "ReportDeadLetterFunction", "ReportWorkerFunction",
                                "ReportGenerateFunction"])
def test_job_functions_name_exact_actions_and_no_wildcards(fn):
    for s in _statements(fn):
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        assert all("*" not in a for a in actions), (fn, s)
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        assert all(r != "*" for r in resources), (fn, s)

