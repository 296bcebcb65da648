"""Claims: the catalogue, SLA policies, treatment units, routing, the claim and its timeline."""
