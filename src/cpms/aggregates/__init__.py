"""The domain: aggregates, their events and the rules that derive portal facts from them.

Nothing in this package performs IO or knows about HTTP, OCPP-J framing or SQL.
"""
