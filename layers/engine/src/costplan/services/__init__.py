"""Use cases: one module per endpoint. Validate, run the core, shape the contract."""
