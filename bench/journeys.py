"""What the simulated customers type (bench/locustfile.py, and the warm-up of bench/run.py)."""

# Fixture customers (shared/spec/sandbox.md) with a wallet, one per language, and what they type.
CUSTOMERS = {
    "fr": {
        "msisdn": "+2290197000001",
        "typed": "97 00 00 01",
        "hello": "bonjour",
        "balance": "quel est mon solde",
        "top_up": "je veux recharger 500",
        "yes": "oui",
        "faq": "ma carte SIM est bloquée, comment obtenir le code PUK",
        "thanks": "merci beaucoup",
    },
    "es": {
        "msisdn": "+50255500002",
        "typed": "5550 0002",
        "hello": "hola",
        "balance": "cuánto saldo tengo",
        "top_up": "quiero recargar 10",
        "yes": "sí",
        "faq": "mi chip está bloqueado, cómo obtengo el código PUK",
        "thanks": "muchas gracias",
    },
    "en": {
        "msisdn": "+2290196000005",
        "typed": "+229 01 96 00 00 05",
        "hello": "hello",
        "balance": "how much credit do I have",
        "top_up": "I want to top up 500",
        "yes": "yes",
        "faq": "my sim is blocked, how do I get the PUK code",
        "thanks": "thanks a lot",
    },
}
WALLET = '/top_up{"payment_method": "wallet"}'  # the button the customer taps
