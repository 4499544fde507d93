<?php
// The ThinkPHP 5.0 stand-in app's database.php (see ../../README.md).
use think\Env;

return [
    'type'     => Env::get('database.type', 'mysql'),
    'hostname' => Env::get('database.hostname', '127.0.0.1'),
    'database' => Env::get('database.database', 'test'),
    'username' => Env::get('database.username', 'root'),
    'password' => Env::get('database.password', ''),
    'hostport' => Env::get('database.hostport', ''),
    'prefix'   => Env::get('database.prefix', ''),
];
