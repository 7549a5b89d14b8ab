"""The FastAPI app factory and Lambda entry point every function shares.

One place turns every failure into the one error envelope
``{error: {code, message, details: [{field, reason}]}, correlation_id}``:
400 a body that will not parse (with its line, column and character), 404 unknown route,
405 wrong method (with ``Allow``), 409 a feature this deployment does not offer (``NotConfigured``,
documented by the routes that raise it), 413 body too large (after gzip decoding too), 415 a
Content-Type or Content-Encoding the route does not take, 422 validation (and results that
would not be finite numbers because of the input), 500 only for real faults (logged with
the correlation id). Every one of them is in each operation's OpenAPI responses.
"""

import json
import math
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from mangum import Mangum
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from costplan.adapters import snapstart
from costplan.adapters.observability import logger, metrics
from costplan.services.errors import NotConfigured, NotFound, RequestRejected
from costplan_contracts.bounds import REQUEST_BODY_MAX_BYTES
from costplan_contracts.common import ErrorBody, ErrorDetail, ErrorEnvelope
from costplan_contracts.enums import ErrorCode

CORRELATION_HEADER = "x-correlation-id"
JSON_MEDIA_TYPE = "application/json"
GZIP = "gzip"
_STATUS_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE,
                 415: ErrorCode.UNSUPPORTED_MEDIA_TYPE, 400: ErrorCode.MALFORMED_JSON}
# Every operation documents every status the adapter can answer, each with the one envelope.
ERROR_RESPONSES = {
    400: {"model": ErrorEnvelope, "description": "The body does not parse: details name the line, column and char"},
    404: {"model": ErrorEnvelope, "description": "No such route, or no such resource"},
    405: {"model": ErrorEnvelope, "description": "Method not allowed on this path; the Allow header lists the methods"},
    413: {"model": ErrorEnvelope, "description": "The body (after gzip decoding) is over this endpoint's limit"},
    415: {"model": ErrorEnvelope, "description": "Content-Type or Content-Encoding this endpoint does not take"},
    422: {"model": ErrorEnvelope, "description": "A field failed validation: details name each field and reason"},
    500: {"model": ErrorEnvelope, "description": "A fault on our side; quote the correlation id"},
}
# Below 1e-6 or above 1e6 a number is "extreme" enough to blame for a non-finite result; ordinary numbers are not.
_EXTREME_LOG10 = 6.0


@dataclass(frozen=True)
class TextBody:
    """A non-JSON body an app takes besides JSON (e.g. text/csv on invoice/analyze).

    ``to_json(text, query)`` turns the UTF-8 text and the query parameters into the route's JSON request, or raises
    RequestRejected naming the field; ``field`` names the request field the text becomes (for encoding errors)."""

    media_type: str
    field: str
    to_json: Callable[[str, Mapping[str, str]], dict]
    query: type[BaseModel] | None = None  # the query parameters to_json reads, for the OpenAPI document
    description: str = ""
    binary: bool = False  # to_json gets the body's bytes (e.g. Parquet), not UTF-8 text

    def openapi_extra(self) -> dict:
        """The route's OpenAPI additions: this media type in requestBody.content, and its query parameters."""
        params = []
        schema = self.query.model_json_schema() if self.query is not None else {"properties": {}}
        for name, prop in schema["properties"].items():
            options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
            params.append({"name": name, "in": "query", "required": False, "description": prop.get("description", ""),
                           "schema": options[0] if len(options) == 1 else {"anyOf": options}})
        schema = {"type": "string", "description": self.description} | ({"format": "binary"} if self.binary else {})
        return {"parameters": params, "requestBody": {"content": {self.media_type: {"schema": schema}}}}


def bodies_openapi(*bodies: TextBody) -> dict:
    """One route's OpenAPI additions for several non-JSON bodies (their media types, their query parameters once)."""
    out: dict = {"parameters": [], "requestBody": {"content": {}}}
    for body in bodies:
        extra = body.openapi_extra()
        out["parameters"] += [p for p in extra["parameters"] if p["name"] not in {q["name"] for q in out["parameters"]}]
        out["requestBody"]["content"].update(extra["requestBody"]["content"])
    return out


