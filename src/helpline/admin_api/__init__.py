"""The admin API: what an account's admins manage from the console (departments, agents, tokens, deliveries)."""
