"""OpenWeather-shaped response bodies for tests that stub HTTP at the transport."""

from __future__ import annotations

CURRENT = {
    "coord": {"lon": -0.1276, "lat": 51.5073},
    "weather": [{"id": 803, "main": "Clouds", "description": "broken clouds", "icon": "04d"}],
    "main": {
        "temp": 11.3,
        "feels_like": 10.4,
        "temp_min": 10.1,
        "temp_max": 12.2,
        "pressure": 1014,
        "humidity": 78,
    },
    "wind": {"speed": 4.6, "deg": 240},
    "dt": 1764140000,
    "sys": {"country": "GB", "sunrise": 1764142000, "sunset": 1764172000},
    "timezone": 0,
    "name": "London",
    "cod": 200,
}

FORECAST = {
    "cod": "200",
    "message": 0,
    "cnt": 40,
    "list": [
        {
            "dt": 1764147600 + 10800 * i,
            "main": {
                "temp": 9.0 + i % 5,
                "feels_like": 8.0,
                "temp_min": 8.5 + i % 5,
                "temp_max": 10.0 + i % 5,
                "pressure": 1012,
                "humidity": 80,
            },
            "weather": [{"id": 500, "main": "Rain", "description": "light rain", "icon": "10d"}],
            "wind": {"speed": 3.1},
            "pop": 0.4,
            "rain": {"3h": 0.7},
        }
        for i in range(40)
    ],
    "city": {"name": "London", "country": "GB", "timezone": 0},
}

GEO_LONDON = [
    {
        "name": "London",
        "lat": 51.5073219,
        "lon": -0.1276474,
        "country": "GB",
        "state": "England",
        "local_names": {"en": "London", "fr": "Londres"},
    },
    {"name": "London", "lat": 42.9836747, "lon": -81.2496068, "country": "CA", "state": "Ontario"},
    {"name": "London", "lat": 37.1289771, "lon": -84.0832646, "country": "US", "state": "Kentucky"},
]
