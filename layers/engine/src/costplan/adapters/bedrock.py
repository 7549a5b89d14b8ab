"""Amazon Bedrock Converse: the copilot's optional LLM backend (costplan.services.copilot.ToolCaller).

The client is built on first use, never at import time or while SnapStart primes (nothing is captured in the
snapshot); restore() forgets it. Enabled only when COSTPLAN_COPILOT_MODEL_ID names a model (template parameter
CopilotBedrockModelId, empty by default).
"""

import os
from functools import cache

MODEL_ENV = "COSTPLAN_COPILOT_MODEL_ID"
MAX_TOKENS = 1024


@cache
def _client():
    import boto3
    from botocore.config import Config

    return boto3.client("bedrock-runtime", config=Config(retries={"mode": "standard", "max_attempts": 2},
                                                         read_timeout=8, connect_timeout=2))


def reset_client() -> None:
    _client.cache_clear()


class BedrockConverse:
    def __init__(self, model_id: str, client=None) -> None:
        self.model_id, self._given = model_id, client

    def converse(self, system: list[dict], messages: list[dict], tool_config: dict) -> dict:
        client = self._given if self._given is not None else _client()
        return client.converse(modelId=self.model_id, system=system, messages=messages, toolConfig=tool_config,
                               inferenceConfig={"maxTokens": MAX_TOKENS, "temperature": 0.0})


def backend_from_env(env=None) -> BedrockConverse | None:
    model_id = (env if env is not None else os.environ).get(MODEL_ENV, "").strip()
    return BedrockConverse(model_id) if model_id else None
