package cli

import (
	"flag"

	urfave "github.com/urfave/cli/v2"
)

// urfave/cli v2 parses into its package-global HelpFlag, and adds its global help command under every
// command, so two command lines running in one process (parallel tests, or a program running several) race.
// Applying a copy of the flag keeps the global untouched; commands hide the shared help command (help stays
// available as --help).
type helpFlag struct{ urfave.BoolFlag }

func (f *helpFlag) Apply(set *flag.FlagSet) error {
	c := f.BoolFlag
	return c.Apply(set)
}

func init() {
	if hf, ok := urfave.HelpFlag.(*urfave.BoolFlag); ok {
		urfave.HelpFlag = &helpFlag{*hf}
	}
}

// hideHelpCommands sets HideHelpCommand on every command below cmds.
func hideHelpCommands(cmds []*urfave.Command) {
	for _, c := range cmds {
		c.HideHelpCommand = true
		hideHelpCommands(c.Subcommands)
	}
}
