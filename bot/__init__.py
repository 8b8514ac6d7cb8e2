"""OneDrive for Slack: each person's own OneDrive in Slack, through Microsoft Graph."""
