"""Catalog data: compact artifacts generated at build time, loaded once per process."""
