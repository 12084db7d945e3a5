"""Differential tests: the same requests to the real Djoser stack and to authgate."""
