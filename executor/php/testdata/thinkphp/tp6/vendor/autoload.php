<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): composer's
// vendor/autoload.php shape: think\ from vendor/think/, app\ from the shared test code, and the framework's helpers.
spl_autoload_register(function ($class) {
    foreach (['think\\' => __DIR__ . '/think/', 'app\\' => __DIR__ . '/../../shared/'] as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    }
});
require __DIR__ . '/think/helper.php';
