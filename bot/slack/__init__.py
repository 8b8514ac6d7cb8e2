"""Slack glue: the Bolt app, command parsing, listeners and Block Kit builders."""
