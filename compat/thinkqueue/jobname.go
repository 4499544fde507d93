package thinkqueue

import "strings"

// ParseJobName splits a payload's job name the way Job::parseJob does at fire time: "Class@method" gives
// the method to call, a name without "@" calls "fire". Like PHP's explode('@') read into two variables,
// only the text up to a second "@" is the method.
func ParseJobName(name string) (class, method string) {
	class, rest, found := strings.Cut(name, "@")
	if !found {
		return name, "fire"
	}
	method, _, _ = strings.Cut(rest, "@")
	return class, method
}
