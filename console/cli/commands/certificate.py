"""`quorum certificate ID` prints a proposal's consensus certificate;
`quorum certificate verify FILE` says whether one meets a policy.

Verifying needs the team's allowed-signers list and nothing else (no database, no
agent), so a pipeline or a deploy script on another machine can refuse a
production deploy that no quorum signed: exit 0 when the certificate's signed acts
meet the policy, 1 when they do not, 2 when the file or the options are unusable.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

from console.cli.output import print_json
from console.cli.runner import run_reading
from console.config.load import load_config
from console.config.paths import config_path
from console.config.small_files import Unreadable, read_small_stream, read_small_text
from console.domain import certificate, exitcodes
from console.domain.durations import DurationError, parse_duration
from console.domain.errors import UsageError
from console.domain.inert import neutralise
from console.domain.settings import Config, Policy
from console.domain.signers import parse_allowed_signers
from console.engine.actions import Actions
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "certificate",
        parents=[common],
        help="print a proposal's consensus certificate, or verify one",
        usage="quorum certificate ID [--json]\n       quorum certificate verify FILE [options]",
    )
    parser.add_argument("what", metavar="ID|verify", help="a proposal id, or `verify`")
    parser.add_argument("file", metavar="FILE", nargs="?", help="with verify: the file (- stdin)")
    parser.add_argument(
        "--allowed-signers",
        metavar="PATH",
        help="the team's allowed-signers file (default: [team] allowed_signers of the config)",
    )
    parser.add_argument(
        "--policy",
        metavar="ENV",
        help="the environment whose policy must be met (default: the certificate's); "
        "its rules come from the config when there is one, else Quorum's defaults",
    )
    parser.add_argument("--min-approvals", type=int, metavar="N")
    parser.add_argument("--block-on-rejections", type=int, metavar="N")
    parser.add_argument("--vote-ttl", metavar="DURATION")
    parser.add_argument("--allow-self-approval", action="store_true", default=None)
    parser.add_argument("--service", help="refuse a certificate for another service")
    parser.add_argument("--revision", help="refuse a certificate for another revision")
    parser.add_argument(
        "--no-override", action="store_true", help="refuse a certificate made by an override"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what == "verify":
        if not args.file:
            raise UsageError("quorum certificate verify: name the certificate FILE (- for stdin)")
        return run_verify(args)
    if args.file:
        raise UsageError(f"quorum certificate: unexpected {args.file!r} after the id")
    pid = parse_id(args.what)
    doc = run_reading(args, lambda actions: _certificate(actions, pid))
    print(certificate.dumps(doc), end="")
    return exitcodes.OK


async def _certificate(actions: Actions, pid: int) -> dict[str, object]:
    return await actions.in_worker(lambda: actions.certificate_of(pid))


def _config(args: argparse.Namespace) -> Config | None:
    """The config when one is named or present; verification works without any."""
    path = config_path(args.config)
    if args.config or os.environ.get("QUORUM_CONFIG") or path.exists():
        return load_config(path)
    return None


def _read(name: str) -> object:
    """The certificate's JSON, from a file or stdin (`-`), read to a bound: a path that
    never ends or a document nested thousands deep is one line, not a hang or a trace."""
    import sys

    try:
        text = read_small_stream(sys.stdin.buffer) if name == "-" else read_small_text(Path(name))
    except Unreadable as exc:
        raise UsageError(f"certificate {name}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"certificate {name}: not JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise UsageError(f"certificate {name}: not JSON (nested too deeply)") from None


def _policy(args: argparse.Namespace, config: Config | None, environment: str) -> Policy:
    policy = config.policy(environment) if config else Policy.default_for(environment)
    changes: dict[str, object] = {}
    if args.min_approvals is not None:
        changes["min_approvals"] = args.min_approvals
    if args.block_on_rejections is not None:
        changes["block_on_rejections"] = args.block_on_rejections
    if args.allow_self_approval:
        changes["allow_self_approval"] = True
    if args.vote_ttl is not None:
        try:
            changes["vote_ttl"] = parse_duration(args.vote_ttl)
        except DurationError as exc:
            raise UsageError(f"--vote-ttl: {exc}") from None
    return dataclasses.replace(policy, **changes)


def run_verify(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.allowed_signers:
        try:
            text = read_small_text(Path(args.allowed_signers))
        except Unreadable as exc:
            raise UsageError(f"--allowed-signers {args.allowed_signers}: {exc}") from None
        allowed = parse_allowed_signers(text, args.allowed_signers)
    elif config is not None and config.signers is not None:
        allowed = config.signers
    else:
        raise UsageError(
            "no allowed-signers list: pass --allowed-signers PATH or set "
            "[team] allowed_signers in the config"
        )
    doc = _read(args.file)
    facts = certificate.facts_of(doc)
    environment = args.policy or facts.proposal.act.content.ref.environment
    policy = _policy(args, config, environment)
    members = frozenset(config.members) if config and config.members else None
    check = certificate.verify(
        doc,
        allowed,
        policy,
        members=members,
        allow_override=not args.no_override,
        service=args.service,
        revision=args.revision,
    )
    p = check.derived.proposal
    approvers = sorted(
        s.act.voter
        for s in check.derived.counted
        if getattr(s.act, "approve", False) and s.act.version == p.version
    )
    if args.json:
        print_json(
            {
                "ok": check.ok,
                "proposal": p.id,
                "describe": p.describe(),
                "environment": p.ref.environment,
                "revision": p.revision,
                "policy": policy.environment,
                "approvals": approvers,
                "override": p.override_by or None,
                "reasons": list(check.reasons),
            }
        )
    else:
        how = (
            f"overridden by {p.override_by}"
            if p.overridden
            else ("approved by " + (", ".join(approvers) or "nobody"))
        )
        head = "ok" if check.ok else "failed"
        print(
            neutralise(
                f"{head}: proposal {p.id} ({p.describe()}), {how}; {policy.environment} policy"
            )
        )
        for reason in check.reasons:
            print(neutralise(f"    {reason}"))
    return exitcodes.OK if check.ok else exitcodes.FAILURE
