"""Management commands of the weather app."""
