// Package owners finds the processes that hold sockets, for --top.
package owners

import "strings"

// Process is a socket's holder.
type Process struct {
	Pid  int32
	Name string // its command name, made safe for plugin output
}

// clean keeps a name to one line without '|', which would cut the
// monitoring core's parse of the output (a process may name itself anything).
func clean(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '|' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, strings.TrimSuffix(name, "\n"))
}
