"""File storage adapters (local disk today; object storage can implement the same port)."""
