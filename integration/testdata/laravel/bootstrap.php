<?php
// bootstrap.php boots the real Laravel 8 framework (Debian's php-laravel-framework 8.83.26, unpatched) with the
// smallest wiring a queue app needs, and returns the Illuminate\Foundation\Application.
//
// What is built, all from the framework's own classes:
//   - Illuminate\Foundation\Application (base path = this directory; its constructor registers the Events, Log
//     and Routing providers and makes itself the global container)
//   - Illuminate\Config\Repository filled from environment variables (below)
//   - the framework's service providers: Encryption, Redis (phpredis), Cache (redis store), Database
//     (sqlite for models + failed_jobs, mysql when configured), Bus, Queue (QueueManager, the redis connector,
//     queue.worker = Illuminate\Queue\Worker, queue.failer = DatabaseUuidFailedJobProvider)
//   - App\Exceptions\Handler as the Illuminate\Contracts\Debug\ExceptionHandler (report() to stderr)
//   - Facades pointed at the application
// Nothing of the framework is re-implemented; only configuration and test job classes are ours.
//
// Environment (defaults in brackets, those of the laravel/laravel v8.6.12 skeleton where it has one):
//   REDIS_HOST [127.0.0.1]  REDIS_PORT [6379]  REDIS_PASSWORD []  REDIS_DB [0]  REDIS_CACHE_DB [= REDIS_DB]
//   REDIS_PREFIX [laravel_database_]   the connection prefix of every Laravel key (queues, cache, locks)
//   REDIS_QUEUE [default]              the default queue name
//   QUEUE_RETRY_AFTER [90]             queue.connections.redis.retry_after
//   QUEUE_BLOCK_FOR []                 queue.connections.redis.block_for (empty = null = no BLPOP)
//   CACHE_PREFIX [laravel_cache]       cache.prefix (the 8.x RedisStore appends ':')
//   DB_SQLITE_PATH [storage/laravel.sqlite] sqlite file of the `sqlite` connection (App\Models\User, failed_jobs)
//   DB_HOST [127.0.0.1] DB_PORT [3306] DB_DATABASE [queuebridge] DB_USERNAME [root] DB_PASSWORD []  (`mysql`)
//   QUEUE_FAILED_CONNECTION [sqlite]   sqlite | mysql | none (none = the null failed-job provider)
//   QUEUE_FAILED_TABLE [failed_jobs]   table of the failed-job provider
//   QUEUE_DB_CONNECTION [sqlite]  QUEUE_DB_TABLE [jobs]  QUEUE_DB_QUEUE [= REDIS_QUEUE]
//   QUEUE_DB_RETRY_AFTER [= QUEUE_RETRY_AFTER]   queue.connections.database (driver database; the table must exist)
//   APP_KEY [base64 of 32 x 'k', the fixtures' key]   APP_STORAGE [storage/]  (storage/framework/down = down)
//   LOG_CHANNEL [null]                 null | stderr (the framework's Log, which nothing here writes to)
//   ILLUMINATE_AUTOLOAD [/usr/share/php/Illuminate/autoload.php]
//
// The schema (users 42 Ada / 43 Grace on sqlite, and the failed-jobs table made from the framework's own
// queue:failed-table stub) is created on first use, under a lock, so any script may run first.

declare(strict_types=1);

use Illuminate\Support\Facades\Facade;

error_reporting(E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);
date_default_timezone_set('UTC');

