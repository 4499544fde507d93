<?php
// Events of the ThinkPHP 6 stand-in test app (see ../../README.md).
return [
    'listen' => [
        'think\queue\event\JobFailed' => ['app\listener\JobFailedLog'],
    ],
];
