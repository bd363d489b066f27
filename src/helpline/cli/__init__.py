"""The operator's command line: ``helpline serve``, ``migrate`` and the set-up commands."""
