<?php
// The ThinkPHP 5.1 stand-in app's think-queue 2.x config (see ../../README.md): think-queue's defaults, the
// connector, Redis password and select from .env / the environment.
return [
    'connector'  => env('queue.connector', 'Redis'),
    'expire'     => 60,
    'default'    => env('queue.default', 'default'),
    'host'       => '127.0.0.1',
    'port'       => 6379,
    'password'   => env('redis.password', ''),
    'select'     => env('redis.select', 0),
    'timeout'    => 0,
    'persistent' => false,
    'table'      => 'jobs',
];