require_once getenv('ILLUMINATE_AUTOLOAD') ?: '/usr/share/php/Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    if (strncmp($class, 'App\\', 4) === 0) {
        $file = __DIR__ . '/app/' . str_replace('\\', '/', substr($class, 4)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

/** qb_env returns the environment variable $key, or $default when it is unset or empty. */
function qb_env(string $key, ?string $default = null): ?string
{
    $v = getenv($key);
    return ($v === false || $v === '') ? $default : $v;
}

/** qb_config is the configuration repository's content, from the environment. */
function qb_config(string $base): array
{
    $redisDb = (int)qb_env('REDIS_DB', '0');
    $redis = [
        'host' => qb_env('REDIS_HOST', '127.0.0.1'),
        'password' => qb_env('REDIS_PASSWORD'),
        'port' => (int)qb_env('REDIS_PORT', '6379'),
        'database' => $redisDb,
    ];
    $blockFor = qb_env('QUEUE_BLOCK_FOR');
    $failedConn = qb_env('QUEUE_FAILED_CONNECTION', 'sqlite');
    $storage = qb_env('APP_STORAGE', $base . '/storage');

    return [
        'app' => [
            'name' => 'Laravel',
            'env' => 'testing',
            'debug' => false,
            'timezone' => 'UTC',
            'key' => qb_env('APP_KEY', 'base64:' . base64_encode(str_repeat('k', 32))),
            'cipher' => 'AES-256-CBC',
        ],
        'database' => [
            'default' => 'sqlite',
            'connections' => [
                'sqlite' => [
                    'driver' => 'sqlite',
                    'database' => qb_env('DB_SQLITE_PATH', $storage . '/laravel.sqlite'),
                    'prefix' => '',
                    'foreign_key_constraints' => true,
                ],
                'mysql' => [
                    'driver' => 'mysql',
                    'host' => qb_env('DB_HOST', '127.0.0.1'),
                    'port' => qb_env('DB_PORT', '3306'),
                    'database' => qb_env('DB_DATABASE', 'queuebridge'),
                    'username' => qb_env('DB_USERNAME', 'root'),
                    'password' => qb_env('DB_PASSWORD', ''),
                    'unix_socket' => '',
                    'charset' => 'utf8mb4',
                    'collation' => 'utf8mb4_unicode_ci',
                    'prefix' => '',
                    'prefix_indexes' => true,
                    'strict' => true,
                    'engine' => null,
                ],
            ],
            'redis' => [
                'client' => 'phpredis',
                'options' => [
                    'cluster' => 'redis',
                    'prefix' => qb_env('REDIS_PREFIX', 'laravel_database_'),
                ],
                'default' => $redis,
                'cache' => ['database' => (int)qb_env('REDIS_CACHE_DB', (string)$redisDb)] + $redis,
            ],
        ],
        // The Worker's resetScope calls log->withoutContext() every iteration: a defined channel keeps that
        // cheap (without one, Laravel's emergency logger writes a stack trace to storage/logs each time).
        'logging' => [
            'default' => qb_env('LOG_CHANNEL', 'null'),
            'channels' => [
                'null' => ['driver' => 'monolog', 'handler' => Monolog\Handler\NullHandler::class],
                'stderr' => ['driver' => 'monolog', 'handler' => Monolog\Handler\StreamHandler::class,
                    'with' => ['stream' => 'php://stderr']],
            ],
        ],
        'cache' => [
            'default' => 'redis',
            'stores' => [
                'redis' => ['driver' => 'redis', 'connection' => 'cache', 'lock_connection' => 'default'],
            ],
            'prefix' => qb_env('CACHE_PREFIX', 'laravel_cache'),
        ],
        'queue' => [
            'default' => 'redis',
            'connections' => [
                'sync' => ['driver' => 'sync'],
                'redis' => [
                    'driver' => 'redis',
                    'connection' => 'default',
                    'queue' => qb_env('REDIS_QUEUE', 'default'),
                    'retry_after' => (int)qb_env('QUEUE_RETRY_AFTER', '90'),
                    'block_for' => $blockFor === null ? null : (int)$blockFor,
                    'after_commit' => false,
                ],
                // The database queue (jobs table) for the DB cross-tests; unused unless a script names it.
                'database' => [
                    'driver' => 'database',
                    'connection' => qb_env('QUEUE_DB_CONNECTION', 'sqlite'),
                    'table' => qb_env('QUEUE_DB_TABLE', 'jobs'),
                    'queue' => qb_env('QUEUE_DB_QUEUE', qb_env('REDIS_QUEUE', 'default')),
                    'retry_after' => (int)qb_env('QUEUE_DB_RETRY_AFTER', qb_env('QUEUE_RETRY_AFTER', '90')),
                    'after_commit' => false,
                ],
            ],
            'failed' => [
                'driver' => $failedConn === 'none' ? 'null' : 'database-uuids',
                'database' => $failedConn === 'none' ? 'sqlite' : $failedConn,
                'table' => qb_env('QUEUE_FAILED_TABLE', 'failed_jobs'),
            ],
        ],
    ];
}

/** qb_app boots the application once per process and returns it. */
function qb_app(): Illuminate\Foundation\Application
{
    static $app = null;
    if ($app !== null) {
        return $app;
    }
    $base = __DIR__;
    $app = new Illuminate\Foundation\Application($base);
    $config = qb_config($base);
    $app->useStoragePath(qb_env('APP_STORAGE', $base . '/storage'));
    $app->instance('config', new Illuminate\Config\Repository($config));
    $app->instance('env', 'testing');
    $app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, App\Exceptions\Handler::class);

    Facade::clearResolvedInstances();
    Facade::setFacadeApplication($app);

    foreach ([
        Illuminate\Encryption\EncryptionServiceProvider::class,
        Illuminate\Redis\RedisServiceProvider::class,
        Illuminate\Cache\CacheServiceProvider::class,
        Illuminate\Database\DatabaseServiceProvider::class,
        Illuminate\Bus\BusServiceProvider::class,
        Illuminate\Queue\QueueServiceProvider::class,
    ] as $provider) {
        $app->register($provider);
    }
    $app->boot();

    App\Support\Schema::ensure($app);
    return $app;
}
