"""The ledger's schema on PostgreSQL, and the server-side rules that make it trustworthy.

On a shared server the client cannot be trusted: a member may run psql, or a
modified Quorum. So members get SELECT on the tables and EXECUTE on a few
SECURITY DEFINER functions, nothing else. The functions take the actor from
`session_user` (never from an argument), refuse anyone outside the team's group
role, compute each audit record's chain hash on the server (the same SHA-256 over
the same JSON text as the SQLite log, so `audit verify` and `export` work on
either), serialise appends on a row lock of the chain head, and refuse to claim
the execution of a proposal that the consensus rule, written again in SQL here,
does not find approved.

Tables come in numbered migrations (`MIGRATIONS`), applied once each and recorded
in `quorum.schema_version`; the functions and privileges (`FUNCTIONS`,
`privileges`) are replaced on every `quorum ledger init`, so an upgrade of a rule
needs no migration.

The SQL rule differs from `console.domain.consensus` in two documented ways: it
does not check SSH signatures (the server cannot; the authenticated role proves the
author instead, and clients still verify signatures), and it does not know the
rotation schedule, so `require_rotation_approval` is checked by clients only.

Migration 2 adds the rotation's overrides, swaps and handoff notices, and the votes
on providers' own approvals (gates) with the answer one voter claims to send. The
server writes each with its author from `session_user` and keeps them: an override
is cancelled and a swap taken or withdrawn by setting its columns once, never by
rewriting or deleting the row, and a gate vote is a new row (a voter's latest counts).
Which gate votes count is still the client's check (signatures, members, the policy),
as for the SQLite file.
"""

from __future__ import annotations

GENESIS = "0" * 64
SCHEMA_VERSION = 2

_V1 = f"""
CREATE TABLE quorum.settings (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE quorum.policies (
    environment text PRIMARY KEY,
    min_approvals integer NOT NULL,
    allow_self_approval boolean NOT NULL,
    block_on_rejections integer NOT NULL,
    vote_ttl interval NOT NULL,
    dismiss_stale_votes boolean NOT NULL
);
CREATE TABLE quorum.proposals (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    provider text NOT NULL,
    service text NOT NULL,
    environment text NOT NULL,
    target text NOT NULL,
    revision text NOT NULL,
    replicas integer,
    proposer text NOT NULL,
    reason text NOT NULL,
    created_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'open'
);
CREATE INDEX proposals_state ON quorum.proposals (state);
CREATE TABLE quorum.proposal_acts (
    seq bigserial PRIMARY KEY,
    proposal_id bigint NOT NULL REFERENCES quorum.proposals (id),
    kind text NOT NULL CHECK (kind IN
        ('proposal', 'amend', 'vote', 'override', 'withdraw', 'review')),
    author text NOT NULL,
    at timestamptz NOT NULL,
    body text NOT NULL,
    signature text NOT NULL DEFAULT ''
);
CREATE INDEX proposal_acts_proposal ON quorum.proposal_acts (proposal_id);
CREATE TABLE quorum.action_claims (
    key text PRIMARY KEY,
    action text NOT NULL,
    who text NOT NULL,
    provider text NOT NULL,
    service text NOT NULL,
    environment text NOT NULL,
    target text NOT NULL,
    revision text NOT NULL,
    proposal_id bigint REFERENCES quorum.proposals (id),
    started_at timestamptz NOT NULL,
    outcome text NOT NULL DEFAULT '',
    finished_at timestamptz,
    detail text NOT NULL DEFAULT '',
    owner_host text NOT NULL DEFAULT '',
    owner_pid integer,
    owner_start text NOT NULL DEFAULT ''
);
CREATE INDEX action_claims_outcome ON quorum.action_claims (outcome);
CREATE TABLE quorum.audit_log (
    seq bigint PRIMARY KEY,
    ts text NOT NULL,
    who text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    environment text NOT NULL DEFAULT '',
    revision text NOT NULL DEFAULT '',
    outcome text NOT NULL DEFAULT '',
    comment text NOT NULL DEFAULT '',
    key text NOT NULL DEFAULT '',
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE TABLE quorum.audit_head (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO quorum.audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}');
CREATE TABLE quorum.audit_signatures (
    seq bigint PRIMARY KEY REFERENCES quorum.audit_log (seq),
    signature text NOT NULL
);

-- Append-only, even for the owner (who can drop these: `audit verify` still finds it).
CREATE FUNCTION quorum.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON quorum.audit_log
    FOR EACH ROW EXECUTE FUNCTION quorum.refuse_change();
CREATE TRIGGER audit_signatures_append_only BEFORE UPDATE OR DELETE ON quorum.audit_signatures
    FOR EACH ROW EXECUTE FUNCTION quorum.refuse_change();
CREATE TRIGGER proposal_acts_append_only BEFORE UPDATE OR DELETE ON quorum.proposal_acts
    FOR EACH ROW EXECUTE FUNCTION quorum.refuse_change();
CREATE TRIGGER audit_head_kept BEFORE DELETE ON quorum.audit_head
    FOR EACH ROW EXECUTE FUNCTION quorum.refuse_change();
"""

