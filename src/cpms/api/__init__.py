"""The HTTP read/write API: a Starlette app factory, thin endpoints, one error table."""
