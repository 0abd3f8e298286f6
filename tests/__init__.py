"""Test suite for the weather project."""
