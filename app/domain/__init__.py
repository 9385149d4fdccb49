"""The functional core: pure rules with no I/O, no clock and no database."""
