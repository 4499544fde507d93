<?php
// work.php is the Laravel harness's work.php (integration/testdata/laravel), unchanged, with QBExec\Jobs\… loadable.
require __DIR__ . '/jobs.php';
require __DIR__ . '/../../../../integration/testdata/laravel/work.php';
