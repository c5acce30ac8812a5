"""Hallmark registry: the HTTP service over the ledger."""
