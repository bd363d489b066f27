"""OpenAPI documents for the native APIs and for every dialect served."""
