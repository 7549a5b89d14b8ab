"""What the boto3 adapters may say about an AWS failure."""


def error_code(e: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``AccessDenied``, ``NoSuchBucket``...), else the exception's
    class name (a ``BotoCoreError`` has no response). Safe to show a caller: never the message, which can carry ARNs."""
    return getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__)
