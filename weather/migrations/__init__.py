"""Database migrations of the weather app."""
