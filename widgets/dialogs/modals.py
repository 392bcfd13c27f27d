"""Small modal dialogs: a form of text fields, a pick list, a typed confirmation.

Each dismisses with its answer, or None when cancelled with Esc, so the caller's
code reads as one question and one answer. They behave alike: a problem with the
input is said inside the dialog, which stays open with what was typed, and each
says how to submit and how to cancel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from console.domain.inert import neutralise


@dataclass(frozen=True)
class Field:
    """One text field of a form; `check` returns an error message or None."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = True
    check: Callable[[str], str | None] | None = None


# Asked once every field passed its own check: a problem only the backend or the
# engine can see (a revision the provider refuses, a swap the schedule refuses), or None.
Validate = Callable[[dict[str, str]], Awaitable[str | None]]
FORM_HINT = "Enter: submit · Esc: cancel"
# A form of several fields also answers to Tab and Shift-Tab (the screen's focus keys).
FIELDS_HINT = (
    "Tab / Shift-Tab: next / previous field · Enter: next field, on the last one submit "
    "· Esc: cancel"
)
PICK_HINT = "↑↓: choose · Enter: pick · Esc: cancel"


class FormScreen(ModalScreen[dict[str, str] | None]):
    """A titled form; Enter on the last field submits, Esc cancels.

    With `validate`, the answer is checked before the form closes: a problem shows
    under the fields and the input stays, as a field's own check does.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        note: str = "",
        validate: Validate | None = None,
    ) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.note = note
        self.validate = validate
        self.checking = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = Text(neutralise(self.form_title))
            if self.note:
                yield Label(Text(neutralise(self.note)), classes="dialog-note")
            compact = self._compact(self.app.size.height)
            for field in self.fields:
                yield Label(field.label)
                yield Input(
                    value=field.value,
                    placeholder=field.placeholder,
                    id=f"f-{field.name}",
                    compact=compact,
                )
            yield Label("", id="form-error", classes="dialog-error")
            yield Label(FIELDS_HINT if len(self.fields) > 1 else FORM_HINT, classes="dialog-hint")

    def _compact(self, height: int) -> bool:
        """Whether the fields go without their borders: where bordered ones (three
        lines each) would push the last fields, the error line and the keys below a
        short terminal's edge (the rotation override's five fields at 80x24)."""
        bordered = 4 * len(self.fields) + 8  # with the note, error, keys and frame
        return bordered > height * 9 // 10  # the dialog's max-height

    def on_resize(self) -> None:
        compact = self._compact(self.app.size.height)
        for field in self.query(Input):
            field.compact = compact

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index < len(inputs) - 1:
            inputs[index + 1].focus()
            return
        self.submit()

    def submit(self) -> None:
        values = {f.name: self.query_one(f"#f-{f.name}", Input).value.strip() for f in self.fields}
        for field in self.fields:
            value = values[field.name]
            problem = None
            if field.required and not value:
                # The label may already say why ("Reason (required, ...):"): name it only.
                problem = f"{field.label.split('(')[0].strip().rstrip(':')} is required"
            elif field.check is not None:
                problem = field.check(value)
            if problem:
                self.show_error(problem)
                self.query_one(f"#f-{field.name}", Input).focus()
                return
        if self.validate is None:
            self.dismiss(values)
        elif not self.checking:
            self.checking = True
            self.show_error("checking…")
            self.run_worker(self._validated(values), group="form-check", exit_on_error=False)

    async def _validated(self, values: dict[str, str]) -> None:
        assert self.validate is not None
        try:
            problem = await self.validate(values)
        finally:
            self.checking = False
        if problem:
            self.show_error(problem)
        else:
            self.dismiss(values)

    def show_error(self, problem: str) -> None:
        """Says what is wrong under the fields; what was typed stays."""
        self.query_one("#form-error", Label).update(Text(neutralise(problem)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen[str | None]):
    """Choose one of several options by id; Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        note: str = "",
        hint: str = PICK_HINT,
    ) -> None:
        super().__init__()
        self.pick_title = title
        self.options = list(options)
        self.note = note
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = Text(neutralise(self.pick_title))
            if self.note:
                yield Label(Text(neutralise(self.note)), classes="dialog-note")
            yield OptionList(
                *(Option(Text(neutralise(label)), id=key) for key, label in self.options)
            )
            yield Label(self.hint, classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no, or for destructive acts on production: type `expect` to go ahead."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "confirm", "Yes", show=False),
        Binding("n", "deny", "No", show=False),
    ]

    def __init__(self, question: str, expect: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.expect = expect

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = Text("confirm")
            # Wrapped, never cut: the question names what changes, from what, to what.
            yield Label(Text(neutralise(self.question)), classes="dialog-question")
            if self.expect:
                name = neutralise(self.expect)
                yield Label(Text(f"Type {name} then Enter to confirm · Esc: cancel"))
                yield Input(placeholder=neutralise(self.expect), id="confirm-input")
            else:
                yield Label(Text("y: confirm · n or Esc: cancel"))
            yield Label("", id="form-error", classes="dialog-error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With a typed confirmation, y and n are letters of the name, not answers.
        return not (self.expect and action in ("confirm", "deny"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == self.expect:
            self.dismiss(True)
        else:
            self.query_one("#form-error", Label).update(
                Text(f"that is not {neutralise(self.expect or '')}; Esc to cancel")
            )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_deny(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
