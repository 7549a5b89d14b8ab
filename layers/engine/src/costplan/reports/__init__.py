"""Reports: content from a plan or ranking result, rendered to JSON, CSV, Markdown and HTML.

Pure and deterministic: no I/O, no clock, no network, no LLM. The same content renders to
byte-identical files.
"""
