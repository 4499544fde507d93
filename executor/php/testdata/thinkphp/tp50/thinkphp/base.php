<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// base file shape: constants, the app's .env put into the environment (PHP_ prefix, [section] key as
// PHP_SECTION_KEY, names upper-case) and the autoloader (think\ from library/, app\ from the shared test code).
define('THINK_VERSION', '5.0-standin');
define('EXT', '.php');
define('DS', DIRECTORY_SEPARATOR);
defined('APP_PATH') or define('APP_PATH', dirname($_SERVER['SCRIPT_FILENAME']) . '/');
defined('ROOT_PATH') or define('ROOT_PATH', dirname(realpath(APP_PATH)) . DS);
defined('RUNTIME_PATH') or define('RUNTIME_PATH', ROOT_PATH . 'runtime' . DS);
defined('CACHE_PATH') or define('CACHE_PATH', RUNTIME_PATH . 'cache' . DS);
defined('CONF_PATH') or define('CONF_PATH', APP_PATH);
defined('ENV_PREFIX') or define('ENV_PREFIX', 'PHP_');
if (is_file(ROOT_PATH . '.env')) {
    foreach (parse_ini_file(ROOT_PATH . '.env', true) as $key => $val) {
        $name = ENV_PREFIX . strtoupper($key);
        if (is_array($val)) {
            foreach ($val as $k => $v) {
                putenv($name . '_' . strtoupper($k) . '=' . $v);
            }
        } else {
            putenv("$name=$val");
        }
    }
}
spl_autoload_register(function ($class) {
    foreach (['think\\' => __DIR__ . '/library/think/', 'app\\' => __DIR__ . '/../../shared/'] as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    }
});
