"""People: tenants with their phones and leases, and staff users with their API tokens."""
