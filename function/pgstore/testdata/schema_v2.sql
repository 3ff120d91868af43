-- Frozen: the PostgreSQL schema as it stood before erasures were ledger
-- entries (commit b41756f), so tests can write a ledger with it and upgrade.

-- The licence ledger on PostgreSQL, schema version 2. The migration runs it
-- as the database's owner, in one transaction. Every statement is
-- idempotent, and it upgrades a version-1 ledger in place: revisions
-- written by version 1 keep their hashes and say so (formula 1).

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

-- The ledger's tip: how many revisions it holds and the hash chained over
-- all of them in commit order. Every revision updates it, so writers
-- queue on this row until they commit: a revision's ledger_seq is its
-- place in commit order, and a digest read from here never skips one
-- that commits later.
CREATE TABLE IF NOT EXISTS ledger_tip (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea  NOT NULL
);

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
    lseq    bigint;
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
    UPDATE public.ledger_tip SET seq = seq + 1, hash = public.licence_ledger_link(hash, seq + 1, h) RETURNING seq INTO lseq;
    INSERT INTO public.licence_history (licence_id, version, tx_id, tx_time, formula, doc, event, content_hash, prev_hash, hash, ledger_seq)
        VALUES (rid, ver, tx, at, 2, d, ev, content, prev, h, lseq);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS licence_history_append ON licences;
CREATE TRIGGER licence_history_append
    AFTER INSERT OR UPDATE OR DELETE ON licences
    FOR EACH ROW EXECUTE FUNCTION licence_history_append();

-- Erasure of a deleted licence's personal data: every revision that holds
-- data loses it (and its event) and records the erasure; hashes, versions,
-- times and transaction ids stay. The first erasure's record is kept. The
-- eraser's role may run this and nothing else.
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
    SELECT count(*) INTO revisions FROM public.licence_history WHERE licence_id = lid AND erased IS NOT NULL;
    status := 'erased';
END
$$;
