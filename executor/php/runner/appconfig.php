<?php
// appconfig.php prints the app's own queue configuration as JSON on stdout, read from the booted app as
// `php artisan` boots it (so .env, env() and config() work): queue, database (connections and redis) and
// cache, with the framework and its version. Go (appconfig.go) turns it into plain facts.
// Usage: php appconfig.php --app DIR [--boot FILE]
declare(strict_types=1);

error_reporting(E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);

$opt = getopt('', ['app:', 'boot:']);
$dir = isset($opt['app']) ? (string)$opt['app'] : getcwd();
if (!is_dir($dir)) {
    fwrite(STDERR, "queuebridge appconfig: --app $dir is not a directory\n");
    exit(2);
}
chdir($dir);
$boot = isset($opt['boot']) ? (string)$opt['boot'] : $dir . '/bootstrap/app.php';
if (!is_file($boot)) {
    fwrite(STDERR, "queuebridge appconfig: $dir is not a Laravel app (no bootstrap/app.php)\n");
    exit(2);
}
if (!isset($opt['boot']) && is_file($dir . '/vendor/autoload.php')) {
    require $dir . '/vendor/autoload.php';
}
ob_start(); // what the app prints while it boots is not ours
$app = require $boot;
if (!$app instanceof \Illuminate\Contracts\Foundation\Application) {
    fwrite(STDERR, "queuebridge appconfig: $boot did not return the application\n");
    exit(2);
}
if ($app->bound(\Illuminate\Contracts\Console\Kernel::class)) {
    $app->make(\Illuminate\Contracts\Console\Kernel::class)->bootstrap();
}
$config = $app->make('config');
$out = [
    'framework' => 'laravel',
    'version' => $app->version(),
    'queue' => $config->get('queue'),
    'database' => ['default' => $config->get('database.default'), 'connections' => $config->get('database.connections'), 'redis' => $config->get('database.redis')],
    'cache' => $config->get('cache'),
];
ob_end_clean();
echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
