"""HTTP API (FastAPI): parse, call a service, render. No business rules here."""
