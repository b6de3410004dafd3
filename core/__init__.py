"""The neutral types every layer shares: requests and replies, settings, forms, the caller and roles.

Imports nothing of the project's own: bot/, jobs/, handlers/, calendars/ and storage/ build on it.
"""
