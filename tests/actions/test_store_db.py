"""The assistant database creates the tables of every store module, whenever the module is imported."""

from sqlalchemy import Column, Integer, inspect

from common.state import db


def test_a_table_declared_after_the_engine_was_made_is_created_on_the_next_call():
    db.engine()  # the engine exists before the module that declares the table below

    class LateTable(db.Base):
        __tablename__ = "late_table_for_test"
        id = Column(Integer, primary_key=True)

    try:
        assert "late_table_for_test" in inspect(db.engine()).get_table_names()
    finally:
        db.Base.metadata.remove(LateTable.__table__)