def _field(loc: tuple) -> str:
    """('body', 'workload', 'top_k') -> 'workload.top_k'; ('path', 'report_id') -> 'report_id'."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "path", "query", "header") else loc)
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def correlation_id(scope: dict) -> str:
    known = (scope.get("state") or {}).get("correlation_id")  # set by an outer dispatcher (make run)
    if known:
        return known
    event = scope.get("aws.event") or {}
    rid = (event.get("requestContext") or {}).get("requestId")
    if rid:
        return rid
    for name, value in scope.get("headers") or []:
        if name.decode("latin-1") in (CORRELATION_HEADER, "x-request-id"):
            return value.decode("latin-1")[:128]
    return str(uuid.uuid4())


def envelope(status: int, code: ErrorCode, message: str, cid: str, details=(), headers=None) -> JSONResponse:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=list(details)), correlation_id=cid)
    return JSONResponse(body.model_dump(mode="json"), status_code=status,
                        headers={**(headers or {}), CORRELATION_HEADER: cid})


def media_type(value: str | None) -> str | None:
    """'Application/JSON; charset=utf-8' -> 'application/json'; None when absent."""
    return value.split(";", 1)[0].strip().lower() or None if value else None


def is_json(mt: str | None) -> bool:
    """application/json and any application/*+json. A missing Content-Type is taken as JSON (curl --data-binary)."""
    return mt is None or mt == JSON_MEDIA_TYPE or (mt.startswith("application/") and mt.endswith("+json"))


class BodyError(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def gunzip(data: bytes, limit: int, cid: str) -> bytes:
    """Decode a gzip body (several members allowed) without ever holding more than ``limit`` + 1 bytes of it."""
    out, size = [], 0
    while data:
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(data, limit + 1 - size)
        except zlib.error as e:
            raise BodyError(envelope(400, ErrorCode.MALFORMED_BODY, "The gzip body does not decode", cid,
                                     [ErrorDetail(field="body", reason=f"gzip: {e}")])) from None
        size += len(chunk)
        out.append(chunk)
        if size > limit or d.unconsumed_tail:
            raise BodyError(envelope(413, ErrorCode.PAYLOAD_TOO_LARGE,
                                     f"Request body exceeds {limit} bytes once decompressed", cid))
        if not d.eof:
            raise BodyError(envelope(400, ErrorCode.MALFORMED_BODY, "The gzip body does not decode", cid,
                                     [ErrorDetail(field="body", reason="gzip: truncated stream")]))
        data = d.unused_data
    return b"".join(out)


class EnvelopeMiddleware:
    """Pure ASGI: correlation id, body-size limit, content coding and media type, and the last line of defence.

    ``max_body=None`` (the local dispatcher in front of the function apps) passes bodies through untouched: each
    function app applies its own limit, the one its Lambda applies."""

    def __init__(self, app, max_body: int | None = REQUEST_BODY_MAX_BYTES, router=None,
                 text_bodies: tuple[TextBody, ...] = ()) -> None:
        self.app, self.max_body, self.router = app, max_body, router
        self.text_bodies = {t.media_type: t for t in text_bodies}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = correlation_id(scope)
        scope.setdefault("state", {})["correlation_id"] = cid

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                if not any(k.lower() == CORRELATION_HEADER.encode() for k, _ in message["headers"]):
                    message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), cid.encode())]
            await send(message)

        downstream = receive
        if self.max_body is not None:
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if size > self.max_body:
                    return await envelope(413, ErrorCode.PAYLOAD_TOO_LARGE,
                                          f"Request body exceeds {self.max_body} bytes", cid)(scope, receive, send)
            try:
                body = self._prepare(scope, b"".join(chunks), cid)
            except BodyError as e:
                return await e.response(scope, receive, send)
            scope["state"]["body"] = body  # for the 400 position and the non-finite guard
            replayed = False

            async def downstream():
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

        try:
            await self.app(scope, downstream, send_with_id)
        except Exception:
            logger.exception("unhandled fault", extra={"correlation_id": cid, "path": scope.get("path")})
            await envelope(500, ErrorCode.INTERNAL_ERROR, "Internal error; quote the correlation id",
                           cid)(scope, receive, send)

    def _takes_body(self, scope) -> bool:
        """True when the request fully matches a route with a request body (404 and 405 come before 415)."""
        for route in self.router.routes if self.router is not None else ():
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return isinstance(route, APIRoute) and route.body_field is not None
        return False

    def _prepare(self, scope, body: bytes, cid: str) -> bytes:
        """Decode the content coding and check the media type of a body-taking route; text bodies become JSON."""
        if not self._takes_body(scope):
            return body
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        coding = headers.get("content-encoding", "").strip().lower()
        if coding not in ("", "identity", GZIP):
            raise BodyError(envelope(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Content-Encoding {coding} is not "
                                     "supported", cid, [ErrorDetail(field="content-encoding",
                                                                    reason="use gzip, or send the body uncompressed")],
                                     headers={"Accept-Encoding": GZIP}))
        if coding == GZIP:
            body = gunzip(body, self.max_body, cid)
        mt = media_type(headers.get("content-type"))
        if not is_json(mt):
            text_body = self.text_bodies.get(mt)
            if text_body is None:
                accepted = ", ".join([JSON_MEDIA_TYPE, *self.text_bodies])
                raise BodyError(envelope(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Content-Type {mt} is not accepted "
                                         f"here", cid, [ErrorDetail(field="content-type", reason=f"send {accepted}")],
                                         headers={"Accept-Post": accepted}))
            body = self._from_text(text_body, body, scope, cid)
        elif coding != GZIP:
            return body
        kept = [(k, v) for k, v in scope.get("headers") or []
                if k.lower() not in (b"content-type", b"content-encoding", b"content-length")]
        scope["headers"] = [*kept, (b"content-type", JSON_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]
        return body

    @staticmethod
    def _from_text(text_body: TextBody, body: bytes, scope, cid: str) -> bytes:
        try:
            text = body if text_body.binary else body.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise BodyError(envelope(422, ErrorCode.VALIDATION_ERROR, "The body is not UTF-8 text", cid,
                                     [ErrorDetail(field=text_body.field, reason=f"invalid byte at offset {e.start}")])
                            ) from None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            doc = text_body.to_json(text, query)
        except RequestRejected as e:
            raise BodyError(envelope(422, ErrorCode.VALIDATION_ERROR, e.message, cid,
                                     [ErrorDetail(field=d.field, reason=d.reason) for d in e.details])) from None
        return json.dumps(doc).encode()


def parse_error(body: bytes | str | None, pos: int | None = None, msg: str | None = None) -> ErrorDetail:
    """Where a body stops parsing: 'Expecting value at line 3 column 5 (char 41)', from the JSON decoder."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as e:
            return ErrorDetail(field="body", reason=f"not UTF-8: invalid byte at offset {e.start}")
    if pos is None or msg is None:
        try:
            json.loads(body or "")
            return ErrorDetail(field="body", reason="the body does not parse")
        except json.JSONDecodeError as e:
            pos, msg = e.pos, e.msg
    body = body or ""
    line = body.count("\n", 0, pos) + 1
    column = pos - body.rfind("\n", 0, pos)
    return ErrorDetail(field="body", reason=f"{msg} at line {line} column {column} (char {pos})")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    cid = request.scope["state"]["correlation_id"]
    errors = exc.errors()
    invalid = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid is not None:
        loc = invalid.get("loc", ())
        pos = loc[-1] if loc and isinstance(loc[-1], int) else None
        detail = parse_error(exc.body if isinstance(exc.body, str) else request.scope["state"].get("body"), pos,
                             (invalid.get("ctx") or {}).get("error"))
        return envelope(400, ErrorCode.MALFORMED_JSON, "Request body is not valid JSON", cid, [detail])
    details = [ErrorDetail(field=_field(tuple(e.get("loc", ()))), reason=e.get("msg", "invalid")) for e in errors]
    return envelope(422, ErrorCode.VALIDATION_ERROR, "Request failed validation", cid, details)


async def _rejected(request: Request, exc: RequestRejected) -> JSONResponse:
    details = [ErrorDetail(field=d.field, reason=d.reason) for d in exc.details]
    return envelope(422, ErrorCode.VALIDATION_ERROR, exc.message, request.scope["state"]["correlation_id"], details)


async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
    return envelope(404, ErrorCode.NOT_FOUND, exc.message, request.scope["state"]["correlation_id"])


async def _not_configured(request: Request, exc: NotConfigured) -> JSONResponse:
    details = [ErrorDetail(field=d.field, reason=d.reason) for d in exc.details]
    return envelope(409, exc.code, exc.message, request.scope["state"]["correlation_id"], details)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    message = {404: f"No route for {request.method} {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
    details = [parse_error(request.scope["state"].get("body"))] if exc.status_code == 400 else []
    return envelope(exc.status_code, code, message, request.scope["state"]["correlation_id"], details,
                    headers=exc.headers)  # 405 keeps Starlette's Allow header


def extreme_inputs(body: bytes | None) -> list[str]:
    """The request fields whose numbers are furthest from 1 in magnitude (beyond 1e-6 or 1e6), e.g. a 5e-324 rate."""
    try:
        doc = json.loads(body or b"")
    except ValueError:
        return []
    leaves: list[tuple[float, str]] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and node != 0 and math.isfinite(node):
            leaves.append((abs(math.log10(abs(node))), path or "body"))

    walk(doc, "")
    top = max((score for score, _ in leaves), default=0.0)
    return sorted({p for score, p in leaves if score == top}) if top >= _EXTREME_LOG10 else []


ARITHMETIC_FAULTS = (OverflowError, ZeroDivisionError, FloatingPointError)  # e.g. 5e-324 underflowing to 0


def _nonfinite(exc: Exception) -> bool:
    if isinstance(exc, ARITHMETIC_FAULTS):
        return True
    errors = exc.errors() if isinstance(exc, (ValidationError, ResponseValidationError)) else []
    return bool(errors) and all(e.get("type") == "finite_number" for e in errors)


async def _nonfinite_result(request: Request, exc: Exception) -> JSONResponse:
    """No response carries NaN or infinity (ContractModel refuses them). When the input's own extreme numbers caused
    one, that is the caller's 422 naming those fields; anything else is a fault and stays a 500."""
    fields = extreme_inputs(request.scope["state"].get("body")) if _nonfinite(exc) else []
    if not fields:
        raise exc
    cid = request.scope["state"]["correlation_id"]
    logger.warning("non-finite result from extreme input", extra={"correlation_id": cid, "fields": fields})
    return envelope(422, ErrorCode.VALIDATION_ERROR, "The result is not a finite number for these inputs", cid,
                    [ErrorDetail(field=f, reason="too extreme: the result overflows or underflows; use a value "
                                                 "between 1e-6 and 1e6 in magnitude, or 0") for f in fields])


def create_app(title: str, max_body: int | None = REQUEST_BODY_MAX_BYTES,
               text_bodies: tuple[TextBody, ...] = ()) -> FastAPI:
    app = FastAPI(title=f"CostPlan {title}", version="1.0.0", docs_url=None, redoc_url=None,
                  responses=ERROR_RESPONSES)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RequestRejected, _rejected)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(NotConfigured, _not_configured)
    app.add_exception_handler(StarletteHTTPException, _http)
    for kind in (ValidationError, ResponseValidationError, *ARITHMETIC_FAULTS):
        app.add_exception_handler(kind, _nonfinite_result)
    app.add_middleware(EnvelopeMiddleware, max_body=max_body, router=app.router, text_bodies=text_bodies)
    return app


def lambda_handler(app: FastAPI) -> Callable:
    """Mangum adapter wrapped with the Powertools Logger (API Gateway request id as correlation id) and Metrics."""
    adapter = Mangum(app, lifespan="off")
    snapstart.register(app, adapter)  # SnapStart: prime before the snapshot, reset after a restore

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def handler(event, context):
        metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
        return adapter(event, context)

    return handler


def json_body(response) -> dict:
    """Decode a Lambda proxy response body (tests and tools)."""
    return json.loads(response["body"])
