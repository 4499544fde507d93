package dashboard

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/queuebridge/bridge/status"
)

// lang is one of the dashboard's languages: its code, as ?lang= and the html lang attribute take it, and
// its strings.
type lang struct {
	Code    string
	strings map[string]string
}

// T is the string of a key; a key missing from the table shows as itself, and a test keeps the tables whole.
func (l lang) T(key string, args ...any) string {
	s, ok := l.strings[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

var (
	english = lang{Code: "en", strings: map[string]string{
		"app.title":          "QueueBridge",
		"nav.overview":       "Overview",
		"nav.failed":         "Failed jobs",
		"nav.bridges":        "Bridges",
		"nav.push":           "Push a job",
		"nav.login":          "Log in to manage",
		"nav.logout":         "Log out",
		"nav.readonly":       "Read-only: no token configured",
		"nav.lang":           "中文",
		"overview.title":     "Overview",
		"overview.queues":    "Queues",
		"overview.noqueues":  "No queues hold jobs.",
		"overview.failed":    "Failed jobs: %d",
		"overview.bridges":   "Live bridges: %d",
		"overview.charts":    "Last hour",
		"overview.processed": "Processed per minute",
		"overview.wait":      "Average wait (seconds)",
		"overview.updated":   "Updated every few seconds",
		"conn.connection":    "Connection",
		"conn.dialect":       "Dialect",
		"col.queue":          "Queue",
		"col.ready":          "Ready",
		"col.delayed":        "Delayed",
		"col.reserved":       "Reserved",
		"col.failed":         "Failed",
		"col.oldest":         "Oldest ready since",
		"col.state":          "State",
		"col.actions":        "Actions",
		"col.id":             "ID",
		"col.job":            "Job",
		"col.attempts":       "Attempts",
		"col.available":      "Available at",
		"col.reserveduntil":  "Reserved until",
		"col.failedat":       "Failed at",
		"col.error":          "Error",
		"col.connection":     "Connection",
		"col.payload":        "Payload",
		"col.host":           "Host",
		"col.pid":            "PID",
		"col.version":        "Version",
		"col.started":        "Started",
		"col.heartbeat":      "Last heartbeat",
		"col.group":          "Group",
		"col.queues":         "Queues",
		"col.concurrency":    "Concurrency",
		"col.since":          "Since",
		"col.restarts":       "Restarts",
		"col.lasterror":      "Last error",
		"state.ready":        "ready",
		"state.delayed":      "delayed",
		"state.reserved":     "reserved",
		"state.paused":       "paused",
		"state.working":      "working",
		"btn.pause":          "Pause",
		"btn.resume":         "Resume",
		"btn.retry":          "Retry",
		"btn.forget":         "Forget",
		"btn.retryall":       "Retry all",
		"btn.flush":          "Delete all",
		"btn.push":           "Push",
		"btn.cancel":         "Cancel job",
		"btn.edit":           "Save changes",
		"btn.login":          "Log in",
		"btn.filter":         "Filter",
		"btn.showall":        "Show all (%d bytes)",
		"confirm.flush":      "Delete every failed job?",
		"confirm.cancel":     "Withdraw this job from its queue?",
		"queue.title":        "Queue %s",
		"queue.filter":       "Job class",
		"queue.nojobs":       "No jobs in this state.",
		"queue.next":         "Next page",
		"queue.prev":         "Previous page",
		"queue.first":        "First page",
		"queue.scanned":      "Looked at jobs %d to %d for this class.",
		"queue.paused":       "This queue is paused: no bridge takes jobs from it.",
		"job.title":          "Job %s",
		"job.where":          "Where it is",
		"job.data":           "Data",
		"job.raw":            "Payload as stored",
		"job.edit":           "Change this job",
		"job.newdata":        "New data (JSON; empty keeps it)",
		"job.delay":          "Run after (seconds; empty keeps it)",
		"job.movequeue":      "Move to queue (empty keeps it)",
		"job.front":          "Move to the front of its queue",
		"failed.title":       "Failed jobs",
		"failed.none":        "No failed jobs!",
		"failed.detail":      "Failed job %s",
		"failed.count":       "%d failed jobs",
		"bridges.title":      "Bridges",
		"bridges.none":       "No bridge is registered on this connection (bridge serve registers itself).",
		"push.title":         "Push a job",
		"push.queue":         "Queue",
		"push.job":           "Job (Class or Class@method)",
		"push.data":          "Data (JSON)",
		"push.delay":         "Delay (seconds)",
		"done.pushed":        "Pushed job %s.",
		"login.title":        "Log in",
		"login.token":        "Dashboard token",
		"done.retried":       "Failed job %s is back on its queue.",
		"done.retriedall":    "%d failed jobs are back on their queues.",
		"done.forgot":        "Failed job %s deleted.",
		"done.flushed":       "%d failed jobs deleted.",
		"done.paused":        "Queue %s paused.",
		"done.resumed":       "Queue %s resumed.",
		"done.cancelled":     "Job %s withdrawn.",
		"done.edited":        "Job %s changed.",
		"err.title":          "Error",
		"err.readonly":       "This dashboard is read-only: start it with a token to make changes.",
		"err.crossorigin":    "Refused: the request did not come from this dashboard's own pages.",
		"err.nosession":      "Refused: log in with the dashboard token first.",
		"err.csrf":           "Refused: the form's security token is missing or stale; reload the page and try again.",
		"err.badtoken":       "Wrong token.",
		"err.notfound":       "Not found.",
		"err.reserved":       "A worker has this job reserved right now: it cannot be changed.",
		"err.badjson":        "The data is not valid JSON: %s",
		"err.badnumber":      "Not a number of seconds: %s",
		"err.nojob":          "Name the job.",
		"err.backend":        "The queue store answered with an error: %s",
		"nav.report":         "Migration report",
		"report.title":       "Migration report",
		"report.1h":          "Last hour",
		"report.24h":         "Last 24 hours",
		"report.7d":          "Last 7 days",
		"report.about":       "Per job class with a route or a shadow handler, across every bridge on this connection: runs in Go and in PHP (every attempt counts), shadow runs compared with PHP, and whether Go can take the whole class. Run times in milliseconds.",
		"report.none":        "No class has a route, and no routed or shadowed job ran in this window.",
		"report.shadow":      "Shadow",
		"report.noruns":      "No runs in this window.",
		"report.mismatches":  "Shadow mismatches of %s (the last ones kept, newest first)",
		"report.phpside":     "PHP (applied)",
		"report.goside":      "Go (shadow)",
		"report.routeone":    "Route a class",
		"report.result":      "result",
		"col.class":          "Class",
		"col.route":          "Route",
		"col.runs":           "Runs",
		"col.released":       "Released",
		"col.mean":           "Mean",
		"col.p95":            "p95",
		"col.mismatches":     "Mismatches",
		"col.verdict":        "Verdict",
		"verdict.notyet":     "not yet: %s",
		"verdict.sep":        "; ",
		"col.setroute":       "Set route",
		"col.at":             "At",
		"source.store":       "stored",
		"source.file":        "config file",
		"source.code":        "code",
		"btn.setroute":       "Set",
		"outcome.deleted":    "deleted",
		"outcome.released":   "released",
		"outcome.failed":     "failed",
		"outcome.kept":       "kept",
		"done.routed":        "Route set: %s (every bridge follows within a second).",
		"err.noclass":        "Name the job class.",
		"err.badroute":       "Not a route (go, php or a percentage such as 25%%): %s",
		"err.badwindow":      "Not a window of this page: %s",
		"never":              "—",
	}}
	chinese = lang{Code: "zh-CN", strings: map[string]string{
		"app.title":          "QueueBridge",
		"nav.overview":       "概览",
		"nav.failed":         "失败任务",
		"nav.bridges":        "桥接进程",
		"nav.push":           "推送任务",
		"nav.login":          "登录以管理",
		"nav.logout":         "退出登录",
		"nav.readonly":       "只读：未配置令牌",
		"nav.lang":           "English",
		"overview.title":     "概览",
		"overview.queues":    "队列",
		"overview.noqueues":  "没有存有任务的队列。",
		"overview.failed":    "失败任务：%d",
		"overview.bridges":   "在线桥接进程：%d",
		"overview.charts":    "最近一小时",
		"overview.processed": "每分钟处理数",
		"overview.wait":      "平均等待（秒）",
		"overview.updated":   "每隔几秒自动刷新",
		"conn.connection":    "连接",
		"conn.dialect":       "方言",
		"col.queue":          "队列",
		"col.ready":          "就绪",
		"col.delayed":        "延迟",
		"col.reserved":       "执行中",
		"col.failed":         "失败",
		"col.oldest":         "最早就绪于",
		"col.state":          "状态",
		"col.actions":        "操作",
		"col.id":             "ID",
		"col.job":            "任务",
		"col.attempts":       "尝试次数",
		"col.available":      "可执行时间",
		"col.reserveduntil":  "保留至",
		"col.failedat":       "失败时间",
		"col.error":          "错误",
		"col.connection":     "连接",
		"col.payload":        "载荷",
		"col.host":           "主机",
		"col.pid":            "PID",
		"col.version":        "版本",
		"col.started":        "启动时间",
		"col.heartbeat":      "最近心跳",
		"col.group":          "分组",
		"col.queues":         "队列",
		"col.concurrency":    "并发数",
		"col.since":          "起始时间",
		"col.restarts":       "重启次数",
		"col.lasterror":      "最近错误",
		"state.ready":        "就绪",
		"state.delayed":      "延迟",
		"state.reserved":     "执行中",
		"state.paused":       "已暂停",
		"state.working":      "运行中",
		"btn.pause":          "暂停",
		"btn.resume":         "恢复",
		"btn.retry":          "重试",
		"btn.forget":         "删除",
		"btn.retryall":       "全部重试",
		"btn.flush":          "全部删除",
		"btn.push":           "推送",
		"btn.cancel":         "撤回任务",
		"btn.edit":           "保存修改",
		"btn.login":          "登录",
		"btn.filter":         "筛选",
		"btn.showall":        "显示全部（%d 字节）",
		"confirm.flush":      "删除所有失败任务？",
		"confirm.cancel":     "从队列中撤回此任务？",
		"queue.title":        "队列 %s",
		"queue.filter":       "任务类名",
		"queue.nojobs":       "此状态下没有任务。",
		"queue.next":         "下一页",
		"queue.prev":         "上一页",
		"queue.first":        "第一页",
		"queue.scanned":      "已在第 %d 至 %d 个任务中查找此类名。",
		"queue.paused":       "此队列已暂停：没有桥接进程从中取任务。",
		"job.title":          "任务 %s",
		"job.where":          "所在位置",
		"job.data":           "数据",
		"job.raw":            "存储的原始载荷",
		"job.edit":           "修改此任务",
		"job.newdata":        "新数据（JSON；留空则不变）",
		"job.delay":          "延迟执行（秒；留空则不变）",
		"job.movequeue":      "移到队列（留空则不变）",
		"job.front":          "移到队列最前面",
		"failed.title":       "失败任务",
		"failed.none":        "没有失败任务！",
		"failed.detail":      "失败任务 %s",
		"failed.count":       "%d 个失败任务",
		"bridges.title":      "桥接进程",
		"bridges.none":       "此连接上没有已注册的桥接进程（bridge serve 会自行注册）。",
		"push.title":         "推送任务",
		"push.queue":         "队列",
		"push.job":           "任务（Class 或 Class@method）",
		"push.data":          "数据（JSON）",
		"push.delay":         "延迟（秒）",
		"done.pushed":        "已推送任务 %s。",
		"login.title":        "登录",
		"login.token":        "控制台令牌",
		"done.retried":       "失败任务 %s 已回到其队列。",
		"done.retriedall":    "%d 个失败任务已回到各自队列。",
		"done.forgot":        "失败任务 %s 已删除。",
		"done.flushed":       "已删除 %d 个失败任务。",
		"done.paused":        "队列 %s 已暂停。",
		"done.resumed":       "队列 %s 已恢复。",
		"done.cancelled":     "任务 %s 已撤回。",
		"done.edited":        "任务 %s 已修改。",
		"err.title":          "错误",
		"err.readonly":       "此控制台为只读：配置令牌后启动才能修改。",
		"err.crossorigin":    "已拒绝：请求并非来自本控制台的页面。",
		"err.nosession":      "已拒绝：请先用控制台令牌登录。",
		"err.csrf":           "已拒绝：表单的安全令牌缺失或已过期；请刷新页面后重试。",
		"err.badtoken":       "令牌错误。",
		"err.notfound":       "未找到。",
		"err.reserved":       "此任务正被某个 worker 执行，无法修改。",
		"err.badjson":        "数据不是有效的 JSON：%s",
		"err.badnumber":      "不是有效的秒数：%s",
		"err.nojob":          "请填写任务名。",
		"err.backend":        "队列存储返回错误：%s",
		"nav.report":         "迁移报告",
		"report.title":       "迁移报告",
		"report.1h":          "最近 1 小时",
		"report.24h":         "最近 24 小时",
		"report.7d":          "最近 7 天",
		"report.about":       "按任务类统计（仅限设有路由或影子处理器的类），汇总此连接上所有桥接进程：在 Go 与 PHP 中的运行次数（每次尝试都计入）、与 PHP 对比的影子运行，以及 Go 能否接管整个类。运行时间单位为毫秒。",
		"report.none":        "没有任何类设有路由，此时间段内也没有被路由或影子运行的任务。",
		"report.shadow":      "影子运行",
		"report.noruns":      "此时间段内没有运行。",
		"report.mismatches":  "%s 的影子运行不一致（保留的最近几条，最新在前）",
		"report.phpside":     "PHP（已生效）",
		"report.goside":      "Go（影子）",
		"report.routeone":    "设置类的路由",
		"report.result":      "结果",
		"col.class":          "任务类",
		"col.route":          "路由",
		"col.runs":           "运行",
		"col.released":       "已释放",
		"col.mean":           "平均",
		"col.p95":            "p95",
		"col.mismatches":     "不一致",
		"col.verdict":        "结论",
		"verdict.notyet":     "尚未就绪：%s",
		"verdict.sep":        "；",
		"col.setroute":       "设置路由",
		"col.at":             "时间",
		"source.store":       "已存储",
		"source.file":        "配置文件",
		"source.code":        "代码",
		"btn.setroute":       "设置",
		"outcome.deleted":    "已删除",
		"outcome.released":   "已释放",
		"outcome.failed":     "已失败",
		"outcome.kept":       "已保留",
		"done.routed":        "路由已设置：%s（所有桥接进程在一秒内生效）。",
		"err.noclass":        "请填写任务类。",
		"err.badroute":       "不是有效的路由（go、php 或百分比，如 25%%）：%s",
		"err.badwindow":      "本页不提供此时间段：%s",
		"never":              "—",

		// A verdict's reasons; English takes the bridge's own sentences (see init).
		"verdict." + status.ReasonAllGo:            "整个类都在 Go 中运行",
		"verdict." + status.ReasonReady:            "Go 已运行此类任务 %d 次，结果与 PHP 相同：可以切换到 100%%",
		"verdict." + status.ReasonShadowMismatches: "%d / %d 次影子运行的结果与 PHP 不同（%.2f%%）",
		"verdict." + status.ReasonGoFailsMore:      "Go 的运行失败率为 %.2f%%，PHP 为 %.2f%%",
		"verdict." + status.ReasonGoReleasesMore:   "Go 的运行释放率为 %.2f%%，PHP 为 %.2f%%",
		"verdict." + status.ReasonFewGoRuns:        "Go 已运行此类任务 %d 次；需要 %d 次才足以下结论",
	}}
)

func init() {
	for kind, format := range status.ReasonFormats {
		english.strings["verdict."+kind] = format
	}
}

// verdictText is a class's verdict in the language: its ready reason, or what holds it back.
func verdictText(l lang, ready bool, reasons []status.Reason) string {
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = l.T("verdict."+r.Kind, r.Args()...)
	}
	text := strings.Join(parts, l.T("verdict.sep"))
	if ready {
		return text
	}
	return l.T("verdict.notyet", text)
}

// langCookie remembers the language a person chose with the switch.
const langCookie = "qb_lang"

// lang is the request's language: ?lang= (remembered in a cookie), the cookie, then Accept-Language.
func (d *Dashboard) lang(w http.ResponseWriter, r *http.Request) lang {
	if q := r.URL.Query().Get("lang"); q != "" {
		l := langOf(q)
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l.Code, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		return langOf(c.Value)
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if tag = strings.ToLower(tag); tag == "zh" || strings.HasPrefix(tag, "zh-") {
			return chinese
		}
		if tag == "en" || strings.HasPrefix(tag, "en-") {
			return english
		}
	}
	return english
}

func langOf(code string) lang {
	if c := strings.ToLower(code); c == "zh" || strings.HasPrefix(c, "zh-") {
		return chinese
	}
	return english
}
