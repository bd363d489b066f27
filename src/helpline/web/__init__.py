"""HTTP plumbing shared by every API surface: bounded body reading, JSON responses."""
