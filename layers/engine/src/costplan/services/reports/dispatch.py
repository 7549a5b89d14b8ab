"""Report kinds: each kind's request, response, service and content builder; run or accept the source, render
every format. The endpoints' entry points are ``reports.api``, the async job lifecycle ``reports.jobs``."""

import hashlib
import json

from pydantic import BaseModel, ValidationError

from costplan.reports import content as C
from costplan.reports.render import CONTENT_TYPES, RENDERERS
from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.enums import ReportFormat, ReportKind
from costplan_contracts.report import ReportFile, ReportRequest


def _source(kind: ReportKind):
    """(request model, response model, service, content builder) for each report kind."""
    # lazy: cold start, a report function imports only the domain of the kind it runs (report/status none)
    if kind == ReportKind.PLAN_LLM:
        from costplan.services.plan import plan_llm
        from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse

        return PlanLlmRequest, PlanLlmResponse, plan_llm, C.from_plan_llm
    if kind == ReportKind.RANK_CATALOG:
        from costplan.services.catalog_rank import rank_catalog
        from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

        return RankCatalogRequest, RankCatalogResponse, rank_catalog, C.from_rank_catalog
    if kind == ReportKind.INVOICE_ANALYZE:
        from costplan.services.invoice import analyze
        from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse

        return AnalyzeRequest, AnalyzeResponse, analyze, C.from_invoice
    from costplan.services.plan import plan_scaling
    from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse

    return PlanScalingRequest, PlanScalingResponse, plan_scaling, C.from_plan_scaling


def kind_models(kind: ReportKind) -> tuple[type[BaseModel], type[BaseModel]]:
    """(request model, response model) of a report kind."""
    request_model, response_model, _, _ = _source(kind)
    return request_model, response_model


def validated(model: type[BaseModel], data: dict, prefix: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        details = [FieldError(".".join([prefix, *(str(p) for p in err["loc"])]), err["msg"]) for err in e.errors()]
        raise RequestRejected(f"{prefix} is not a valid {model.__name__}", details) from None


def report_id(req: ReportRequest) -> str:
    """A hash of the normalised request and its formats: resubmitting the same report gives the same id."""
    doc = {"source": req.source.model_dump(mode="json"), "formats": sorted(f.value for f in req.formats),
           "title": req.title, "as_of": req.as_of.isoformat() if req.as_of else None,
           "baseline_monthly_usd": req.baseline_monthly_usd}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def render(req: ReportRequest, exports=None) -> dict[ReportFormat, bytes]:
    """Every requested format, byte-identical for the same request (and the same export files). ``exports``
    (``invoice_exports.ExportAccess``, the worker's) reads an invoice_analyze request's S3 export source."""
    request_model, response_model, service, build = _source(req.source.kind)
    if req.source.request is not None:
        request = validated(request_model, req.source.request, "source.request")
        if getattr(request, "source", None) is not None:  # invoice/analyze of an export in S3
            # lazy: cold start, only a report of an S3 export needs the export reader (pyarrow, DuckDB, Athena)
            from costplan.services.invoice.exports import analyze_source

            result = analyze_source(request.source, exports)
        else:
            result = service(request)
    else:
        result = validated(response_model, req.source.result, "source.result")
    body = build(result, req.title, req.as_of.isoformat() if req.as_of else None, req.baseline_monthly_usd)
    return {f: RENDERERS[f.value](body) for f in req.formats}


def describe(fmt: ReportFormat, data: bytes, *, inline: bool, url: str | None = None) -> ReportFile:
    return ReportFile(format=fmt, content_type=CONTENT_TYPES[fmt.value], bytes=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), content=data.decode("utf-8") if inline else None,
                      download_url=url)
