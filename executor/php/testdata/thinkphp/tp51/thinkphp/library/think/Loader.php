<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\Loader shape where it matters to a runner: the app's root is the directory of the running script
// ($_SERVER['argv'][0] on the CLI) when that directory holds the `think` console file, else its parent; Composer's
// packages (think-queue among them) are found only through <root>/vendor/composer/autoload_psr4.php.
namespace think;

class Loader
{
    /** @var array<string, string[]> namespace prefix => directories */
    private static $psr4 = [];

    public static function getRootPath()
    {
        $dir = realpath(dirname((string)realpath($_SERVER['argv'][0])));
        if (!is_file($dir . '/think')) {
            $dir = dirname($dir);
        }
        return $dir . '/';
    }

    public static function register()
    {
        self::$psr4['think\\'] = [__DIR__];
        $composer = self::getRootPath() . 'vendor/composer/autoload_psr4.php';
        if (is_file($composer)) {
            foreach (require $composer as $prefix => $dirs) {
                self::$psr4[$prefix] = array_merge(self::$psr4[$prefix] ?? [], $dirs);
            }
        }
        spl_autoload_register([self::class, 'autoload']);
    }

    public static function autoload($class)
    {
        foreach (self::$psr4 as $prefix => $dirs) {
            if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
                continue;
            }
            foreach ($dirs as $dir) {
                $file = $dir . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                    return;
                }
            }
        }
    }
}
