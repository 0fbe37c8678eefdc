"""Keeping one-time codes and card numbers out of storage: redaction, and a tracker store that applies it."""
