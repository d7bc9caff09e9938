"""The HTTP API for the billing system (FastAPI routes on the portal's own app)."""
