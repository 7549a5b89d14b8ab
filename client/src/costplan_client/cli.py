"""`costplan`: the CostPlan API from a shell (Typer + Rich).

Without --endpoint (or COSTPLAN_ENDPOINT) every command runs the engine in-process (no server, no AWS). With
one it calls that API: SigV4 from the AWS credential chain (--auth iam, the default for a non-loopback URL), a
bearer token from COSTPLAN_TOKEN (--auth jwt), or nothing (--auth none, the default for make run's loopback).
Output: --format table|json|csv|markdown, tables on a terminal and JSON otherwise. Exit codes: 0 done, 2 bad
input (the field and the reason are printed), 1 any other failure.
"""

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from costplan_client.errors import CostPlanError
from costplan_client.numbers import parse_count, parse_number
from costplan_client.options import Auth, OutputFormat
from costplan_contracts.enums import (
    Deployment,
    Precision,
    PricingModel,
    PricingUnit,
    ReportFormat,
    ReportKind,
    TrainingMethod,
    WorkloadType,
)

if TYPE_CHECKING:  # imported where used: `costplan --help` builds no contract model and loads no httpx
    from costplan_client.client import CostPlanClient, Job

INPUT_EXIT, FAILURE_EXIT = 2, 1
# Short names people type for the workload types (the contract's own names are accepted too).
WORKLOAD_ALIASES = {"tts": WorkloadType.TEXT_TO_SPEECH, "stt": WorkloadType.SPEECH_TO_TEXT,
                    "asr": WorkloadType.SPEECH_TO_TEXT, "speech": WorkloadType.SPEECH_TO_TEXT,
                    "image": WorkloadType.IMAGE_GENERATION, "images": WorkloadType.IMAGE_GENERATION,
                    "embedding": WorkloadType.EMBEDDINGS, "gpu": WorkloadType.GPU_COMPUTE,
                    "llm": WorkloadType.LLM_TOKENS, "tokens": WorkloadType.LLM_TOKENS}
# What a bare --quantity counts for each workload type (override with --unit).
DEFAULT_UNITS = {WorkloadType.TEXT_TO_SPEECH: PricingUnit.PER_CHARACTER,
                 WorkloadType.SPEECH_TO_TEXT: PricingUnit.PER_AUDIO_MINUTE,
                 WorkloadType.IMAGE_GENERATION: PricingUnit.PER_IMAGE,
                 WorkloadType.EMBEDDINGS: PricingUnit.PER_TOKEN, WorkloadType.RERANK: PricingUnit.PER_SEARCH,
                 WorkloadType.GPU_COMPUTE: PricingUnit.PER_GPU_HOUR, WorkloadType.LLM_TOKENS: PricingUnit.PER_TOKEN}

app = typer.Typer(help=__doc__.split("\n\n")[0], no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)
plan_app = typer.Typer(help="Plan LLM serving and scaling", no_args_is_help=True)
rank_app = typer.Typer(help="Rank catalog offerings", no_args_is_help=True)
invoice_app = typer.Typer(help="Analyse an AI bill and simulate changes", no_args_is_help=True)
report_app = typer.Typer(help="Reports for finance (json, csv, markdown, html)", no_args_is_help=True)
training_app = typer.Typer(help="Training and fine-tuning plans", no_args_is_help=True)
for sub, name in ((plan_app, "plan"), (rank_app, "rank"), (invoice_app, "invoice"), (report_app, "report"),
                  (training_app, "training")):
    app.add_typer(sub, name=name)


@dataclass
class Settings:
    endpoint: str | None
    auth: Auth | None
    region: str | None
    profile: str | None
    fmt: OutputFormat | None

    def client(self) -> "CostPlanClient":
        from costplan_client.client import CostPlanClient

        return CostPlanClient(self.endpoint, auth=self.auth, region=self.region, profile=self.profile)

    def output(self) -> OutputFormat:
        return self.fmt or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSON)


