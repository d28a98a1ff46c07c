package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints nothing itself: the caller prints help and usage errors.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses the arguments of command c with the flags defined on fs,
// plus -impl, which is global but also accepted after the command. It
// returns the positional arguments. -h prints c's help and returns errHelp;
// a bad flag is a usageError.
func (e *env) parse(c *command, fs *flag.FlagSet, args []string) ([]string, error) {
	fs.StringVar(&e.implName, "impl", e.implName, "implementation `NAME` of the C calls: cshim (libc through cgo) or purego (system calls); a global flag, also accepted here")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e.stdout, c, fs)
		return nil, errHelp
	}
	if err != nil {
		return nil, usagef(c, "%v", err)
	}
	return pos, nil
}

// parseInterspersed parses args with fs, allowing flags before, between and
// after the positional arguments, which it returns in order. "--" ends the
// flags. An argument that is a negative number ("-5", "-0x10") is
// positional, so negative keys need no "--".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' || isNumber(a) {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // fs.Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return pos, nil
}

// isNumber reports whether s is an integer as parseNum reads it.
func isNumber(s string) bool {
	_, err := parseNum(s, 64)
	return err == nil
}

// parseNum parses a decimal integer, or a hex one with 0x, with an optional
// sign, that fits in bits bits. Unlike base 0 of strconv, a leading 0 does
// not mean octal: ipcs and /proc print decimal and 0x-hex only.
func parseNum(s string, bits int) (int64, error) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	base := 10
	if h, ok := strings.CutPrefix(digits, "0x"); ok {
		digits, base = h, 16
	} else if h, ok := strings.CutPrefix(digits, "0X"); ok {
		digits, base = h, 16
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	limit := uint64(1) << (bits - 1) // |min|; max is limit-1
	neg := s[0] == '-'
	if (neg && v > limit) || (!neg && v > limit-1) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// numFlag is a flag holding a non-negative number (decimal, or hex with
// 0x), remembering whether it was given.
type numFlag struct {
	v   int64
	set bool
}

// String returns the number in decimal.
func (n *numFlag) String() string {
	if n == nil {
		return "0"
	}
	return strconv.FormatInt(n.v, 10)
}

// Set parses a non-negative number.
func (n *numFlag) Set(s string) error {
	v, err := parseNum(s, 64)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	n.v, n.set = v, true
	return nil
}

// modeFlag is a flag holding permission bits in octal, such as 0600.
type modeFlag uint32

// String returns the mode as four octal digits.
func (m *modeFlag) String() string { return fmt.Sprintf("%04o", uint32(*m)) }

// Set parses octal permission bits, at most 0777.
func (m *modeFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("%q is not an octal mode from 0000 to 0777", s)
	}
	*m = modeFlag(v)
	return nil
}

// printHelp prints c's synopsis, help text and flags.
func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: shmmap %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.help))
	fmt.Fprintf(w, "\nFlags (-flag and --flag are the same; flags may follow the arguments):\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s%s\n\t%s%s\n", f.Name, arg, usage, def)
	})
}

// wantArgs checks that c got one positional argument for each of names
// (the placeholders of its synopsis, such as "SEG").
func wantArgs(c *command, pos []string, names ...string) error {
	switch {
	case len(pos) < len(names):
		return usagef(c, "missing %s", strings.Join(names[len(pos):], " "))
	case len(pos) > len(names):
		return usagef(c, "too many arguments: %s", strings.Join(pos[len(names):], " "))
	}
	return nil
}
