"""The relational store: models, engine and sessions, queries, migrations, seed data."""
