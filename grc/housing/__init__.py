"""Housing stock: territories, agencies, residences, buildings, dwellings and equipment."""
