"""The way to a person."""
from actions import config
from actions.conversation import ActionHumanContact
from tests.conftest import make_tracker


async def test_human_contact_gives_the_configured_number_in_the_customer_language(dispatcher, domain, monkeypatch):
    monkeypatch.setattr(config, "CARE_PHONE", "+229 21 00 00 00")
    await ActionHumanContact().run(dispatcher, make_tracker([], slots={"language": "es"}), domain)
    assert dispatcher.messages[0]["text"].startswith("Nuestros asesores le atienden al +229 21 00 00 00")
