"""The embedded local Argilla server: process management, credentials and the SQLite search engine."""
