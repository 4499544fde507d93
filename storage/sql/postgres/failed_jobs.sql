-- The PHP app's failed_jobs table on PostgreSQL: the statements the bridge runs as a failed-job store.
--
-- {{table}} is the table name (the app's prefix included), checked to hold only letters, digits and _
-- before it is put in. Every value is a parameter ($1, $2, …); text is bound as text, as PDO binds PHP
-- strings. failed_at / fail_time ("timestamp without time zone") travel as 'Y-m-d H:i:s' text both ways:
-- the caller's clock decides "now" (never NOW() or CURRENT_TIMESTAMP here), and no session time zone
-- converts them. They are read back through CAST(... AS TEXT), as PDO reads them (the store's
-- connections use DateStyle ISO). think-queue's integer id is compared as bigint, so an id past int4
-- finds nothing instead of failing.

-- name: LaravelInsert
-- Illuminate\Queue\Failed\DatabaseUuidFailedJobProvider::log (Laravel 8.83–12): uuid is the payload's
-- uuid, failed_at is Date::now() formatted by PostgresGrammar ('Y-m-d H:i:s').
-- Params: uuid, connection, queue, payload, exception, failed_at.
INSERT INTO "{{table}}" ("uuid", "connection", "queue", "payload", "exception", "failed_at")
VALUES ($1, $2, $3, $4, $5, $6)

-- name: LaravelList
-- DatabaseUuidFailedJobProvider::all orders by id DESC; the bridge's stores list oldest first.
SELECT "id", "uuid", "connection", "queue", "payload", "exception", CAST("failed_at" AS TEXT)
FROM "{{table}}"
ORDER BY "id" ASC

-- name: LaravelFind
-- DatabaseUuidFailedJobProvider::find: where uuid = ? first(). uuid is UNIQUE.
-- Params: uuid.
SELECT "id", "uuid", "connection", "queue", "payload", "exception", CAST("failed_at" AS TEXT)
FROM "{{table}}"
WHERE "uuid" = $1
LIMIT 1

-- name: LaravelForget
-- DatabaseUuidFailedJobProvider::forget (queue:forget, and queue:retry after the push).
-- Params: uuid.
DELETE FROM "{{table}}" WHERE "uuid" = $1

-- name: ThinkQueueInsert
-- think\queue\failed\Database::log (think-queue 3.0.4–3.0.9): connection, queue, payload, exception,
-- fail_time = Carbon::now() in the app's time zone as 'Y-m-d H:i:s'. id is the table's.
-- Params: connection, queue, payload, exception, fail_time.
INSERT INTO "{{table}}" ("connection", "queue", "payload", "exception", "fail_time")
VALUES ($1, $2, $3, $4, $5)

-- name: ThinkQueueList
-- think\queue\failed\Database::all orders by id DESC; the bridge's stores list oldest first. uuid is
-- selected as NULL so both schemas scan alike. Every column but id is NULL-able in this table.
SELECT "id", NULL AS "uuid", "connection", "queue", "payload", "exception", CAST("fail_time" AS TEXT)
FROM "{{table}}"
ORDER BY "id" ASC

-- name: ThinkQueueFind
-- think\queue\failed\Database::find: by primary key.
-- Params: id.
SELECT "id", NULL AS "uuid", "connection", "queue", "payload", "exception", CAST("fail_time" AS TEXT)
FROM "{{table}}"
WHERE "id" = CAST($1 AS bigint)

-- name: ThinkQueueForget
-- think\queue\failed\Database::forget (queue:forget, and queue:retry after the push).
-- Params: id.
DELETE FROM "{{table}}" WHERE "id" = CAST($1 AS bigint)

-- name: Flush
-- queue:flush in both libraries: delete every row.
DELETE FROM "{{table}}"

-- name: TableExists
-- Whether the table is in the connection's current schema (the first of search_path); Migrate refuses
-- to create it twice.
-- Params: table name.
SELECT COUNT(*) FROM "information_schema"."tables"
WHERE "table_schema" = current_schema() AND "table_name" = $1
