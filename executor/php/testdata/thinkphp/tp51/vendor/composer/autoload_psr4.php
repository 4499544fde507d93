<?php
// STAND-IN for the executor tests (see testdata/thinkphp/README.md): Composer's autoload_psr4.php shape; think-queue
// 2.x maps think\ to its src/, the app's own code (app\) is the shared test code.
$vendorDir = dirname(__DIR__);
$baseDir = dirname($vendorDir);

return [
    'think\\' => [$vendorDir . '/topthink/think-queue/src'],
    'app\\' => [$baseDir . '/../shared'],
];
