"""A confirmation's question is read whole at 80x24: it wraps inside the dialog."""

from __future__ import annotations

from textual.app import App

from console.app import QuorumApp
from tests.app_support import screen_lines
from widgets.dialogs.modals import ConfirmScreen

QUESTION = (
    "Roll back api@production from v2.9.0 to v2.8.1? No vote is needed: anyone may roll "
    "back, and the team is notified."
)


async def test_a_long_confirmation_question_wraps_and_is_not_cut_at_80_columns() -> None:
    class Host(App[None]):
        CSS_PATH = QuorumApp.CSS_PATH  # the console's own styles, dialogs included

        def on_mount(self) -> None:
            self.push_screen(ConfirmScreen(QUESTION, expect="api"))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = " ".join(
            line.strip("│ ").strip() for line in screen_lines(app) if line.strip("│ ").strip()
        )
        words = " ".join(text.split())
        assert "anyone may roll back, and the team is notified." in words
        assert "Type api then Enter to confirm" in words
