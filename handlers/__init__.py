"""The partnership's rules, one module per feature. No platform imports here."""
