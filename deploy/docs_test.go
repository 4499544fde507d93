package deploy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// The documents a user reads, relative to this package's directory.
var (
	readme       = "../README.md"
	readmeZH     = "../README.zh-CN.md"
	migrateEN    = "../docs/migrate-from-think-queue.md"
	migrateZH    = "../docs/migrate-from-think-queue.zh-CN.md"
	samples      = []string{"supervisor/queuebridge.conf", "systemd/queuebridge.service"}
	translations = [][2]string{{readme, readmeZH}, {migrateEN, migrateZH}}
)

// A translation names the same flags and commands as its original: every --flag and every command name
// (the bridge's commands, PHP's queue:* commands) in one appears in the other.
func TestTranslationsNameTheSameFlagsAndCommands(t *testing.T) {
	commands := cliCommands(t)
	for _, pair := range translations {
		en, zh := readDoc(t, pair[0]), readDoc(t, pair[1])
		assert.Empty(t, difference(flagsIn(en), flagsIn(zh)), "flags in %s but not in %s", pair[0], pair[1])
		assert.Empty(t, difference(flagsIn(zh), flagsIn(en)), "flags in %s but not in %s", pair[1], pair[0])
		enCmds, zhCmds := commandsIn(en, commands), commandsIn(zh, commands)
		assert.Empty(t, difference(enCmds, zhCmds), "commands in %s but not in %s", pair[0], pair[1])
		assert.Empty(t, difference(zhCmds, enCmds), "commands in %s but not in %s", pair[1], pair[0])
	}
}

// otherProgramsFlags are the flags of other programs the documents name, and whose they are.
var otherProgramsFlags = map[string]string{
	"--now":     "systemctl enable --now",
	"--raw":     "redis-cli --raw",
	"--help":    "the bridge's own, on every command (not listed under Flags)",
	"--version": "the bridge's own (not listed under Flags)",
}

// Every --flag the READMEs, the migration guides and the samples name is a flag of the bridge's command
// line (or one of otherProgramsFlags), so no document teaches a flag that does not exist.
func TestDocumentsNameOnlyRealFlags(t *testing.T) {
	real := cliFlags(t)
	for f := range otherProgramsFlags {
		require.False(t, real[f], "%s is the bridge's own flag now: drop it from otherProgramsFlags", f)
		real[f] = true
	}
	for _, path := range append([]string{readme, readmeZH, migrateEN, migrateZH}, samples...) {
		assert.Empty(t, difference(flagsIn(readDoc(t, path)), real), "%s names flags the bridge does not have", path)
	}
}

// The README's "Build your own binary" main.go and the migration guides' build as a user's own module
// would, and the first guess the README warns about (a type with Handle instead of ProcessJob) does not.
func TestDocumentedMainsBuild(t *testing.T) {
	section := markdownSection(t, readDoc(t, readme), "## Build your own binary")
	var mainGo string
	for _, block := range fencedBlocks(section, "go") {
		if strings.Contains(block, "package main") {
			mainGo = block
		}
	}
	require.NotEmpty(t, mainGo, `"Build your own binary" has no main.go block`)
	out, err := buildUserModule(t, mainGo)
	require.NoError(t, err, "the README's main.go does not build:\n%s", out)

	for _, guide := range []string{migrateEN, migrateZH} {
		built := 0
		for _, block := range fencedBlocks(readDoc(t, guide), "go") {
			if strings.Contains(block, "package main") {
				out, err := buildUserModule(t, block)
				require.NoError(t, err, "%s: a main.go that does not build:\n%s", guide, out)
				built++
			}
		}
		require.NotZero(t, built, "%s shows no main.go", guide)
	}

	firstGuess := strings.Replace(mainGo, "func (Notify) ProcessJob(", "func (Notify) Handle(", 1)
	require.NotEqual(t, mainGo, firstGuess, "the README's main.go should define Notify.ProcessJob")
	out, err = buildUserModule(t, firstGuess)
	require.Error(t, err, "a handler with Handle instead of ProcessJob built; the README says it does not")
	require.Contains(t, string(out), "missing method ProcessJob")
}

// buildUserModule compiles main.go in a module of its own that requires this one (replaced by this
// checkout, with no network), as `go mod init`, `go get github.com/queuebridge/bridge` and `go build` would.
func buildUserModule(t *testing.T, mainGo string) ([]byte, error) {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	// The bridge's own requirements, as go mod tidy writes them into a user's go.mod: without them the go
	// command loads the whole module graph, whose older go.mod files a fresh module cache does not hold.
	bridgeMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	_, requires, ok := strings.Cut(string(bridgeMod), "\nrequire")
	require.True(t, ok, "the bridge's go.mod has no require")
	goMod := "module example.com/myworker\n\ngo 1.26\n\nrequire github.com/queuebridge/bridge v0.0.0\n\nreplace github.com/queuebridge/bridge => " +
		root + "\n\nrequire" + requires
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainGo), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*waitLimit)
	defer cancel()
	// go vet compiles the package and its imports as go build does, and skips linking a binary nobody runs.
	cmd := exec.CommandContext(ctx, "go", "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off")
	return cmd.CombinedOutput()
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

var flagPattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)`)

// flagsIn returns the --flags a text names.
func flagsIn(text string) map[string]bool {
	flags := map[string]bool{}
	for _, m := range flagPattern.FindAllStringSubmatch(text, -1) {
		flags[m[1]] = true
	}
	return flags
}

var (
	codeSpan   = regexp.MustCompile("`[^`\n]+`")
	codeWord   = regexp.MustCompile(`[A-Za-z][A-Za-z0-9:_-]*`)
	phpCommand = regexp.MustCompile(`^queue:[a-z-]+$`)
)

// commandsIn returns the command names a Markdown text shows as code: the bridge's own (commands) and
// PHP's queue:* commands.
func commandsIn(text string, commands map[string]bool) map[string]bool {
	var code []string
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			code = append(code, line)
			continue
		}
		code = append(code, codeSpan.FindAllString(line, -1)...)
	}
	found := map[string]bool{}
	for _, w := range codeWord.FindAllString(strings.Join(code, "\n"), -1) {
		w = strings.TrimRight(w, ":-")
		if commands[w] || phpCommand.MatchString(w) {
			found[w] = true
		}
	}
	return found
}

// markdownSection returns the text under heading, up to the next heading of the same or a higher level.
func markdownSection(t *testing.T, text, heading string) string {
	t.Helper()
	level := strings.Index(heading, " ")
	lines := strings.Split(text, "\n")
	start := slices.Index(lines, heading)
	require.GreaterOrEqual(t, start, 0, "no %q heading", heading)
	end := len(lines)
	inFence := false
	for i := start + 1; i < len(lines) && end == len(lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "```") {
			inFence = !inFence
		}
		if n := strings.IndexFunc(lines[i], func(r rune) bool { return r != '#' }); !inFence && n > 0 && n <= level && lines[i][n] == ' ' {
			end = i
		}
	}
	return strings.Join(lines[start:end], "\n")
}

// fencedBlocks returns the contents of the ```lang blocks of a Markdown text.
func fencedBlocks(text, lang string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```"+lang:
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

// cliHelp is the bridge's --help for the command path (none: the top level).
func cliHelp(t *testing.T, path ...string) string {
	t.Helper()
	var out bytes.Buffer
	args := append(append([]string{"bridge"}, path...), "--help")
	code := bridge.New().RunCommand(context.Background(), args, &out, &out)
	require.Zero(t, code, "bridge %s:\n%s", strings.Join(args[1:], " "), out.String())
	return out.String()
}

// cliTree walks the bridge's help, command by command, and returns every command name and every flag.
func cliTree(t *testing.T) (commands, flags map[string]bool) {
	t.Helper()
	commands, flags = map[string]bool{}, map[string]bool{}
	var walk func(path []string)
	walk = func(path []string) {
		section := ""
		sc := bufio.NewScanner(strings.NewReader(cliHelp(t, path...)))
		for sc.Scan() {
			line := sc.Text()
			if line != "" && line[0] != ' ' {
				section = line
				continue
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			switch {
			case section == "Commands:":
				commands[f[0]] = true
				if f[0] != "help" && f[0] != "version" {
					walk(append(slices.Clone(path), f[0]))
				}
			case section == "Flags:":
				for _, w := range f {
					if strings.HasPrefix(w, "--") {
						flags[strings.TrimSuffix(w, ",")] = true
						break
					}
				}
			}
		}
		require.NoError(t, sc.Err())
	}
	walk(nil)
	require.True(t, commands["work"] && commands["list"], "the help walk found no commands: %v", commands)
	require.True(t, flags["--connection"] && flags["--grace"], "the help walk found no flags: %v", flags)
	return commands, flags
}

func cliCommands(t *testing.T) map[string]bool { c, _ := cliTree(t); return c }
func cliFlags(t *testing.T) map[string]bool    { _, f := cliTree(t); return f }

// difference returns the sorted names in a but not in b.
func difference(a, b map[string]bool) []string {
	var d []string
	for k := range a {
		if !b[k] {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	return d
}

// The supervisor blocks the migration guides show are the sample, line for line (its comments aside).
func TestGuidesShowTheSupervisorSample(t *testing.T) {
	sample := readINI(t, "supervisor/queuebridge.conf")
	var want []string
	for _, l := range sample.lines {
		if l.key != "" {
			want = append(want, l.key+"="+l.value)
		}
	}
	for _, guide := range []string{migrateEN, migrateZH} {
		shown := 0
		for _, block := range fencedBlocks(readDoc(t, guide), "ini") {
			if !strings.HasPrefix(block, "["+programSection+"]") {
				continue
			}
			shown++
			lines := strings.Split(strings.TrimSpace(block), "\n")[1:]
			assert.Equal(t, want, lines, "%s: a [%s] block that is not supervisor/queuebridge.conf", guide, programSection)
		}
		assert.NotZero(t, shown, "%s shows no [%s] block", guide, programSection)
	}
}

// Every `go test … -bench X` the READMEs and the Go files' comments show runs from the repository's root,
// runs no test (-run '^$') and selects exactly one benchmark function of the package it names, so a -benchtime sized for one benchmark is never
// given to another (`-bench Drain -benchtime 200000x` once matched four, one draining 20,000 jobs per
// iteration, and never ended).
func TestBenchCommandsSelectOneBenchmark(t *testing.T) {
	var commands []benchCommand
	for _, path := range []string{readme, readmeZH} {
		commands = append(commands, benchCommandsInMarkdown(readDoc(t, path), path)...)
	}
	commands = append(commands, benchCommandsInGoComments(t, "..")...)
	require.NotEmpty(t, commands)
	for _, c := range commands {
		pkg, pattern, run := c.parse()
		assert.Equal(t, "'^$'", run, "%s: %s: give -run '^$', or the package's tests run first", c.where, c.line)
		// From the repository's root, go test reaches a package of another module only through -C.
		if mod := moduleOf(t, pkg); mod != "." {
			assert.Contains(t, c.line, "-C "+mod, "%s: %s: %s is a module of its own: go test -C %s …", c.where, c.line, pkg, mod)
		}
		if pattern == "" {
			assert.Fail(t, "no -bench pattern", "%s: %s", c.where, c.line)
			continue
		}
		top, _, _ := strings.Cut(pattern, "/") // -bench matches each level of a name separately
		re, err := regexp.Compile(top)
		if !assert.NoError(t, err, "%s: %s", c.where, c.line) {
			continue
		}
		var selected []string
		for _, name := range benchmarkFuncs(t, filepath.Join("..", pkg)) {
			if re.MatchString(name) {
				selected = append(selected, name)
			}
		}
		assert.Len(t, selected, 1, "%s: %s selects %v in %s", c.where, c.line, selected, pkg)
	}
}

// benchCommand is a `go test` command line with -bench, and where a document shows it.
type benchCommand struct{ where, line string }

// parse returns the package the command names (".", the module root, when it names none; paths relative
// to the repository, through -C), its -bench pattern and its -run argument, quotes unremoved, as written.
func (c benchCommand) parse() (pkg, pattern, run string) {
	pkg = "."
	dir := ""
	words := strings.Fields(c.line)
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch {
		case w == "-C":
			dir = next
		case w == "-bench":
			pattern = next
		case strings.HasPrefix(w, "-bench="):
			pattern = strings.TrimPrefix(w, "-bench=")
		case w == "-run":
			run = next
		case strings.HasPrefix(w, "-run="):
			run = strings.TrimPrefix(w, "-run=")
		case w == "." || strings.HasPrefix(w, "./"):
			pkg = w
		}
	}
	return filepath.Join(dir, pkg), strings.Trim(pattern, `'"`), run
}

