"""What the team's votes prove, said in words: signed with the members' keys or not.

Kept apart from the ledger so the console's status line can say it without loading
the consensus rules before its first frame.
"""

from __future__ import annotations

from console.domain.settings import Config


def signing_status(config: Config) -> str:
    """What the team's votes prove, in one line, for `config check` and the console."""
    if config.signers is None:
        # On PostgreSQL the members cannot forge (the server names each author); what
        # keys would add is proof against whoever runs the server.
        exposed = (
            "the server names each act's author, but whoever administers the database "
            "server can add votes or change a proposal's state"
            if config.ledger is not None
            else "anyone who can write the shared file can add votes or change a proposal's state"
        )
        return (
            f"votes are unsigned: [team] allowed_signers is not set, so {exposed}; set it "
            "to sign every act with the members' SSH keys"
        )
    keyless = sorted(m for m in config.members if not config.signers.keys_for(m))
    line = f"votes are signed: {len(config.signers.entries)} keys in {config.signers.source}"
    if keyless:
        line += f"; no key for {', '.join(keyless)}: their acts will not count"
    return line


def signing_badge(config: Config) -> str:
    """The few words the console's status line keeps in sight (it is cut at 80 columns
    before anything else on it); `quorum config check` says what they mean."""
    if config.signers is None:
        return "votes unsigned"
    keyless = sum(1 for m in config.members if not config.signers.keys_for(m))
    if keyless:
        return f"votes signed, {keyless} member{'s' if keyless != 1 else ''} keyless"
    return "votes signed"
