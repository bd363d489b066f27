"""The native agent API: what the console and agents' own tools use to answer conversations."""
