-- The failed_jobs tables as the PHP libraries create them on SQLite, statement for statement
-- (DB.MigrateFailed). The PHP app owns this table: these run only when asked, never implicitly.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: laravel-failed-jobs.1
-- Laravel 8.83's failed_jobs.stub (= the skeleton's 2019_08_19_000000_create_failed_jobs_table.php) through
-- SQLiteGrammar (fixtures/laravel/v8/database/schema_sqlite.json). 11.x/12.x send "integer primary key
-- autoincrement not null" and "datetime not null default CURRENT_TIMESTAMP": the same columns
-- (PRAGMA table_info is equal), a different sqlite_master text.
create table "{{table}}" ("id" integer not null primary key autoincrement, "uuid" varchar not null, "connection" text not null, "queue" text not null, "payload" text not null, "exception" text not null, "failed_at" datetime default CURRENT_TIMESTAMP not null)

-- name: laravel-failed-jobs.2
-- $table->string('uuid')->unique(): the index is named <prefix><table>_uuid_unique.
create unique index "{{table}}_uuid_unique" on "{{table}}" ("uuid")

-- name: thinkqueue-v3-failed-jobs.1
-- think-queue 3.0.9's failed_jobs.stub as think-migration 3.1.1's bundled phinx SQLiteAdapter renders it
-- (no captured fixture: derived from that adapter's createTable / getColumnSqlDefinition): id INTEGER NOT
-- NULL PRIMARY KEY AUTOINCREMENT; Column::text and Column::longText both TEXT; Column::timestamp is
-- TIMESTAMP_TEXT (phinx appends the affinity); every other column NULL-able, as on MySQL.
CREATE TABLE `{{table}}` (`id` INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `connection` TEXT NULL, `queue` TEXT NULL, `payload` TEXT NULL, `exception` TEXT NULL, `fail_time` TIMESTAMP_TEXT NULL DEFAULT CURRENT_TIMESTAMP);
