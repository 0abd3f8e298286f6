"""Real servers the tests and the dev stack start on loopback."""
