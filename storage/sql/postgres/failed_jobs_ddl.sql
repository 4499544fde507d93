-- The failed_jobs tables as the PHP libraries create them on PostgreSQL, statement for statement
-- (DB.MigrateFailed, which runs them in one transaction, as both libraries' migrators do on
-- PostgreSQL). The PHP app owns this table: these run only when asked, never implicitly. There is no
-- captured PostgreSQL fixture: both are derived from the libraries' code, as noted per statement.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: laravel-failed-jobs.1
-- Laravel 8.83's failed_jobs.stub through PostgresGrammar (compileCreate; id() is bigIncrements →
-- "bigserial primary key", string → varchar(255), longText → text, timestamp('failed_at')->useCurrent()
-- → "timestamp(0) without time zone default CURRENT_TIMESTAMP"; modifiers Increment, Nullable, Default in
-- that order).
create table "{{table}}" ("id" bigserial primary key not null, "uuid" varchar(255) not null, "connection" text not null, "queue" text not null, "payload" text not null, "exception" text not null, "failed_at" timestamp(0) without time zone default CURRENT_TIMESTAMP not null)

-- name: laravel-failed-jobs.2
-- $table->string('uuid')->unique(): PostgresGrammar::compileUnique, a constraint named
-- <prefix><table>_uuid_unique.
alter table "{{table}}" add constraint "{{table}}_uuid_unique" unique ("uuid")

-- name: thinkqueue-v3-failed-jobs.1
-- think-queue 3.0.9's failed_jobs.stub as think-migration 3.1.1's bundled phinx PostgresAdapter renders
-- it on PostgreSQL >= 10 (derived from createTable / getColumnSqlDefinition / getSqlType, not captured):
-- the implicit id is "INTEGER NOT NULL GENERATED ALWAYS AS IDENTITY" with CONSTRAINT <table>_pkey;
-- Column::text and Column::longText are both TEXT; Column::timestamp is TIMESTAMP (without time zone),
-- and phinx's " DEFAULT …" keeps its leading space; the schema is phinx's default, "public"; every
-- column but id is NULL-able, as on MySQL.
CREATE TABLE "public"."{{table}}" ("id" INTEGER NOT NULL GENERATED ALWAYS AS IDENTITY, "connection" TEXT NULL, "queue" TEXT NULL, "payload" TEXT NULL, "exception" TEXT NULL, "fail_time" TIMESTAMP NULL  DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "{{table}}_pkey" PRIMARY KEY ("id"))
