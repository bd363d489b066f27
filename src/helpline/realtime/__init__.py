"""Real-time fan-out of committed events to websockets, in sequence order, resumable."""