_V2 = """
CREATE TABLE quorum.rotation_overrides (
    id text PRIMARY KEY,
    rotation text NOT NULL,
    who text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    cancelled_at timestamptz,
    cancelled_by text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX rotation_overrides_span ON quorum.rotation_overrides (rotation, ends_at, starts_at);
CREATE TABLE quorum.rotation_swaps (
    id text PRIMARY KEY,
    rotation text NOT NULL,
    requested_by text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text NOT NULL,
    requested_at timestamptz NOT NULL,
    taken_by text,
    taken_at timestamptz,
    withdrawn_at timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX rotation_swaps_span ON quorum.rotation_swaps (rotation, ends_at, starts_at);
CREATE TABLE quorum.rotation_notices (
    rotation text NOT NULL,
    handoff_at timestamptz NOT NULL,
    holder text NOT NULL,
    sent_at timestamptz NOT NULL,
    sent_by text NOT NULL,
    PRIMARY KEY (rotation, handoff_at, holder)
);
CREATE TABLE quorum.gate_votes (
    seq bigserial PRIMARY KEY,
    gate text NOT NULL,
    voter text NOT NULL,
    approve boolean NOT NULL,
    at timestamptz NOT NULL,
    comment text NOT NULL DEFAULT '',
    signature text NOT NULL DEFAULT ''
);
CREATE INDEX gate_votes_gate ON quorum.gate_votes (gate, seq);
CREATE TABLE quorum.gate_answers (
    gate text PRIMARY KEY,
    decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    state text NOT NULL CHECK (state IN ('sending', 'sent')),
    claimed_by text NOT NULL,
    at timestamptz NOT NULL,
    detail text NOT NULL DEFAULT ''
);

-- A schedule change is settled by setting its columns once; none is ever removed.
CREATE FUNCTION quorum.settle_once() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := to_jsonb(OLD);
    after jsonb := to_jsonb(NEW);
    k text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% keeps every change: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR k IN SELECT jsonb_object_keys(before) LOOP
        IF before->k <> 'null'::jsonb AND before->k IS DISTINCT FROM after->k THEN
            RAISE EXCEPTION '%: % is set once, never rewritten', TG_TABLE_NAME, k
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    RETURN NEW;
END $$;
CREATE TRIGGER rotation_overrides_settled BEFORE UPDATE OR DELETE ON quorum.rotation_overrides
    FOR EACH ROW EXECUTE FUNCTION quorum.settle_once();
CREATE TRIGGER rotation_swaps_settled BEFORE UPDATE OR DELETE ON quorum.rotation_swaps
    FOR EACH ROW EXECUTE FUNCTION quorum.settle_once();
CREATE TRIGGER gate_votes_append_only BEFORE UPDATE OR DELETE ON quorum.gate_votes
    FOR EACH ROW EXECUTE FUNCTION quorum.refuse_change();
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2))

# Replaced on every init (`FUNCTIONS`). PL/pgSQL throughout, never LANGUAGE sql for anything but a
# one-expression helper: PostgreSQL plans a SQL function's body again on every call
# (bench/bench_ledger_pg.py), PL/pgSQL keeps its plans. `$$`-quoted bodies; every
# SECURITY DEFINER function pins its search_path, so a member cannot shadow a table or
# operator with one of their own.
_DEFINER = "SECURITY DEFINER SET search_path = quorum, pg_catalog, pg_temp"

CORE_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION quorum.is_member(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE {_DEFINER} AS $$
BEGIN
    -- A role dropped since it acted is no member (pg_has_role raises on unknown names).
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(role_name,
        (SELECT value FROM quorum.settings WHERE key = 'member_role'), 'MEMBER');
END $$;

-- The acting member: the role the server authenticated, never an argument.
CREATE OR REPLACE FUNCTION quorum.actor() RETURNS text
LANGUAGE plpgsql STABLE {_DEFINER} AS $$
BEGIN
    IF NOT quorum.is_member(session_user) THEN
        RAISE EXCEPTION 'quorum: % is not a member of the team (role %)', session_user,
            (SELECT value FROM quorum.settings WHERE key = 'member_role')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN session_user;
END $$;

-- An act dated more than CLOCK_SKEW away from the server's clock is refused.
CREATE OR REPLACE FUNCTION quorum.check_time(at timestamptz) RETURNS void
LANGUAGE plpgsql STABLE {_DEFINER} AS $$
BEGIN
    IF at IS NULL OR abs(extract(epoch FROM at - clock_timestamp())) > 300 THEN
        RAISE EXCEPTION 'quorum: an act dated % is more than 5 minutes from the server''s clock',
            at USING ERRCODE = 'check_violation';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION quorum.policy_for(env text) RETURNS quorum.policies
LANGUAGE plpgsql STABLE {_DEFINER} AS $$
DECLARE
    chosen quorum.policies;
BEGIN
    SELECT * INTO chosen FROM quorum.policies p WHERE p.environment = env;
    IF NOT FOUND THEN
        chosen := ROW(env, CASE WHEN env = 'production' THEN 2 ELSE 0 END, false, 2,
            interval '24 hours', true)::quorum.policies;
    END IF;
    RETURN chosen;
END $$;

-- consensus.evaluate: the state votes decide at `at` (a final state never moves here).
CREATE OR REPLACE FUNCTION quorum.evaluate(
    state text, votes jsonb, revision text, version integer, proposer text,
    updated timestamptz, at timestamptz, pol quorum.policies
) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v record;
    approvals integer := 0;
    rejections integer := 0;
BEGIN
    IF state NOT IN ('open', 'blocked') THEN
        RETURN state;
    END IF;
    IF at - updated > pol.vote_ttl THEN
        RETURN 'expired';
    END IF;
    FOR v IN SELECT key AS voter, value AS ballot FROM jsonb_each(votes) LOOP
        CONTINUE WHEN at - (v.ballot->>'at')::timestamptz > pol.vote_ttl;
        CONTINUE WHEN pol.dismiss_stale_votes AND ((v.ballot->>'revision') <> revision
            OR (v.ballot->>'version')::integer <> version);
        CONTINUE WHEN (v.ballot->>'approve')::boolean AND v.voter = proposer
            AND NOT pol.allow_self_approval;
        IF (v.ballot->>'approve')::boolean THEN
            approvals := approvals + 1;
        ELSE
            rejections := rejections + 1;
        END IF;
    END LOOP;
    IF rejections >= pol.block_on_rejections THEN
        RETURN 'blocked';
    ELSIF approvals >= pol.min_approvals THEN
        RETURN 'approved';
    END IF;
    RETURN 'open';
END $$;

-- console.domain.derive without signatures: the proposal's state at `now_` and the
-- revision it then asks for, replayed from the acts of current members only.
CREATE OR REPLACE FUNCTION quorum.derived(
    pid bigint, now_ timestamptz, OUT state text, OUT revision text
) LANGUAGE plpgsql STABLE {_DEFINER} AS $$
DECLARE
    p quorum.proposals;
    base quorum.proposal_acts;
    a record;
    b jsonb;
    pol quorum.policies;
    cur text;
    version integer := 1;
    revs text[];
    updated timestamptz;
    votes jsonb := '{{}}'::jsonb;
    v integer;
    finished text;
BEGIN
    SELECT * INTO p FROM quorum.proposals WHERE id = pid;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    state := 'open';
    revision := p.revision;
    SELECT * INTO base FROM quorum.proposal_acts
        WHERE proposal_id = pid AND kind = 'proposal' ORDER BY seq LIMIT 1;
    IF NOT FOUND OR base.author <> p.proposer OR NOT quorum.is_member(base.author) THEN
        state := 'invalid';
        RETURN;
    END IF;
    pol := quorum.policy_for(p.environment);
    revs := ARRAY[revision];
    updated := base.at;
    state := quorum.evaluate(state, votes, revision, version, p.proposer, updated, base.at, pol);
    FOR a IN SELECT * FROM quorum.proposal_acts WHERE proposal_id = pid AND kind <> 'proposal'
        ORDER BY at, array_position(
            ARRAY['amend', 'vote', 'withdraw', 'override', 'review'], kind), seq
    LOOP
        CONTINUE WHEN a.at > now_ + interval '5 minutes';
        CONTINUE WHEN NOT quorum.is_member(a.author);
        CONTINUE WHEN a.kind = 'review';  -- a review settles the override, not the state
        b := a.body::jsonb;
        v := (b->>'version')::integer;
        CONTINUE WHEN v IS NULL;
        cur := quorum.evaluate(state, votes, revision, version, p.proposer, updated, a.at, pol);
        CONTINUE WHEN cur NOT IN ('open', 'blocked');
        IF a.kind = 'amend' THEN
            CONTINUE WHEN v <> version + 1 OR a.author <> p.proposer
                OR coalesce(b->>'revision', '') = '' OR length(b->>'revision') > 256
                OR (b->>'revision') ~ '[\\x01-\\x1f\\x7f-\\x9f]';
            version := v;
            revision := b->>'revision';
            revs := revs || revision;
            updated := a.at;
            state := quorum.evaluate(cur, votes, revision, version, p.proposer, updated, a.at, pol);
        ELSIF a.kind = 'vote' THEN
            CONTINUE WHEN v < 1 OR v > version OR b->'approve' IS NULL;
            CONTINUE WHEN (b->>'approve')::boolean AND a.author = p.proposer
                AND NOT pol.allow_self_approval;
            votes := votes || jsonb_build_object(a.author, jsonb_build_object(
                'approve', (b->>'approve')::boolean, 'at', a.at, 'version', v,
                'revision', revs[v]));
            updated := a.at;
            state := quorum.evaluate(cur, votes, revision, version, p.proposer, updated, a.at, pol);
        ELSIF a.kind = 'override' THEN
            CONTINUE WHEN v <> version OR btrim(coalesce(b->>'reason', '')) = '';
            state := 'approved';
            updated := a.at;
        ELSIF a.kind = 'withdraw' THEN
            CONTINUE WHEN v <> version OR a.author <> p.proposer;
            state := 'withdrawn';
            updated := a.at;
        END IF;
    END LOOP;
    state := quorum.evaluate(state, votes, revision, version, p.proposer, updated, now_, pol);
    IF state = 'approved' THEN
        SELECT outcome INTO finished FROM quorum.action_claims WHERE key = 'proposal-' || pid;
        IF finished = 'finished' THEN
            state := 'executed';
        ELSIF finished = 'failed' THEN
            state := 'failed';
        END IF;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION quorum.proposal_state(pid bigint, now_ timestamptz DEFAULT now())
RETURNS text LANGUAGE plpgsql STABLE {_DEFINER} AS $$
BEGIN
    RETURN (quorum.derived(pid, now_)).state;
END $$;

-- The listing's state counted again now (a proposal expires without any act).
CREATE OR REPLACE FUNCTION quorum.refresh_state(pid bigint) RETURNS void
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
BEGIN
    PERFORM quorum.actor();
    UPDATE quorum.proposals SET state = quorum.proposal_state(pid) WHERE id = pid;
END $$;

-- A new proposal's id, taken before its act is signed (the act covers the id).
CREATE OR REPLACE FUNCTION quorum.next_proposal_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
BEGIN
    PERFORM quorum.actor();
    RETURN nextval('quorum.proposals_id_seq');
END $$;

CREATE OR REPLACE FUNCTION quorum.propose(
    pid bigint, kind text, provider text, service text, environment text, target text,
    revision text, replicas integer, reason text, at timestamptz, body text, signature text
) RETURNS bigint LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    who text := quorum.actor();
BEGIN
    PERFORM quorum.check_time(at);
    IF pid IS DISTINCT FROM currval('quorum.proposals_id_seq') THEN
        RAISE EXCEPTION 'quorum: proposal id % was not taken by this session', pid
            USING ERRCODE = 'check_violation';
    END IF;
    IF kind NOT IN ('deploy', 'rollback', 'restart', 'scale', 'pause', 'resume') THEN
        RAISE EXCEPTION 'quorum: unknown change kind %', kind USING ERRCODE = 'check_violation';
    END IF;
    PERFORM body::jsonb;
    INSERT INTO quorum.proposals (id, kind, provider, service, environment, target,
        revision, replicas, proposer, reason, created_at)
    VALUES (pid, kind, provider, service, environment, target, revision, replicas, who,
        reason, at);
    INSERT INTO quorum.proposal_acts (proposal_id, kind, author, at, body, signature)
    VALUES (pid, 'proposal', who, at, body, coalesce(signature, ''));
    UPDATE quorum.proposals SET state = quorum.proposal_state(pid) WHERE id = pid;
    PERFORM pg_notify('quorum_ledger', 'proposal ' || pid);
    RETURN pid;
END $$;

-- Any later act on a proposal, authored by the session's member. Acts on one proposal
-- queue on its row lock; the cached state is the server's own count.
CREATE OR REPLACE FUNCTION quorum.add_act(
    pid bigint, kind text, at timestamptz, body text, signature text
) RETURNS bigint LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    who text := quorum.actor();
    seq bigint;
BEGIN
    PERFORM quorum.check_time(at);
    IF kind NOT IN ('amend', 'vote', 'override', 'withdraw', 'review') THEN
        RAISE EXCEPTION 'quorum: % is not an act on a proposal', kind
            USING ERRCODE = 'check_violation';
    END IF;
    IF jsonb_typeof(body::jsonb) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'quorum: an act''s body is a JSON object' USING ERRCODE = 'check_violation';
    END IF;
    PERFORM 1 FROM quorum.proposals WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'quorum: no proposal %', pid USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO quorum.proposal_acts (proposal_id, kind, author, at, body, signature)
    VALUES (pid, kind, who, at, body, coalesce(signature, '')) RETURNING proposal_acts.seq INTO seq;
    UPDATE quorum.proposals SET state = quorum.proposal_state(pid) WHERE id = pid;
    PERFORM pg_notify('quorum_ledger', kind || ' ' || pid);
    RETURN seq;
END $$;

-- Claims an action's idempotency key: true when this call claimed it, false when it
-- was claimed before. A proposal's execution is claimed only when the server's own
-- count finds it approved for exactly this change.
CREATE OR REPLACE FUNCTION quorum.claim(
    key text, action text, provider text, service text, environment text, target text,
    revision text, proposal_id bigint, owner_host text, owner_pid integer, owner_start text
) RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    who text := quorum.actor();
    p quorum.proposals;
    found_now record;
BEGIN
    IF (key LIKE 'proposal-%') <> (proposal_id IS NOT NULL)
        OR (proposal_id IS NOT NULL AND key <> 'proposal-' || proposal_id) THEN
        RAISE EXCEPTION 'quorum: the key % is not this action''s', key
            USING ERRCODE = 'check_violation';
    END IF;
    IF proposal_id IS NOT NULL THEN
        SELECT * INTO p FROM quorum.proposals WHERE id = proposal_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'quorum: no proposal %', proposal_id USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM 1 FROM quorum.action_claims c WHERE c.key = claim.key;
        IF FOUND THEN
            RETURN false;
        END IF;
        found_now := quorum.derived(proposal_id, now());
        IF found_now.state IS DISTINCT FROM 'approved' THEN
            RAISE EXCEPTION 'quorum: proposal % is % by the server''s count; it does not run',
                proposal_id, found_now.state USING ERRCODE = 'check_violation';
        END IF;
        IF (p.kind, p.provider, p.service, p.environment, p.target, found_now.revision)
            IS DISTINCT FROM (action, provider, service, environment, target, revision) THEN
            RAISE EXCEPTION 'quorum: proposal % does not ask for this change; it does not run',
                proposal_id USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    INSERT INTO quorum.action_claims (key, action, who, provider, service, environment,
        target, revision, proposal_id, started_at, owner_host, owner_pid, owner_start)
    VALUES (key, action, who, provider, service, environment, target, revision,
        proposal_id, clock_timestamp(), coalesce(owner_host, ''), owner_pid,
        coalesce(owner_start, ''))
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('quorum_ledger', 'claim ' || key);
    RETURN true;
END $$;

-- The outcome of a claimed action, recorded once (by its owner, or by a member
-- resolving an action a crash left incomplete).
CREATE OR REPLACE FUNCTION quorum.finish(key text, outcome text, detail text)
RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    who text := quorum.actor();
    pid bigint;
BEGIN
    IF outcome NOT IN ('finished', 'failed') THEN
        RAISE EXCEPTION 'quorum: outcome must be finished or failed'
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE quorum.action_claims c SET outcome = finish.outcome, detail = finish.detail,
        finished_at = clock_timestamp()
    WHERE c.key = finish.key AND c.outcome = '' RETURNING c.proposal_id INTO pid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'quorum: no incomplete action with key %', key
            USING ERRCODE = 'no_data_found';
    END IF;
    IF pid IS NOT NULL THEN
        UPDATE quorum.proposals SET state = quorum.proposal_state(pid) WHERE id = pid;
    END IF;
    PERFORM pg_notify('quorum_ledger', 'finish ' || key);
END $$;

-- Forgets the caller's own claim of an action that never started.
CREATE OR REPLACE FUNCTION quorum.release(key text) RETURNS void
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
BEGIN
    DELETE FROM quorum.action_claims c
    WHERE c.key = release.key AND c.outcome = '' AND c.who = quorum.actor();
END $$;

-- A chain head's row deleted (by the owner, behind disabled triggers) is never guessed.
CREATE OR REPLACE FUNCTION quorum.head_kept(present boolean) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF NOT present THEN
        RAISE EXCEPTION 'quorum: the chain head was deleted' USING ERRCODE = 'data_corrupted';
    END IF;
END $$;

-- The next record's seq, prev_hash and time, under the head's row lock (held to the
-- end of the transaction): the author signs these before `audit_append`.
CREATE OR REPLACE FUNCTION quorum.audit_next(OUT seq bigint, OUT prev_hash text, OUT ts text)
LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
BEGIN
    PERFORM quorum.actor();
    SELECT h.seq + 1, h.hash INTO seq, prev_hash FROM quorum.audit_head h WHERE h.id = 1
        FOR UPDATE;
    PERFORM quorum.head_kept(FOUND);
    ts := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END $$;

-- The JSON text the chain hash covers, exactly as Python's json (no spaces, non-ASCII
-- kept): `console.store.audit._digest`.
CREATE OR REPLACE FUNCTION quorum.audit_text(
    seq bigint, ts text, who text, action text, target text, environment text,
    revision text, outcome text, comment text, key text, prev_hash text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '[' || seq::text || ',' || concat_ws(',', to_json(ts)::text, to_json(who)::text,
        to_json(action)::text, to_json(target)::text, to_json(environment)::text,
        to_json(revision)::text, to_json(outcome)::text, to_json(comment)::text,
        to_json(key)::text, to_json(prev_hash)::text) || ']'
$$;

-- One audit record by the session's member, chained on the server.
CREATE OR REPLACE FUNCTION quorum.audit_append(
    action text, target text, environment text, revision text, outcome text,
    comment text, key text, signature text,
    OUT seq bigint, OUT ts text, OUT who text, OUT prev_hash text, OUT hash text
) LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    texts text;
BEGIN
    who := quorum.actor();
    texts := concat(action, target, environment, revision, outcome, comment, key);
    IF texts ~ '[\\x01-\\x08\\x0b-\\x1f\\x7f-\\x9f]' THEN
        RAISE EXCEPTION 'quorum: control characters are never written into the audit log'
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT h.seq + 1, h.hash INTO seq, prev_hash FROM quorum.audit_head h WHERE h.id = 1
        FOR UPDATE;
    PERFORM quorum.head_kept(FOUND);
    ts := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    hash := encode(sha256(convert_to(quorum.audit_text(seq, ts, who, action, target,
        environment, revision, outcome, comment, key, prev_hash), 'UTF8')), 'hex');
    INSERT INTO quorum.audit_log (seq, ts, who, action, target, environment, revision,
        outcome, comment, key, prev_hash, hash)
    VALUES (seq, ts, who, action, target, environment, revision, outcome, comment, key,
        prev_hash, hash);
    UPDATE quorum.audit_head h SET seq = audit_append.seq, hash = audit_append.hash
    WHERE h.id = 1;
    IF coalesce(signature, '') <> '' THEN
        INSERT INTO quorum.audit_signatures (seq, signature) VALUES (seq, signature);
    END IF;
    PERFORM pg_notify('quorum_ledger', 'audit ' || seq);
END $$;
"""

