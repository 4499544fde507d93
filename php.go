package bridge

import (
	"context"
	"fmt"
	"strings"

	"github.com/queuebridge/bridge/executor/php"
)

// NewPHPExecutor starts the PHP executor o describes for this bridge's queue: it runs the jobs no Go
// handler claims in the app's own PHP code (set it as WorkerConfig.PHP). An empty o.Framework is the
// dialect's framework (Laravel for laravel-*, ThinkPHP 6/8 for thinkqueue-v3; think-queue 1.x/2.x apps must
// say thinkphp50 or thinkphp51); the connection name, logger and tries come from the bridge.
func (b *Bridge) NewPHPExecutor(ctx context.Context, o php.Options) (php.Executor, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if o.Framework == "" && o.App != "" && strings.HasPrefix(b.Dialect(), "thinkqueue-") && o.Boot == "" {
		// The app's layout says which ThinkPHP it is.
		if f, err := php.DetectFramework(o.App); err == nil && f != php.FrameworkLaravel {
			o.Framework = f
		}
	}
	if o.Framework == "" {
		switch d := b.Dialect(); {
		case strings.HasPrefix(d, "laravel-"):
			o.Framework = php.FrameworkLaravel
		case d == "thinkqueue-v3" || d == "thinkqueue-v3-plain":
			o.Framework = php.FrameworkThinkPHP6
		default:
			return nil, fmt.Errorf("PHP executor with %s: say which ThinkPHP runs the app: framework thinkphp50 or thinkphp51", d)
		}
	}
	if o.Logger == nil {
		o.Logger = b.cfg.Logger
	}
	o.Connection = b.ConnectionName()
	ex, err := php.New(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("PHP executor: %w", err)
	}
	return ex, nil
}
