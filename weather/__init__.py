"""The weather app: city search, cached lookups, the OpenWeather client and the key from Vault."""
