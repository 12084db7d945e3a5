"""DRF's wire behaviour, shared by the DRF-speaking dialects: content negotiation and
rendering (negotiation.py), the table and body shape of errors (errors.py), and the order a
view runs in (views.py)."""
