"""The command line: parses arguments, calls the core, renders results. No SQL here."""
