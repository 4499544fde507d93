<?php
// db.php manages the test app's databases.
//
// usage: php db.php setup    create what is missing (sqlite users table, the failed-jobs table); prints {"ok":true}
//        php db.php failed   print every failed-jobs row, oldest first, one JSON object per line with the
//                            table's columns as stored: id, uuid, connection, queue, payload, exception, failed_at
//        php db.php drop     drop the failed-jobs table on MySQL and delete the sqlite file; prints {"ok":true}
// Configuration: environment variables, see bootstrap.php (QUEUE_FAILED_CONNECTION, QUEUE_FAILED_TABLE, DB_*).
require __DIR__ . '/bootstrap.php';

use App\Support\Out;
use App\Support\Schema;

$cmd = $argv[1] ?? '';
$app = qb_app(); // setup happens here
$config = $app['config'];
switch ($cmd) {
    case 'setup':
        Out::line(['ok' => true]);
        break;
    case 'failed':
        if ($config->get('queue.failed.driver') === 'null') {
            break;
        }
        $rows = $app['db']->connection($config->get('queue.failed.database'))
            ->table($config->get('queue.failed.table'))->orderBy('id')->get();
        foreach ($rows as $row) {
            $r = (array)$row;
            $r['id'] = (int)$r['id'];
            Out::line($r);
        }
        break;
    case 'drop':
        Schema::drop($app);
        Out::line(['ok' => true]);
        break;
    default:
        Out::fail('usage: php db.php setup|failed|drop');
}
