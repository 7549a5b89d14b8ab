"""CostPlan public API contracts: pydantic models, enums, bounds and the error envelope.

Changes are additive only: CI diffs ``contracts/openapi.json`` and fails on a removed or
renamed field.
"""

CONTRACT_VERSION = "1.0.0"
