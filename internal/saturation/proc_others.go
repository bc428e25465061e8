//go:build !linux && !windows

package saturation

import "errors"

var errNotHere = errors.New("not on this platform")

// As on Linux.
const perDestination = true

func readPorts() Ports         { return Ports{Err: errNotHere.Error()} }
func readConntrack() Conntrack { return Conntrack{Err: errNotHere.Error()} }
func readNetstat() Netstat     { return Netstat{Err: errNotHere.Error()} }
