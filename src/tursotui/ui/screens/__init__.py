"""One module per screen.

Each screen reaches the session's `Workspace` through `self.app.workspace`.
"""
