-- The jobs tables on PostgreSQL (DB.MigrateJobs, which runs them in one transaction, as both libraries'
-- migrators do on PostgreSQL). The PHP app owns this table: these run only when asked, never implicitly.
-- There is no captured PostgreSQL fixture: each is derived, as noted per statement.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: thinkqueue-v1-jobs.1
-- think-queue 1.x/2.x document only a MySQL table (their README). This is the bridge's own PostgreSQL
-- rendering of it: the same columns and NULL-ability; int(11) AUTO_INCREMENT → serial, tinyint →
-- smallint, int unsigned → integer.
CREATE TABLE "{{table}}" ("id" SERIAL NOT NULL PRIMARY KEY, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "attempts" SMALLINT NOT NULL, "reserved" SMALLINT NOT NULL, "reserved_at" INTEGER NULL, "available_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL)

-- name: thinkqueue-v3-jobs.1
-- think-queue 3.0.9's jobs.stub as think-migration 3.1.1's bundled phinx PostgresAdapter renders it on
-- PostgreSQL >= 10 (derived, as for failed_jobs): Column::string → CHARACTER VARYING (255);
-- Column::tinyInteger and Column::unsignedInteger are phinx "integer" with a MySQL limit, which
-- PostgreSQL ignores → INTEGER (no unsigned); every column but id NULL-able.
CREATE TABLE "public"."{{table}}" ("id" INTEGER NOT NULL GENERATED ALWAYS AS IDENTITY, "queue" CHARACTER VARYING (255) NULL, "payload" TEXT NULL, "attempts" INTEGER NULL, "reserve_time" INTEGER NULL, "available_time" INTEGER NULL, "create_time" INTEGER NULL, CONSTRAINT "{{table}}_pkey" PRIMARY KEY ("id"))

-- name: thinkqueue-v3-jobs.2
-- The stub's addIndex('queue'): phinx's getIndexSqlDefinition names it <table>_queue and renders it
-- with its blank UNIQUE slot and empty INCLUDE part, as here.
CREATE  INDEX "{{table}}_queue" ON "public"."{{table}}" ("queue") ;

-- name: laravel-jobs.1
-- Laravel 8.83's jobs.stub through PostgresGrammar: bigIncrements → bigserial primary key, string →
-- varchar(255), longText → text, unsignedTinyInteger → smallint, unsignedInteger → integer (PostgreSQL
-- has no unsigned types).
create table "{{table}}" ("id" bigserial primary key not null, "queue" varchar(255) not null, "payload" text not null, "attempts" smallint not null, "reserved_at" integer null, "available_at" integer not null, "created_at" integer not null)

-- name: laravel-jobs.2
-- $table->string('queue')->index(): PostgresGrammar::compileIndex, named <prefix><table>_queue_index.
create index "{{table}}_queue_index" on "{{table}}" ("queue")
