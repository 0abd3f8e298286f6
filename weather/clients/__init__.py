"""Clients for the services the app depends on."""
