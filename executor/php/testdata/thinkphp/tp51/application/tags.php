<?php
// Tags of the ThinkPHP 5.1 stand-in test app (see ../../README.md).
return [
    'queue_failed' => ['app\behavior\QueueFailed'],
];
