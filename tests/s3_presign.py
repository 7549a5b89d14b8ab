"""What S3 checks on a presigned (SigV4 query-string) request, recomputed offline: the expiry, then the signature over
the method, path, query and the signed headers the request really carries (Content-Length is the body's length on
the wire, whatever a client claims).

moto's S3 server stores a presigned PUT whatever its Content-Type or length: it does not verify SigV4 query
signatures (moto 5.1: only SigV2-style ``content-type=`` query parameters are compared). So the upload tests put
each PUT to this check first, as S3 would, and then to moto. The check accepts the genuine request (asserted in the
tests), so it computes the signature as S3 does."""

import datetime as dt
import hmac
from urllib.parse import parse_qs, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNATURE_DOES_NOT_MATCH = "SignatureDoesNotMatch"
EXPIRED = "AccessDenied: Request has expired"
SIGV4_DATE = "%Y%m%dT%H%M%SZ"


def s3_verdict(url: str, method: str, headers: dict[str, str], body: bytes, credentials: Credentials,
               now: dt.datetime) -> str | None:
    """None when S3 would accept the request, else the error S3 answers with."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signed_at = dt.datetime.strptime(query["X-Amz-Date"][0], SIGV4_DATE).replace(tzinfo=dt.UTC)
    expires = int(query["X-Amz-Expires"][0])
    if now > signed_at + dt.timedelta(seconds=expires):
        return EXPIRED
    sent = {k.lower(): v for k, v in headers.items()} | {"host": parts.netloc, "content-length": str(len(body))}
    names = query["X-Amz-SignedHeaders"][0].split(";")
    if any(n not in sent for n in names):
        return SIGNATURE_DOES_NOT_MATCH
    raw = "&".join(p for p in parts.query.split("&") if not p.startswith("X-Amz-Signature="))
    request = AWSRequest(method=method, url=urlunsplit(parts._replace(query=raw)), headers={n: sent[n] for n in names})
    request.context["timestamp"] = query["X-Amz-Date"][0]
    region = query["X-Amz-Credential"][0].split("/")[2]
    auth = S3SigV4QueryAuth(credentials, "s3", region, expires=expires)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return None if hmac.compare_digest(expected, query["X-Amz-Signature"][0]) else SIGNATURE_DOES_NOT_MATCH
