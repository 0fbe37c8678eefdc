"""What every layer of the project shares (channel connectors, action server, sandbox, scripts) and
that imports nothing of theirs: the clock."""
