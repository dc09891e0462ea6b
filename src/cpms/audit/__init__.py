"""Auditors' tools: a site's history as of any instant, and the event log's hash chain."""
