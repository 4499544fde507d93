<?php
// The ThinkPHP 6/8 stand-in app's database config (see ../../README.md).
return [
    'default'     => env('database.driver', 'mysql'),
    'connections' => [
        'mysql' => [
            'type'     => env('database.type', 'mysql'),
            'hostname' => env('database.hostname', '127.0.0.1'),
            'database' => env('database.database', 'test'),
            'username' => env('database.username', 'root'),
            'password' => env('database.password', ''),
            'hostport' => env('database.hostport', '3306'),
            'prefix'   => env('database.prefix', ''),
        ],
    ],
];
