import RoadsideStorage

/// The terminal's own SQLite file: its identity and key, the offline cache filled by
/// pulls, the hash-chained audit log and the outbox of records waiting to be pushed.
enum TerminalSchema {
  /// `PRAGMA application_id` of terminal files ('RSTC').
  static let applicationID: Int32 = 0x5253_5443

  static let migrator = Migrator(
    applicationID: applicationID, kind: "Roadside terminal cache",
    migrations: [
      Migration(
        version: 1, name: "identity, cache, audit log, outbox",
        sql: """
          CREATE TABLE identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            terminal TEXT NOT NULL CHECK (terminal GLOB 'T-?*'),
            unit TEXT NOT NULL,
            central TEXT NOT NULL,
            private_key BLOB NOT NULL CHECK (length(private_key) = 32),
            public_key BLOB NOT NULL CHECK (length(public_key) = 32),
            created_at TEXT NOT NULL
          ) STRICT;

          -- The pull cursor moves in the same transaction as the changes it covers.
          CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),
            central_latest INTEGER NOT NULL DEFAULT 0,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_error TEXT
          ) STRICT;
          INSERT INTO sync_state (id) VALUES (1);

          -- Only what a roadside check needs, compactly: dates as days since 1970-01-01.
          CREATE TABLE licences (
            number TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            gender INTEGER NOT NULL CHECK (gender IN (0, 1)),
            birth INTEGER NOT NULL,
            first_issued INTEGER NOT NULL,
            classes TEXT NOT NULL,
            term TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            authority TEXT NOT NULL,
            status TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            suspended_until INTEGER
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE vehicles (
            plate TEXT PRIMARY KEY,
            class TEXT NOT NULL,
            owner TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX vehicles_owner ON vehicles (owner);

          CREATE TABLE points (
            licence TEXT PRIMARY KEY,
            ledger TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE decisions (
            number TEXT PRIMARY KEY,
            licence TEXT NOT NULL,
            offence TEXT NOT NULL,
            decided_on INTEGER NOT NULL,
            fine_fen INTEGER NOT NULL,
            points INTEGER NOT NULL,
            paid INTEGER NOT NULL,
            state TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX decisions_licence ON decisions (licence);

          CREATE TABLE mandates (
            licence TEXT PRIMARY KEY,
            bank TEXT NOT NULL,
            account_tail TEXT NOT NULL,
            active INTEGER NOT NULL
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE officers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            pin_hash TEXT,
            unlock_generation INTEGER NOT NULL DEFAULT 0
          ) STRICT, WITHOUT ROWID;

          -- Wrong PINs per officer on this terminal; 5 lock the officer until central unlocks
          -- (a pulled officer change with a newer unlock generation clears the row).
          CREATE TABLE lockouts (
            officer TEXT PRIMARY KEY,
            failures INTEGER NOT NULL CHECK (failures >= 0),
            unlock_generation INTEGER NOT NULL
          ) STRICT, WITHOUT ROWID;

          -- The officer logged in on this terminal, if any.
          CREATE TABLE session (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            officer TEXT NOT NULL,
            started_at TEXT NOT NULL,
            last_activity_at TEXT NOT NULL
          ) STRICT;

          CREATE TABLE offences (
            code TEXT PRIMARY KEY,
            body TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE terminals (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            public_key TEXT
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            officer TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            result TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
          ) STRICT;

          -- Everything recorded here waits in the outbox until central acknowledges it.
          CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
              CHECK (state IN ('pending', 'accepted', 'duplicate', 'rejected', 'conflict')),
            acknowledgement TEXT
          ) STRICT;
          CREATE INDEX outbox_pending ON outbox (state) WHERE state = 'pending';

          -- Conflicts central reported, in acknowledgements and in the change feed.
          CREATE TABLE conflicts (
            id TEXT PRIMARY KEY,
            terminal TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1))
          ) STRICT;

          -- Violations recorded by any terminal, as central relays them.
          CREATE TABLE violations (
            record_id TEXT PRIMARY KEY,
            terminal TEXT NOT NULL,
            licence TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX violations_licence ON violations (licence);
          """),
      Migration(
        version: 2, name: "issuer keys and the replay cache",
        sql: """
          CREATE TABLE issuer_keys (
            kid TEXT PRIMARY KEY,
            public_key BLOB NOT NULL CHECK (length(public_key) = 32),
            valid_from INTEGER NOT NULL,
            valid_until INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'revoked'))
          ) STRICT, WITHOUT ROWID;

          -- Presentation ids seen, kept until their window closes: survives a restart.
          CREATE TABLE presentations (
            id TEXT PRIMARY KEY,
            until INTEGER NOT NULL
          ) STRICT, WITHOUT ROWID;
          """),
      Migration(
        version: 3, name: "document numbers, issued documents and stops",
        sql: """
          -- Serials central allocated to this terminal; `next` is the first one unused.
          CREATE TABLE number_ranges (
            region TEXT NOT NULL CHECK (length(region) = 6),
            year INTEGER NOT NULL,
            first INTEGER NOT NULL CHECK (first >= 1),
            last INTEGER NOT NULL CHECK (last >= first AND last <= 99999999),
            next INTEGER NOT NULL,
            CHECK (next BETWEEN first AND last + 1),
            PRIMARY KEY (region, year, first)
          ) STRICT, WITHOUT ROWID;

          -- A roadside stop: one or more documents served together.
          CREATE TABLE stops (
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            licence TEXT NOT NULL,
            plate TEXT NOT NULL,
            points_before INTEGER NOT NULL,
            points_after INTEGER NOT NULL,
            withholding TEXT,
            note TEXT
          ) STRICT, WITHOUT ROWID;

          -- Every decision and notice this terminal issued, as served.
          CREATE TABLE documents (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            stop TEXT NOT NULL REFERENCES stops (id),
            kind TEXT NOT NULL CHECK (kind IN ('decision', 'notice')),
            licence TEXT NOT NULL,
            points INTEGER NOT NULL,
            body TEXT NOT NULL,
            record_id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'voided')),
            void_reason TEXT
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX documents_stop ON documents (stop);
          CREATE INDEX documents_licence ON documents (licence);
          """),
      Migration(
        version: 4, name: "compulsory-measure certificates, the holiday calendar",
        sql: """
          -- Decisions, notices and the certificate of a compulsory measure (扣留), as served.
          CREATE TABLE documents_v4 (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            stop TEXT NOT NULL REFERENCES stops (id),
            kind TEXT NOT NULL CHECK (kind IN ('decision', 'notice', 'certificate')),
            licence TEXT NOT NULL,
            points INTEGER NOT NULL,
            body TEXT NOT NULL,
            record_id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'voided')),
            void_reason TEXT,
            CHECK (kind <> 'certificate' OR points = 0)
          ) STRICT, WITHOUT ROWID;
          INSERT INTO documents_v4 SELECT * FROM documents;
          DROP TABLE documents;
          ALTER TABLE documents_v4 RENAME TO documents;
          CREATE INDEX documents_stop ON documents (stop);
          CREATE INDEX documents_licence ON documents (licence);

          -- The holiday calendar central syncs (one row): reporting deadlines count working days.
          CREATE TABLE calendar (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            body TEXT NOT NULL
          ) STRICT;
          """, rebuildsTables: true),
      Migration(
        version: 5, name: "officers checked at central: bound PIN verifiers, central lockouts",
        sql: """
          -- pin_hash now holds the verifier central bound to this terminal
          -- (pbkdf2-sha256-terminal$…). Hashes received before are no longer valid here.
          UPDATE officers SET pin_hash = NULL WHERE pin_hash NOT GLOB 'pbkdf2-sha256-terminal$*';
          ALTER TABLE officers ADD COLUMN pin_must_change INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE officers ADD COLUMN pin_set_at TEXT;
          ALTER TABLE officers ADD COLUMN locked_at TEXT;
          ALTER TABLE officers ADD COLUMN locked_on TEXT;
          -- A PIN chosen here that central has not acknowledged yet.
          ALTER TABLE officers ADD COLUMN pin_pending INTEGER NOT NULL DEFAULT 0;
          -- Need to know: only the officers of this terminal's unit.
          DELETE FROM officers WHERE unit <> (SELECT unit FROM identity);
          -- A successful login's proof of the PIN (LoginProof), covered by the entry's hash.
          ALTER TABLE audit_log ADD COLUMN proof TEXT;
          """),
    ])
}
