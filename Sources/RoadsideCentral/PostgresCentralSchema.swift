import Foundation

/// The central store's schema on PostgreSQL: the same tables, columns, keys and CHECKs as
/// the SQLite schema at its version 9 (``CentralSchema``), in PostgreSQL's words —
/// `BIGINT` for SQLite's integers (booleans stay 0 and 1), `BYTEA` for blobs, regular
/// expressions for `GLOB`, identity columns for rowids, and `COLLATE "C"` on text so that
/// `ORDER BY` sorts bytewise as SQLite does, whatever the server's locale. `records` has a
/// `rowid` column as SQLite's table has one: the order central stored them in, which the
/// simulation's invariants replay.
///
/// A PostgreSQL store is created at version 9 and brought to the latest by ``upgrades``,
/// each written for both engines with the same number as its SQLite migration; `open`
/// applies those a store lacks, under the schema lock, so that every node agrees.
enum PostgresCentralSchema {
  static let base = 9
  static let name = "central store (PostgreSQL), as SQLite schema 9"

  /// The migrations after ``base``, as SQLite's ``CentralSchema`` has them.
  static let upgrades: [(version: Int, name: String, statements: [String])] = [
    (10, "mandates found by licence", ["CREATE INDEX mandates_licence ON mandates (licence, id)"])
  ]

  static var version: Int { upgrades.last?.version ?? base }

  /// The statements, one by one (PostgreSQL's extended protocol runs one at a time).
  static var statements: [String] {
    ddl.components(separatedBy: ";\n").map {
      $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }.filter { !$0.isEmpty }
  }

