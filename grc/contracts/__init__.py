"""Contractors, the contracts that cover residences × categories (with deadlines per
priority), work orders and their lifecycle, and the e-mail that comes back."""
