"""Commands: purge_weather."""
