<?php
// dispatch.php is the Laravel harness's dispatch.php (integration/testdata/laravel), unchanged, with QBExec\Jobs\… loadable.
require __DIR__ . '/jobs.php';
require __DIR__ . '/../../../../integration/testdata/laravel/dispatch.php';
