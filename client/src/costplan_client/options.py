"""The CLI's and the client's small choices, importable without httpx or the contract models."""

from enum import StrEnum


class Auth(StrEnum):
    IAM = "iam"  # SigV4 from the standard AWS credential chain (AuthMode=IAM, the template's default)
    JWT = "jwt"  # Authorization: Bearer $COSTPLAN_TOKEN (AuthMode=JWT)
    NONE = "none"  # make run (loopback, no authorizer)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
