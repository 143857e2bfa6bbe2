"""What the tenancy core keeps in a browser session."""

# The tenant a logged-in user last worked in: pages set it, the session-authenticated API follows it.
SESSION_TENANT_KEY = "active_tenant_id"
