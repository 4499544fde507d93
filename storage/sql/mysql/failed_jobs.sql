-- The PHP app's failed_jobs table on MySQL / MariaDB: the statements the bridge runs as a failed-job store.
--
-- {{table}} is the table name (the app's prefix included), checked to hold only letters, digits and _
-- before it is put in. Every value is a parameter. failed_at / fail_time travel as 'Y-m-d H:i:s' text
-- both ways, as PHP's query builders send them: the caller's clock decides "now" (never NOW() or
-- CURRENT_TIMESTAMP here), and the session time zone converts a TIMESTAMP column exactly as it does for
-- PHP on the same server. The store leaves time_zone alone, as Laravel's and think-orm's default
-- connection config do.

-- name: LaravelInsert
-- Illuminate\Queue\Failed\DatabaseUuidFailedJobProvider::log (Laravel 8.83–12): uuid is the payload's
-- uuid, failed_at is Date::now() formatted by the grammar ('Y-m-d H:i:s'). PHP sorts the columns by name;
-- the order does not change the row.
-- Params: uuid, connection, queue, payload, exception, failed_at.
INSERT INTO `{{table}}` (`uuid`, `connection`, `queue`, `payload`, `exception`, `failed_at`)
VALUES (?, ?, ?, ?, ?, ?)

-- name: LaravelList
-- DatabaseUuidFailedJobProvider::all orders by id DESC; the bridge's stores list oldest first.
SELECT `id`, `uuid`, `connection`, `queue`, `payload`, `exception`, `failed_at`
FROM `{{table}}`
ORDER BY `id` ASC

-- name: LaravelFind
-- DatabaseUuidFailedJobProvider::find: where uuid = ? first(). uuid is UNIQUE.
-- Params: uuid.
SELECT `id`, `uuid`, `connection`, `queue`, `payload`, `exception`, `failed_at`
FROM `{{table}}`
WHERE `uuid` = ?
LIMIT 1

-- name: LaravelForget
-- DatabaseUuidFailedJobProvider::forget (queue:forget, and queue:retry after the push).
-- Params: uuid.
DELETE FROM `{{table}}` WHERE `uuid` = ?

-- name: ThinkQueueInsert
-- think\queue\failed\Database::log (think-queue 3.0.4–3.0.9), as captured from the MariaDB general log:
-- INSERT INTO `failed_jobs` SET `connection` = …, `queue` = …, `payload` = …, `exception` = …,
-- `fail_time` = 'Y-m-d H:i:s' (Carbon::now() in the app's time zone). id is the table's.
-- Params: connection, queue, payload, exception, fail_time.
INSERT INTO `{{table}}` (`connection`, `queue`, `payload`, `exception`, `fail_time`)
VALUES (?, ?, ?, ?, ?)

-- name: ThinkQueueList
-- think\queue\failed\Database::all orders by id DESC; the bridge's stores list oldest first. uuid is
-- selected as NULL so both schemas scan alike. Every column but id is NULL-able in this table.
SELECT `id`, NULL AS `uuid`, `connection`, `queue`, `payload`, `exception`, `fail_time`
FROM `{{table}}`
ORDER BY `id` ASC

-- name: ThinkQueueFind
-- think\queue\failed\Database::find: by primary key.
-- Params: id.
SELECT `id`, NULL AS `uuid`, `connection`, `queue`, `payload`, `exception`, `fail_time`
FROM `{{table}}`
WHERE `id` = ?

-- name: ThinkQueueForget
-- think\queue\failed\Database::forget (queue:forget, and queue:retry after the push).
-- Params: id.
DELETE FROM `{{table}}` WHERE `id` = ?

-- name: Flush
-- queue:flush in both libraries: delete every row.
DELETE FROM `{{table}}`

-- name: TableExists
-- Whether the table is in the connection's database; Migrate refuses to create it twice.
-- Params: table name.
SELECT COUNT(*) FROM `information_schema`.`TABLES`
WHERE `TABLE_SCHEMA` = DATABASE() AND `TABLE_NAME` = ?
