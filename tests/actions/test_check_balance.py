"""check_balance for the verified line, in the customer's language (who may see it: test_authorisation.py)."""

from actions.identity import sessions
from actions.journeys.check_balance import ActionCheckBalance
from tests.actions.chat import disclosed
from tests.conftest import make_tracker


async def test_balance_for_the_verified_line_in_its_language(operator, dispatcher, domain):
    sessions.verify("test-user", "line:+2290197000001", "otp")
    await ActionCheckBalance().run(dispatcher, make_tracker([], slots={"language": "fr"}), domain)
    text = disclosed(dispatcher)
    assert "Crédit principal : 2\u202f500 FCFA" in text or "Crédit principal : 2 500 FCFA" in text
    assert "Mobile Money" in text and "15" in text
