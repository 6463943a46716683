"""Who may use the manager: users, passwords, sessions, API tokens, TOTP, throttling."""
