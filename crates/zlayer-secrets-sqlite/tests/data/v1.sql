-- A secrets store at schema version 1, locked with the test key of 32 bytes 0xa1.
--
-- The schema below is version 1 as it was first released (see src/schema.rs, `V1`);
-- the rows were written by the store and printed by the ignored test
-- `migrate::print_v1_fixture_rows`. Do not regenerate: the point of this file is that it
-- does not change when the code does.

PRAGMA user_version = 1;

CREATE TABLE store_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    store_id        BLOB    NOT NULL CHECK (length(store_id) = 16),
    dek_generation  INTEGER NOT NULL CHECK (dek_generation >= 1),
    wrapped_dek     BLOB    NOT NULL,
    kek_fingerprint TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE secrets (
    id         INTEGER PRIMARY KEY,
    scope      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (scope, name)
) STRICT;

CREATE TABLE secret_versions (
    secret_id  INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at INTEGER NOT NULL,
    ciphertext BLOB    NOT NULL,
    PRIMARY KEY (secret_id, version)
) STRICT, WITHOUT ROWID;

INSERT INTO store_meta (id, store_id, dek_generation, wrapped_dek, kek_fingerprint, created_at)
    VALUES (1, X'ec58f40abbae9b1fa0e5904cbd09edb6', 1, X'54e68e459c548b3547839db9067613e4e07a593a44f02fe54e63935470bd84fa58b4e4862056e852897181786d7c59d79b81ac0d5b6c88a106d73f003434ec2ec69e2e1f8bb6f97c', '9df81bd2b013ba88', 1795943336);
INSERT INTO secrets (id, scope, name, version, created_at, updated_at)
    VALUES (1, 'prod', 'db-password', 3, 1795943336, 1795943336);
INSERT INTO secrets (id, scope, name, version, created_at, updated_at)
    VALUES (2, 'a', 'b:c', 1, 1795943336, 1795943336);
INSERT INTO secrets (id, scope, name, version, created_at, updated_at)
    VALUES (3, 'a:b', 'c', 1, 1795943336, 1795943336);
INSERT INTO secrets (id, scope, name, version, created_at, updated_at)
    VALUES (4, 'prod/api', 'TOKEN', 1, 1795943336, 1795943336);
INSERT INTO secrets (id, scope, name, version, created_at, updated_at)
    VALUES (5, 'env:prod', 'EMPTY', 1, 1795943336, 1795943336);
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (1, 1, 1795943336, X'3313e7898cb3d5135d01c8c005f3d55b8b86dad6b1dbede3c07d7ae2932293e9edb60fff3ff7c04845b72d0c688c463ed2952eee6f7d');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (1, 2, 1795943336, X'dac5750932747d96d673f11e5ead2d7ff5677703787085caedfe353ecfe61c32b4d30e093fc384fe513aece4207ef6336dbec831efa4aa');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (1, 3, 1795943336, X'18bc220e3832632717e56030d02da246ddb33c086941c7ac1558ff390bb4eb42328f397f98c549291ba8cab229dca00b1665ea3089ad');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (2, 1, 1795943336, X'59da88336eb50942c6d8830794a7eb672e33c2b1fe2b3b9794f3ef8e91791be6b51f620a27e21d5040ef3e6d53a5c51346a3');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (3, 1, 1795943336, X'b67941a923f2289487b94c979f70f935dcfeb2be074f67fe4eb405fe63c446d0b44e1ca45862edbfd7dbaaf6f963fb09a3952142');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (4, 1, 1795943336, X'2e878be2e650d7721a46f76ba75ff7935a0328719edf881ae978326279c03d570d05048013859dde7c3867d00eb244681b294bc349920acd861aaeaea28219a3');
INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
    VALUES (5, 1, 1795943336, X'ecbd72368de621bb83e30d1e6ba3c363c408ccbc9910582d75e5b8f68671c3560776f4d1c4edef06');
