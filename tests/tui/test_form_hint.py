"""A form's last line says every key it answers to: Tab and Shift-Tab move between
several fields, and the line is read whole at 80x24."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input

from console.app import QuorumApp
from tests.app_support import screen_lines, settle
from widgets.dialogs.modals import Field, FormScreen


class Host(App[None]):
    CSS_PATH = QuorumApp.CSS_PATH  # the console's own styles, dialogs included

    def __init__(self, fields: list[Field], note: str = "") -> None:
        super().__init__()
        self.fields = fields
        self.note = note

    def on_mount(self) -> None:
        self.push_screen(FormScreen("swap", self.fields, self.note))


def _words(app: App) -> str:
    text = " ".join(line.strip("│ ").strip() for line in screen_lines(app))
    return " ".join(text.split())


def _focused(app: App) -> str:
    focused = app.focused
    return focused.id if isinstance(focused, Input) and focused.id else ""


async def test_a_form_of_several_fields_names_tab_and_shift_tab_and_they_move() -> None:
    app = Host([Field("rotation", "Rotation:"), Field("start", "From:"), Field("end", "To:")])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: _focused(app) == "f-rotation")
        words = _words(app)
        assert "Tab / Shift-Tab: next / previous field" in words
        assert "Enter: next field, on the last one submit · Esc: cancel" in words
        await pilot.press("tab")
        await settle(pilot, lambda: _focused(app) == "f-start")
        await pilot.press("tab")
        await settle(pilot, lambda: _focused(app) == "f-end")
        await pilot.press("shift+tab", "shift+tab")
        await settle(pilot, lambda: _focused(app) == "f-rotation")


async def test_a_form_of_one_field_says_enter_submits() -> None:
    app = Host([Field("comment", "Why (comment):")])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: _focused(app) == "f-comment")
        words = _words(app)
        assert "Enter: submit · Esc: cancel" in words
        assert "Tab" not in words and "next field" not in words


OVERRIDE = [
    Field("rotation", "Rotation:", "on-call"),
    Field("who", "Who holds it:", "dana"),
    Field("starts", "From:", "2026-12-02T08:28Z"),
    Field("ends", "To:", "2026-12-03T08:28Z"),
    Field("reason", "Reason (goes to the audit log):"),
]
NOTE = (
    "A date, or a date and time; without an offset (Z, +01:00) it is read in the "
    "rotation's own time zone."
)


async def test_a_long_form_fits_80x24_whole_with_its_keys_and_its_errors() -> None:
    """The rotation override's five fields: at 80x24 every field, the line an error goes
    to and the keys are on screen (bordered fields would push the last ones off it)."""
    app = Host(OVERRIDE, NOTE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: _focused(app) == "f-rotation")
        for _ in OVERRIDE[1:]:
            await pilot.press("tab")
        await settle(pilot, lambda: _focused(app) == "f-reason")
        await pilot.press("enter")
        words = _words(app)
        assert "Reason (goes to the audit log):" in words
        assert "Reason is required" in words
        assert "Tab / Shift-Tab: next / previous field" in words and "Esc: cancel" in words


async def test_a_long_form_keeps_bordered_fields_where_they_fit() -> None:
    app = Host(OVERRIDE, NOTE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: _focused(app) == "f-rotation")
        assert not any(field.compact for field in app.screen.query(Input))
        assert "Tab / Shift-Tab" in _words(app)