# The functions on migration 2's tables: the schedule's changes and the gate votes.
SCHEDULE_FUNCTIONS = f"""
-- What a member writes is shown on other members' screens: no control characters
-- (tab and newline aside), as for audit records.
CREATE OR REPLACE FUNCTION quorum.check_text(VARIADIC texts text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF array_to_string(texts, '') ~ '[\\x01-\\x08\\x0b-\\x1f\\x7f-\\x9f]' THEN
        RAISE EXCEPTION 'quorum: control characters are never written into the ledger'
            USING ERRCODE = 'check_violation';
    END IF;
END $$;

-- The rotation's changes (migration 2). Each is authored by the session's member and
-- dated within the clock check; the schedule's own rules (who the config knows, what
-- one holds) stay the client's: the server does not know the config's rotations.
CREATE OR REPLACE FUNCTION quorum.rotation_override(
    change_id text, rotation_name text, holder text, starts timestamptz, ends timestamptz,
    reason text, at timestamptz
) RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    PERFORM quorum.check_time(at);
    PERFORM quorum.check_text(change_id, rotation_name, holder, reason);
    IF btrim(coalesce(reason, '')) = '' OR btrim(coalesce(holder, '')) = '' THEN
        RAISE EXCEPTION 'quorum: an override needs who holds it and a reason'
            USING ERRCODE = 'check_violation';
    END IF;
    IF ends <= starts OR ends <= at THEN
        RAISE EXCEPTION 'quorum: an override''s span must end after its start and in the future'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO quorum.rotation_overrides (id, rotation, who, starts_at, ends_at, reason,
        created_by, created_at)
    VALUES (change_id, rotation_name, holder, starts, ends, reason, actor_, at);
    PERFORM pg_notify('quorum_ledger', 'rotation.override ' || change_id);
END $$;

-- Ends an override at `at`; false when it was cancelled first.
CREATE OR REPLACE FUNCTION quorum.rotation_cancel(change_id text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    PERFORM quorum.check_time(at);
    UPDATE quorum.rotation_overrides o SET cancelled_at = at, cancelled_by = actor_
    WHERE o.id = change_id AND o.cancelled_at IS NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('quorum_ledger', 'rotation.override.cancel ' || change_id);
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION quorum.rotation_swap(
    change_id text, rotation_name text, starts timestamptz, ends timestamptz, reason text,
    at timestamptz
) RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    PERFORM quorum.check_time(at);
    PERFORM quorum.check_text(change_id, rotation_name, reason);
    IF ends <= starts OR ends <= at THEN
        RAISE EXCEPTION 'quorum: a swap''s span must end after its start and in the future'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO quorum.rotation_swaps (id, rotation, requested_by, starts_at, ends_at, reason,
        requested_at)
    VALUES (change_id, rotation_name, actor_, starts, ends, coalesce(reason, ''), at);
    PERFORM pg_notify('quorum_ledger', 'rotation.swap.request ' || change_id);
END $$;

-- The session's member takes an open swap someone else offered; false when it was
-- taken or withdrawn first.
CREATE OR REPLACE FUNCTION quorum.rotation_take(change_id text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
    s quorum.rotation_swaps;
BEGIN
    PERFORM quorum.check_time(at);
    SELECT * INTO s FROM quorum.rotation_swaps w WHERE w.id = change_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'quorum: no swap %', change_id USING ERRCODE = 'no_data_found';
    END IF;
    IF s.requested_by = actor_ THEN
        RAISE EXCEPTION 'quorum: a swap cannot be taken by the person who offered it'
            USING ERRCODE = 'check_violation';
    END IF;
    IF s.ends_at <= at THEN
        RAISE EXCEPTION 'quorum: swap % is over', change_id USING ERRCODE = 'check_violation';
    END IF;
    IF s.taken_by IS NOT NULL OR s.withdrawn_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE quorum.rotation_swaps w SET taken_by = actor_, taken_at = at WHERE w.id = change_id;
    PERFORM pg_notify('quorum_ledger', 'rotation.swap.take ' || change_id);
    RETURN true;
END $$;

-- The requester withdraws their own offer nobody took; false when it was taken or
-- withdrawn first.
CREATE OR REPLACE FUNCTION quorum.rotation_withdraw(change_id text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
    s quorum.rotation_swaps;
BEGIN
    PERFORM quorum.check_time(at);
    SELECT * INTO s FROM quorum.rotation_swaps w WHERE w.id = change_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'quorum: no swap %', change_id USING ERRCODE = 'no_data_found';
    END IF;
    IF s.requested_by <> actor_ THEN
        RAISE EXCEPTION 'quorum: only % can withdraw swap %', s.requested_by, change_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF s.taken_by IS NOT NULL OR s.withdrawn_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE quorum.rotation_swaps w SET withdrawn_at = at WHERE w.id = change_id;
    PERFORM pg_notify('quorum_ledger', 'rotation.swap.withdraw ' || change_id);
    RETURN true;
END $$;

-- One notice per handoff: true when this call claimed it.
CREATE OR REPLACE FUNCTION quorum.rotation_notice_claim(
    rotation_name text, handoff timestamptz, holder_name text
) RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    PERFORM quorum.check_text(rotation_name, holder_name);
    INSERT INTO quorum.rotation_notices (rotation, handoff_at, holder, sent_at, sent_by)
    VALUES (rotation_name, handoff, holder_name, clock_timestamp(), actor_)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END $$;

-- Forgets the caller's own claim of a notice no sink took, so a later run retries.
CREATE OR REPLACE FUNCTION quorum.rotation_notice_release(
    rotation_name text, handoff timestamptz, holder_name text
) RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
BEGIN
    DELETE FROM quorum.rotation_notices n
    WHERE n.rotation = rotation_name AND n.handoff_at = handoff AND n.holder = holder_name
        AND n.sent_by = quorum.actor();
END $$;

-- A vote on a provider's own approval by the session's member, with its signature
-- (checked by clients, as for proposals); refused once the gate's answer was sent.
CREATE OR REPLACE FUNCTION quorum.gate_vote(
    gate_id text, approve boolean, at timestamptz, comment text, signature text
) RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
    answered quorum.gate_answers;
BEGIN
    PERFORM quorum.check_time(at);
    PERFORM quorum.check_text(gate_id, comment);
    SELECT * INTO answered FROM quorum.gate_answers a WHERE a.gate = gate_id;
    IF FOUND AND answered.state = 'sent' THEN
        RAISE EXCEPTION 'quorum: % was already answered (%) by %', gate_id, answered.decision,
            answered.claimed_by USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO quorum.gate_votes (gate, voter, approve, at, comment, signature)
    VALUES (gate_id, actor_, approve, at, coalesce(comment, ''), coalesce(signature, ''));
    PERFORM pg_notify('quorum_ledger', 'gate-vote ' || gate_id);
END $$;

-- Claims the sending of a gate's answer for the session's member, who has voted on
-- it; false while another member's claim younger than five minutes stands.
CREATE OR REPLACE FUNCTION quorum.gate_claim(gate_id text, decision text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    PERFORM quorum.check_time(at);
    IF decision NOT IN ('approved', 'rejected') THEN
        RAISE EXCEPTION 'quorum: a gate is approved or rejected' USING ERRCODE = 'check_violation';
    END IF;
    PERFORM 1 FROM quorum.gate_votes v WHERE v.gate = gate_id AND v.voter = actor_;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'quorum: % has not voted on %', actor_, gate_id
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO quorum.gate_answers AS a (gate, decision, state, claimed_by, at)
    VALUES (gate_id, decision, 'sending', actor_, at)
    ON CONFLICT (gate) DO UPDATE SET decision = EXCLUDED.decision, state = 'sending',
        claimed_by = EXCLUDED.claimed_by, at = EXCLUDED.at, detail = ''
    WHERE a.state = 'sending' AND a.at < EXCLUDED.at - interval '5 minutes';
    RETURN FOUND;
END $$;

-- The caller's claimed answer marked sent, or dropped so a later vote retries.
CREATE OR REPLACE FUNCTION quorum.gate_finish(gate_id text, sent boolean, detail text)
RETURNS void LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
DECLARE
    actor_ text := quorum.actor();
BEGIN
    IF sent THEN
        UPDATE quorum.gate_answers a SET state = 'sent', detail = gate_finish.detail
        WHERE a.gate = gate_id AND a.claimed_by = actor_ AND a.state = 'sending';
    ELSE
        DELETE FROM quorum.gate_answers a
        WHERE a.gate = gate_id AND a.claimed_by = actor_ AND a.state = 'sending';
    END IF;
    PERFORM pg_notify('quorum_ledger', 'gate-answer ' || gate_id);
END $$;
"""

