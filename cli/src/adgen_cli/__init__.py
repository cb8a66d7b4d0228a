"""The adgen command line: the embedded stack and the user commands."""
