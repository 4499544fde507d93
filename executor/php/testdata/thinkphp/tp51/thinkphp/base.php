<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// base file shape: constants and the autoloader (think\ from library/, app\ from the shared test code).
// (5.1 keeps its version in think\App::VERSION)
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
