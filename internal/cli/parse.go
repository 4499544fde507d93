package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// flag is one command-line flag. Every flag of every command is described once, here, and help is made from
// these descriptions, so help and behaviour cannot drift.
type flag struct {
	name   string // "connection": given as --connection
	short  string // "c": given as -c
	env    string // environment variable read when the flag is not given
	arg    string // placeholder of the value in help ("URL"); "" for a switch (--once)
	def    string // default value, shown in help
	usage  string
	secret bool // its value may hold a password: never shown
}

// command is one command or subcommand.
type command struct {
	name    string
	usage   string
	args    string // positional arguments in help, e.g. "JOB [JSON-DATA]"
	minArgs int
	maxArgs int // -1: any number
	flags   []*flag
	subs    []*command
	run     func(*invocation) error
}

// usageError is a command line that cannot be run as written: exit status 2, one line saying why.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// parsed is a command line split into flags and positional arguments.
type parsed struct {
	path   []*command // the command and its subcommand
	args   []string
	values map[string]string // flag name → value given on the command line ("true" for a switch)
	help   bool
	// version is --version, anywhere.
	version bool
}

// parse splits args (without the program name) against the command tree. Flags may stand anywhere: before
// the command, between command and subcommand, after or among the arguments (`--` ends the flags). A flag
// the command does not take, or an argument it does not take, is an error: nothing given is ignored.
func parse(root *command, args []string) (*parsed, error) {
	all := allFlags(root)
	p := &parsed{values: map[string]string{}}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			p.help = true
			continue
		}
		if name == "version" && len(a) > 2 && a[1] == '-' {
			p.version = true
			continue
		}
		f, ok := all[name]
		if !ok {
			return nil, usagef("unknown flag %s", flagText(a))
		}
		switch {
		case f.arg == "" && hasValue:
			if value != "true" && value != "false" {
				return nil, usagef("--%s takes no value (got %q)", f.name, value)
			}
		case f.arg == "":
			value = "true"
		case !hasValue:
			if i+1 == len(args) {
				return nil, usagef("--%s needs a value: --%s %s", f.name, f.name, f.arg)
			}
			i++
			value = args[i]
		}
		p.values[f.name] = value // the last one given wins
	}
	cmd := root
	for len(positional) > 0 && len(cmd.subs) > 0 {
		sub := cmd.sub(positional[0])
		if sub == nil {
			if cmd == root {
				return nil, usagef("unknown command %q (commands: %s)", positional[0], strings.Join(names(cmd.subs), ", "))
			}
			return nil, usagef("%s: unknown subcommand %q (want %s)", cmd.name, positional[0], strings.Join(names(cmd.subs), ", "))
		}
		p.path = append(p.path, sub)
		cmd = sub
		positional = positional[1:]
	}
	p.args = positional
	if p.help || p.version {
		return p, nil
	}
	if len(cmd.subs) > 0 {
		if cmd == root {
			return nil, usagef("name a command (%s); see --help", strings.Join(names(cmd.subs), ", "))
		}
		return nil, usagef("%s: name a subcommand (%s)", cmd.name, strings.Join(names(cmd.subs), ", "))
	}
	for name := range p.values {
		if !slices.ContainsFunc(cmd.flags, func(f *flag) bool { return f.name == name }) {
			return nil, usagef("%s does not take --%s (see %s --help)", p.commandName(), name, p.commandName())
		}
	}
	switch n := len(p.args); {
	case cmd.maxArgs == 0 && n > 0:
		return nil, usagef("%s takes no arguments, and %q would be ignored (a list of queues is one word: --queue a,b)", p.commandName(), p.args[0])
	case cmd.maxArgs > 0 && n > cmd.maxArgs:
		return nil, usagef("%s: too many arguments: %q would be ignored (want %s)", p.commandName(), strings.Join(p.args[cmd.maxArgs:], " "), cmd.args)
	case n < cmd.minArgs:
		return nil, usagef("%s: want %s", p.commandName(), cmd.args)
	}
	return p, nil
}

// flagText is a flag as written, without a value that may hold a secret.
func flagText(a string) string {
	name, _, _ := strings.Cut(a, "=")
	return name
}

// allFlags indexes every flag of the tree by name and short name. A name means one flag everywhere.
func allFlags(root *command) map[string]*flag {
	m := map[string]*flag{}
	var walk func(c *command)
	walk = func(c *command) {
		for _, f := range c.flags {
			m[f.name] = f
			if f.short != "" {
				m[f.short] = f
			}
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	walk(root)
	return m
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func names(cmds []*command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.name
	}
	return out
}

// commandName is "work" or "failed retry".
func (p *parsed) commandName() string { return strings.Join(names(p.path), " ") }

// command is the command to run: the last of the path.
func (p *parsed) command() *command { return p.path[len(p.path)-1] }

// value is a flag's value: given on the command line, else its environment variable, else its default.
func (p *parsed) value(f *flag) string {
	if v, ok := p.values[f.name]; ok {
		return v
	}
	if f.env != "" {
		if v, ok := os.LookupEnv(f.env); ok {
			return v
		}
	}
	return f.def
}

// given reports whether a flag was set on the command line or in its environment variable.
func (p *parsed) given(f *flag) bool {
	if _, ok := p.values[f.name]; ok {
		return true
	}
	if f.env != "" {
		_, ok := os.LookupEnv(f.env)
		return ok
	}
	return false
}
