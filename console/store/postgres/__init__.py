"""The team ledger on PostgreSQL: the store layer's second implementation.

psycopg is imported only inside these modules' functions, so a config without
`[ledger]` never loads it.
"""
