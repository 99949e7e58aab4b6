package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// errHelp says that help was asked for and printed: the command ends with status 0.
var errHelp = errors.New("help printed")

// statusError is an error that ends the binary with its own exit status instead of 2
// (which says the command was used wrongly or could not run).
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// exitCode is the binary's exit status for err: a statusError's own, else 2.
func exitCode(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.code
	}
	return 2
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// leaf is the flag set of one CLI verb: its own flags, and every flag of serve (bound so
// the MAILTRAIL_* variables apply alike) of which its help shows only those it uses.
type leaf struct {
	fs       *flag.FlagSet
	cfg      *Config
	synopsis string   // "mailtrail key create --org ORG_ID [--name N]"
	about    string   // one paragraph, may be ""
	shown    []string // flags its help lists, in order; nil: every flag
}

// newLeaf returns the verb's flag set with the configuration bound; own registers the
// verb's own flags, which its help lists first, then the shown configuration flags.
func newLeaf(name, synopsis, about string, own func(fs *flag.FlagSet), shownConfig ...string) *leaf {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once by main; help by usage
	l := &leaf{fs: fs, cfg: &Config{}, synopsis: synopsis, about: about}
	l.cfg.bind(fs)
	configNames := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { configNames[f.Name] = true })
	if own != nil {
		own(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !configNames[f.Name] {
				l.shown = append(l.shown, f.Name)
			}
		})
		l.shown = append(l.shown, shownConfig...)
	} else if len(shownConfig) > 0 {
		l.shown = shownConfig
	}
	return l
}

// parse parses args. It prints the verb's help on stdout and returns errHelp for -h or
// --help; a bad flag is an error that names the verb and points at its help.
func (l *leaf) parse(args []string, stdout io.Writer) error {
	err := l.fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		l.usage(stdout)
		return errHelp
	}
	if err != nil {
		return fmt.Errorf("%s: %w (see mailtrail %s --help)", l.fs.Name(), err, l.fs.Name())
	}
	return nil
}

// usage prints the verb's synopsis and its flags.
func (l *leaf) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n  %s\n", l.synopsis)
	if l.about != "" {
		fmt.Fprintf(w, "\n%s\n", l.about)
	}
	disp := flag.NewFlagSet(l.fs.Name(), flag.ContinueOnError)
	disp.SetOutput(w)
	if l.shown == nil {
		l.fs.VisitAll(func(f *flag.Flag) { disp.Var(f.Value, f.Name, f.Usage) })
	} else {
		for _, n := range l.shown {
			if f := l.fs.Lookup(n); f != nil {
				disp.Var(f.Value, f.Name, f.Usage)
			}
		}
	}
	fmt.Fprintln(w, "\nFlags:")
	disp.PrintDefaults()
	if l.shown != nil {
		fmt.Fprintln(w, "\nThe other flags of serve (mailtrail serve --help) are accepted too.")
	}
}

// group answers a verb group's help and checks its verb: it returns errHelp after
// printing the group's verbs when args ask for help (or name none), and an error naming
// the verbs for an unknown one.
func group(name string, args []string, stdout io.Writer, verbs ...[2]string) (string, error) {
	var names []string
	for _, v := range verbs {
		names = append(names, v[0])
	}
	if len(args) == 0 {
		return "", fmt.Errorf("%s: want a verb: %s (see mailtrail %s --help)", name, strings.Join(names, ", "), name)
	}
	if isHelp(args[0]) {
		fmt.Fprintf(stdout, "Usage:\n")
		for _, v := range verbs {
			fmt.Fprintf(stdout, "  mailtrail %s %s\n", name, v[1])
		}
		fmt.Fprintf(stdout, "\n\"mailtrail %s VERB --help\" lists a verb's flags.\n", name)
		return "", errHelp
	}
	for _, v := range verbs {
		if v[0] == args[0] {
			return args[0], nil
		}
	}
	return "", fmt.Errorf("%s: unknown verb %q (want %s)", name, args[0], strings.Join(names, ", "))
}

// cliMessage is err as the command line prints it: once, and with a user's error shown
// as its message alone (no "mailtrail:" prefix and no code).
func cliMessage(err error) string {
	msg := err.Error()
	var e *mailtrail.Error
	if errors.As(err, &e) {
		msg = strings.Replace(msg, e.Error(), e.Message, 1)
	}
	return msg
}
