"""Unit tests that need neither a database nor a running server stack."""
