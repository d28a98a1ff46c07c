package procmaps

import (
	"math"
	"testing"
)

func TestSysV(t *testing.T) {
	tests := []struct {
		path  string
		inode uint64
		key   int32
		shmid int
		ok    bool
	}{
		{"/SYSV00001235 (deleted)", 4, 0x1235, 4, true},
		{"/SYSV00001235", 4, 0x1235, 4, true},
		{"/SYSV00000000 (deleted)", 0, 0, 0, true},
		{"/SYSVffffffff (deleted)", 3, -1, 3, true},
		{"/SYSV80000000 (deleted)", 9, math.MinInt32, 9, true},
		{"/SYSV7fffffff (deleted)", math.MaxInt32, math.MaxInt32, math.MaxInt32, true},
		{"/SYSV00001235 (deleted)", math.MaxInt32 + 1, 0, 0, false}, // not a shmid
		{"/SYSVFFFFFFFF (deleted)", 3, 0, 0, false},                 // the kernel prints lower case
		{"/SYSV0000123 (deleted)", 4, 0, 0, false},                  // 7 digits
		{"/SYSV000001235 (deleted)", 4, 0, 0, false},                // 9 digits
		{"/SYSV0000123g (deleted)", 4, 0, 0, false},
		{"/SYSV-0000123 (deleted)", 4, 0, 0, false},
		{"/SYSV+0000123 (deleted)", 4, 0, 0, false},
		{"/SYSV00001235 (deleted) (deleted)", 4, 0, 0, false},
		{"/SYSV00001235 (deleted)x", 4, 0, 0, false},
		{"/SYSV00001235 ", 4, 0, 0, false},
		{"SYSV00001235 (deleted)", 4, 0, 0, false},
		{"/tmp/SYSV00001235 (deleted)", 4, 0, 0, false},
		{" /SYSV00001235 (deleted)", 4, 0, 0, false},
		{"/SYSV", 4, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		m := Mapping{Start: 0x1000, End: 0x2000, Perms: Perms{Read: true, Write: true, Shared: true}, Inode: tt.inode, Pathname: tt.path}
		key, shmid, ok := m.SysV()
		if key != tt.key || shmid != tt.shmid || ok != tt.ok {
			t.Errorf("SysV() of %q inode %d = %d, %d, %v; want %d, %d, %v",
				tt.path, tt.inode, key, shmid, ok, tt.key, tt.shmid, tt.ok)
		}
	}
}

func TestDeleted(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/tmp/x (deleted)", true},
		{"/memfd:x (deleted)", true},
		{"/dev/zero (deleted)", true},
		{"/SYSV00001235 (deleted)", true},
		{"/tmp/x", false},
		{"/tmp/x(deleted)", false},
		{"/tmp/x (deleted) ", false},
		{"/tmp/x (deleted)/y", false},
		{"[heap]", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := (Mapping{Pathname: tt.path}).Deleted(); got != tt.want {
			t.Errorf("Deleted() of %q = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestPermString(t *testing.T) {
	for _, s := range []string{"---p", "---s", "r--p", "r--s", "rw-p", "rw-s", "r-xp", "r-xs", "rwxp", "rwxs", "--xp", "-w-p", "-wxs"} {
		p, ok := parsePerms(s)
		if !ok {
			t.Fatalf("parsePerms(%q) failed", s)
		}
		if got := (Mapping{Perms: p}).PermString(); got != s {
			t.Errorf("PermString() = %q, want %q", got, s)
		}
	}
	if got := (Perms{Read: true, Write: true, Shared: true}).String(); got != "rw-s" {
		t.Errorf("Perms.String() = %q", got)
	}
}

func TestDevString(t *testing.T) {
	tests := []struct {
		dev  Dev
		want string
	}{
		{Dev{}, "00:00"},
		{Dev{0xfe, 0}, "fe:00"},
		{Dev{0, 1}, "00:01"},
		{Dev{0x103, 0x5}, "103:05"},
		{Dev{math.MaxUint32, math.MaxUint32}, "ffffffff:ffffffff"},
	}
	for _, tt := range tests {
		if got := tt.dev.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.dev, got, tt.want)
		}
	}
}

func TestLen(t *testing.T) {
	m := Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000}
	if m.Len() != 4096 {
		t.Errorf("Len() = %d", m.Len())
	}
	m = Mapping{Start: 0, End: math.MaxUint64}
	if m.Len() != math.MaxUint64 {
		t.Errorf("Len() = %d", m.Len())
	}
}

func TestStringEscapesNewline(t *testing.T) {
	m := Mapping{Start: 0x1000, End: 0x2000, Perms: Perms{Read: true, Shared: true}, Inode: 7, Pathname: "/tmp/a\nb"}
	want := kline("00001000-00002000 r--s 00000000 00:00 7", `/tmp/a\012b`)
	if got := m.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
