<?php
// Test job for the ThinkPHP stand-in apps (see ../../README.md). $data: mark (file to append JSON lines to),
// what: ok | release | throw | print | exit | none.
namespace app\job;

class Act
{
    /** @var mixed what the constructor got (think-queue 3.0.7+ passes $data) */
    private $ctor;

    public function __construct($data = null)
    {
        $this->ctor = $data;
    }

    public static function mark($file, array $m): void
    {
        if ($file) {
            $m['pid'] = getmypid();
            file_put_contents($file, json_encode($m, JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
        }
    }

    public function fire(\think\queue\Job $job, $data)
    {
        $this->run($job, $data, 'fire');
    }

    public function alt(\think\queue\Job $job, $data)
    {
        $this->run($job, $data, 'alt');
    }

    private function run($job, $data, string $method): void
    {
        $what = $data['what'] ?? 'ok';
        self::mark($data['mark'] ?? '', ['event' => 'start', 'method' => $method, 'what' => $what,
            'attempts' => $job->attempts(), 'queue' => $job->getQueue(), 'id' => $job->getJobId(),
            'job' => get_class($job), 'parent' => get_parent_class($job), 'ctor' => $this->ctor !== null]);
        switch ($what) {
            case 'ok':
                $job->delete();
                break;
            case 'release':
                $job->release(2);
                break;
            case 'throw':
                throw new \RuntimeException('Act throws on attempt ' . $job->attempts());
            case 'print':
                echo "echoed noise\n";
                fwrite(STDOUT, "stdout noise\n");
                fwrite(STDERR, "stderr noise\n");
                $job->delete();
                break;
            case 'exit':
                fwrite(STDOUT, "about to exit\n");
                exit(3);
        }
    }

    public function failed($data, $e = null)
    {
        self::mark($data['mark'] ?? '', ['event' => 'failed', 'args' => func_num_args(),
            'exception' => $e ? get_class($e) . ': ' . $e->getMessage() : '']);
    }
}
