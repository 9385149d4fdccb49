"""Read models: each turns the case state into rows, and answers its queries.

Rows are written in the append's own statement (`caseledger_append`), so a
client that got 201 and reads next sees its event; `rebuild` recomputes them
from the log with the same functions.
"""
