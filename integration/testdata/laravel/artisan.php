<?php
// artisan.php runs one of the framework's real queue commands, as `php artisan` would in a Laravel 8 app:
// queue:work, queue:restart, queue:retry, queue:failed, queue:forget, queue:flush, queue:clear, queue:monitor,
// queue:prune-failed. Output is the command's own (text, on stdout); the exit code is the command's.
//
// usage: php artisan.php queue:restart
//        php artisan.php queue:retry all | <uuid>… [--queue=Q]
//        php artisan.php queue:clear [connection] --queue=Q --force
// Configuration: environment variables, see bootstrap.php.
require __DIR__ . '/bootstrap.php';

use App\Support\Artisan;
use Symfony\Component\Console\Output\StreamOutput;

exit(Artisan::run(qb_app(), array_slice($argv, 1), new StreamOutput(STDOUT)));
