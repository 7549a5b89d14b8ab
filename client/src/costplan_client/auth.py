"""Request signing for the http transport: SigV4 (IAM mode, botocore's signer) or a bearer JWT.

API Gateway HTTP APIs with IAM authorization verify SigV4 with service ``execute-api``. The signature
covers the method, path, query, body and the headers named in SignedHeaders: here host, content-type,
x-amz-date and, with temporary credentials, x-amz-security-token. Headers added later by proxies (or by
httpx itself: accept-encoding, user-agent, connection) are left out, so they cannot invalidate it.
"""

import os
import re
from collections.abc import Generator

import httpx

SERVICE = "execute-api"
TOKEN_ENV = "COSTPLAN_TOKEN"
SIGNED = ("content-type",)  # besides host and the x-amz-* headers the signer adds
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


def region_from_url(url: str) -> str | None:
    """``https://abc123.execute-api.eu-west-1.amazonaws.com/`` -> ``eu-west-1``; None for other hosts."""
    m = _EXECUTE_API_HOST.match(httpx.URL(url).host)
    return m.group(1) if m else None


class SigV4(httpx.Auth):
    """Signs each request with botocore's SigV4Auth. ``credentials`` is a botocore Credentials object (or anything
    with ``get_frozen_credentials()``); refreshable credentials are frozen once per request."""

    requires_request_body = True

    def __init__(self, credentials, region: str, service: str = SERVICE) -> None:
        self.credentials, self.region, self.service = credentials, region, service

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        creds = self.credentials
        frozen = creds.get_frozen_credentials() if hasattr(creds, "get_frozen_credentials") else creds
        headers = {k: request.headers[k] for k in SIGNED if k in request.headers}
        aws = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
        SigV4Auth(frozen, self.service, self.region).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]
        yield request


def sigv4_from_chain(url: str, region: str | None = None, profile: str | None = None) -> SigV4:
    """Credentials from the standard AWS chain (env, shared files, SSO, container, instance role); the region
    from ``region``, else the execute-api host name, else the chain's configured region."""
    from costplan_client.errors import CostPlanError

    try:
        import botocore.session
    except ImportError:  # pragma: no cover - botocore is in the dev install
        raise CostPlanError("AUTH_UNAVAILABLE", "--auth iam needs botocore: pip install 'costplan_client[aws]'") from None
    session = botocore.session.Session(profile=profile)
    creds = session.get_credentials()
    if creds is None:
        raise CostPlanError("NO_CREDENTIALS", "no AWS credentials found in the standard chain (environment, "
                                              "~/.aws, SSO, container or instance role); or use --auth jwt|none")
    region = region or region_from_url(url) or session.get_config_variable("region")
    if not region:
        raise CostPlanError("NO_REGION", "no AWS region: pass --region or set AWS_REGION")
    return SigV4(creds, region)


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def bearer_from_env(token: str | None = None) -> Bearer:
    from costplan_client.errors import CostPlanError

    token = token or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CostPlanError("NO_TOKEN", f"--auth jwt needs a token in {TOKEN_ENV}")
    return Bearer(token)