FUNCTIONS = CORE_FUNCTIONS + SCHEDULE_FUNCTIONS

# What a member may call; everything else of the schema they may only read.
CORE_MEMBER_FUNCTIONS = (
    "quorum.is_member(text)",
    "quorum.actor()",
    "quorum.proposal_state(bigint, timestamptz)",
    "quorum.derived(bigint, timestamptz)",
    "quorum.next_proposal_id()",
    "quorum.refresh_state(bigint)",
    "quorum.propose(bigint, text, text, text, text, text, text, integer, text, timestamptz,"
    " text, text)",
    "quorum.add_act(bigint, text, timestamptz, text, text)",
    "quorum.claim(text, text, text, text, text, text, text, bigint, text, integer, text)",
    "quorum.finish(text, text, text)",
    "quorum.release(text)",
    "quorum.audit_next()",
    "quorum.audit_append(text, text, text, text, text, text, text, text)",
)
SCHEDULE_MEMBER_FUNCTIONS = (
    "quorum.rotation_override(text, text, text, timestamptz, timestamptz, text, timestamptz)",
    "quorum.rotation_cancel(text, timestamptz)",
    "quorum.rotation_swap(text, text, timestamptz, timestamptz, text, timestamptz)",
    "quorum.rotation_take(text, timestamptz)",
    "quorum.rotation_withdraw(text, timestamptz)",
    "quorum.rotation_notice_claim(text, timestamptz, text)",
    "quorum.rotation_notice_release(text, timestamptz, text)",
    "quorum.gate_vote(text, boolean, timestamptz, text, text)",
    "quorum.gate_claim(text, text, timestamptz)",
    "quorum.gate_finish(text, boolean, text)",
)
MEMBER_FUNCTIONS = CORE_MEMBER_FUNCTIONS + SCHEDULE_MEMBER_FUNCTIONS


def privileges(member_role: str) -> list[str]:
    """The statements that leave `member_role` reading the ledger and acting only
    through the functions (`member_role` is checked by the config loader: a bare
    lower-case identifier)."""
    return [
        "REVOKE ALL ON SCHEMA quorum FROM PUBLIC",
        "REVOKE ALL ON ALL TABLES IN SCHEMA quorum FROM PUBLIC",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA quorum FROM PUBLIC",
        "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA quorum FROM PUBLIC",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA quorum FROM {member_role}",
        f"GRANT USAGE ON SCHEMA quorum TO {member_role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA quorum TO {member_role}",
        *(f"GRANT EXECUTE ON FUNCTION {f} TO {member_role}" for f in MEMBER_FUNCTIONS),
    ]
