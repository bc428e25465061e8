package saturation

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Only the kernel's datagrams are the dump's: another socket of the
// namespace may send to the check's port id.
func TestFromKernel(t *testing.T) {
	for _, tt := range []struct {
		name string
		from unix.Sockaddr
		want bool
	}{
		{"the kernel", &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: 0}, true},
		{"a user socket", &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: 4242}, false},
		{"no address", nil, false},
		{"not netlink", &unix.SockaddrInet4{Port: 1}, false},
	} {
		if got := fromKernel(tt.from); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
