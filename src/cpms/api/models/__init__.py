"""What the API reads and writes, one typed model per request body, query string and response.

Requests are decoded into these at the door (unknown fields, wrong types and missing fields are
400 there); the OpenAPI document is generated from them. Rules of the domain (lengths, ranges,
patterns) are enforced by the domain (422) and only documented here, with `extra_json_schema`.
"""
