"""MariaDB (10.11; MySQL 8 where the same SQL serves, untested) through PyMySQL: connecting,
the catalog, the fixture text of each type, dumping rows, staged loading, verification and
database copies. Only this package imports pymysql (an import-linter contract checks it).

Modules, in the order an export and an import use them:

- `connection`: `mysql://`, `mariadb://` and `+pymysql` URLs (`?unix_socket=`), a session in
  UTC with a strict sql_mode, the export's `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ
  ONLY`, and a `Session` whose tracer sees every statement.
- `catalog`: base tables, columns (full COLUMN_TYPE), keys, foreign keys, AUTO_INCREMENT
  columns (as `Sequence` records named `<table>.auto_increment`, and `identity="d"`), triggers.
- `values`: the fixture text of each type (see its docstring for the rules).
- `dump`: a table's rows, all or by key, in primary-key order, as fixture lines.
- `staging`: files into temporary tables `LIKE` their targets (LOAD DATA LOCAL INFILE, or
  batched INSERTs), damaged values named by file, line and column.
- `load`: one transaction, parents first, cycles with FOREIGN_KEY_CHECKS=0 then checked,
  rows already present skipped, triggers reported, AUTO_INCREMENT moved after COMMIT.
- `verify`: fixture rows present and unchanged, orphans per relation.
- `clone`: a copy of a database (with or without rows) and its removal, for tests.
- `row_source` (with `row_queries`): `MariaDBRows`, the selection's row questions.
- `adapter`: `ENGINE`, the `core.engine.Engine` the commands use.

What a user can do about triggers. MariaDB cannot switch triggers off, so a load into tables
with triggers runs them: a BEFORE INSERT trigger may rewrite a value (`SET NEW.created =
NOW()`), an AFTER INSERT trigger may add rows to another table. The load then reports, per
table and column, how many loaded rows no longer hold the fixture's value, and how many rows
appeared beyond those it inserted; `LoadReport.faithful` is False. To get the fixture's rows
exactly: drop the triggers in the test database before the load and re-create them after (a
per-test copy made with `clone_database` keeps them), or write them to leave explicit values
alone (`IF NEW.created IS NULL THEN SET NEW.created = NOW(); END IF`).

AUTO_INCREMENT. `ALTER TABLE ... AUTO_INCREMENT` is DDL, which commits implicitly, so the
counters are moved only after the load's COMMIT. If the process dies in between, the rows are
loaded and InnoDB has already moved every counter past the values inserted explicitly; only a
counter set lower by hand stays behind, and running the same load again (it then inserts
nothing) moves it.
"""
