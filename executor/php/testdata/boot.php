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

$app = qb_app();
// A test that needs to see processes boot names a file in QBEXEC_BOOT_MARK: each boot appends its pid.
if ((string)getenv('QBEXEC_BOOT_MARK') !== '') {
    file_put_contents((string)getenv('QBEXEC_BOOT_MARK'), getmypid() . "\n", FILE_APPEND | LOCK_EX);
}
return $app;
