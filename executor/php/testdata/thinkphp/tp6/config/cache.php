<?php
// The ThinkPHP 6/8 stand-in app's cache config (see ../../README.md): the skeleton's File store (empty path:
// runtime/cache/) and a Redis store.
return [
    'default' => env('cache.driver', 'file'),
    'stores'  => [
        'file'  => [
            'type'       => 'File',
            'path'       => '',
            'prefix'     => env('cache.prefix', ''),
            'expire'     => 0,
            'tag_prefix' => 'tag:',
            'serialize'  => [],
        ],
        'redis' => [
            'type'     => 'redis',
            'host'     => '127.0.0.1',
            'port'     => 6379,
            'password' => env('redis.password', ''),
            'select'   => env('cache.select', 0),
            'prefix'   => env('cache.prefix', ''),
        ],
    ],
];
