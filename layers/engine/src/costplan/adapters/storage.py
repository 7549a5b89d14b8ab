"""Object stores for report files: S3 (server-side encrypted, presigned downloads) or local disk; presigned uploads."""

import datetime as dt
import os
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from costplan.services.uploads import PresignedPut

SIGV4_DATE = "%Y%m%dT%H%M%SZ"


class S3Store:
    def __init__(self, bucket: str, expires_s: int, client_factory: Callable) -> None:
        self.bucket, self.expires_s, self._factory = bucket, expires_s, client_factory

    @cached_property
    def client(self):  # built on first use, never at import time
        return self._factory("s3")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                               ServerSideEncryption="AES256")

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=self.expires_s)


class S3UploadSigner:
    """Presigned PUTs into the report bucket (POST /api/v1/uploads), signed with the function's own role, which may
    put objects under the upload folders only.

    Content-Type and Content-Length are signed headers (SigV4 query auth, ``X-Amz-SignedHeaders``): S3 refuses a PUT
    whose type or length differs from the signed ones (SignatureDoesNotMatch), and that is what caps the size. A
    presigned PUT has no size range of its own (that is a presigned POST policy's ``content-length-range``, a
    multipart form upload); signing the exact length gives the cap with a plain PUT of the file's bytes. If botocore
    ever stopped signing either header, the cap would silently go: that is refused here, loudly."""

    MUST_SIGN = ("content-length", "content-type")

    def __init__(self, bucket: str, client_factory: Callable) -> None:
        self.bucket, self._factory = bucket, client_factory

    @cached_property
    def client(self):  # built on first use, never at import time
        return self._factory("s3")

    def presign_put(self, key: str, content_type: str, size_bytes: int, expires_s: int) -> PresignedPut:
        url = self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type,
                                  "ContentLength": size_bytes}, ExpiresIn=expires_s, HttpMethod="PUT")
        query = parse_qs(urlsplit(url).query)
        signed = query.get("X-Amz-SignedHeaders", [""])[0].split(";")
        missing = [h for h in self.MUST_SIGN if h not in signed]
        if missing or "X-Amz-Date" not in query:
            raise RuntimeError(f"the presigned PUT does not sign {missing or ['its date']}: the upload's type and "
                               "size would not be enforced")
        signed_at = dt.datetime.strptime(query["X-Amz-Date"][0], SIGV4_DATE).replace(tzinfo=dt.UTC)
        return PresignedPut(url=url, headers={"Content-Type": content_type, "Content-Length": str(size_bytes)},
                            signed_at=signed_at)


class LocalDiskStore:
    """Files under a folder (git-ignored); URLs point at the local API, which serves them."""

    def __init__(self, root: Path, url_for: Callable[[str], str]) -> None:
        self.root, self._url_for = root, url_for
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key escapes the store: {key}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def url(self, key: str) -> str:
        return self._url_for(key)
