"""The one reading of an AWS failure the adapters show callers: the error code, never the message."""

from botocore.exceptions import ClientError, EndpointConnectionError

from costplan.adapters.aws_errors import error_code


def test_a_client_error_is_named_by_its_aws_code_and_nothing_else():
    e = ClientError({"Error": {"Code": "AccessDenied", "Message": "arn:aws:iam::123456789012:role/x is not allowed"}},
                    "ListObjectsV2")
    assert error_code(e) == "AccessDenied"


def test_an_error_without_a_response_is_named_by_its_class():
    assert error_code(EndpointConnectionError(endpoint_url="https://s3.example")) == "EndpointConnectionError"
    assert error_code(ClientError({}, "GetObject")) == "ClientError"  # a response without an Error part
