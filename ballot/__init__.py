"""ballot."""
