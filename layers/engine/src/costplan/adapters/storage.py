"""Object stores for report files: S3 (server-side encrypted, presigned downloads) or local disk."""

import os
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path


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
