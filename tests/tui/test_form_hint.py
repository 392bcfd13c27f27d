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

    def __init__(self, fields: list[Field]) -> None:
        super().__init__()
        self.fields = fields

    def on_mount(self) -> None:
        self.push_screen(FormScreen("swap", self.fields))


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
