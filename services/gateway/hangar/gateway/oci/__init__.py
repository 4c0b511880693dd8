"""The OCI distribution API (v1.1) at /v2/, one module per resource of the spec.

`routes` parses paths, `access` authorizes, `base`, `blobs`, `uploads`, `manifests`, `tags` serve, `errors`
maps every failure to an OCI error body once, and `api` ties them into one endpoint.
"""
