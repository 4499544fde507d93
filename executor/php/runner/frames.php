<?php
// The frames QueueBridge's runners (laravel.php, thinkphp_common.php) speak with the bridge on fd 3 (in) and
// fd 4 (out): a 4-byte big-endian length, then that many bytes. A message from the runner is JSON; a request
// from the bridge is a line of JSON (its head), then the job's payload as reserved, as raw bytes ('raw').

declare(strict_types=1);

namespace QueueBridge\Runner;

use Throwable;

final class Frames
{
    /** @var resource */
    private $in;
    /** @var resource */
    private $out;

    public function __construct()
    {
        $in = @fopen('php://fd/3', 'rb');
        $out = @fopen('php://fd/4', 'wb');
        if ($in === false || $out === false) {
            fwrite(STDERR, "queuebridge runner: fd 3 and 4 must be open (started by the bridge)\n");
            exit(2);
        }
        $this->in = $in;
        $this->out = $out;
    }

    /** read returns the next request (its head, with the payload as 'raw'), or null at EOF. */
    public function read(): ?array
    {
        $head = $this->readN(4);
        if ($head === null) {
            return null;
        }
        $n = unpack('N', $head)[1];
        $body = $n === 0 ? '' : $this->readN($n);
        if ($body === null) {
            return null;
        }
        $nl = strpos($body, "\n");
        $msg = json_decode($nl === false ? $body : substr($body, 0, $nl), true, 512, JSON_THROW_ON_ERROR);
        if (!is_array($msg)) {
            return null;
        }
        if ($nl !== false) {
            $msg['raw'] = substr($body, $nl + 1);
        }
        return $msg;
    }

    public function write(array $msg): void
    {
        $body = json_encode($msg, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE
            | JSON_PARTIAL_OUTPUT_ON_ERROR);
        $data = pack('N', strlen($body)) . $body;
        for ($off = 0, $len = strlen($data); $off < $len;) {
            $w = fwrite($this->out, substr($data, $off));
            if ($w === false || $w === 0) {
                exit(3); // the bridge is gone
            }
            $off += $w;
        }
        fflush($this->out);
    }

    private function readN(int $n): ?string
    {
        $buf = '';
        while (strlen($buf) < $n) {
            $chunk = fread($this->in, $n - strlen($buf));
            if ($chunk === false || $chunk === '') {
                if (feof($this->in)) {
                    return null;
                }
                continue;
            }
            $buf .= $chunk;
        }
        return $buf;
    }
}

/** exception_info is how a Throwable travels to the bridge. */
function exception_info(Throwable $e): array
{
    return ['class' => get_class($e), 'message' => $e->getMessage(), 'text' => (string)$e];
}

/** without_empty drops the fields of a message that are null, 0 or '': the bridge reads them as absent. */
function without_empty(array $msg): array
{
    return array_filter($msg, static function ($v): bool {
        return $v !== null && $v !== 0 && $v !== '';
    });
}
