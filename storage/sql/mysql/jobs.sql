-- The PHP app's jobs table on MySQL / MariaDB: the statements the bridge runs as a database queue broker.
--
-- {{table}} is the table name (the app's prefix included), checked to hold only letters, digits and _
-- before it is put in. {{ids}} is a list of "?" placeholders, one per row id, and {{lock}} is
-- "FOR UPDATE SKIP LOCKED" (MySQL >= 8.0.1, MariaDB >= 10.6) or the library's plain "FOR UPDATE". Every
-- value is a parameter: every "now" is the caller's clock as Unix seconds (never UNIX_TIMESTAMP()).
-- attempts is TINYINT UNSIGNED: every increment is capped at 255 (LEAST), so a poison job never makes
-- the reservation UPDATE fail in strict mode and wedge the queue (think-queue #97, Laravel #24636).

-- name: JobsV1Insert
-- think\queue\connector\Database::pushToDatabase (think-queue 1.x/2.x): attempts 0, reserved 0,
-- reserved_at NULL, available_at = now + delay, created_at = now.
-- Params: queue, payload, attempts, available_at, created_at.
INSERT INTO `{{table}}` (`queue`, `payload`, `attempts`, `reserved`, `reserved_at`, `available_at`, `created_at`)
VALUES (?, ?, ?, 0, NULL, ?, ?)

-- name: JobsV1Recover
-- think-queue 1.x/2.x pop(), step 1 (releaseJobsThatHaveBeenReservedTooLong): expired reservations go
-- back with attempts + 1. The bridge runs it inside the reserve transaction.
-- Params: queue, now - expire.
UPDATE `{{table}}` SET `reserved` = 0, `reserved_at` = NULL, `attempts` = LEAST(`attempts` + 1, 255)
WHERE `queue` = ? AND `reserved` = 1 AND `reserved_at` <= ?

-- name: JobsV1ReserveSelect
-- think-queue 1.x/2.x getNextAvailableJob, n rows at a time.
-- Params: queue, now, n.
SELECT `id`, `payload`, `attempts` FROM `{{table}}`
WHERE `queue` = ? AND `reserved` = 0 AND `available_at` <= ?
ORDER BY `id` ASC LIMIT ? {{lock}}

-- name: JobsV1ReserveUpdate
-- think-queue 1.x/2.x markJobAsReserved: attempts is not touched.
-- Params: now, ids….
UPDATE `{{table}}` SET `reserved` = 1, `reserved_at` = ? WHERE `id` IN ({{ids}})

-- name: JobsV1HandBack
-- Undo a reservation: the row as it was before it.
-- Params: id.
UPDATE `{{table}}` SET `reserved` = 0, `reserved_at` = NULL WHERE `id` = ? AND `reserved` = 1

-- name: JobsV1Extend
-- Move the reservation time so the reservation lapses later.
-- Params: reserved_at, id.
UPDATE `{{table}}` SET `reserved_at` = ? WHERE `id` = ? AND `reserved` = 1

-- name: JobsV1Held
-- Whether the row is still reserved.
-- Params: id.
SELECT COUNT(*) FROM `{{table}}` WHERE `id` = ? AND `reserved` = 1

-- name: JobsV3Insert
-- think\queue\connector\Database::pushToDatabase (think-queue 3.0.3–3.0.9), as captured from the MariaDB
-- general log: INSERT INTO `jobs` SET `queue`, `attempts` = 0, `reserve_time` = NULL,
-- `available_time` = now + delay, `create_time` = now, `payload`.
-- Params: queue, attempts, available_time, create_time, payload.
INSERT INTO `{{table}}` (`queue`, `attempts`, `reserve_time`, `available_time`, `create_time`, `payload`)
VALUES (?, ?, NULL, ?, ?, ?)

-- name: JobsV3ReserveSelect
-- think-queue 3.x getNextAvailableJob: waiting and available, or reserved and expired; n rows at a time.
-- Params: queue, now, now - expire (-1 when reservations never lapse), n.
SELECT `id`, `payload`, `attempts` FROM `{{table}}`
WHERE `queue` = ? AND ((`reserve_time` IS NULL AND `available_time` <= ?) OR `reserve_time` <= ?)
ORDER BY `id` ASC LIMIT ? {{lock}}

-- name: JobsV3ReserveUpdate
-- think-queue 3.x markJobAsReserved: reserve_time = now, attempts + 1 (capped at 255).
-- Params: now, ids….
UPDATE `{{table}}` SET `reserve_time` = ?, `attempts` = LEAST(`attempts` + 1, 255) WHERE `id` IN ({{ids}})

-- name: JobsV3HandBack
-- Undo a reservation: reserve_time NULL, the reservation's attempt taken back.
-- Params: id.
UPDATE `{{table}}` SET `reserve_time` = NULL, `attempts` = GREATEST(CAST(`attempts` AS SIGNED) - 1, 0)
WHERE `id` = ? AND `reserve_time` IS NOT NULL

-- name: JobsV3Extend
-- Params: reserve_time, id.
UPDATE `{{table}}` SET `reserve_time` = ? WHERE `id` = ? AND `reserve_time` IS NOT NULL

-- name: JobsV3Held
-- Params: id.
SELECT COUNT(*) FROM `{{table}}` WHERE `id` = ? AND `reserve_time` IS NOT NULL

-- name: JobsLaravelInsert
-- Illuminate\Queue\DatabaseQueue::pushToDatabase (Laravel 8–12), as traced with DB::listen.
-- Params: queue, attempts, available_at, created_at, payload.
INSERT INTO `{{table}}` (`queue`, `attempts`, `reserved_at`, `available_at`, `created_at`, `payload`)
VALUES (?, ?, NULL, ?, ?, ?)

-- name: JobsLaravelReserveSelect
-- DatabaseQueue::getNextAvailableJob (isAvailable or isReservedButExpired), n rows at a time.
-- Params: queue, now, now - retry_after (-1 when reservations never lapse), n.
SELECT `id`, `payload`, `attempts` FROM `{{table}}`
WHERE `queue` = ? AND ((`reserved_at` IS NULL AND `available_at` <= ?) OR `reserved_at` <= ?)
ORDER BY `id` ASC LIMIT ? {{lock}}

-- name: JobsLaravelReserveUpdate
-- DatabaseQueue::markJobAsReserved: reserved_at = now, attempts + 1 (capped at 255).
-- Params: now, ids….
UPDATE `{{table}}` SET `reserved_at` = ?, `attempts` = LEAST(`attempts` + 1, 255) WHERE `id` IN ({{ids}})

-- name: JobsLaravelHandBack
-- Params: id.
UPDATE `{{table}}` SET `reserved_at` = NULL, `attempts` = GREATEST(CAST(`attempts` AS SIGNED) - 1, 0)
WHERE `id` = ? AND `reserved_at` IS NOT NULL

-- name: JobsLaravelExtend
-- Params: reserved_at, id.
UPDATE `{{table}}` SET `reserved_at` = ? WHERE `id` = ? AND `reserved_at` IS NOT NULL

-- name: JobsLaravelHeld
-- Params: id.
SELECT COUNT(*) FROM `{{table}}` WHERE `id` = ? AND `reserved_at` IS NOT NULL

-- name: JobsDelete
-- Acknowledge finished jobs of one queue by id.
-- Params: queue, ids….
DELETE FROM `{{table}}` WHERE `queue` = ? AND `id` IN ({{ids}})

-- name: JobsDeleteID
-- Release's and Fail's delete of the reserved row.
-- Params: id.
DELETE FROM `{{table}}` WHERE `id` = ?

-- name: JobsSize
-- size(): every row of the queue, reserved and delayed ones included.
-- Params: queue.
SELECT COUNT(*) FROM `{{table}}` WHERE `queue` = ?

-- name: ServerVersion
-- Read once at open: whether the server has SKIP LOCKED.
SELECT VERSION()
