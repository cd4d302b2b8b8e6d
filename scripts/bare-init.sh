#!/usr/bin/env bash
# The bare reference for `central init` (BENCHMARKS.md, "Building a world"): the same rows
# of a fixture directory inserted into SQLite with nothing else -- one table per file with
# the same primary keys and owner indexes, a row per line with its JSON parsed by SQLite's
# own C code, one transaction, synchronous=FULL in WAL as central's store. No validation,
# no change log, no points, no signatures, no phones: what central init does beyond this
# is what it is for.
#
#   scripts/bare-init.sh FIXTURE_DIR [DB]      prints the seconds the inserts took
set -euo pipefail
dir=${1:?usage: scripts/bare-init.sh FIXTURE_DIR [DB]}
db=${2:-$(mktemp -d)/bare.sqlite}
command -v sqlite3 >/dev/null || { echo "error: sqlite3 is not installed; apt-get install -y sqlite3" >&2; exit 69; }
rm -f "$db" "$db-wal" "$db-shm"
rs=$'\x1e'
start=$(date +%s.%N)
# Each line is one column: the separator is a byte that JSON text never holds.
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE raw_licences (doc TEXT);
CREATE TABLE raw_vehicles (doc TEXT);
CREATE TABLE raw_mandates (doc TEXT);
CREATE TABLE raw_decisions (doc TEXT);
.mode ascii
.separator "$rs" "\n"
.import '$dir/licences.jsonl' raw_licences
.import '$dir/vehicles.jsonl' raw_vehicles
.import '$dir/mandates.jsonl' raw_mandates
.import '$dir/decisions.jsonl' raw_decisions
BEGIN;
CREATE TABLE licences (number TEXT PRIMARY KEY, status TEXT, doc TEXT) STRICT;
CREATE INDEX licences_status ON licences (status);
INSERT INTO licences SELECT doc ->> 'number', doc ->> 'status', doc FROM raw_licences;
CREATE TABLE vehicles (plate TEXT PRIMARY KEY, owner TEXT REFERENCES licences, doc TEXT) STRICT;
CREATE INDEX vehicles_owner ON vehicles (owner);
INSERT INTO vehicles SELECT doc ->> 'plate', doc ->> 'owner', doc FROM raw_vehicles;
CREATE TABLE mandates (id INTEGER PRIMARY KEY, licence TEXT REFERENCES licences, doc TEXT) STRICT;
CREATE INDEX mandates_licence ON mandates (licence, id);
INSERT INTO mandates (licence, doc) SELECT doc ->> 'licence', doc FROM raw_mandates;
CREATE TABLE decisions (number TEXT PRIMARY KEY, licence TEXT REFERENCES licences, doc TEXT) STRICT;
CREATE INDEX decisions_licence ON decisions (licence);
INSERT INTO decisions SELECT doc ->> 'number', doc ->> 'licence', doc FROM raw_decisions;
DROP TABLE raw_licences; DROP TABLE raw_vehicles; DROP TABLE raw_mandates; DROP TABLE raw_decisions;
COMMIT;
SQL
end=$(date +%s.%N)
rows=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM licences) + (SELECT count(*) FROM vehicles) + (SELECT count(*) FROM mandates) + (SELECT count(*) FROM decisions)")
printf '%s rows in %.1f s (%s)\n' "$rows" "$(echo "$end - $start" | bc)" "$db"
