//go:build !linux

package owners

import "github.com/shirou/gopsutil/v4/process"

// Find has nothing to walk here: the gopsutil collector reports each
// socket's pid itself.
func Find(func(uint32) bool, func(Process, uint32)) (int, error) { return 0, nil }

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
