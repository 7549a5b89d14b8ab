"""Edges: HTTP app factory, observability, storage. Never imported by ``costplan.core``."""
