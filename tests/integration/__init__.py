"""Integration tests: real OpenBao, the fake upstream over real HTTP, a real database."""
