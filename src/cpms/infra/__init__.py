"""Adapters: settings, the event store, the group-commit writer and event delivery."""
