package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeHelp prints the help of a command (the root for the program's own), made from the same descriptions
// the parser uses.
func writeHelp(w io.Writer, prog string, path []*command, root *command) {
	cmd, full := root, prog
	for _, c := range path {
		cmd, full = c, full+" "+c.name
	}
	fmt.Fprintf(w, "%s — %s\n\n", full, cmd.usage)
	switch {
	case len(cmd.subs) > 0:
		fmt.Fprintf(w, "Usage: %s COMMAND [flags]   (flags may stand before or after the command)\n\nCommands:\n", full)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range cmd.subs {
			fmt.Fprintf(tw, "  %s %s\t%s\n", s.name, s.args, s.usage)
		}
		tw.Flush()
		if cmd == root {
			fmt.Fprintf(w, "\n%s help COMMAND, or %s COMMAND --help, for its flags. %s --version prints the version.\n", prog, prog, prog)
		}
	default:
		fmt.Fprintf(w, "Usage: %s [flags] %s\n", full, cmd.args)
	}
	if len(cmd.flags) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range cmd.flags {
		fmt.Fprintf(tw, "  %s\t%s\n", flagSynopsis(f), flagUsage(f))
	}
	tw.Flush()
}

// flagSynopsis is "-c, --connection URL".
func flagSynopsis(f *flag) string {
	s := "--" + f.name
	if f.short != "" {
		s = "-" + f.short + ", " + s
	}
	if f.arg != "" {
		s += " " + f.arg
	}
	return s
}

// flagUsage is the usage text with the default and the environment variable; never a value read from the
// environment, which may hold a password.
func flagUsage(f *flag) string {
	var b strings.Builder
	b.WriteString(f.usage)
	if f.def != "" && !f.secret {
		fmt.Fprintf(&b, " (default %s)", f.def)
	}
	if f.env != "" {
		fmt.Fprintf(&b, " [$%s]", f.env)
	}
	return b.String()
}
