-- The jobs tables as the PHP libraries create (or document) them on MySQL / MariaDB, statement for
-- statement (DB.MigrateJobs). The PHP app owns this table: these run only when asked, never implicitly.
-- Each name is a jobstable migration (jobstable.Jobs.Migration / jobstable.Failed.Migration) and the
-- statement's place in it: <migration>.1, <migration>.2, … run in that order. {{table}} is the table name
-- (the app's prefix included), checked to hold only letters, digits and _ before it is put in.

-- name: thinkqueue-v1-jobs.1
-- think-queue 1.x/2.x ship no migration: this is the CREATE TABLE of their README
-- (fixtures/thinkqueue/v1/ddl/jobs.readme.sql) with the prefix replaced by the table name.
CREATE TABLE `{{table}}` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `queue` varchar(255) NOT NULL,
  `payload` longtext NOT NULL,
  `attempts` tinyint(3) unsigned NOT NULL,
  `reserved` tinyint(3) unsigned NOT NULL,
  `reserved_at` int(10) unsigned DEFAULT NULL,
  `available_at` int(10) unsigned NOT NULL,
  `created_at` int(10) unsigned NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

-- name: thinkqueue-v3-jobs.1
-- think-queue 3.0.9's jobs.stub run by `php think migrate:run` (think-migration 3.1.1, its bundled phinx),
-- as sent to MariaDB 10.11 (fixtures/thinkqueue/v3/ddl/jobs.create.as_executed_by_think-migration.sql).
-- phinx columns default to NULL-able; the unnamed KEY on queue is named `queue` by the server.
CREATE TABLE `{{table}}` (`id` INT(11) unsigned NOT NULL AUTO_INCREMENT, `queue` VARCHAR(255) NULL, `payload` LONGTEXT NULL, `attempts` TINYINT(4) unsigned NULL, `reserve_time` INT(11) unsigned NULL, `available_time` INT(11) unsigned NULL, `create_time` INT(11) unsigned NULL, PRIMARY KEY (`id`),  KEY (`queue`)) ENGINE = InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- name: laravel-jobs.1
-- Laravel 8.83's jobs.stub through MySqlGrammar with utf8mb4 / utf8mb4_unicode_ci, as sent to MariaDB
-- 10.11 (fixtures/laravel/v8/database/mariadb/schema_mariadb.json).
create table `{{table}}` (`id` bigint unsigned not null auto_increment primary key, `queue` varchar(255) not null, `payload` longtext not null, `attempts` tinyint unsigned not null, `reserved_at` int unsigned null, `available_at` int unsigned not null, `created_at` int unsigned not null) default character set utf8mb4 collate 'utf8mb4_unicode_ci'

-- name: laravel-jobs.2
-- $table->string('queue')->index(): the index is named <prefix><table>_queue_index.
alter table `{{table}}` add index `{{table}}_queue_index`(`queue`)
