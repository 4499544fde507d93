package redis

import (
	"embed"

	goredis "github.com/redis/go-redis/v9"
)

// Each operation that touches more than one key, or must check before it writes, is one Lua script: the
// file's header lists KEYS, ARGV, the return value and the PHP method it mirrors. Script.Run sends EVALSHA
// and falls back to EVAL once on NOSCRIPT, so a restarted or failed-over server needs no preloading.
//
//go:embed lua/*.lua
var luaFS embed.FS

var (
	reserveScript         = loadScript("migrate_due.lua", "reserve.lua")
	laravelPushScript     = loadScript("laravel_push.lua")
	laravelReserveScript  = loadScript("laravel_reserve.lua")
	reserveCopiesScript   = loadScript("migrate_due.lua", "reserve_copies.lua")
	migrateExpiredScript  = loadScript("migrate_expired.lua")
	releaseScript         = loadScript("release.lua")
	handBackScript        = loadScript("hand_back.lua")
	extendScript          = loadScript("extend.lua")
	clearScript           = loadScript("clear.lua")
	listReadyScript       = loadScript("list_ready.lua")
	failScript            = loadScript("fail.lua")
	forgetScript          = loadScript("forget.lua")
	flushScript           = loadScript("flush.lua")
	inflightReturnScript  = loadScript("inflight_return.lua")
	inflightRecoverScript = loadScript("inflight_recover.lua")
)

// loadScript is the script made of the embedded files named, in order (a shared part first).
func loadScript(names ...string) *goredis.Script {
	var src []byte
	for _, name := range names {
		part, err := luaFS.ReadFile("lua/" + name)
		if err != nil {
			panic("storage/redis: missing embedded script " + name) // a build defect, not a runtime condition
		}
		src = append(src, part...)
	}
	return goredis.NewScript(string(src))
}
