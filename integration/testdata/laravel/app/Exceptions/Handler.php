<?php

namespace App\Exceptions;

use Illuminate\Contracts\Debug\ExceptionHandler;
use Throwable;

/**
 * Handler is the app's exception handler: the Worker reports every exception a job throws through it. It
 * writes one line per report to stderr (set QB_QUIET_REPORTS=1 to drop them), renders nothing.
 */
class Handler implements ExceptionHandler
{
    public function report(Throwable $e)
    {
        if (getenv('QB_QUIET_REPORTS')) {
            return;
        }
        fwrite(STDERR, sprintf("[report] %s: %s\n", get_class($e), $e->getMessage()));
    }

    public function shouldReport(Throwable $e)
    {
        return true;
    }

    public function render($request, Throwable $e)
    {
        throw $e;
    }

    public function renderForConsole($output, Throwable $e)
    {
        $output->writeln('<error>' . get_class($e) . ': ' . $e->getMessage() . '</error>');
    }
}
