-- The failed_jobs tables as the PHP libraries create them on MySQL / MariaDB, statement for statement
-- (DB.MigrateFailed). The PHP app owns this table: these run only when asked, never implicitly.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: laravel-failed-jobs.1
-- Laravel 8.83's failed_jobs.stub (= the skeleton's 2019_08_19_000000_create_failed_jobs_table.php) through
-- MySqlGrammar with charset utf8mb4 / collation utf8mb4_unicode_ci, as sent to MariaDB 10.11
-- (fixtures/laravel/v8/database/mariadb/schema_mariadb.json). 11.x/12.x send "timestamp not null default
-- CURRENT_TIMESTAMP" (modifiers reordered); MariaDB stores the same table either way.
create table `{{table}}` (`id` bigint unsigned not null auto_increment primary key, `uuid` varchar(255) not null, `connection` text not null, `queue` text not null, `payload` longtext not null, `exception` longtext not null, `failed_at` timestamp default CURRENT_TIMESTAMP not null) default character set utf8mb4 collate 'utf8mb4_unicode_ci'

-- name: laravel-failed-jobs.2
-- $table->string('uuid')->unique(): the index is named <prefix><table>_uuid_unique.
alter table `{{table}}` add unique `{{table}}_uuid_unique`(`uuid`)

-- name: thinkqueue-v3-failed-jobs.1
-- think-queue 3.0.9's failed_jobs.stub run by `php think migrate:run` (think-migration 3.1.1, its bundled
-- phinx), as sent to MariaDB 10.11 (fixtures/thinkqueue/v3/ddl/failed_jobs.create.as_executed_by_think-migration.sql).
-- phinx columns default to NULL-able, so every column but id is.
CREATE TABLE `{{table}}` (`id` INT(11) unsigned NOT NULL AUTO_INCREMENT, `connection` TEXT NULL, `queue` TEXT NULL, `payload` LONGTEXT NULL, `exception` LONGTEXT NULL, `fail_time` TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`id`)) ENGINE = InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
