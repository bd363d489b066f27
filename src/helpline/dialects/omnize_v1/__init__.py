"""Omnize ClientApi V1 (later Zenvia Chat): a customer app starts interactions and gets triggers by webhook."""

DIALECT = "omnize_v1"
