<?php
// queue_failed hook listener of the ThinkPHP 5.0/5.1 stand-in apps (see ../../README.md).
namespace app\behavior;

class QueueFailed
{
    public function run(&$job)
    {
        $payload = json_decode($job->getRawBody(), true);
        \app\job\Act::mark($payload['data']['mark'] ?? '', ['event' => 'queue_failed', 'job' => get_class($job),
            'parent' => get_parent_class($job), 'deleted' => $job->isDeleted(), 'name' => $job->getName()]);
    }
}
