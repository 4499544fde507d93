<?php
// jobs.php makes the executor tests' job classes (QBExec\Jobs\…, ../jobs) loadable in the harness's scripts.
spl_autoload_register(function (string $class): void {
    if (strncmp($class, 'QBExec\\Jobs\\', 12) === 0) {
        $file = __DIR__ . '/../jobs/' . substr($class, 12) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
