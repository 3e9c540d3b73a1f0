"""Ingest: turning source exports (CSV, NDJSON) into submitted touchpoint records."""
