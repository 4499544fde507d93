<?php
// thinkphp_appconfig.php prints a ThinkPHP app's own queue configuration as JSON on stdout, read from the app
// booted as `php think` boots it (so .env, Env::get / env() and the config files work): queue, database and
// cache, with the framework line, its version and the runtime path. Go (appconfig.go) turns it into plain facts.
// Usage: php thinkphp_appconfig.php --app DIR --framework thinkphp50|thinkphp51|thinkphp6
declare(strict_types=1);

error_reporting(E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);

$opt = getopt('', ['app:', 'framework:']);
$dir = rtrim((string)($opt['app'] ?? getcwd()), '/');
$framework = (string)($opt['framework'] ?? '');
chdir($dir);
ob_start(); // what the app prints while it boots is not ours
switch ($framework) {
    case 'thinkphp50':
        define('APP_PATH', $dir . '/application/');
        require $dir . '/thinkphp/base.php';
        \think\App::initCommon();
        $out = ['version' => defined('THINK_VERSION') ? THINK_VERSION : '5.0', 'runtime' => RUNTIME_PATH,
            'queue' => \think\Config::get('queue'), 'database' => \think\Config::get('database'),
            'cache' => \think\Config::get('cache')];
        break;
    case 'thinkphp51':
        // 5.1's Loader finds the app's root from the running script, as in the runner.
        $_SERVER['argv'][0] = $_SERVER['SCRIPT_FILENAME'] = $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $dir . '/think';
        require is_file($dir . '/thinkphp/base.php') ? $dir . '/thinkphp/base.php' : $dir . '/vendor/topthink/framework/base.php';
        $app = \think\Container::get('app');
        if (method_exists($app, 'path')) {
            $app->path($dir . '/application/');
        }
        $app->initialize();
        $config = \think\Container::get('config');
        $out = ['version' => \think\App::VERSION, 'runtime' => $app->getRuntimePath(), 'queue' => $config->pull('queue'),
            'database' => $config->pull('database'), 'cache' => $config->pull('cache')];
        break;
    case 'thinkphp6':
        require $dir . '/vendor/autoload.php';
        $app = new \think\App($dir);
        $app->initialize();
        $out = ['version' => \think\App::VERSION, 'runtime' => $app->getRuntimePath(), 'queue' => $app->config->get('queue'),
            'database' => $app->config->get('database'), 'cache' => $app->config->get('cache')];
        break;
    default:
        fwrite(STDERR, "queuebridge appconfig: --framework $framework: want thinkphp50, thinkphp51 or thinkphp6\n");
        exit(2);
}
ob_end_clean();
foreach (['queue', 'database', 'cache'] as $name) {
    // A config file the app does not have reads as [], which json_encode would write as a list.
    if (($out[$name] ?? null) === []) {
        $out[$name] = new \stdClass();
    }
}
$out['framework'] = $framework;
echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
