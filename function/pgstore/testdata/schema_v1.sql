-- The licence ledger on PostgreSQL. Run by the migration as the database's
-- owner; every statement is idempotent.

CREATE TABLE IF NOT EXISTS licences (
    id              text PRIMARY KEY,
    email           text NOT NULL UNIQUE,
    idempotency_key text,
    doc             jsonb NOT NULL
);

-- Every revision of every licence, appended by the trigger below and never
-- changed: the application may only read it. Each revision's hash covers
-- the one before it, so an altered or removed revision breaks the chain.
CREATE TABLE IF NOT EXISTS licence_history (
    licence_id text        NOT NULL,
    version    integer     NOT NULL,
    tx_id      bigint      NOT NULL,
    tx_time    timestamptz NOT NULL,
    doc        jsonb,                -- NULL: the revision deleted the licence
    prev_hash  bytea       NOT NULL, -- empty for a licence's first revision
    hash       bytea       NOT NULL,
    PRIMARY KEY (licence_id, version)
);

-- revision_hash is SHA-256 over the previous hash and the revision's fields;
-- pgstore.Verify computes the same in Go, independently of this function.
CREATE OR REPLACE FUNCTION licence_revision_hash(prev bytea, id text, version integer, tx bigint, at timestamptz, doc jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(
        id || '|' || version || '|' || tx || '|' ||
        ((extract(epoch FROM at) * 1000000)::bigint) || '|' ||
        coalesce(doc::text, 'deleted'), 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION licence_history_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    rid  text;
    d    jsonb;
    ver  integer;
    prev bytea;
    tx   bigint      := txid_current();
    at   timestamptz := now();
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.id; d := NULL;
    ELSE
        rid := NEW.id; d := NEW.doc;
    END IF;
    SELECT h.version + 1, h.hash INTO ver, prev
        FROM licence_history h WHERE h.licence_id = rid ORDER BY h.version DESC LIMIT 1;
    IF ver IS NULL THEN
        ver := 0; prev := ''::bytea;
    END IF;
    INSERT INTO licence_history (licence_id, version, tx_id, tx_time, doc, prev_hash, hash)
        VALUES (rid, ver, tx, at, d, prev, licence_revision_hash(prev, rid, ver, tx, at, d));
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS licence_history_append ON licences;
CREATE TRIGGER licence_history_append
    AFTER INSERT OR UPDATE OR DELETE ON licences
    FOR EACH ROW EXECUTE FUNCTION licence_history_append();
