<?php

namespace App\Support;

use Illuminate\Console\Application as Console;
use Illuminate\Foundation\Application;
use Illuminate\Queue\Console\ClearCommand;
use Illuminate\Queue\Console\FlushFailedCommand;
use Illuminate\Queue\Console\ForgetFailedCommand;
use Illuminate\Queue\Console\ListFailedCommand;
use Illuminate\Queue\Console\MonitorCommand;
use Illuminate\Queue\Console\PruneFailedJobsCommand;
use Illuminate\Queue\Console\RestartCommand;
use Illuminate\Queue\Console\RetryCommand;
use Illuminate\Queue\Console\WorkCommand;
use Symfony\Component\Console\Input\ArgvInput;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * Artisan is the framework's console application (Illuminate\Console\Application) with the real queue:*
 * commands, each constructed exactly as Laravel 8's ArtisanServiceProvider registers it.
 */
final class Artisan
{
    /** run runs `$args[0]` (a command name, e.g. queue:work) with the rest of $args; returns the exit code. */
    public static function run(Application $app, array $args, OutputInterface $output): int
    {
        $console = new Console($app, $app['events'], $app->version());
        $console->addCommands([
            new WorkCommand($app['queue.worker'], $app['cache.store']),
            new RestartCommand($app['cache.store']),
            new RetryCommand(),
            new ListFailedCommand(),
            new ForgetFailedCommand(),
            new FlushFailedCommand(),
            new ClearCommand(),
            new MonitorCommand($app['queue'], $app['events']),
            new PruneFailedJobsCommand(),
        ]);
        return (int)$console->run(new ArgvInput(array_merge(['artisan'], $args)), $output);
    }
}
