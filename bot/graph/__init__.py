"""Microsoft Graph: the HTTP client, its retry policy and typed drive items."""