def _number(text: str) -> float:
    try:
        return parse_number(text)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def _count(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def _workload_type(text: str) -> WorkloadType:
    key = text.strip().lower().replace("-", "_")
    if key in WORKLOAD_ALIASES:
        return WORKLOAD_ALIASES[key]
    try:
        return WorkloadType(key)
    except ValueError:
        names = sorted({*WORKLOAD_ALIASES, *(w.value for w in WorkloadType)})
        raise typer.BadParameter(f"{text!r} is not a workload type; one of {', '.join(names)}") from None


def _emit(result, settings: Settings) -> None:
    from costplan_client.output import render

    model, extra = result if isinstance(result, tuple) else (result, [])
    render(model, settings.output(), Console(soft_wrap=False), extra)


def _fail(e: CostPlanError) -> None:
    err = Console(stderr=True, soft_wrap=True)
    err.print(f"error: {e}", markup=False, highlight=False)
    raise typer.Exit(INPUT_EXIT if e.is_input_error else FAILURE_EXIT)


def _run(ctx: typer.Context, call):
    """Run one client call and print its answer; every CostPlanError becomes the exit code and the printed reason."""
    settings: Settings = ctx.obj
    try:
        with settings.client() as client, quiet(client):
            result = call(client)
            for note in client.notes:
                Console(stderr=True, soft_wrap=True).print(f"note: {note}", markup=False, highlight=False)
    except CostPlanError as e:
        _fail(e)
    if result is not None:
        _emit(result, settings)


def quiet(client: "CostPlanClient"):
    """In-process, the engine's own log lines go to stderr and only from ERROR up (see engine_logs_to_stderr)."""
    if client.local is None:
        return nullcontext()
    client.local.root  # noqa: B018 - no checkout: the CostPlanError that says so, before anything is imported
    from costplan_client.transport import engine_logs_to_stderr

    try:
        return engine_logs_to_stderr()
    except ImportError as e:
        raise CostPlanError("NO_ENGINE", f"the in-process transport needs the engine (pip install -e layers/engine): "
                                         f"{e}; or pass --endpoint URL") from None


def _progress() -> Progress:
    err = Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    console=err, disable=not err.is_terminal, transient=False)


@app.callback()
def main_options(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Option(envvar="COSTPLAN_ENDPOINT", help="API base URL (http transport); "
                                                 "absent: the engine runs in-process")] = None,
    auth: Annotated[Auth | None, typer.Option(help="iam (SigV4), jwt (COSTPLAN_TOKEN) or none; default: none for "
                                                   "a loopback endpoint, iam otherwise")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region for SigV4 (default: from the URL or the chain)")] = None,
    aws_profile: Annotated[str | None, typer.Option("--aws-profile", help="AWS profile for SigV4")] = None,
    fmt: Annotated[OutputFormat | None, typer.Option("--format", help="table on a terminal, json otherwise")] = None,
) -> None:
    ctx.obj = Settings(endpoint, auth, region, aws_profile, fmt)


@plan_app.command("llm")
def plan_llm(
    ctx: typer.Context,
    input_tokens: Annotated[float, typer.Option("--input", parser=_number, metavar="TOKENS",
                                                help="Input tokens per month: 3e9, 3B, 3,000,000,000, '3 billion'")],
    output_tokens: Annotated[float, typer.Option("--output", parser=_number, metavar="TOKENS",
                                                 help="Output tokens per month")],
    model: Annotated[str | None, typer.Option(help="Model id or alias, e.g. llama-3.1-70b-instruct")] = None,
    budget: Annotated[float | None, typer.Option(parser=_number, metavar="USD", help="Monthly budget")] = None,
    deployment: Annotated[Deployment, typer.Option(help="hosted_api, self_hosted or both")] = Deployment.HOSTED_API,
    cached_share: Annotated[float | None, typer.Option(parser=_number, help="Share of input from cache")] = None,
    max_context: Annotated[int | None, typer.Option(parser=_count, metavar="TOKENS")] = None,
    requests: Annotated[float | None, typer.Option(parser=_number, help="Requests per month")] = None,
    provider: Annotated[list[str] | None, typer.Option(help="Only these providers (repeat)")] = None,
    exclude_provider: Annotated[list[str] | None, typer.Option(help="Leave these providers out (repeat)")] = None,
    top_k: Annotated[int | None, typer.Option(parser=_count)] = None,
) -> None:
    """Where an LLM workload is cheapest: hosted APIs, self-hosted GPUs, or both."""
    workload = {"input_tokens_per_month": input_tokens, "output_tokens_per_month": output_tokens,
                **_given(cached_input_share=cached_share, max_context_tokens=max_context, requests_per_month=requests)}
    constraints = _given(monthly_budget_usd=budget, providers=provider or None, exclude_providers=exclude_provider)
    body = {"workload": workload, **_given(model=model, top_k=top_k), "deployment": deployment.value,
            **({"constraints": constraints} if constraints else {})}
    _run(ctx, lambda c: c.plan_llm(body))


