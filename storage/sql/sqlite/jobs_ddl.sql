-- The jobs tables on SQLite (Broker.Migrate). The PHP app owns this table: these run only when asked,
-- never implicitly.

-- name: JobsV1CreateTable
-- think-queue 1.x/2.x document only a MySQL table (their README). This is the bridge's own SQLite
-- rendering of it: the same columns and NULL-ability, SQLite types.
CREATE TABLE "{{table}}" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "attempts" INTEGER NOT NULL, "reserved" INTEGER NOT NULL, "reserved_at" INTEGER NULL, "available_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL)

-- name: JobsV3CreateTable
-- think-queue 3.0.9's jobs.stub as think-migration 3.1.1's bundled phinx SQLiteAdapter renders it (no
-- captured fixture: derived from that adapter, as for failed_jobs): every column but id NULL-able, as on
-- MySQL.
CREATE TABLE `{{table}}` (`id` INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `queue` VARCHAR(255) NULL, `payload` TEXT NULL, `attempts` TINYINT NULL, `reserve_time` INTEGER NULL, `available_time` INTEGER NULL, `create_time` INTEGER NULL);

-- name: JobsV3QueueIndex
-- The stub's index on queue; phinx names it <table>_queue on SQLite.
CREATE INDEX `{{table}}_queue` ON `{{table}}` (`queue`);

-- name: JobsLaravelCreateTable
-- Laravel 8.83's jobs.stub through SQLiteGrammar (fixtures/laravel/v8/database/schema_sqlite.json).
create table "{{table}}" ("id" integer not null primary key autoincrement, "queue" varchar not null, "payload" text not null, "attempts" integer not null, "reserved_at" integer, "available_at" integer not null, "created_at" integer not null)

-- name: JobsLaravelQueueIndex
-- $table->string('queue')->index(): the index is named <prefix><table>_queue_index.
create index "{{table}}_queue_index" on "{{table}}" ("queue")
