<?php
// The ThinkPHP 6/8 stand-in app's think-queue 3.x config (see ../../README.md): think-queue's defaults, the
// default connection, Redis password and select from .env / the environment.
return [
    'default'     => env('queue.connection', 'sync'),
    'connections' => [
        'sync'     => [
            'type' => 'sync',
        ],
        'database' => [
            'type'       => 'database',
            'queue'      => 'default',
            'table'      => 'jobs',
            'connection' => null,
        ],
        'redis'    => [
            'type'       => 'redis',
            'queue'      => env('queue.queue', 'default'),
            'host'       => '127.0.0.1',
            'port'       => 6379,
            'password'   => env('redis.password', ''),
            'select'     => env('redis.select', 0),
            'timeout'    => 0,
            'persistent' => false,
        ],
    ],
    'failed'      => [
        'type'  => 'none',
        'table' => 'failed_jobs',
    ],
];