@plan_app.command("scaling")
def plan_scaling(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Open-weight model id or alias")],
    peak_rps: Annotated[float, typer.Option(parser=_number, help="Peak requests per second")],
    avg_rps: Annotated[float, typer.Option(parser=_number, help="Average requests per second")],
    input_tokens: Annotated[float, typer.Option("--input", parser=_number, help="Average input tokens per request")],
    output_tokens: Annotated[float, typer.Option("--output", parser=_number, help="Average output tokens per request")],
    min_rps: Annotated[float | None, typer.Option(parser=_number)] = None,
    ttft_ms: Annotated[float | None, typer.Option(parser=_number, help="SLO: time to first token")] = None,
    tpot_ms: Annotated[float | None, typer.Option(parser=_number, help="SLO: time per output token")] = None,
    precision: Annotated[list[Precision] | None, typer.Option(help="A precision to try (repeat); default bf16 and "
                                                                   "fp8")] = None,
    pricing_model: Annotated[PricingModel | None, typer.Option()] = None,
    instance: Annotated[list[str] | None, typer.Option(help="Pin to these instance types (repeat)")] = None,
    top_k: Annotated[int | None, typer.Option(parser=_count)] = None,
) -> None:
    """Replicas, instances and monthly cost to serve an open-weight model at a load."""
    slo = _given(ttft_ms=ttft_ms, tpot_ms=tpot_ms)
    body = {"model": model, "peak_requests_per_second": peak_rps, "avg_requests_per_second": avg_rps,
            "avg_input_tokens_per_request": input_tokens, "avg_output_tokens_per_request": output_tokens,
            **_given(min_requests_per_second=min_rps, instance_types=instance or None, top_k=top_k,
                     precisions=[p.value for p in precision] if precision else None,
                     pricing_model=pricing_model and pricing_model.value),
            **({"slo": slo} if slo else {})}
    _run(ctx, lambda c: c.plan_scaling(body))


@rank_app.command("catalog")
def rank_catalog(
    ctx: typer.Context,
    workload_type: Annotated[WorkloadType, typer.Option("--type", parser=_workload_type, metavar="TYPE",
                                                        help="tts, stt, image, embeddings, rerank, gpu, llm or the "
                                                             "contract's name (text_to_speech...)")],
    quantity: Annotated[float, typer.Option(parser=_number, help="How many per month (see --unit)")],
    unit: Annotated[PricingUnit | None, typer.Option(help="What --quantity counts; default per type (tts: "
                                                          "per_character, stt: per_audio_minute, image: per_image...)")]
    = None,
    factor: Annotated[list[str] | None, typer.Option(help="Conversion factor name=value (repeat), e.g. "
                                                          "characters_per_request=400")] = None,
    pricing_unit: Annotated[PricingUnit | None, typer.Option(help="Compare prices in this unit")] = None,
    output_share: Annotated[float | None, typer.Option(parser=_number)] = None,
    budget: Annotated[float | None, typer.Option(parser=_number, metavar="USD")] = None,
    provider: Annotated[list[str] | None, typer.Option(help="Only these providers (repeat)")] = None,
    top_k: Annotated[int | None, typer.Option(parser=_count)] = None,
) -> None:
    """Offerings of any AI workload type (speech, TTS, images, rerank, embeddings, GPU-hours, tokens), ranked."""
    factors = {}
    for item in factor or []:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(CostPlanError("VALIDATION_ERROR", "Bad option", [_detail("--factor", f"{item!r}: write name=value")]))
        factors[name.strip()] = _number(value)
    constraints = _given(pricing_unit=pricing_unit and pricing_unit.value, monthly_budget_usd=budget,
                         providers=provider or None)
    body = {"workload_type": workload_type.value,
            "quantity": {"value": quantity, "unit": (unit or DEFAULT_UNITS[workload_type]).value},
            **_given(conversion_factors=factors or None, output_token_share=output_share, top_k=top_k),
            **({"constraints": constraints} if constraints else {})}
    _run(ctx, lambda c: c.rank_catalog(body))


