"""The agent console: a browser app served from the package (see routes.py)."""
