"""Persistence: the engine, the tables and the queries the app makes."""
