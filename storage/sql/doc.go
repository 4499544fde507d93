// Package sql is QueueBridge's storage on SQL databases: a PHP app's jobs table used as a queue
// ([Broker]) and its failed_jobs table used as the failed-job store ([FailedStore]), on MySQL / MariaDB
// (github.com/go-sql-driver/mysql), SQLite (modernc.org/sqlite, pure Go) and PostgreSQL (pgx's
// database/sql driver). Pushes, reservations, releases and deletes change the rows as the PHP library's
// database driver does, so PHP workers and the bridge share one queue; failed rows are the ones the
// app's own queue:failed, retry, forget and flush work on, and the other way round.
//
// The package is named sql after its folder; it imports database/sql as dbsql.
//
// # Opening
//
// [Open] makes one pool per database; the broker and the failed store on it share it, and a failed
// store in another database (--failed-database) is a second [DB]:
//
//	db, err := sql.Open(ctx, "mysql://app:secret@127.0.0.1:3306/shop", nil)
//	…
//	defer db.Close()
//	failed, err := db.Failed(laravel.FailedTable(), "")
//	jobs, err := db.Jobs(ctx, laravel.JobsTable(), "", &sql.JobsConfig{Failed: failed})
//
// Open bounds the connection and its first query (the URL's timeout / connect_timeout, 10 s by default)
// and never repeats a password in an error. A missing SQLite file is an error unless [Options.Create]
// asks for it, so a typo does not leave an empty database behind. [DB.Jobs] checks that the table is
// there with the layout's columns: a missing table is [ErrNoTable], not an error every poll.
//
// # Layouts
//
// Which columns a table has and how attempts are counted is plain data from the PHP library's compat
// package ([jobstable.Jobs], [jobstable.Failed]: thinkqueue.V1.JobsTable(), laravel.FailedTable(), …);
// this package applies it without knowing which library it is. The statements are written per database
// by one description per driver (quoting, placeholders, INSERT … RETURNING, lock clause, the SKIP LOCKED
// version rule, which errors are retried); the table and column names are the only text put into one,
// after validation (letters, digits and _), and every value, "now" included, is a parameter.
//
// Reserve takes up to n rows in one transaction (FOR UPDATE SKIP LOCKED where the server has it, BEGIN
// IMMEDIATE on SQLite) and reruns it on deadlocks, lock wait timeouts, serialization failures and
// SQLITE_BUSY. [Broker.Sizes], [Broker.List] and [Broker.Queues] look into a queue without reserving.
//
// # Bytes and times
//
// Payloads are stored and read back byte for byte (text bound as text, as PDO binds PHP strings).
// MySQL's utf8mb4 and PostgreSQL's UTF8 columns take only valid UTF-8, and PostgreSQL's no NUL byte: there
// inserts refuse other bytes with [ErrNotUTF8] / [ErrNULByte] rather than have the server mangle them;
// SQLite keeps any bytes.
//
// Job times are Unix seconds from the injected clock. failed_at / fail_time hold 'Y-m-d H:i:s' text
// without a zone, which the caller's clock provides (queue.FailedJob.FailedAt is required): no statement
// reads the database's clock. Laravel writes it in app.timezone (UTC in the skeleton), think-queue in
// ThinkPHP's default_timezone; the DSN parameter loc names that zone (see [DB.Failed]). On MySQL a
// TIMESTAMP column is converted by the session time zone on the way in and out, for PHP and the bridge
// alike; the pool leaves time_zone as the server sets it, as PHP's default connections do.
//
// # Migrations
//
// The PHP app owns its tables. [DB.MigrateJobs] and [DB.MigrateFailed] return, and run only when asked,
// the exact CREATE TABLE the PHP library ships for the database (Laravel 8.83's stubs through its
// grammars, think-queue 3.0.9's through think-migration 3.1.1, think-queue 1.x's README table); on
// MariaDB 10.11 the resulting tables match `SHOW CREATE TABLE` of the captured fixtures exactly. They are
// idempotent: a table that exists is reported ([Migration.Existed]) and left as it is. The DDL is in
// embedded files under mysql/, sqlite/ and postgres/, named after the layouts' Migration.
//
// PostgreSQL's DDL is Laravel 8.83's PostgresGrammar output and think-migration 3.1.1's phinx
// PostgresAdapter output as derived from their code (no PostgreSQL fixture was captured).
package sql
