"""The web portal at `/`: server-rendered pages over the same read models and commands as the
API, signed in with the organization's API key. Only the API's app factory imports it."""

from cpms.portal.routes import mount

__all__ = ["mount"]
