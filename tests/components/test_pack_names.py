"""Two sizes joined by "+" are one pack's name."""

from rasa.shared.nlu.training_data.message import Message

from components.pack_names import PackNameJoiner


def packs(text, *spans):
    entities = [{"entity": kind, "start": a, "end": b, "value": text[a:b]} for kind, a, b in spans]
    message = Message(data={"text": text, "entities": entities})
    PackNameJoiner({}).process([message])
    return [(e["entity"], e["value"]) for e in message.get("entities")]


def test_a_combo_cut_in_two_at_its_plus_is_one_pack():
    text = "quiero el Combo 5 GB + 200 min con mi saldo"
    assert packs(text, ("pack", 10, 20), ("pack", 23, 30), ("payment_method", 38, 43)) == [
        ("pack", "Combo 5 GB + 200 min"),
        ("payment_method", "saldo"),
    ]


def test_two_packs_apart_stay_two_and_other_entities_are_not_joined():
    text = "le pass 1 Go ou le pass nuit"
    assert packs(text, ("pack", 3, 12), ("pack", 19, 28)) == [("pack", "pass 1 Go"), ("pack", "pass nuit")]
    text = "500 + 20"
    assert packs(text, ("amount", 0, 3), ("amount", 6, 8)) == [("amount", "500"), ("amount", "20")]
