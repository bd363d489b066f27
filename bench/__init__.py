"""End-to-end benchmark of Helpline against a floor measured in the same run: ``python -m bench``."""
