"""What the command line and the console share, below any front end.

- `session`: the config, the providers, the data directory of one run.
- `hub`: the snapshot loops, one per provider.
- `reads`: every other provider read (details, logs, metrics, revisions, approvals),
  one timeout and one error line; `targets` finds a command's target with it.
- `actions`: every change (policy, claim, audit, provider, audit, notify), and the
  ledger's reads for async callers (`fetch_*`); `dispatch` is the table from a change
  kind to its capability and provider method; `guard` the read-only check;
  `rotation_changes` the schedule's changes on the same road.
- `ledger`: proposals derived from their signed acts at every read and inside the
  execution claim; `audit_watch`: the audit head each user remembers having seen.
- `waiting`: what waits for people (proposals, provider approvals, reviews,
  unfinished actions), for `quorum approvals` and the Approvals pane alike.
- `catch_up`: what a session owes before acting (stranded approvals, the sandbox's
  teammates); `presentation`: how outcomes and proposals read.
"""
