<?php
// The ThinkPHP 5.0 stand-in app's think-queue 1.x config (see ../../../README.md): think-queue's defaults, the
// connector, Redis password and select from the environment / .env.
use think\Env;

return [
    'connector'  => Env::get('queue.connector', 'Redis'),
    'expire'     => 60,
    'default'    => Env::get('queue.default', 'default'),
    'host'       => '127.0.0.1',
    'port'       => 6379,
    'password'   => Env::get('redis.password', ''),
    'select'     => Env::get('redis.select', 0),
    'timeout'    => 0,
    'persistent' => false,
    'table'      => 'jobs',
    'dsn'        => [],
];
