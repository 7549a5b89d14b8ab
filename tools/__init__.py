"""Developer tooling: local API server, OpenAPI generation, template reading. Never shipped in a layer."""
