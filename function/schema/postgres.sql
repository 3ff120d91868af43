-- The licence ledger on PostgreSQL, schema version 2. The migration runs it
-- as the database's owner, in one transaction. Every statement is
-- idempotent, and it upgrades an older ledger in place: revisions written
-- by version 1 keep their hashes and say so (formula 1), and erasures made
-- before erasures were ledger entries are recorded as entries.

-- Live licences. The application's role may insert, delete, read, and
-- update doc only (migrate.go grants exactly that); the trigger below
-- refuses an update that changes anything but contact details, points and
-- the last event, and any change without an actor.
CREATE TABLE IF NOT EXISTS licences (
    id              text PRIMARY KEY,
    email           text NOT NULL UNIQUE,
    idempotency_key text,
    doc             jsonb NOT NULL
);
ALTER TABLE licences ADD COLUMN IF NOT EXISTS request_hash text;
CREATE UNIQUE INDEX IF NOT EXISTS licences_idempotency_key ON licences (idempotency_key);
DO $$ BEGIN
    ALTER TABLE licences ADD CONSTRAINT licences_doc_email CHECK (doc->>'email' = email);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Every revision of every licence, appended by the trigger below: the
-- application may only read it. A formula-2 revision's hash covers the
-- hash before it, its metadata, and content_hash, the hash of its data
-- (the licence as it left it, and the event with its actor); erasure
-- removes the data and keeps content_hash, so the chain still verifies.
-- ledger_seq numbers every revision of the ledger in commit order, and the
-- ledger's tip chains them all: a digest.
CREATE TABLE IF NOT EXISTS licence_history (
    licence_id text        NOT NULL,
    version    integer     NOT NULL,
    tx_id      bigint      NOT NULL,
    tx_time    timestamptz NOT NULL,
    doc        jsonb,                -- NULL: the revision deleted the licence, or was erased
    prev_hash  bytea       NOT NULL, -- empty for a licence's first revision
    hash       bytea       NOT NULL,
    PRIMARY KEY (licence_id, version)
);
ALTER TABLE licence_history
    ADD COLUMN IF NOT EXISTS formula      smallint NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS event        jsonb,    -- the change, with its actor; NULL once erased
    ADD COLUMN IF NOT EXISTS content_hash bytea,    -- formula 2
    ADD COLUMN IF NOT EXISTS ledger_seq   bigint,
    ADD COLUMN IF NOT EXISTS erased       jsonb;    -- the erasure: when, and who asked
CREATE UNIQUE INDEX IF NOT EXISTS licence_history_ledger_seq ON licence_history (ledger_seq);

-- The ledger's tip: how many entries it holds and the hash chained over
-- all of them in commit order. Every entry updates it, and holds it until
-- its transaction commits: an entry's ledger_seq is its place in commit
-- order, and a digest read from here never skips one that commits later.
-- A revision takes the tip only as its transaction commits
-- (licence_history_link), so writers queue on this row for the commit
-- alone, not for their statements or the round trips between them.
CREATE TABLE IF NOT EXISTS ledger_tip (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea  NOT NULL
);

-- The ledger's entries that are not a licence's revision, each at its own
-- position of the ledger's chain, so none can be changed, added or removed
-- without breaking it:
--   - 'erasure': which licence's personal data was erased, the erasure (its
--     time and actor), and each revision it emptied with the hash of what
--     that revision held (contentHash; revisionHash for formula 1, whose
--     hash covers its data itself);
--   - 'formula': the position since which every revision carries its own
--     content hash (formula 2), written once where a ledger holds formula-1
--     revisions: none is accepted at or after it.
CREATE TABLE IF NOT EXISTS ledger_entries (
    ledger_seq bigint      PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('erasure', 'formula')),
    tx_time    timestamptz NOT NULL,
    body       jsonb       NOT NULL,
    hash       bytea       NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_entries_erasure ON ledger_entries ((body->>'licenceId')) WHERE kind = 'erasure';
CREATE UNIQUE INDEX IF NOT EXISTS ledger_entries_formula ON ledger_entries (kind) WHERE kind = 'formula';

