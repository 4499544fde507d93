-- The jobs tables on SQLite (DB.MigrateJobs). The PHP app owns this table: these run only when asked,
-- never implicitly.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: thinkqueue-v1-jobs.1
-- think-queue 1.x/2.x document only a MySQL table (their README). This is the bridge's own SQLite
-- rendering of it: the same columns and NULL-ability, SQLite types.
CREATE TABLE "{{table}}" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "attempts" INTEGER NOT NULL, "reserved" INTEGER NOT NULL, "reserved_at" INTEGER NULL, "available_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL)

-- name: thinkqueue-v3-jobs.1
-- think-queue 3.0.9's jobs.stub as think-migration 3.1.1's bundled phinx SQLiteAdapter renders it (no
-- captured fixture: derived from that adapter, as for failed_jobs): every column but id NULL-able, as on
-- MySQL.
CREATE TABLE `{{table}}` (`id` INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `queue` VARCHAR(255) NULL, `payload` TEXT NULL, `attempts` TINYINT NULL, `reserve_time` INTEGER NULL, `available_time` INTEGER NULL, `create_time` INTEGER NULL);

-- name: thinkqueue-v3-jobs.2
-- The stub's index on queue; phinx names it <table>_queue on SQLite.
CREATE INDEX `{{table}}_queue` ON `{{table}}` (`queue`);

-- name: laravel-jobs.1
-- Laravel 8.83's jobs.stub through SQLiteGrammar (fixtures/laravel/v8/database/schema_sqlite.json).
create table "{{table}}" ("id" integer not null primary key autoincrement, "queue" varchar not null, "payload" text not null, "attempts" integer not null, "reserved_at" integer, "available_at" integer not null, "created_at" integer not null)

-- name: laravel-jobs.2
-- $table->string('queue')->index(): the index is named <prefix><table>_queue_index.
create index "{{table}}_queue_index" on "{{table}}" ("queue")