// moduleOf returns the directory, relative to the repository, of the module that holds pkg (a path
// relative to the repository): the nearest one above it with a go.mod.
func moduleOf(t *testing.T, pkg string) string {
	for dir := filepath.Clean(pkg); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join("..", dir, "go.mod")); err == nil {
			return dir
		}
		require.NotEqual(t, ".", dir, "no go.mod above %s", pkg)
	}
}

var (
	goTestSpan    = regexp.MustCompile("`(go test [^`]*-bench[^`]*)`")
	goTestComment = regexp.MustCompile(`(?m)^\s*//\s+(go test .*-bench.*)$`)
	benchmarkFunc = regexp.MustCompile(`(?m)^func (Benchmark\w*)\(\w+ \*testing\.B\)`)
)

// benchCommandsInMarkdown returns the `go test … -bench` commands of a Markdown text: code spans (which may
// wrap onto the next line) and lines of fenced blocks.
func benchCommandsInMarkdown(text, where string) []benchCommand {
	var cmds []benchCommand
	var prose []string
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case strings.HasPrefix(trimmed, "```"):
			inFence = !inFence
		case inFence && strings.HasPrefix(trimmed, "go test ") && strings.Contains(trimmed, "-bench"):
			cmds = append(cmds, benchCommand{where, trimmed})
		case !inFence:
			prose = append(prose, line)
		}
	}
	for _, m := range goTestSpan.FindAllStringSubmatch(strings.Join(prose, "\n"), -1) {
		cmds = append(cmds, benchCommand{where, strings.Join(strings.Fields(m[1]), " ")})
	}
	return cmds
}

// benchCommandsInGoComments returns the `go test … -bench` commands the comments of the Go files under root
// show (benchmarks document how to run themselves).
func benchCommandsInGoComments(t *testing.T, root string) []benchCommand {
	t.Helper()
	var cmds []benchCommand
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range goTestComment.FindAllStringSubmatch(string(src), -1) {
			cmds = append(cmds, benchCommand{path, strings.TrimSpace(m[1])})
		}
		return nil
	})
	require.NoError(t, err)
	return cmds
}

// benchmarkFuncs returns the names of the benchmark functions of the package in dir.
func benchmarkFuncs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		for _, m := range benchmarkFunc.FindAllStringSubmatch(readDoc(t, f), -1) {
			names = append(names, m[1])
		}
	}
	return names
}