@training_app.command("plan")
def training_plan(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Registry id or alias of the base model")],
    method: Annotated[TrainingMethod, typer.Option()],
    dataset_tokens: Annotated[float, typer.Option(parser=_number, help="Tokens in the training set")],
    epochs: Annotated[float | None, typer.Option(parser=_number)] = None,
    seq_len: Annotated[int | None, typer.Option(parser=_count)] = None,
    budget: Annotated[float | None, typer.Option(parser=_number, metavar="USD", help="Most one run may cost")] = None,
    deadline_hours: Annotated[float | None, typer.Option(parser=_number)] = None,
    max_nodes: Annotated[int | None, typer.Option(parser=_count)] = None,
    managed: Annotated[bool, typer.Option(help="Price managed fine-tuning APIs too")] = True,
    top_k: Annotated[int | None, typer.Option(parser=_count)] = None,
) -> None:
    """Memory, layout, time and cost of a training or fine-tuning run, self-run or managed."""
    body = {"model": model, "method": method.value, "dataset_tokens": dataset_tokens,
            **_given(epochs=epochs, seq_len=seq_len, budget_usd=budget, deadline_hours=deadline_hours,
                     max_nodes=max_nodes, top_k=top_k), **({} if managed else {"include_managed": False})}
    _run(ctx, lambda c: c.plan_training(body))


@invoice_app.command("analyze")
def invoice_analyze(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An export file (.csv, .csv.gz, .parquet) or a folder of them")],
    invoice_format: Annotated[str | None, typer.Option(help="focus, cur or line_items (default: from the columns)")]
    = None,
    focus_version: Annotated[str | None, typer.Option(help="FOCUS version to enforce: 1.0, 1.1 or 1.2")] = None,
    out: Annotated[Path | None, typer.Option(help="A large export or a folder becomes a report job: download its "
                                                  "files here")] = None,
) -> None:
    """Reconcile an AI bill and say what to change. One file up to 6 MB is analysed at once; a folder or a larger
    file is uploaded (in-process: read in place) and analysed as a report job, with progress bars."""

    def call(client: "CostPlanClient"):
        from costplan_client.client import Job

        with _progress() as bars:
            sending = bars.add_task("uploading", total=None)

            def on_upload(sent: int, total: int) -> None:
                bars.update(sending, completed=sent, total=total)

            result = client.analyze_export(path, invoice_format=invoice_format, focus_version=focus_version,
                                           upload_progress=on_upload)
            if isinstance(result, Job):
                return _finish(bars, result, out, ctx.obj.output() is not OutputFormat.JSON)
            return result

    _run(ctx, call)


def _finish(bars: Progress, job: "Job", out: Path | None, show_report: bool):
    """Wait with a progress bar, download into ``out``; returns the job and, for the table views, its report's
    own table (from its JSON file, when the job made one)."""
    task = bars.add_task("analysing" if out is None else "report", total=1.0)
    final = job.wait(progress_callback=lambda p: bars.update(task, completed=p))
    if out is not None:
        for p in job.download(out):
            bars.console.print(f"wrote {p}", markup=False, highlight=False)
    extra = []
    if show_report and any(f.format is ReportFormat.JSON for f in final.files):
        from costplan_client.output import report_view

        extra.append(report_view(json.loads(job.files([ReportFormat.JSON])[ReportFormat.JSON])))
    return final, extra


@invoice_app.command("simulate")
def invoice_simulate(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An invoice CSV (FOCUS, CUR) or an analysis JSON from invoice analyze")],
    scenario: Annotated[list[str], typer.Option(help="action[:key=value,...] (repeat), e.g. cache_hit_rate:rate=0.4 "
                                                     "or switch_provider:from=openai,to=openrouter,share=0.5")],
    invoice_format: Annotated[str, typer.Option(help="focus or cur, for a CSV")] = "focus",
) -> None:
    """Replayable what-if scenarios over an invoice or an analysis."""
    scenarios = [_scenario(s) for s in scenario]
    if not path.is_file():
        _fail(CostPlanError("VALIDATION_ERROR", "Bad argument", [_detail("path", f"{path} is not a file")]))
    if path.suffix.lower() == ".json":
        body = {"analysis": json.loads(path.read_text(encoding="utf-8")), "scenarios": scenarios}
    else:
        body = {"invoice": {"format": invoice_format, "csv": path.read_text(encoding="utf-8-sig")},
                "scenarios": scenarios}
    _run(ctx, lambda c: c.invoice_simulate(body))


_SCENARIO_TEXT = {"from", "to", "term", "pricing_model", "model", "instance_type", "action"}


def _scenario(text: str) -> dict:
    action, _, rest = text.partition(":")
    out: dict = {"action": action.strip()}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            _fail(CostPlanError("VALIDATION_ERROR", "Bad option",
                                [_detail("--scenario", f"{item!r}: write key=value, e.g. rate=0.4")]))
        out[key.strip()] = value.strip() if key.strip() in _SCENARIO_TEXT else _number(value)
    return out


