//go:build !linux

package saturation

import "time"

// readSources: ctnetlink is Linux's.
func readSources(time.Time) Sources { return Sources{Err: "ctnetlink: Linux only"} }