-- The hashes. pgstore.Verify computes the same in Go, independently of
-- these functions, so a change to them behind the application's back shows.
CREATE OR REPLACE FUNCTION licence_revision_hash(prev bytea, id text, version integer, tx bigint, at timestamptz, doc jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(
        id || '|' || version || '|' || tx || '|' ||
        ((extract(epoch FROM at) * 1000000)::bigint) || '|' ||
        coalesce(doc::text, 'deleted'), 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION licence_content_hash(doc jsonb, event jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(coalesce(doc::text, '') || '|' || event::text, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION licence_revision_hash_v2(prev bytea, id text, version integer, tx bigint, at timestamptz, content bytea)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(
        id || '|' || version || '|' || tx || '|' ||
        ((extract(epoch FROM at) * 1000000)::bigint) || '|2|', 'UTF8') || content)
$$;

CREATE OR REPLACE FUNCTION ledger_entry_hash(kind text, at timestamptz, body jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(
        'entry|' || kind || '|' || ((extract(epoch FROM at) * 1000000)::bigint) || '|' || body::text, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION licence_ledger_link(prev bytea, seq bigint, revision bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || int8send(seq) || revision)
$$;

-- A version-1 ledger gets its revisions numbered, in the order they were
-- written, and its tip, once.
DO $$
DECLARE
    r   record;
    n   bigint := 0;
    tip bytea  := ''::bytea;
BEGIN
    IF EXISTS (SELECT FROM ledger_tip) THEN
        RETURN;
    END IF;
    FOR r IN SELECT licence_id, version, hash FROM licence_history ORDER BY tx_time, tx_id, licence_id, version LOOP
        n := n + 1;
        tip := licence_ledger_link(tip, n, r.hash);
        UPDATE licence_history SET ledger_seq = n WHERE licence_id = r.licence_id AND version = r.version;
    END LOOP;
    INSERT INTO ledger_tip (seq, hash) VALUES (n, tip);
END $$;

-- The SECURITY DEFINER functions below run with the owner's rights, so they
-- are written as PostgreSQL's "Writing SECURITY DEFINER Functions Safely"
-- asks: search_path is the catalog, then pg_temp last (never searched for
-- functions or operators), and every table and function of the ledger is
-- named with its schema, so nothing a caller creates can stand in for one.
-- The migration also revokes TEMPORARY and CREATE from every role but the
-- owner (pgstore.Migrate).

-- The fields an update may change; the rest of a licence is fixed.
CREATE OR REPLACE FUNCTION licence_fixed(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT doc - '{telephone,postcode,penaltyPoints,lastEvent,events}'::text[]
$$;

CREATE OR REPLACE FUNCTION licence_history_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid     text;
    d       jsonb;
    ev      jsonb;
    ver     integer;
    prev    bytea;
    content bytea;
    h       bytea;
    tx      bigint      := txid_current();
    at      timestamptz := now();
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.id;
        d := NULL;
        ev := nullif(current_setting('licences.deletion_event', true), '')::jsonb;
        IF ev IS NULL OR ev->>'kind' IS DISTINCT FROM 'LicenceDeleted' THEN
            RAISE EXCEPTION 'deleting licence % without a deletion event (set licences.deletion_event)', rid
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSE
        rid := NEW.id;
        ev := NEW.doc->'lastEvent';
        d := NEW.doc - 'lastEvent';
        IF ev IS NULL THEN
            RAISE EXCEPTION 'a change to licence % without its event', rid
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND public.licence_fixed(OLD.doc) IS DISTINCT FROM public.licence_fixed(NEW.doc) THEN
            RAISE EXCEPTION 'licence %: an update may change only telephone, postcode and penalty points', rid
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF coalesce(ev->'actor'->>'principal', '') = '' THEN
        RAISE EXCEPTION 'a change to licence % without an actor', rid
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT hh.version + 1, hh.hash INTO ver, prev
        FROM public.licence_history hh WHERE hh.licence_id = rid ORDER BY hh.version DESC LIMIT 1;
    IF ver IS NULL THEN
        ver := 0;
        prev := ''::bytea;
    END IF;
    content := public.licence_content_hash(d, ev);
    h := public.licence_revision_hash_v2(prev, rid, ver, tx, at, content);
    INSERT INTO public.licence_history (licence_id, version, tx_id, tx_time, formula, doc, event, content_hash, prev_hash, hash)
        VALUES (rid, ver, tx, at, 2, d, ev, content, prev, h);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS licence_history_append ON licences;
CREATE TRIGGER licence_history_append
    AFTER INSERT OR UPDATE OR DELETE ON licences
    FOR EACH ROW EXECUTE FUNCTION licence_history_append();

-- A revision is chained onto the ledger's tip as its transaction commits:
-- a deferred trigger runs in the commit, after the transaction's last
-- statement, so the tip is held from there to the commit's end and no
-- longer. licence_history_append has written the revision, with its own
-- hashes, in the statement that made the change.
--
-- Its wait for the tip is bounded (lock_timeout) well inside
-- licence.CommitWait, the time a store waits for a COMMIT's answer past
-- the request's deadline: a commit that cannot have the tip fails and
-- rolls back while the client still listens, and never commits after the
-- client was told it failed.
CREATE OR REPLACE FUNCTION licence_history_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '500ms' AS $$
DECLARE
    lseq bigint;
BEGIN
    UPDATE public.ledger_tip SET seq = seq + 1, hash = public.licence_ledger_link(hash, seq + 1, NEW.hash) RETURNING seq INTO lseq;
    UPDATE public.licence_history SET ledger_seq = lseq WHERE licence_id = NEW.licence_id AND version = NEW.version;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS licence_history_link ON licence_history;
CREATE CONSTRAINT TRIGGER licence_history_link
    AFTER INSERT ON licence_history
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION licence_history_link();

-- ledger_append chains an entry onto the ledger's tip, in commit order as
-- a revision is (the tip's row is held until commit). Only the owner runs
-- it: from licence_erase and from the upgrades below.
CREATE OR REPLACE FUNCTION ledger_append(k text, b jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    at   timestamptz := now();
    h    bytea       := public.ledger_entry_hash(k, at, b);
    lseq bigint;
BEGIN
    UPDATE public.ledger_tip SET seq = seq + 1, hash = public.licence_ledger_link(hash, seq + 1, h) RETURNING seq INTO lseq;
    INSERT INTO public.ledger_entries (ledger_seq, kind, tx_time, body, hash) VALUES (lseq, k, at, b, h);
    RETURN lseq;
END
$$;

-- The body of an erasure entry: the licence, the erasure, and each erased
-- revision with the hash of what it held.
CREATE OR REPLACE FUNCTION licence_erasure_entry(lid text, erasure jsonb) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('licenceId', lid, 'erasure', erasure, 'revisions', jsonb_agg(
        CASE WHEN h.formula = 1
            THEN jsonb_build_object('version', h.version, 'revisionHash', encode(h.hash, 'hex'))
            ELSE jsonb_build_object('version', h.version, 'contentHash', encode(h.content_hash, 'hex'))
        END ORDER BY h.version))
    FROM public.licence_history h WHERE h.licence_id = lid AND h.erased IS NOT NULL
$$;

-- Erasure of a deleted licence's personal data: every revision that holds
-- data loses it (and its event) and records the erasure; hashes, versions,
-- times and transaction ids stay, and the erasure itself is a ledger entry
-- (ledger_entries). The first erasure's record is kept: erasing again
-- changes nothing. The eraser's role may run this and nothing else.
CREATE OR REPLACE FUNCTION licence_erase(lid text, erasure jsonb, OUT status text, OUT recorded jsonb, OUT revisions integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF coalesce(erasure->'actor'->>'principal', '') = '' THEN
        RAISE EXCEPTION 'an erasure without an actor' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT FROM public.licences WHERE id = lid) THEN
        status := 'live';
        RETURN;
    END IF;
    PERFORM FROM public.licence_history WHERE licence_id = lid FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found';
        RETURN;
    END IF;
    SELECT h.erased INTO recorded FROM public.licence_history h WHERE h.licence_id = lid AND h.erased IS NOT NULL LIMIT 1;
    recorded := coalesce(recorded, erasure);
    UPDATE public.licence_history SET doc = NULL, event = NULL, erased = recorded
        WHERE licence_id = lid AND doc IS NOT NULL;
    IF FOUND THEN
        -- Revisions this transaction made wait for its commit to take
        -- their positions (licence_history_link); they take them now, so
        -- the erasure follows the deletion it needs.
        SET CONSTRAINTS public.licence_history_link IMMEDIATE;
        PERFORM public.ledger_append('erasure', public.licence_erasure_entry(lid, recorded));
    END IF;
    SELECT count(*) INTO revisions FROM public.licence_history WHERE licence_id = lid AND erased IS NOT NULL;
    status := 'erased';
END
$$;

-- A ledger holding formula-1 revisions records, once, the position since
-- which every revision carries its own content hash: the first formula-2
-- revision's, or the next when there is none yet.
DO $$
BEGIN
    IF EXISTS (SELECT FROM public.licence_history WHERE formula = 1)
        AND NOT EXISTS (SELECT FROM public.ledger_entries WHERE kind = 'formula') THEN
        PERFORM public.ledger_append('formula', jsonb_build_object('formula', 2, 'since', coalesce(
            (SELECT min(ledger_seq) FROM public.licence_history WHERE formula = 2),
            (SELECT seq + 1 FROM public.ledger_tip))));
    END IF;
END $$;

-- Erasures made before erasures were ledger entries are recorded now, from
-- what their revisions keep.
DO $$
DECLARE
    lid text;
BEGIN
    FOR lid IN SELECT DISTINCT h.licence_id FROM public.licence_history h WHERE h.erased IS NOT NULL
        AND NOT EXISTS (SELECT FROM public.ledger_entries e WHERE e.kind = 'erasure' AND e.body->>'licenceId' = h.licence_id)
        ORDER BY 1 LOOP
        PERFORM public.ledger_append('erasure', public.licence_erasure_entry(lid,
            (SELECT h.erased FROM public.licence_history h WHERE h.licence_id = lid AND h.erased IS NOT NULL ORDER BY h.version LIMIT 1)));
    END LOOP;
END $$;
