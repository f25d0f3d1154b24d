"""Administration: users, schools and funds. Administrators take no part in decisions or payments."""
