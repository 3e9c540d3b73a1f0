"""Services: the CLI, ingest connectors and the HTTP API around the event log."""
