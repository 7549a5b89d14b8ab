"""Catalog ranking domain: POST /rank/catalog (managed services ranked for a workload, through the fallback chain).

Public surface: ``rank_catalog``."""

from costplan.services.catalog_rank.rank import rank_catalog

__all__ = ["rank_catalog"]
