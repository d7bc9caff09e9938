"""Utility profiles shipped with the portal (TOML files beside this module)."""
