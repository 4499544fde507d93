<?php
// boot.php is the executor tests' boot file: the integration harness's real Laravel 8.83 app
// (integration/testdata/laravel/bootstrap.php) plus the test jobs of this directory (QBExec\Jobs\…).
require __DIR__ . '/../../../integration/testdata/laravel/bootstrap.php';

spl_autoload_register(function (string $class): void {
    if (strncmp($class, 'QBExec\\Jobs\\', 12) === 0) {
        $file = __DIR__ . '/jobs/' . substr($class, 12) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

return qb_app();
