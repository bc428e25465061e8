package top

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestWalk(t *testing.T) {
	proc := t.TempDir()
	mk := func(pid, comm string, fds map[string]string) {
		dir := filepath.Join(proc, pid, "fd")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(proc, pid, "comm"), []byte(comm), 0o644)
		for fd, target := range fds {
			os.Symlink(target, filepath.Join(dir, fd))
		}
	}
	mk("10", "java\n", map[string]string{"3": "socket:[100]", "4": "socket:[101]", "5": "/var/log/x", "6": "pipe:[7]"})
	mk("20", "evil|na\nme\n", map[string]string{"0": "socket:[100]", "1": "socket:[999]"})
	os.MkdirAll(filepath.Join(proc, "self"), 0o755) // not a process

	holders := map[uint32][]Process{}
	wanted := map[uint32]bool{100: true, 101: true, 102: true}
	unreadable, err := walk(proc, func(i uint32) bool { return wanted[i] }, func(p Process, i uint32) { holders[i] = append(holders[i], p) })
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range holders { // /proc lists processes in no set order
		slices.SortFunc(h, func(a, b Process) int { return int(a.Pid - b.Pid) })
	}
	want := map[uint32][]Process{
		100: {{10, "java"}, {20, "evil|na\nme"}}, // held by both: a forked listener; the name exact (the report cleans it)
		101: {{10, "java"}},
	}
	if !reflect.DeepEqual(holders, want) || unreadable != 0 {
		t.Errorf("got %+v (%d unreadable), want %+v", holders, unreadable, want)
	}
}