@report_app.command("generate")
def report_generate(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--from", help="A report request, an endpoint request (plan/llm, "
                                                        "rank/catalog, plan/scaling, invoice/analyze) or a response "
                                                        "one of them returned (JSON)")],
    formats: Annotated[str, typer.Option(help="Comma-separated: json, csv, markdown, html")] = "html",
    out: Annotated[Path, typer.Option(help="Where to write the files")] = Path("."),
    title: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[ReportKind | None, typer.Option(help="Which endpoint --from belongs to (default: guessed from "
                                                         "its fields)")] = None,
) -> None:
    """Generate a report as a job, wait for it with a progress bar, then download its files."""
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        _fail(CostPlanError("VALIDATION_ERROR", "Bad option", [_detail("--from", f"{source}: {e}")]))
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in {r.value for r in ReportFormat}]
    if bad or not wanted:
        _fail(CostPlanError("VALIDATION_ERROR", "Bad option",
                            [_detail("--formats", f"{bad or formats!r}: use json, csv, markdown, html")]))
    body = report_body(doc, wanted, title, kind)

    def call(client: "CostPlanClient"):
        with _progress() as bars:
            return _finish(bars, client.generate_report(body), out, False)

    _run(ctx, call)


def _kind_of(doc: dict) -> tuple[ReportKind, str] | None:
    """Which endpoint's response (or else request) the document is: the first contract model it validates as."""
    from pydantic import ValidationError

    from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse
    from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse
    from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse
    from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

    candidates = ((PlanLlmResponse, ReportKind.PLAN_LLM, "result"), (RankCatalogResponse, ReportKind.RANK_CATALOG,
                  "result"), (PlanScalingResponse, ReportKind.PLAN_SCALING, "result"),
                  (AnalyzeResponse, ReportKind.INVOICE_ANALYZE, "result"), (PlanLlmRequest, ReportKind.PLAN_LLM,
                  "request"), (RankCatalogRequest, ReportKind.RANK_CATALOG, "request"),
                  (PlanScalingRequest, ReportKind.PLAN_SCALING, "request"),
                  (AnalyzeRequest, ReportKind.INVOICE_ANALYZE, "request"))
    for model, kind, role in candidates:
        try:
            model.model_validate(doc)
        except ValidationError:
            continue
        return kind, role
    return None


def report_body(doc: dict, formats: list[str], title: str | None, kind: ReportKind | None) -> dict:
    """The ReportRequest for --from: the document itself when it is one, else a source built around it (async)."""
    if not isinstance(doc, dict):
        _fail(CostPlanError("VALIDATION_ERROR", "Bad option", [_detail("--from", "not a JSON object")]))
    extra = {"mode": "async", **({"title": title} if title else {})}
    if "formats" in doc and "source" in doc:
        return {**doc, "formats": formats, **extra}
    found = _kind_of(doc)
    if found is None and kind is None:
        _fail(CostPlanError("VALIDATION_ERROR", "Bad option", [_detail(
            "--from", "not a plan/llm, rank/catalog, plan/scaling or invoice/analyze request or response")]))
    role = found[1] if found else ("result" if "rows" in doc or "reconciliation" in doc else "request")
    return {"source": {"kind": (kind or found[0]).value, role: doc}, "formats": formats, **extra}


@app.command("ask")
def ask(ctx: typer.Context, message: Annotated[str, typer.Argument(help="A plain-language question")]) -> None:
    """Ask the copilot: the structured request it built, its result and a short answer."""
    _run(ctx, lambda c: c.copilot({"message": message}))


def _given(**kwargs) -> dict:
    return {k: v for k, v in kwargs.items() if v is not None}


def _detail(field: str, reason: str):
    from costplan_client.errors import ErrorDetail

    return ErrorDetail(field, reason)


GLOBAL_OPTIONS = ("--endpoint", "--auth", "--region", "--aws-profile", "--format")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Global options may follow the command (`costplan plan llm ... --format json`): move them to the front,
    where Typer reads them. Everything after `--` is left alone."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes_next = "=" not in arg and i + 1 < len(argv)
            front += argv[i:i + 2] if takes_next else [arg]
            i += 2 if takes_next else 1
            continue
        rest.append(arg)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> None:
    app(args=hoist_global_options(list(sys.argv[1:] if argv is None else argv)), prog_name="costplan")


if __name__ == "__main__":
    main()
