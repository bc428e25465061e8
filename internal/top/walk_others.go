//go:build !linux

package top

import "github.com/shirou/gopsutil/v4/process"

// procRoot: there is no /proc to walk here.
const procRoot = ""

// walk has nothing to walk here: the gopsutil collector reports each
// socket's pid itself.
func walk(string, func(uint32) bool, func(Process, uint32)) (int, error) { return 0, nil }

// nameOf is a process's command name, as gopsutil finds it.
func nameOf(_ string, pid int32) string {
	p, err := process.NewProcess(pid)
	if err != nil {
		return "?"
	}
	name, err := p.Name()
	if err != nil {
		return "?"
	}
	return name // exact: the report cleans what it shows
}
