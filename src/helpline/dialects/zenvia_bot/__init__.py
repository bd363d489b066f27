"""Zenvia External bot: a department's bot gets the conversations that start there, and hands them to humans."""

DIALECT = "zenvia_bot"
