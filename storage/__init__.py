"""Storage: the SQLite database, its migrations and one repository module per aggregate.

Only this package writes SQL.
"""
