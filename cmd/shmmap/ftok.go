package main

import (
	"fmt"

	"github.com/shmmap/shmmap"
)

// ftokCmd prints the key ftok gives.
var ftokCmd = &command{
	name:    "ftok",
	args:    "[--json] PATH PROJ",
	summary: "the key C's ftok(PATH, PROJ) returns",
	help: `Prints the key glibc's ftok(PATH, PROJ) returns, as 0x and eight hex
digits: the low 16 bits of PATH's inode, the low 8 bits of its device and
the low 8 bits of PROJ. PROJ is a number (65, 0x41) or a single character
(A, as in C's ftok(path, 'A')). PATH must exist; the key changes if the file
is replaced.

With --json, prints {"path": PATH, "proj": PROJ as a number, "key": KEY}.`,
	run: runFtok,
}

// ftokJSON is what ftok --json prints.
type ftokJSON struct {
	Path string `json:"path"`
	Proj int    `json:"proj"`
	Key  string `json:"key"`
}

// runFtok runs shmmap ftok.
func runFtok(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, "PATH", "PROJ"); err != nil {
		return err
	}
	proj, err := parseProj(pos[1])
	if err != nil {
		return usagef(c, "%v", err)
	}
	key, err := e.system().Ftok(pos[0], proj)
	if err != nil {
		return fmt.Errorf("%s %s: %s", c.name, pos[0], errnoText(err))
	}
	if *asJSON {
		return writeJSON(e.stdout, ftokJSON{Path: pos[0], Proj: proj, Key: shmmap.Key(key).String()})
	}
	_, err = fmt.Fprintln(e.stdout, key)
	return err
}
