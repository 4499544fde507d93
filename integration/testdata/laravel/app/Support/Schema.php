<?php

namespace App\Support;

use Illuminate\Database\Schema\Blueprint;
use Illuminate\Foundation\Application;
use Illuminate\Queue\Console\FailedTableCommand;
use Illuminate\Support\Str;

/**
 * Schema creates, once and under a lock, what the test app needs in its databases:
 *   - on `sqlite`: table users with rows 42 Ada and 43 Grace (App\Models\User, for SerializesModels jobs);
 *   - on the failed-jobs connection (queue.failed.database): the failed-jobs table, built by running the
 *     framework's own queue:failed-table migration stub with its placeholders filled in as the command does.
 * drop() removes what ensure() made for this configuration (the sqlite file, or the MySQL failed table).
 */
final class Schema
{
    public static function ensure(Application $app): void
    {
        $config = $app['config'];
        $sqlite = $config->get('database.connections.sqlite.database');
        $failedConn = $config->get('queue.failed.driver') === 'null' ? null : $config->get('queue.failed.database');
        $table = $config->get('queue.failed.table');

        if ($sqlite !== ':memory:') {
            $dir = dirname($sqlite);
            if (!is_dir($dir)) {
                @mkdir($dir, 0777, true);
            }
            $lock = fopen($sqlite . '.lock', 'c');
            flock($lock, LOCK_EX);
            try {
                if (!is_file($sqlite) || filesize($sqlite) === 0) {
                    touch($sqlite);
                }
                self::ensureUsers($app);
                if ($failedConn === 'sqlite') {
                    self::ensureFailedTable($app, 'sqlite', $table);
                }
            } finally {
                flock($lock, LOCK_UN);
                fclose($lock);
            }
        } else {
            self::ensureUsers($app);
            if ($failedConn === 'sqlite') {
                self::ensureFailedTable($app, 'sqlite', $table);
            }
        }

        if ($failedConn === 'mysql') {
            self::ensureMySQLDatabase($app);
            $db = $app['db']->connection('mysql');
            $db->select("SELECT GET_LOCK('queuebridge_laravel_schema', 60)");
            try {
                self::ensureFailedTable($app, 'mysql', $table);
            } finally {
                $db->select("SELECT RELEASE_LOCK('queuebridge_laravel_schema')");
            }
        }
    }

    public static function drop(Application $app): void
    {
        $config = $app['config'];
        if ($config->get('queue.failed.driver') !== 'null' && $config->get('queue.failed.database') === 'mysql') {
            $app['db']->connection('mysql')->getSchemaBuilder()->dropIfExists($config->get('queue.failed.table'));
        }
        $sqlite = $config->get('database.connections.sqlite.database');
        if ($sqlite !== ':memory:') {
            $app['db']->purge('sqlite');
            foreach ([$sqlite, $sqlite . '.lock', $sqlite . '-journal', $sqlite . '-wal', $sqlite . '-shm'] as $f) {
                if (is_file($f)) {
                    unlink($f);
                }
            }
        }
    }

    private static function ensureUsers(Application $app): void
    {
        $db = $app['db']->connection('sqlite');
        $schema = $db->getSchemaBuilder();
        if (!$schema->hasTable('users')) {
            $schema->create('users', function (Blueprint $t) {
                $t->id();
                $t->string('name');
            });
            $db->table('users')->insert([['id' => 42, 'name' => 'Ada'], ['id' => 43, 'name' => 'Grace']]);
        }
    }

    private static function ensureMySQLDatabase(Application $app): void
    {
        $cfg = $app['config']->get('database.connections.mysql');
        $dsn = sprintf('mysql:host=%s;port=%s;charset=utf8mb4', $cfg['host'], $cfg['port']);
        $pdo = new \PDO($dsn, $cfg['username'], $cfg['password'], [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        $pdo->exec('CREATE DATABASE IF NOT EXISTS `' . str_replace('`', '``', $cfg['database'])
            . '` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    }

    /** ensureFailedTable runs the framework's failed_jobs migration stub on $connection. */
    private static function ensureFailedTable(Application $app, string $connection, string $table): void
    {
        $manager = $app['db'];
        if ($manager->connection($connection)->getSchemaBuilder()->hasTable($table)) {
            return;
        }
        $stub = file_get_contents(dirname((new \ReflectionClass(FailedTableCommand::class))->getFileName())
            . '/stubs/failed_jobs.stub');
        // FailedTableCommand::replaceMigration: {{table}} and {{tableClassName}} (= Str::studly($table)).
        $studly = Str::studly($table);
        $code = str_replace(['{{tableClassName}}', '{{table}}'], [$studly, $table], $stub);
        $class = 'Create' . $studly . 'Table';
        if (!class_exists($class, false)) {
            eval(preg_replace('/^<\?php/', '', $code));
        }
        // The stub uses the Schema facade, i.e. the default connection.
        $default = $manager->getDefaultConnection();
        $manager->setDefaultConnection($connection);
        try {
            (new $class())->up();
        } finally {
            $manager->setDefaultConnection($default);
        }
    }
}
