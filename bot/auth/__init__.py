"""Microsoft sign-in: the MSAL client, the consent flow and access tokens for a connection."""
