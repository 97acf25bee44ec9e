"""How values read, in the terminal and on the command line: literal text, times, statuses."""
