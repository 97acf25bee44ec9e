"""One operator's session: settings, the registry, tokens, the workspace and the audit log."""
