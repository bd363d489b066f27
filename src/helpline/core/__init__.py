"""The vendor-neutral core: one conversation model, one routing policy, one stream of domain events.

Nothing in here imports a web framework, an SQL driver or an HTTP client; it talks to the ports in
:mod:`helpline.core.ports` so that every dialect and every storage backend shares the same rules.
"""
