"""The action server (rasa-sdk): `rasa run actions` imports every module of this package itself."""
