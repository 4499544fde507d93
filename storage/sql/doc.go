// Package sql is QueueBridge's storage on SQL databases. So far it holds the failed-job store: the PHP
// app's own failed_jobs table on MySQL / MariaDB (github.com/go-sql-driver/mysql) or SQLite
// (modernc.org/sqlite, pure Go), written and read the way Laravel's and think-queue's failed providers do,
// so `php artisan queue:failed` / `php think queue:failed`, retry, forget and flush see the bridge's rows,
// and the bridge sees PHP's.
//
// It also holds [Broker], a database queue on the app's jobs table ([JobsThinkQueueV1], [JobsThinkQueueV3],
// [JobsLaravel]): pushes, reservations, releases and deletes change the rows as the PHP library's database
// driver does, so PHP workers and the bridge share one queue. Reserve takes up to n rows in one
// transaction (FOR UPDATE SKIP LOCKED where the server has it, BEGIN IMMEDIATE on SQLite) and reruns it on
// deadlocks, lock wait timeouts and SQLITE_BUSY.
//
// PostgreSQL (postgres://…) goes through pgx's database/sql driver. Its statements are in postgres/
// ($1… placeholders, INSERT … RETURNING "id", FOR UPDATE SKIP LOCKED from 9.5, retries on SQLSTATE 40001,
// 40P01 and 55P03), its DDL is Laravel 8.83's PostgresGrammar output and think-migration 3.1.1's phinx
// PostgresAdapter output as derived from their code (no PostgreSQL fixture was captured), and its text
// columns take only valid UTF-8 without NUL bytes (ErrNotUTF8, ErrNULByte).
//
// The package is named sql after its folder; it imports database/sql as dbsql.
//
// # Opening a store
//
//	store, err := sql.OpenFailedStore(ctx, "mysql://app:secret@127.0.0.1:3306/shop", sql.SchemaLaravel, "")
//	…
//	defer store.Close()
//	err = store.Insert(ctx, queue.FailedJob{ID: uuid, Connection: "redis", Queue: "default",
//		Payload: raw, Exception: text, FailedAt: clock.Now()})
//
// The table name defaults to failed_jobs ([DefaultFailedTable]); pass the app's prefixed name yourself
// ("tp_failed_jobs"). It may hold letters, digits and _ only. See [OpenFailedStore] for the DSN forms
// (mysql://…, mysql:<go-sql-driver DSN>, sqlite:<path>) and the connection settings the store applies.
//
// # Schemas
//
// [SchemaLaravel] is the table of Laravel 8–12's database-uuids driver (DatabaseUuidFailedJobProvider):
//
//	id bigint unsigned AI PK, uuid varchar(255) UNIQUE (<table>_uuid_unique), connection text,
//	queue text, payload longtext, exception longtext, failed_at timestamp DEFAULT CURRENT_TIMESTAMP
//
// A failed job is known by its uuid: Insert stores queue.FailedJob.ID as uuid, and Failed, FailedJob and
// Forget use it. Apps made before Laravel 8 (the legacy "database" driver, no uuid column) are not
// supported.
//
// [SchemaThinkQueue] is think-queue 3.0.3–3.0.9's table (failed.type = database), as think-migration
// creates it:
//
//	id int unsigned AI PK, connection text NULL, queue text NULL, payload longtext NULL,
//	exception longtext NULL, fail_time timestamp NULL DEFAULT CURRENT_TIMESTAMP
//
// There is no uuid: the row id, as decimal text, is the failed job's ID, and Insert does not store
// queue.FailedJob.ID. (3.0.0–3.0.2 named the column failed_at; 3.0.3 never filled it, leaving NULL, which
// reads as a zero FailedAt.)
//
// # Bytes and times
//
// Payloads are stored and read back byte for byte (text bound as text, as PDO binds PHP strings).
// MySQL's utf8mb4 columns take only valid UTF-8, so there Insert refuses other bytes with [ErrNotUTF8]
// rather than have the server mangle them; SQLite keeps any bytes.
//
// failed_at / fail_time hold 'Y-m-d H:i:s' text without a zone, which the caller's clock provides
// (queue.FailedJob.FailedAt is required): no statement reads the database's clock. Laravel writes it in
// app.timezone (UTC in the skeleton), think-queue in ThinkPHP's default_timezone; the DSN parameter loc
// names that zone (see [OpenFailedStore]). On MySQL a TIMESTAMP column is converted by the session time
// zone on the way in and out, for PHP and the bridge alike; the store leaves time_zone as the server sets
// it, as PHP's default connections do.
//
// # Migrations
//
// The PHP app owns failed_jobs. [FailedStore.Migrate] returns, and runs only when asked, the exact
// CREATE TABLE the PHP library ships for the database: Laravel 8.83's failed_jobs stub as its MySQL and
// SQLite grammars send it, and think-queue 3.0.9's stub as think-migration 3.1.1 sends it. On MariaDB 10.11
// the resulting tables match `SHOW CREATE TABLE` of the captured fixtures exactly.
//
// # SQL files
//
// Every statement is a named query in an embedded file under mysql/ or sqlite/ (failed_jobs.sql for the
// store, failed_jobs_ddl.sql for Migrate); the table name is the only text put into one, after
// validation.
//
// # Stability
//
// The package is young: names other than the failed-store method set (Failed, FailedJob, Forget, Flush,
// shared with storage/redis) may change before the SQL broker lands next to it.
package sql
