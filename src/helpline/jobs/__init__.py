"""Background work inside the server process: timers of the routing policy, external history loading."""
