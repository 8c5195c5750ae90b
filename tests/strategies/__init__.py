"""Reusable hypothesis strategies, one module per domain package."""
