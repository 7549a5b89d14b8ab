"""POST /api/v1/uploads' response, snapshotted: a fixed request, signing clock, credentials and upload id give one
byte-identical answer (the real S3 presigner, offline). A change here is a contract change (review, then
UPDATE_SNAPSHOTS=1)."""

import datetime as dt

import boto3
import botocore.auth
from botocore.config import Config
from test_contracts import check_snapshot

from costplan.adapters.storage import S3UploadSigner
from costplan.services.uploads import create_upload
from costplan_contracts.uploads import UploadRequest

REQUEST = {"purpose": "invoice", "content_type": "application/vnd.apache.parquet",
           "filename": "focus-00001.snappy.parquet", "size_bytes": 52_428_800}
SIGNED_AT = dt.datetime(2026, 11, 28, 12, 0, 0)  # botocore's signing clock is naive UTC
UPLOAD_ID = "0123456789abcdef0123456789abcdef"


def test_uploads_response_matches_its_snapshot(monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: SIGNED_AT)
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", region_name="us-east-1",
                                    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    def client(name):
        return session.client(name, config=Config(signature_version="s3v4"))

    signer = S3UploadSigner("costplan-reports-123456789012-us-east-1", client)
    got = create_upload(UploadRequest.model_validate(REQUEST), signer, new_id=lambda: UPLOAD_ID)
    check_snapshot("uploads", REQUEST, got.model_dump(mode="json"))
