"""Contractors and the contracts that cover residences × categories."""
