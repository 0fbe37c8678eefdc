"""Custom Rasa channels (WhatsApp Cloud API, Messenger with SHA-256 signatures, Zendesk messaging)."""
