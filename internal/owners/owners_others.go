//go:build !linux

package owners

import "github.com/shirou/gopsutil/v4/process"

// Find has nothing to walk here: the gopsutil collector reports each
// socket's pid itself.
func Find(map[uint64]bool) (Table, error) { return Table{}, nil }

// Name is a process's command name, as gopsutil finds it.
func Name(pid int32) string {
	p, err := process.NewProcess(pid)
	if err != nil {
		return "?"
	}
	name, err := p.Name()
	if err != nil {
		return "?"
	}
	return clean(name)
}
