"""The tables, and only the tables: every domain reads and writes through these."""
