"""Template filters for the weather pages."""
