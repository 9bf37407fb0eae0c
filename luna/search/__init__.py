"""Finding files in the library: `luna find`'s filters, places and distances."""