  static let ddl = """
    CREATE TABLE store_meta (
      key TEXT COLLATE "C" PRIMARY KEY,
      value TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE licences (
      number TEXT COLLATE "C" PRIMARY KEY CHECK (length(number) = 18),
      file_number TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(file_number) = 12),
      name TEXT COLLATE "C" NOT NULL CHECK (length(name) > 0),
      gender TEXT COLLATE "C" NOT NULL CHECK (gender IN ('male', 'female')),
      birth_date TEXT COLLATE "C" NOT NULL,
      nationality TEXT COLLATE "C" NOT NULL,
      address TEXT COLLATE "C" NOT NULL,
      photo TEXT COLLATE "C",
      first_issued TEXT COLLATE "C" NOT NULL,
      classes TEXT COLLATE "C" NOT NULL CHECK (length(classes) > 0),
      validity_term TEXT COLLATE "C" NOT NULL CHECK (validity_term IN ('6y', '10y', 'long-term')),
      valid_from TEXT COLLATE "C" NOT NULL,
      valid_until TEXT COLLATE "C",
      authority_name TEXT COLLATE "C" NOT NULL,
      authority_code TEXT COLLATE "C" NOT NULL,
      status TEXT COLLATE "C" NOT NULL CHECK (length(status) > 0 AND status ~ '^[ABCDEFGHIJKMNPRSUZ]+$'),
      epoch BIGINT NOT NULL CHECK (epoch >= 1),
      suspended_until TEXT COLLATE "C",
      CHECK ((validity_term = 'long-term') = (valid_until IS NULL)),
      CHECK (valid_from >= first_issued)
    );
    CREATE INDEX licences_status ON licences (status);
    CREATE TABLE elicence_epochs (
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      epoch BIGINT NOT NULL CHECK (epoch >= 1),
      started_at TEXT COLLATE "C" NOT NULL,
      reason TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (licence, epoch)
    );
    CREATE TABLE vehicles (
      plate TEXT COLLATE "C" PRIMARY KEY,
      vehicle_class TEXT COLLATE "C" NOT NULL,
      owner TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      model TEXT COLLATE "C" NOT NULL,
      registered TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX vehicles_owner ON vehicles (owner);
    CREATE TABLE officers (
      id TEXT COLLATE "C" PRIMARY KEY CHECK (length(id) = 6 AND id ~ '^[0-9]+$'),
      name TEXT COLLATE "C" NOT NULL,
      unit TEXT COLLATE "C" NOT NULL
    , pin_hash TEXT COLLATE "C" CHECK (pin_hash IS NULL OR starts_with(pin_hash, 'pbkdf2-sha256$')), unlock_generation BIGINT NOT NULL DEFAULT 0, pin_must_change BIGINT NOT NULL DEFAULT 1
      CHECK (pin_must_change IN (0, 1)), pin_set_at TEXT COLLATE "C", pin_failures BIGINT NOT NULL DEFAULT 0
      CHECK (pin_failures >= 0), locked_at TEXT COLLATE "C", locked_on TEXT COLLATE "C");
    CREATE TABLE terminals (
      id TEXT COLLATE "C" PRIMARY KEY CHECK (id ~ '^T-.'),
      unit TEXT COLLATE "C" NOT NULL,
      status TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked'))
    , public_key BYTEA CHECK (public_key IS NULL OR octet_length(public_key) = 32), registered_at TEXT COLLATE "C", revoked_at TEXT COLLATE "C", device BIGINT NOT NULL DEFAULT 1 CHECK (device >= 1));
    CREATE TABLE offences (
      code TEXT COLLATE "C" PRIMARY KEY,
      catalogue_version TEXT COLLATE "C" NOT NULL,
      points BIGINT NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
      body TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE decisions (
      number TEXT COLLATE "C" PRIMARY KEY CHECK (length(number) = 18),
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      plate TEXT COLLATE "C",
      offence TEXT COLLATE "C" NOT NULL REFERENCES offences (code),
      decided_on TEXT COLLATE "C" NOT NULL,
      fine_fen BIGINT NOT NULL CHECK (fine_fen >= 0),
      points BIGINT NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
      paid BIGINT NOT NULL CHECK (paid IN (0, 1)),
      place TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL DEFAULT 'effective' CHECK (state IN ('effective', 'revoked'))
    );
    CREATE INDEX decisions_licence ON decisions (licence);
    CREATE TABLE points_entries (
      decision TEXT COLLATE "C" PRIMARY KEY REFERENCES decisions (number),
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      offence TEXT COLLATE "C" NOT NULL,
      points BIGINT NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
      decided_on TEXT COLLATE "C" NOT NULL,
      counts_in_cycle TEXT COLLATE "C" NOT NULL,
      fine_paid BIGINT NOT NULL CHECK (fine_paid IN (0, 1)),
      revoked BIGINT NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
      cleared BIGINT NOT NULL DEFAULT 0 CHECK (cleared IN (0, 1))
    );
    CREATE INDEX points_entries_licence ON points_entries (licence);
    CREATE TABLE points_reductions (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      date TEXT COLLATE "C" NOT NULL,
      points BIGINT NOT NULL CHECK (points BETWEEN 1 AND 6),
      cycle_start TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX points_reductions_licence ON points_reductions (licence);
    CREATE TABLE points_closed_cycles (
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      cycle_start TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (licence, cycle_start)
    );
    CREATE TABLE mandates (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      bank TEXT COLLATE "C" NOT NULL,
      account TEXT COLLATE "C" NOT NULL,
      authorised_on TEXT COLLATE "C" NOT NULL,
      revoked_on TEXT COLLATE "C"
    );
    CREATE UNIQUE INDEX mandates_one_active ON mandates (licence) WHERE revoked_on IS NULL;
    CREATE TABLE change_log (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at TEXT COLLATE "C" NOT NULL,
      entity TEXT COLLATE "C" NOT NULL,
      key TEXT COLLATE "C" NOT NULL,
      op TEXT COLLATE "C" NOT NULL CHECK (op IN ('upsert', 'delete')),
      action TEXT COLLATE "C" NOT NULL,
      reason TEXT COLLATE "C",
      payload TEXT COLLATE "C" NOT NULL
    , audience TEXT COLLATE "C");
    CREATE UNIQUE INDEX terminals_public_key ON terminals (public_key) WHERE public_key IS NOT NULL;
    CREATE INDEX change_log_entity_key ON change_log (entity, key, seq);
    CREATE TABLE conflicts (
      id TEXT COLLATE "C" PRIMARY KEY,
      number BIGINT NOT NULL UNIQUE,
      kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('duplicate_event', 'stale_status', 'superseded_epoch',
        'points_cross_12', 'clock_skew', 'revoked_terminal', 'void_after_deduction',
        'paid_before_deduction', 'unknown_officer', 'lockout_bypassed')),
      terminal TEXT COLLATE "C" NOT NULL,
      records TEXT COLLATE "C" NOT NULL,
      licence TEXT COLLATE "C",
      detected_at TEXT COLLATE "C" NOT NULL,
      description TEXT COLLATE "C" NOT NULL,
      resolution TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE records (
      record_id TEXT COLLATE "C" PRIMARY KEY,
      terminal TEXT COLLATE "C" NOT NULL REFERENCES terminals (id),
      terminal_seq BIGINT NOT NULL,
      kind TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      received_at TEXT COLLATE "C" NOT NULL,
      payload TEXT COLLATE "C" NOT NULL,
      outcome TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'conflict')),
      reason TEXT COLLATE "C",
      conflict TEXT COLLATE "C" REFERENCES conflicts (id),
      rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
    );
    CREATE INDEX records_terminal ON records (terminal, terminal_seq);
    CREATE TABLE violations (
      record_id TEXT COLLATE "C" PRIMARY KEY REFERENCES records (record_id),
      terminal TEXT COLLATE "C" NOT NULL,
      licence TEXT COLLATE "C" NOT NULL,
      plate TEXT COLLATE "C" NOT NULL,
      offence TEXT COLLATE "C" NOT NULL,
      points BIGINT NOT NULL CHECK (points IN (0, 1, 3, 6, 9, 12)),
      at TEXT COLLATE "C" NOT NULL,
      at_seconds BIGINT NOT NULL,
      officer TEXT COLLATE "C" NOT NULL,
      place TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'held'))
    );
    CREATE INDEX violations_event ON violations (licence, offence, plate, at_seconds);
    CREATE TABLE issuer_keys (
      kid TEXT COLLATE "C" PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 32 AND kid ~ '^[A-Za-z0-9-]+$'),
      public_key BYTEA NOT NULL UNIQUE CHECK (octet_length(public_key) = 32),
      private_key BYTEA NOT NULL CHECK (octet_length(private_key) = 32),
      valid_from TEXT COLLATE "C" NOT NULL,
      valid_until TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('active', 'retired', 'revoked'))
    );
    CREATE UNIQUE INDEX issuer_keys_one_active ON issuer_keys (state) WHERE state = 'active';
    CREATE TABLE elicences (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      epoch BIGINT NOT NULL CHECK (epoch >= 1),
      kid TEXT COLLATE "C" NOT NULL REFERENCES issuer_keys (kid),
      device_key BYTEA NOT NULL CHECK (octet_length(device_key) = 32),
      issued_at TEXT COLLATE "C" NOT NULL,
      expires_at TEXT COLLATE "C" NOT NULL,
      issuer_part TEXT COLLATE "C" NOT NULL,
      disclosures TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX elicences_licence ON elicences (licence, epoch);
    CREATE TABLE calendar_days (
      date TEXT COLLATE "C" PRIMARY KEY,
      kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('holiday', 'workday')),
      name TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE elicence_applications (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      device_key BYTEA NOT NULL CHECK (octet_length(device_key) = 32),
      applied_at TEXT COLLATE "C" NOT NULL,
      ready_at TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'issued', 'refused')),
      reason TEXT COLLATE "C",
      elicence BIGINT REFERENCES elicences (id)
    );
    CREATE UNIQUE INDEX elicence_applications_one_pending ON elicence_applications (licence)
      WHERE state = 'pending';
    CREATE TABLE number_ranges (
      terminal TEXT COLLATE "C" NOT NULL REFERENCES terminals (id),
      region TEXT COLLATE "C" NOT NULL CHECK (length(region) = 6),
      year BIGINT NOT NULL,
      first BIGINT NOT NULL CHECK (first >= 1),
      last BIGINT NOT NULL CHECK (last >= first AND last <= 99999999),
      allocated_at TEXT COLLATE "C" NOT NULL, retired_at TEXT COLLATE "C",
      PRIMARY KEY (region, year, first)
    );
    CREATE INDEX number_ranges_terminal ON number_ranges (terminal);
    CREATE TABLE deductions (
      decision TEXT COLLATE "C" PRIMARY KEY REFERENCES decisions (number),
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      bank TEXT COLLATE "C" NOT NULL,
      account TEXT COLLATE "C" NOT NULL,
      fine_fen BIGINT NOT NULL CHECK (fine_fen > 0),
      served_on TEXT COLLATE "C" NOT NULL,
      amount_fen BIGINT CHECK (amount_fen >= fine_fen AND amount_fen <= 2 * fine_fen),
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'requested', 'settled', 'failed',
        'unknown', 'cancel_pending', 'cancelled', 'refund_pending', 'reversed')),
      reason TEXT COLLATE "C",
      attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      updated_at TEXT COLLATE "C" NOT NULL,
      settled_at TEXT COLLATE "C",
      settled_day TEXT COLLATE "C",
      reversed_at TEXT COLLATE "C",
      reversed_day TEXT COLLATE "C"
    );
    CREATE INDEX deductions_open ON deductions (state)
      WHERE state IN ('pending', 'requested', 'unknown', 'cancel_pending', 'refund_pending');
    CREATE TABLE documents (
      number TEXT COLLATE "C" PRIMARY KEY CHECK (length(number) = 18),
      terminal TEXT COLLATE "C" REFERENCES terminals (id),
      record_id TEXT COLLATE "C" UNIQUE REFERENCES records (record_id),
      kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('decision', 'notice', 'certificate')),
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      body TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('effective', 'held', 'voided', 'decided')),
      at TEXT COLLATE "C" NOT NULL,
      decision TEXT COLLATE "C" REFERENCES decisions (number),
      signature TEXT COLLATE "C",
      CHECK ((terminal IS NULL) = (record_id IS NULL)),
      CHECK ((terminal IS NULL) = (signature IS NOT NULL)),
      CHECK ((state = 'decided') = (decision IS NOT NULL)),
      CHECK (state <> 'decided' OR kind = 'notice')
    );
    CREATE INDEX documents_licence ON documents (licence);
    CREATE INDEX documents_open_notices ON documents (at) WHERE kind = 'notice' AND state = 'effective';
    CREATE TABLE full_score_educations (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      licence TEXT COLLATE "C" NOT NULL REFERENCES licences (number),
      cycle_start TEXT COLLATE "C" NOT NULL,
      reached_on TEXT COLLATE "C" NOT NULL,
      completed_on TEXT COLLATE "C" NOT NULL,
      exam TEXT COLLATE "C" NOT NULL CHECK (exam IN ('passed', 'failed')),
      recorded_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX full_score_educations_licence ON full_score_educations (licence);
    CREATE TABLE enrolments (
      terminal TEXT COLLATE "C" PRIMARY KEY REFERENCES terminals (id),
      code_hash TEXT COLLATE "C" NOT NULL CHECK (length(code_hash) = 64),
      issued_at TEXT COLLATE "C" NOT NULL,
      expires_at TEXT COLLATE "C" NOT NULL,
      used_at TEXT COLLATE "C"
    );
    CREATE TABLE request_nonces (
      terminal TEXT COLLATE "C" NOT NULL,
      nonce TEXT COLLATE "C" NOT NULL,
      at TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (terminal, nonce)
    );
    CREATE INDEX request_nonces_at ON request_nonces (at);
    CREATE INDEX change_log_audience ON change_log (audience, seq) WHERE audience IS NOT NULL;
    CREATE TABLE officer_pins (
      officer TEXT COLLATE "C" NOT NULL REFERENCES officers (id),
      version TEXT COLLATE "C" NOT NULL,
      hash TEXT COLLATE "C" NOT NULL CHECK (starts_with(hash, 'pbkdf2-sha256$')),
      PRIMARY KEY (officer, version)
    );
    CREATE TABLE terminal_pin_failures (
      terminal TEXT COLLATE "C" NOT NULL REFERENCES terminals (id),
      officer TEXT COLLATE "C" NOT NULL REFERENCES officers (id),
      failures BIGINT NOT NULL CHECK (failures >= 0),
      PRIMARY KEY (terminal, officer)
    );
    CREATE TABLE terminal_sessions (
      terminal TEXT COLLATE "C" PRIMARY KEY REFERENCES terminals (id),
      officer TEXT COLLATE "C" NOT NULL REFERENCES officers (id),
      started_at TEXT COLLATE "C" NOT NULL,
      last_activity_at TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE audit_entries (
      terminal TEXT COLLATE "C" NOT NULL,
      device BIGINT NOT NULL,
      seq BIGINT NOT NULL,
      at TEXT COLLATE "C" NOT NULL,
      officer TEXT COLLATE "C" NOT NULL,
      action TEXT COLLATE "C" NOT NULL,
      subject TEXT COLLATE "C" NOT NULL,
      result TEXT COLLATE "C" NOT NULL,
      previous_hash TEXT COLLATE "C" NOT NULL,
      hash TEXT COLLATE "C" NOT NULL,
      record_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES records (record_id),
      proof TEXT COLLATE "C",
      PRIMARY KEY (terminal, device, seq)
    );
    CREATE INDEX records_rejected ON records (terminal) WHERE outcome = 'rejected';
    """
}
