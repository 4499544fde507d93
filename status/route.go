package status

import (
	"fmt"
	"strconv"
	"strings"
)

// routeScale is a Route's resolution: hundredths of a percent.
const routeScale = 10_000

// Route says which side runs a job class: all of it in Go, all in PHP, or a share in Go (in hundredths of a
// percent). Which job goes where is decided by its id, so one job goes the same way on every attempt and on
// every bridge. The zero Route is PHP.
type Route struct{ goShare int }

// The whole-class routes.
var (
	RouteGo  = Route{routeScale}
	RoutePHP = Route{0}
)

// RoutePercent routes pct percent (0–100, to a hundredth) of a class's jobs to Go and the rest to PHP.
func RoutePercent(pct float64) Route {
	return Route{min(max(int(pct*100+0.5), 0), routeScale)}
}

// ParseRoute reads a route as the config file and `bridge route set` write it: go, php, or a percentage
// of jobs for Go such as 25% (or 12.5%).
func ParseRoute(s string) (Route, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); {
	case t == "go":
		return RouteGo, nil
	case t == "php":
		return RoutePHP, nil
	case strings.HasSuffix(t, "%"):
		pct, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
		if err != nil || pct < 0 || pct > 100 {
			return Route{}, fmt.Errorf("route %q: want a percentage from 0%% to 100%%", s)
		}
		return RoutePercent(pct), nil
	}
	return Route{}, fmt.Errorf("route %q: want go, php or a percentage for Go such as 25%%", s)
}

// Percent is the share of jobs routed to Go, 0–100.
func (r Route) Percent() float64 { return float64(r.goShare) / 100 }

// Go reports whether the job whose routing hash is h (any uint32, e.g. FNV-1a of its id) runs in Go.
func (r Route) Go(h uint32) bool { return int(h%routeScale) < r.goShare }

// String is the route as ParseRoute reads it.
func (r Route) String() string {
	switch r.goShare {
	case routeScale:
		return "go"
	case 0:
		return "php"
	}
	return strconv.FormatFloat(r.Percent(), 'f', -1, 64) + "%"
}

// MarshalText writes String, so a Route is "go", "php" or "25%" in JSON and YAML.
func (r Route) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads what ParseRoute reads.
func (r *Route) UnmarshalText(b []byte) error {
	v, err := ParseRoute(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ClassRoute is the route one class has, and where it comes from: "store" (`bridge route set`, which
// wins), "file" (the config file's routes:) or "code" (Bridge.Route).
type ClassRoute struct {
	Class  string `json:"class"`
	Route  Route  `json:"route"`
	Source string `json:"source"`
}
