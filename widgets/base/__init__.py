"""The pieces panes and dialogs are built from.

The pane frame, the keyed table, the log view, the chrome, and shared formatting.
"""
