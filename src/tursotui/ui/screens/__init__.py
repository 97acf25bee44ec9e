"""One module per screen.

Each screen reaches the session's `Workspace` through `tursotui_app(self).workspace`
(`tursotui.ui.typed`), which types the app as `TursotuiApp`.
"""
