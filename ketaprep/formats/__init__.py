"""One module per output format; each has `write(sheets, options) -> bytes`."""
