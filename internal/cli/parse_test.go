package cli

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// run runs a command line whose commands never get to connect.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"mybridge"}, args...), Params{
		Connect: func(context.Context, Settings) (Bridge, error) {
			t.Fatalf("%v: connected, but the command line should have been refused first", args)
			return nil, nil
		},
		Stdout: &stdout, Stderr: &stderr,
	})
	return code, stdout.String(), stderr.String()
}

// A word a command does not take, and every flag after it, used to be ignored, so `work --queue notify email
// --connection redis://…` drained the embedded SQLite file. Now it is exit 2 and one line naming the word.
func TestNothingGivenIsIgnored(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"work", "--queue", "notify", "email", "--connection", "redis://127.0.0.1:6379/0"}, `"email" would be ignored`},
		{[]string{"work", "redis", "--queue", "notify"}, `"redis" would be ignored`},
		{[]string{"failed", "list", "extra"}, `"extra" would be ignored`},
		{[]string{"restart", "now"}, `"now" would be ignored`},
		{[]string{"push", "A", "{}", "C"}, `"C" would be ignored`},
		{[]string{"failed", "forget", "a", "b"}, `"b" would be ignored`},
		{[]string{"work", "--tires", "3"}, "unknown flag --tires"},
		{[]string{"push", "--tries", "3", "X"}, "push does not take --tries"},
		{[]string{"wrok"}, `unknown command "wrok"`},
		{[]string{"failed"}, "name a subcommand"},
		{[]string{"failed", "retyr", "all"}, `unknown subcommand "retyr"`},
		{[]string{}, "name a command"},
		{[]string{"work", "--queue"}, "--queue needs a value"},
		{[]string{"work", "--once=maybe"}, "takes no value"},
		{[]string{"push"}, "want JOB [JSON-DATA]"},
	} {
		code, out, errOut := run(t, tc.args...)
		require.Equal(t, 2, code, "%v", tc.args)
		require.Empty(t, out, "%v", tc.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
		require.True(t, strings.HasPrefix(errOut, "mybridge: "), "the program calls itself by its own name: %q", errOut)
	}
}

// Flags stand before, between or after the command and its subcommand, and the last one given wins.
func TestFlagsAnywhere(t *testing.T) {
	root := commands(Params{})
	for _, args := range [][]string{
		{"-c", "redis://a/0", "failed", "retry", "all"},
		{"failed", "-c", "redis://a/0", "retry", "all"},
		{"failed", "retry", "all", "--connection", "redis://a/0"},
		{"failed", "retry", "--connection=redis://b/0", "all", "-c", "redis://a/0"},
	} {
		p, err := parse(root, args)
		require.NoError(t, err, "%v", args)
		require.Equal(t, "failed retry", p.commandName())
		require.Equal(t, []string{"all"}, p.args)
		require.Equal(t, "redis://a/0", p.values["connection"], "%v", args)
	}
	p, err := parse(root, []string{"push", "--queue", "q", "--", "--not-a-flag"})
	require.NoError(t, err)
	require.Equal(t, []string{"--not-a-flag"}, p.args)
}

// One name is one flag everywhere: a flag that takes a value in one command takes one in all.
func TestFlagNamesAreConsistent(t *testing.T) {
	seen := map[string]*flag{}
	var walk func(c *command)
	walk = func(c *command) {
		for _, f := range c.flags {
			if prev, ok := seen[f.name]; ok {
				require.Equal(t, prev.arg == "", f.arg == "", "--%s is a switch in one command and takes a value in another", f.name)
			}
			seen[f.name] = f
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	walk(commands(Params{}))
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, errOut := run(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		require.Contains(t, out, "mybridge — ")
		require.Contains(t, out, "work")
		require.Contains(t, out, "failed")
	}
	for _, args := range [][]string{{"help", "work"}, {"work", "--help"}, {"work", "-h", "--queue", "x"}} {
		code, out, _ := run(t, args...)
		require.Equal(t, 0, code, "%v", args)
		require.Contains(t, out, "mybridge work — ")
		require.Contains(t, out, "--php-workers N")
		require.Contains(t, out, "--cache-connection URL")
		require.Contains(t, out, "postgres://")
		require.Contains(t, out, "unix://")
	}
	code, out, _ := run(t, "help", "failed", "retry")
	require.Equal(t, 0, code)
	require.Contains(t, out, "mybridge failed retry — ")
	code, _, errOut := run(t, "help", "nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `no command "nope"`)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := run(t, args...)
		require.Equal(t, 0, code)
		require.Regexp(t, `^mybridge \S`, out)
	}
}

// Help never shows a value read from the environment: it may hold a password.
func TestHelpShowsNoEnvironmentValue(t *testing.T) {
	t.Setenv("BRIDGE_CONNECTION", "redis://:s3cret-env@127.0.0.1:6379/0")
	_, out, _ := run(t, "work", "--help")
	require.NotContains(t, out, "s3cret-env")
	require.Contains(t, out, "[$BRIDGE_CONNECTION]")
}

// The README's flag table and commands list say what the command line takes: every flag in help is in the
// README and every flag the README names is one the command line takes.
func TestREADMEMatchesHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(readme)
	root := commands(Params{})
	known := allFlags(root)
	for name, f := range known {
		if name != f.name {
			continue // a short name
		}
		require.True(t, strings.Contains(text, "`--"+name), "the README does not mention --%s", name)
	}
	section := text[strings.Index(text, "## Commands and flags"):]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	for _, m := range regexp.MustCompile("`--([a-z][a-z0-9-]*)").FindAllStringSubmatch(section, -1) {
		_, ok := known[m[1]]
		require.True(t, ok || slices.Contains([]string{"help", "version"}, m[1]), "the README's commands section names --%s, which no command takes", m[1])
	}
	for _, c := range root.subs {
		require.True(t, strings.Contains(section, "\n  "+c.name+" "), "the README's commands section does not list %s", c.name)
		for _, s := range c.subs {
			require.True(t, strings.Contains(section, s.name), "the README's commands section does not list %s %s", c.name, s.name)
		}
	}
}
