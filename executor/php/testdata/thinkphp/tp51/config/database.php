<?php
// The ThinkPHP 5.1 stand-in app's database config (see ../../README.md).
return [
    'type'     => env('database.type', 'mysql'),
    'hostname' => env('database.hostname', '127.0.0.1'),
    'database' => env('database.database', 'test'),
    'username' => env('database.username', 'root'),
    'password' => env('database.password', ''),
    'hostport' => env('database.hostport', ''),
    'prefix'   => env('database.prefix', ''),
];
