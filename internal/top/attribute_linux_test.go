package top

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/network-connections/network-connections/internal/sock"
)

// fakeProc makes a /proc of processes holding socket inodes.
func fakeProc(t *testing.T, procs map[string]struct {
	comm   string
	inodes []string
}) string {
	t.Helper()
	proc := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(proc, pid, "fd")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(proc, pid, "comm"), []byte(p.comm+"\n"), 0o644)
		for i, inode := range p.inodes {
			os.Symlink("socket:["+inode+"]", filepath.Join(dir, string(rune('0'+i))))
		}
	}
	return proc
}

// holdersOf hands the sockets to a Holders as one dump, after a first try
// that the kernel interrupted.
func holdersOf(sockets []sock.Socket) *Holders {
	h := NewHolders()
	for _, s := range sockets[:len(sockets)/2] {
		h.Add(s)
	}
	h.Restart()
	for _, s := range sockets {
		h.Add(s)
	}
	h.Done()
	return h
}

// byStatus is a scope of the groups the labels name, one per status.
func byStatus(alerting bool, statuses ...sock.Status) Scope {
	s := Scope{Alerting: alerting}
	for _, st := range statuses {
		s.Labels = append(s.Labels, "tcp "+st.String())
	}
	s.GroupOf = func(t sock.Type, st sock.Status) (int, bool) {
		for i, want := range statuses {
			if t == sock.TCP && st == want {
				return i, true
			}
		}
		return 0, false
	}
	return s
}

func TestFind(t *testing.T) {
	proc := fakeProc(t, map[string]struct {
		comm   string
		inodes []string
	}{
		"10": {"nginx", []string{"100", "101", "102"}},
		"20": {"java", []string{"200", "100"}}, // 100 shared: a forked listener
		"30": {"sshd", []string{"300"}},
	})
	est, tw, listen := sock.Established, sock.TimeWait, sock.Listen
	mk := func(s sock.Status, inode uint32) sock.Socket {
		return sock.Socket{Type: sock.TCP, Status: s, Inode: inode, Kernel: inode == 0}
	}
	sockets := []sock.Socket{
		mk(listen, 100), mk(est, 101), mk(est, 102), mk(est, 200),
		mk(est, 300),         // a group out of scope below
		mk(tw, 0), mk(tw, 0), // the kernel's
		mk(est, 999), // no holder: gone, or in another PID namespace
		{Type: sock.TCP6, Status: est, Inode: 400}, // not in scope
	}
	scope := byStatus(true, est, listen, tw)
	got, err := find(proc, holdersOf(sockets), scope, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := &Top{
		Alerting: true, Groups: scope.Labels,
		Processes: []ProcessCount{
			{Pid: 10, Name: "nginx", Total: 3, Groups: []LabelCount{{"tcp ESTABLISHED", 2}, {"tcp LISTEN", 1}}},
			{Pid: 20, Name: "java", Total: 2, Groups: []LabelCount{{"tcp ESTABLISHED", 1}, {"tcp LISTEN", 1}}},
		},
		NoProcess: []LabelCount{{"tcp TIME_WAIT", 2}},
		NotFound:  []LabelCount{{"tcp ESTABLISHED", 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// Sockets whose owner the collector gave (gopsutil) are not looked up; those
// it gave none for are not found, unless only the kernel can hold them.
func TestFindPids(t *testing.T) {
	proc := fakeProc(t, map[string]struct {
		comm   string
		inodes []string
	}{"7": {"redis-server", nil}})
	est, tw := sock.Established, sock.TimeWait
	sockets := []sock.Socket{
		{Type: sock.TCP, Status: est, Pid: 7}, {Type: sock.TCP, Status: est, Pid: 7},
		{Type: sock.TCP, Status: est, Pid: 8}, // gone: its name cannot be read
		{Type: sock.TCP, Status: est},         // owner unknown to the collector
		{Type: sock.TCP, Status: tw, Kernel: true},
	}
	got, err := find(proc, holdersOf(sockets), byStatus(false, est, tw), 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProcessCount{
		{Pid: 7, Name: "redis-server", Total: 2, Groups: []LabelCount{{"tcp ESTABLISHED", 2}}},
		{Pid: 8, Name: "?", Total: 1, Groups: []LabelCount{{"tcp ESTABLISHED", 1}}},
	}
	if !reflect.DeepEqual(got.Processes, want) || !reflect.DeepEqual(got.NotFound, []LabelCount{{"tcp ESTABLISHED", 1}}) ||
		!reflect.DeepEqual(got.NoProcess, []LabelCount{{"tcp TIME_WAIT", 1}}) {
		t.Errorf("got %+v", got)
	}
}

// A process whose descriptors may not be read is counted as unreadable.
func TestFindUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any directory: run as a user to test this")
	}
	proc := fakeProc(t, map[string]struct {
		comm   string
		inodes []string
	}{"5": {"secret", []string{"500"}}})
	os.Chmod(filepath.Join(proc, "5", "fd"), 0)
	defer os.Chmod(filepath.Join(proc, "5", "fd"), 0o755)
	got, err := find(proc, holdersOf([]sock.Socket{{Type: sock.TCP, Status: sock.Established, Inode: 500}}), byStatus(false, sock.Established), 5)
	if err != nil || got.Unreadable != 1 || len(got.NotFound) != 1 {
		t.Errorf("got %+v, %v", got, err)
	}
}
