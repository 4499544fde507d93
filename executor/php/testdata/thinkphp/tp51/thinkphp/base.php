<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// base file shape: it registers think\Loader, which finds the app (and Composer's packages) from the running script.
// (5.1 keeps its version in think\App::VERSION)
require __DIR__ . '/library/think/Loader.php';

\think\Loader::register();
