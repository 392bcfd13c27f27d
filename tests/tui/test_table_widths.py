"""How a keyed table shares its width: fitted columns as wide as their longest value,
flexible ones never below their least useful width, lower priorities dropped first."""

from __future__ import annotations

from rich.text import Text

from widgets.base.table import Column, KeyedTable

ID = Column("id", "ID", 4)
CHANGE = Column("what", "CHANGE", 32, flex=True)
NEEDS = Column("needs", "NEEDS", 22, flex=True, priority=2)


def _widths(table: KeyedTable, total: int) -> dict[str, int]:
    return {column.key: width for column, width in table.widths(total)}


def test_a_flexible_column_below_its_least_width_is_dropped_not_squeezed() -> None:
    table = KeyedTable([ID, CHANGE, NEEDS])
    assert _widths(table, 56) == {"id": 4, "what": 51}  # 32 + 22 + 6 would not fit
    wide = _widths(table, 96)
    assert set(wide) == {"id", "what", "needs"}
    assert sum(wide.values()) + 2 == 96
    assert wide["what"] >= 32 and wide["needs"] >= 22
    assert wide["what"] > wide["needs"]  # shared in proportion to their least widths


def test_a_fitted_column_is_as_wide_as_its_longest_value_up_to_its_width() -> None:
    who = Column("who", "WHO", 12, fit=True)
    table = KeyedTable([ID, who, CHANGE])
    table.set_rows(
        [("1", (Text("1"), Text("al"), Text("x"))), ("2", (Text("2"), Text("bob"), Text("y")))]
    )
    assert _widths(table, 80)["who"] == len("WHO")
    table.set_rows([("1", (Text("1"), Text("a" * 30), Text("x")))])
    assert _widths(table, 80)["who"] == 12
