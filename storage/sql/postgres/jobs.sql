-- The PHP app's jobs table on PostgreSQL: the statements the bridge runs as a database queue broker.
--
-- {{table}} is the table name (the app's prefix included), checked to hold only letters, digits and _
-- before it is put in. Parameters are numbered ($1, $2, …); {{ids}} becomes one more per row id,
-- numbered after the statement's own ($2::bigint, $3::bigint, …), and every single id is compared as
-- bigint too, so an id past the column's int4 finds nothing instead of failing. {{lock}} is
-- "FOR UPDATE SKIP LOCKED" (PostgreSQL >= 9.5, as Laravel's getLockForPopping) or plain "FOR UPDATE".
-- Every "now" is the caller's clock as Unix seconds (never NOW() or EXTRACT(EPOCH …)). attempts is
-- smallint (Laravel) or integer (think-queue 3.x) here, but every increment is capped at 255 as on
-- MySQL's TINYINT UNSIGNED, so the same job gives up at the same count on every database.

-- name: JobsV1Insert
-- think\queue\connector\Database::pushToDatabase (think-queue 1.x/2.x): attempts 0, reserved 0,
-- reserved_at NULL, available_at = now + delay, created_at = now. PostgreSQL has no LastInsertId: the
-- new id comes back with RETURNING.
-- Params: queue, payload, attempts, available_at, created_at.
INSERT INTO "{{table}}" ("queue", "payload", "attempts", "reserved", "reserved_at", "available_at", "created_at")
VALUES ($1, $2, $3, 0, NULL, $4, $5) RETURNING "id"

-- name: JobsV1Recover
-- think-queue 1.x/2.x pop(), step 1 (releaseJobsThatHaveBeenReservedTooLong): expired reservations go
-- back with attempts + 1. The bridge runs it inside the reserve transaction.
-- Params: queue, now - expire.
UPDATE "{{table}}" SET "reserved" = 0, "reserved_at" = NULL, "attempts" = LEAST("attempts" + 1, 255)
WHERE "queue" = $1 AND "reserved" = 1 AND "reserved_at" <= $2

-- name: JobsV1ReserveSelect
-- think-queue 1.x/2.x getNextAvailableJob, n rows at a time.
-- Params: queue, now, n.
SELECT "id", "payload", "attempts" FROM "{{table}}"
WHERE "queue" = $1 AND "reserved" = 0 AND "available_at" <= $2
ORDER BY "id" ASC LIMIT $3 {{lock}}

-- name: JobsV1ReserveUpdate
-- think-queue 1.x/2.x markJobAsReserved: attempts is not touched.
-- Params: now, ids….
UPDATE "{{table}}" SET "reserved" = 1, "reserved_at" = $1 WHERE "id" IN ({{ids}})

-- name: JobsV1HandBack
-- Undo a reservation: the row as it was before it.
-- Params: id.
UPDATE "{{table}}" SET "reserved" = 0, "reserved_at" = NULL WHERE "id" = CAST($1 AS bigint) AND "reserved" = 1

-- name: JobsV1Extend
-- Move the reservation time so the reservation lapses later.
-- Params: reserved_at, id.
UPDATE "{{table}}" SET "reserved_at" = $1 WHERE "id" = CAST($2 AS bigint) AND "reserved" = 1

-- name: JobsV1Held
-- Whether the row is still reserved.
-- Params: id.
SELECT COUNT(*) FROM "{{table}}" WHERE "id" = CAST($1 AS bigint) AND "reserved" = 1

-- name: JobsV3Insert
-- think\queue\connector\Database::pushToDatabase (think-queue 3.0.3–3.0.9): queue, attempts = 0,
-- reserve_time = NULL, available_time = now + delay, create_time = now, payload; the id by RETURNING.
-- Params: queue, attempts, available_time, create_time, payload.
INSERT INTO "{{table}}" ("queue", "attempts", "reserve_time", "available_time", "create_time", "payload")
VALUES ($1, $2, NULL, $3, $4, $5) RETURNING "id"

-- name: JobsV3ReserveSelect
-- think-queue 3.x getNextAvailableJob: waiting and available, or reserved and expired; n rows at a time.
-- Params: queue, now, now - expire (-1 when reservations never lapse), n.
SELECT "id", "payload", "attempts" FROM "{{table}}"
WHERE "queue" = $1 AND (("reserve_time" IS NULL AND "available_time" <= $2) OR "reserve_time" <= $3)
ORDER BY "id" ASC LIMIT $4 {{lock}}

-- name: JobsV3ReserveUpdate
-- think-queue 3.x markJobAsReserved: reserve_time = now, attempts + 1 (capped at 255).
-- Params: now, ids….
UPDATE "{{table}}" SET "reserve_time" = $1, "attempts" = LEAST("attempts" + 1, 255) WHERE "id" IN ({{ids}})

-- name: JobsV3HandBack
-- Undo a reservation: reserve_time NULL, the reservation's attempt taken back.
-- Params: id.
UPDATE "{{table}}" SET "reserve_time" = NULL, "attempts" = GREATEST("attempts" - 1, 0)
WHERE "id" = CAST($1 AS bigint) AND "reserve_time" IS NOT NULL

-- name: JobsV3Extend
-- Params: reserve_time, id.
UPDATE "{{table}}" SET "reserve_time" = $1 WHERE "id" = CAST($2 AS bigint) AND "reserve_time" IS NOT NULL

-- name: JobsV3Held
-- Params: id.
SELECT COUNT(*) FROM "{{table}}" WHERE "id" = CAST($1 AS bigint) AND "reserve_time" IS NOT NULL

-- name: JobsLaravelInsert
-- Illuminate\Queue\DatabaseQueue::pushToDatabase (Laravel 8–12): PostgresProcessor::processInsertGetId
-- sends "insert … returning "id"" as here.
-- Params: queue, attempts, available_at, created_at, payload.
INSERT INTO "{{table}}" ("queue", "attempts", "reserved_at", "available_at", "created_at", "payload")
VALUES ($1, $2, NULL, $3, $4, $5) RETURNING "id"

-- name: JobsLaravelReserveSelect
-- DatabaseQueue::getNextAvailableJob (isAvailable or isReservedButExpired), n rows at a time.
-- Params: queue, now, now - retry_after (-1 when reservations never lapse), n.
SELECT "id", "payload", "attempts" FROM "{{table}}"
WHERE "queue" = $1 AND (("reserved_at" IS NULL AND "available_at" <= $2) OR "reserved_at" <= $3)
ORDER BY "id" ASC LIMIT $4 {{lock}}

-- name: JobsLaravelReserveUpdate
-- DatabaseQueue::markJobAsReserved: reserved_at = now, attempts + 1 (capped at 255).
-- Params: now, ids….
UPDATE "{{table}}" SET "reserved_at" = $1, "attempts" = LEAST("attempts" + 1, 255) WHERE "id" IN ({{ids}})

-- name: JobsLaravelHandBack
-- Params: id.
UPDATE "{{table}}" SET "reserved_at" = NULL, "attempts" = GREATEST("attempts" - 1, 0)
WHERE "id" = CAST($1 AS bigint) AND "reserved_at" IS NOT NULL

-- name: JobsLaravelExtend
-- Params: reserved_at, id.
UPDATE "{{table}}" SET "reserved_at" = $1 WHERE "id" = CAST($2 AS bigint) AND "reserved_at" IS NOT NULL

-- name: JobsLaravelHeld
-- Params: id.
SELECT COUNT(*) FROM "{{table}}" WHERE "id" = CAST($1 AS bigint) AND "reserved_at" IS NOT NULL

-- name: JobsDelete
-- Acknowledge finished jobs of one queue by id.
-- Params: queue, ids….
DELETE FROM "{{table}}" WHERE "queue" = $1 AND "id" IN ({{ids}})

-- name: JobsDeleteID
-- Release's and Fail's delete of the reserved row.
-- Params: id.
DELETE FROM "{{table}}" WHERE "id" = CAST($1 AS bigint)

-- name: JobsSize
-- size(): every row of the queue, reserved and delayed ones included.
-- Params: queue.
SELECT COUNT(*) FROM "{{table}}" WHERE "queue" = $1

-- name: ServerVersion
-- Read once at open: whether the server has SKIP LOCKED (server_version_num >= 90500).
SHOW server_version_num
