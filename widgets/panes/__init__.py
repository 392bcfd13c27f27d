"""The panes of the main screen: each renders view objects and posts typed requests."""
