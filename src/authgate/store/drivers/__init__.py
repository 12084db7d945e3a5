"""The database drivers under the one SqlStore (store/driver.py says what one must do)."""
