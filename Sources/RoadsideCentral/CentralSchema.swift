import RoadsideStorage

/// The central store's schema history. Constraints live here, not in callers: a write
/// that breaks one fails in SQLite whatever code path it came from.
enum CentralSchema {
  /// `PRAGMA application_id` of central store files ('RSCS').
  static let applicationID: Int32 = 0x5253_4353

  static let migrator = Migrator(
    applicationID: applicationID, kind: "Roadside central store",
    migrations: [
      Migration(
        version: 1, name: "licences, vehicles, people, catalogue, ledger, change log",
        sql: """
          CREATE TABLE store_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
          ) STRICT;

          CREATE TABLE licences (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            file_number TEXT NOT NULL UNIQUE CHECK (length(file_number) = 12),
            name TEXT NOT NULL CHECK (length(name) > 0),
            gender TEXT NOT NULL CHECK (gender IN ('male', 'female')),
            birth_date TEXT NOT NULL,
            nationality TEXT NOT NULL,
            address TEXT NOT NULL,
            photo TEXT,
            first_issued TEXT NOT NULL,
            classes TEXT NOT NULL CHECK (length(classes) > 0),
            validity_term TEXT NOT NULL CHECK (validity_term IN ('6y', '10y', 'long-term')),
            valid_from TEXT NOT NULL,
            valid_until TEXT,
            authority_name TEXT NOT NULL,
            authority_code TEXT NOT NULL,
            status TEXT NOT NULL CHECK (length(status) > 0 AND status NOT GLOB '*[^ABCDEFGHIJKMNPRSUZ]*'),
            epoch INTEGER NOT NULL CHECK (epoch >= 1),
            suspended_until TEXT,
            CHECK ((validity_term = 'long-term') = (valid_until IS NULL)),
            CHECK (valid_from >= first_issued)
          ) STRICT;
          CREATE INDEX licences_status ON licences (status);

          -- Every e-licence epoch a licence has had: why it started and when.
          CREATE TABLE elicence_epochs (
            licence TEXT NOT NULL REFERENCES licences (number),
            epoch INTEGER NOT NULL CHECK (epoch >= 1),
            started_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (licence, epoch)
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE vehicles (
            plate TEXT PRIMARY KEY,
            vehicle_class TEXT NOT NULL,
            owner TEXT NOT NULL REFERENCES licences (number),
            model TEXT NOT NULL,
            registered TEXT NOT NULL
          ) STRICT;
          CREATE INDEX vehicles_owner ON vehicles (owner);

          CREATE TABLE officers (
            id TEXT PRIMARY KEY CHECK (length(id) = 6 AND id NOT GLOB '*[^0-9]*'),
            name TEXT NOT NULL,
            unit TEXT NOT NULL
          ) STRICT;

          CREATE TABLE terminals (
            id TEXT PRIMARY KEY CHECK (id GLOB 'T-?*'),
            unit TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked'))
          ) STRICT;

          CREATE TABLE offences (
            code TEXT PRIMARY KEY,
            catalogue_version TEXT NOT NULL,
            points INTEGER NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
            body TEXT NOT NULL
          ) STRICT;

          CREATE TABLE decisions (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            licence TEXT NOT NULL REFERENCES licences (number),
            plate TEXT,
            offence TEXT NOT NULL REFERENCES offences (code),
            decided_on TEXT NOT NULL,
            fine_fen INTEGER NOT NULL CHECK (fine_fen >= 0),
            points INTEGER NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
            paid INTEGER NOT NULL CHECK (paid IN (0, 1)),
            place TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'effective' CHECK (state IN ('effective', 'revoked'))
          ) STRICT;
          CREATE INDEX decisions_licence ON decisions (licence);

          -- The points ledger of 公安部令第163号, one row per decision with points.
          CREATE TABLE points_entries (
            decision TEXT PRIMARY KEY REFERENCES decisions (number),
            licence TEXT NOT NULL REFERENCES licences (number),
            offence TEXT NOT NULL,
            points INTEGER NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
            decided_on TEXT NOT NULL,
            counts_in_cycle TEXT NOT NULL,
            fine_paid INTEGER NOT NULL CHECK (fine_paid IN (0, 1)),
            revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
            cleared INTEGER NOT NULL DEFAULT 0 CHECK (cleared IN (0, 1))
          ) STRICT;
          CREATE INDEX points_entries_licence ON points_entries (licence);

          CREATE TABLE points_reductions (
            id INTEGER PRIMARY KEY,
            licence TEXT NOT NULL REFERENCES licences (number),
            date TEXT NOT NULL,
            points INTEGER NOT NULL CHECK (points BETWEEN 1 AND 6),
            cycle_start TEXT NOT NULL
          ) STRICT;
          CREATE INDEX points_reductions_licence ON points_reductions (licence);

          CREATE TABLE points_closed_cycles (
            licence TEXT NOT NULL REFERENCES licences (number),
            cycle_start TEXT NOT NULL,
            PRIMARY KEY (licence, cycle_start)
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE mandates (
            id INTEGER PRIMARY KEY,
            licence TEXT NOT NULL REFERENCES licences (number),
            bank TEXT NOT NULL,
            account TEXT NOT NULL,
            authorised_on TEXT NOT NULL,
            revoked_on TEXT
          ) STRICT;
          CREATE UNIQUE INDEX mandates_one_active ON mandates (licence) WHERE revoked_on IS NULL;

          -- Everything a terminal must learn about, in order. AUTOINCREMENT: a sequence
          -- number is never reused, even after the newest rows are deleted.
          CREATE TABLE change_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
            action TEXT NOT NULL,
            reason TEXT,
            payload TEXT NOT NULL
          ) STRICT;
          """),
      Migration(
        version: 2, name: "terminal keys and revocation, officer PIN hashes",
        sql: """
          ALTER TABLE terminals ADD COLUMN public_key BLOB CHECK (public_key IS NULL OR length(public_key) = 32);
          ALTER TABLE terminals ADD COLUMN registered_at TEXT;
          ALTER TABLE terminals ADD COLUMN revoked_at TEXT;
          CREATE UNIQUE INDEX terminals_public_key ON terminals (public_key) WHERE public_key IS NOT NULL;
          ALTER TABLE officers ADD COLUMN pin_hash TEXT CHECK (pin_hash IS NULL OR pin_hash GLOB 'pbkdf2-sha256$*');
          -- Bumped by 'central officer unlock': terminals clear their lockout of the officer
          -- when they pull a newer generation.
          ALTER TABLE officers ADD COLUMN unlock_generation INTEGER NOT NULL DEFAULT 0;
          """),
      Migration(
        version: 3, name: "pushed records, violations, audit entries, conflicts",
        sql: """
          CREATE INDEX change_log_entity_key ON change_log (entity, key, seq);

          CREATE TABLE conflicts (
            id TEXT PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('duplicate_event', 'stale_status', 'superseded_epoch',
              'points_cross_12', 'clock_skew', 'revoked_terminal')),
            terminal TEXT NOT NULL,
            records TEXT NOT NULL,
            licence TEXT,
            detected_at TEXT NOT NULL,
            description TEXT NOT NULL,
            resolution TEXT NOT NULL
          ) STRICT;

          -- Every record a terminal pushed, applied or not, kept forever: the primary key is
          -- what makes "exactly once" permanent, and the stored acknowledgement is what a
          -- duplicate gets back.
          CREATE TABLE records (
            record_id TEXT PRIMARY KEY,
            terminal TEXT NOT NULL REFERENCES terminals (id),
            terminal_seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            payload TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'conflict')),
            reason TEXT,
            conflict TEXT REFERENCES conflicts (id)
          ) STRICT;
          CREATE INDEX records_terminal ON records (terminal, terminal_seq);

          CREATE TABLE violations (
            record_id TEXT PRIMARY KEY REFERENCES records (record_id),
            terminal TEXT NOT NULL,
            licence TEXT NOT NULL,
            plate TEXT NOT NULL,
            offence TEXT NOT NULL,
            points INTEGER NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
            at TEXT NOT NULL,
            at_seconds INTEGER NOT NULL,
            officer TEXT NOT NULL,
            place TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'held'))
          ) STRICT;
          CREATE INDEX violations_event ON violations (licence, offence, plate, at_seconds);

          CREATE TABLE audit_entries (
            terminal TEXT NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            officer TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            result TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            record_id TEXT NOT NULL UNIQUE REFERENCES records (record_id),
            PRIMARY KEY (terminal, seq)
          ) STRICT, WITHOUT ROWID;
          """),
      Migration(
        version: 4, name: "issuer key ring",
        sql: """
          -- The authority's e-licence signing keys. Central holds the private keys here, as the
          -- simulated authority's signing service; only public keys leave it (change log).
          CREATE TABLE issuer_keys (
            kid TEXT PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 32 AND kid NOT GLOB '*[^A-Za-z0-9-]*'),
            public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
            private_key BLOB NOT NULL CHECK (length(private_key) = 32),
            valid_from TEXT NOT NULL,
            valid_until TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'revoked'))
          ) STRICT;
          CREATE UNIQUE INDEX issuer_keys_one_active ON issuer_keys (state) WHERE state = 'active';

          -- Every e-licence issued: what was signed, for whom, with which key.
          CREATE TABLE elicences (
            id INTEGER PRIMARY KEY,
            licence TEXT NOT NULL REFERENCES licences (number),
            epoch INTEGER NOT NULL CHECK (epoch >= 1),
            kid TEXT NOT NULL REFERENCES issuer_keys (kid),
            device_key BLOB NOT NULL CHECK (length(device_key) = 32),
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            issuer_part TEXT NOT NULL,
            disclosures TEXT NOT NULL
          ) STRICT;
          CREATE INDEX elicences_licence ON elicences (licence, epoch);
          """),
      Migration(
        version: 5, name: "holiday calendar and e-licence applications",
        sql: """
          CREATE TABLE calendar_days (
            date TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
            name TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE elicence_applications (
            id INTEGER PRIMARY KEY,
            licence TEXT NOT NULL REFERENCES licences (number),
            device_key BLOB NOT NULL CHECK (length(device_key) = 32),
            applied_at TEXT NOT NULL,
            ready_at TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'refused')),
            reason TEXT,
            elicence INTEGER REFERENCES elicences (id)
          ) STRICT;
          CREATE UNIQUE INDEX elicence_applications_one_pending ON elicence_applications (licence)
            WHERE state = 'pending';
          """),
      Migration(
        version: 6, name: "document numbers, terminal documents, bank deductions",
        sql: """
          -- The conflicts table again, with the kinds of penalty decisions and deductions.
          CREATE TABLE conflicts_v6 (
            id TEXT PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('duplicate_event', 'stale_status', 'superseded_epoch',
              'points_cross_12', 'clock_skew', 'revoked_terminal', 'void_after_deduction',
              'paid_before_deduction')),
            terminal TEXT NOT NULL,
            records TEXT NOT NULL,
            licence TEXT,
            detected_at TEXT NOT NULL,
            description TEXT NOT NULL,
            resolution TEXT NOT NULL
          ) STRICT;
          INSERT INTO conflicts_v6 SELECT * FROM conflicts;
          DROP TABLE conflicts;
          ALTER TABLE conflicts_v6 RENAME TO conflicts;

          -- Document serials allocated to terminals; ranges never overlap within a year.
          CREATE TABLE number_ranges (
            terminal TEXT NOT NULL REFERENCES terminals (id),
            region TEXT NOT NULL CHECK (length(region) = 6),
            year INTEGER NOT NULL,
            first INTEGER NOT NULL CHECK (first >= 1),
            last INTEGER NOT NULL CHECK (last >= first AND last <= 99999999),
            allocated_at TEXT NOT NULL,
            PRIMARY KEY (region, year, first)
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX number_ranges_terminal ON number_ranges (terminal);

          -- Decisions and notices terminals issued, as signed; a decision also has its row in
          -- decisions unless it is held as a duplicate.
          CREATE TABLE documents (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            terminal TEXT NOT NULL REFERENCES terminals (id),
            record_id TEXT NOT NULL UNIQUE REFERENCES records (record_id),
            kind TEXT NOT NULL CHECK (kind IN ('decision', 'notice')),
            licence TEXT NOT NULL REFERENCES licences (number),
            body TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('effective', 'held', 'voided')),
            at TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX documents_licence ON documents (licence);

          -- Each fine's bank deduction: the decision number is the idempotency key. An attempt
          -- is claimed (state requested, attempts + 1) and committed before the bank is called.
          CREATE TABLE deductions (
            decision TEXT PRIMARY KEY REFERENCES decisions (number),
            licence TEXT NOT NULL REFERENCES licences (number),
            bank TEXT NOT NULL,
            account TEXT NOT NULL,
            fine_fen INTEGER NOT NULL CHECK (fine_fen > 0),
            served_on TEXT NOT NULL,
            amount_fen INTEGER CHECK (amount_fen >= fine_fen AND amount_fen <= 2 * fine_fen),
            state TEXT NOT NULL CHECK (state IN ('pending', 'requested', 'settled', 'failed',
              'unknown', 'cancel_pending', 'cancelled', 'refund_pending', 'reversed')),
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            updated_at TEXT NOT NULL,
            settled_at TEXT,
            settled_day TEXT,
            reversed_at TEXT,
            reversed_day TEXT
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX deductions_open ON deductions (state)
            WHERE state IN ('pending', 'requested', 'unknown', 'cancel_pending', 'refund_pending');
          """, rebuildsTables: true),
      Migration(
        version: 7,
        name: "general-procedure decisions, compulsory-measure certificates, full-score education",
        sql: """
          -- Documents: terminals' decisions, notices and certificates, and central's own
          -- decisions of the general procedure (terminal and record_id NULL, signed by central).
          -- A notice decided at the unit is 'decided' and names the decision made on it.
          CREATE TABLE documents_v7 (
            number TEXT PRIMARY KEY CHECK (length(number) = 18),
            terminal TEXT REFERENCES terminals (id),
            record_id TEXT UNIQUE REFERENCES records (record_id),
            kind TEXT NOT NULL CHECK (kind IN ('decision', 'notice', 'certificate')),
            licence TEXT NOT NULL REFERENCES licences (number),
            body TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('effective', 'held', 'voided', 'decided')),
            at TEXT NOT NULL,
            decision TEXT REFERENCES decisions (number),
            signature TEXT,
            CHECK ((terminal IS NULL) = (record_id IS NULL)),
            CHECK ((terminal IS NULL) = (signature IS NOT NULL)),
            CHECK ((state = 'decided') = (decision IS NOT NULL)),
            CHECK (state <> 'decided' OR kind = 'notice')
          ) STRICT, WITHOUT ROWID;
          INSERT INTO documents_v7 (number, terminal, record_id, kind, licence, body, state, at)
            SELECT number, terminal, record_id, kind, licence, body, state, at FROM documents;
          DROP TABLE documents;
          ALTER TABLE documents_v7 RENAME TO documents;
          CREATE INDEX documents_licence ON documents (licence);
          CREATE INDEX documents_open_notices ON documents (at) WHERE kind = 'notice' AND state = 'effective';

          -- Full-score education (公安部令第163号 §17–§23): each exam taken, per cycle.
          CREATE TABLE full_score_educations (
            id INTEGER PRIMARY KEY,
            licence TEXT NOT NULL REFERENCES licences (number),
            cycle_start TEXT NOT NULL,
            reached_on TEXT NOT NULL,
            completed_on TEXT NOT NULL,
            exam TEXT NOT NULL CHECK (exam IN ('passed', 'failed')),
            recorded_at TEXT NOT NULL
          ) STRICT;
          CREATE INDEX full_score_educations_licence ON full_score_educations (licence);
          """, rebuildsTables: true),
      Migration(
        version: 8, name: "enrolment codes, request nonces, retired number ranges",
        sql: """
          -- One enrolment per terminal: the SHA-256 of its one-time code, never the code.
          CREATE TABLE enrolments (
            terminal TEXT PRIMARY KEY REFERENCES terminals (id),
            code_hash TEXT NOT NULL CHECK (length(code_hash) = 64),
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
          ) STRICT, WITHOUT ROWID;

          -- Nonces of signed requests seen within the time window (older ones are purged).
          CREATE TABLE request_nonces (
            terminal TEXT NOT NULL,
            nonce TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (terminal, nonce)
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX request_nonces_at ON request_nonces (at);

          -- A range of a terminal that was reset: kept (its numbers stay taken), not used.
          ALTER TABLE number_ranges ADD COLUMN retired_at TEXT;

          -- Need to know: terminals see a mandate's bank and the account's last four digits,
          -- never the account number (docs/security.md). Earlier entries are rewritten.
          UPDATE change_log SET payload = json_object(
              'accountTail', substr(json_extract(payload, '$.account'), -4),
              'authorisedOn', json_extract(payload, '$.authorisedOn'),
              'bank', json_extract(payload, '$.bank'),
              'licence', json_extract(payload, '$.licence'),
              'revokedOn', json_extract(payload, '$.revokedOn'))
            WHERE entity = 'mandate' AND json_extract(payload, '$.account') IS NOT NULL;
          """),
      Migration(
        version: 9,
        name:
          "officers checked at central: sessions, lockouts, forced PIN change, per-terminal log",
        sql: """
          -- A change-log entry meant for one terminal only (NULL: for every terminal).
          ALTER TABLE change_log ADD COLUMN audience TEXT;
          CREATE INDEX change_log_audience ON change_log (audience, seq) WHERE audience IS NOT NULL;
          UPDATE change_log SET audience = json_extract(payload, '$.terminal')
            WHERE entity = 'number_range';
          UPDATE change_log SET audience = key WHERE entity = 'terminal';
          -- Need to know: terminals no longer receive the PIN hash central keeps. Each gets a
          -- verifier bound to its id instead (appended when the store is next opened).
          -- Those entries also reached terminals of every unit: from now on they reach none
          -- (an audience no terminal has).
          UPDATE change_log SET payload = json_remove(payload, '$.pinHash'), audience = ''
            WHERE entity = 'officer';

          -- A PIN set by central or the fixtures is initial: it must be changed at first login.
          ALTER TABLE officers ADD COLUMN pin_must_change INTEGER NOT NULL DEFAULT 1
            CHECK (pin_must_change IN (0, 1));
          ALTER TABLE officers ADD COLUMN pin_set_at TEXT;
          -- Wrong PINs in a row across the fleet, as the audit chains report them.
          ALTER TABLE officers ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0
            CHECK (pin_failures >= 0);
          ALTER TABLE officers ADD COLUMN locked_at TEXT;
          ALTER TABLE officers ADD COLUMN locked_on TEXT;

          -- Which device of a terminal id: a reset starts a new device with a new audit chain.
          ALTER TABLE terminals ADD COLUMN device INTEGER NOT NULL DEFAULT 1 CHECK (device >= 1);

          -- Every PIN hash an officer had, by version (when it was set; '-' for the first):
          -- a login's proof names the version it was made with.
          CREATE TABLE officer_pins (
            officer TEXT NOT NULL REFERENCES officers (id),
            version TEXT NOT NULL,
            hash TEXT NOT NULL CHECK (hash GLOB 'pbkdf2-sha256$*'),
            PRIMARY KEY (officer, version)
          ) STRICT, WITHOUT ROWID;
          INSERT INTO officer_pins (officer, version, hash)
            SELECT id, '-', pin_hash FROM officers WHERE pin_hash IS NOT NULL;

          -- Wrong PINs in a row on each terminal's own chain, since its last good login or an
          -- unlock: a login after 5 of them, with no unlock, means a lockout was removed.
          CREATE TABLE terminal_pin_failures (
            terminal TEXT NOT NULL REFERENCES terminals (id),
            officer TEXT NOT NULL REFERENCES officers (id),
            failures INTEGER NOT NULL CHECK (failures >= 0),
            PRIMARY KEY (terminal, officer)
          ) STRICT, WITHOUT ROWID;

          -- Who is logged in on each terminal, according to the audit chain it pushed.
          CREATE TABLE terminal_sessions (
            terminal TEXT PRIMARY KEY REFERENCES terminals (id),
            officer TEXT NOT NULL REFERENCES officers (id),
            started_at TEXT NOT NULL,
            last_activity_at TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE audit_entries_v9 (
            terminal TEXT NOT NULL,
            device INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            officer TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            result TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            record_id TEXT NOT NULL UNIQUE REFERENCES records (record_id),
            proof TEXT,
            PRIMARY KEY (terminal, device, seq)
          ) STRICT, WITHOUT ROWID;
          -- The conflicts table again, with the kinds of officers central cannot place.
          CREATE TABLE conflicts_v9 (
            id TEXT PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('duplicate_event', 'stale_status', 'superseded_epoch',
              'points_cross_12', 'clock_skew', 'revoked_terminal', 'void_after_deduction',
              'paid_before_deduction', 'unknown_officer', 'lockout_bypassed')),
            terminal TEXT NOT NULL,
            records TEXT NOT NULL,
            licence TEXT,
            detected_at TEXT NOT NULL,
            description TEXT NOT NULL,
            resolution TEXT NOT NULL
          ) STRICT;
          INSERT INTO conflicts_v9 SELECT * FROM conflicts;
          DROP TABLE conflicts;
          ALTER TABLE conflicts_v9 RENAME TO conflicts;

          -- Rejected records are kept up to a limit per terminal (docs/security.md).
          CREATE INDEX records_rejected ON records (terminal) WHERE outcome = 'rejected';

          INSERT INTO audit_entries_v9
            SELECT terminal, 1, seq, at, officer, action, subject, result, previous_hash, hash,
              record_id, NULL FROM audit_entries;
          DROP TABLE audit_entries;
          ALTER TABLE audit_entries_v9 RENAME TO audit_entries;

          -- Sessions open when the store was upgraded, from the chains already pushed: each
          -- terminal's last good login, unless a logout followed it.
          INSERT INTO terminal_sessions (terminal, officer, started_at, last_activity_at)
            SELECT l.terminal, l.officer, l.at,
              (SELECT max(a.at) FROM audit_entries a
                WHERE a.terminal = l.terminal AND a.seq >= l.seq AND a.officer = l.officer)
            FROM audit_entries l
            WHERE l.action = 'login' AND l.result = 'ok'
              AND l.officer IN (SELECT id FROM officers)
              AND l.seq = (SELECT max(x.seq) FROM audit_entries x WHERE x.terminal = l.terminal
                AND (x.action = 'logout' OR (x.action = 'login' AND x.result = 'ok')));
          """, rebuildsTables: true),
      Migration(
        version: 10, name: "mandates found by licence",
        sql: """
          -- A licence's mandates (its dossier, the licence list, provisioning): without it
          -- each lookup scanned the table, and a world's build grew with the square of its
          -- size. The partial index serves only "WHERE revoked_on IS NULL".
          CREATE INDEX mandates_licence ON mandates (licence, id);
          """),
    ])
}
