"""veche."""
