"""People: tenants with their phones and leases, staff users with their API tokens; the
tenant search and the operations on tenants (who receives SMS: ``set_sms_opt_out``).

May import: the app's shared modules, ``grc.housing`` (a lease is on a dwelling) and the
claims' models (a claim reference is a search key). Every other domain package may import
its models and operations.
"""
