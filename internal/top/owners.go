package top

// Owners finds the process holding each of a few socket inodes (the
// offenders of a measure) in one walk of /proc, and how many processes it
// may not read. Off Linux there is nothing to walk: the collector gives pids.
func Owners(inodes []uint32) (map[uint32]Process, int, error) {
	want := map[uint32]bool{}
	for _, i := range inodes {
		if i != 0 {
			want[i] = true
		}
	}
	out := map[uint32]Process{}
	if len(want) == 0 {
		return out, 0, nil
	}
	unreadable, err := walk(procRoot, func(i uint32) bool { return want[i] }, func(p Process, i uint32) {
		if _, ok := out[i]; !ok {
			out[i] = p
		}
	})
	return out, unreadable, err
}

// NameOf is a process's command name, made safe for plugin output.
func NameOf(pid int32) string { return nameOf(procRoot, pid) }
