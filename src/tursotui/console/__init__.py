"""SQL as the console and `tursotui sql` see it: running, history, export, schema.

The tokenizer and classifier they rest on are `tursotui.sqltext`, a leaf module the connection
layer uses too. Nothing here imports textual.
"""
