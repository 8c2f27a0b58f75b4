"""Framework-free helpers: no Django imports, no database."""
