"""The console's controllers: everything the Textual app does that is not a widget.

- `feeds`: hub → Services, the selected target's logs and metrics, the side panes.
- `flows`: the consensus dialogs, one worker each; `rotation_forms`: the schedule's.
- `commands`: the `:` table (names and aliases, read from the panes); `prompt` runs it.
- `keys`: the read-only guard; `help`: the `?` screen from the live bindings.
- `views`: domain values → the widgets' view objects; `messages`: what the app posts.
- `host`: what these need of the app (a protocol: the app sits above this layer).
"""
