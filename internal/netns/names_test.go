package netns

import "testing"

const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseCgroup(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       Container
		ok         bool
	}{
		{"docker, systemd driver (v2)", "0::/system.slice/docker-" + id + ".scope\n", Container{Runtime: "docker", ID: id}, true},
		{"docker, cgroupfs driver (v1)", "12:pids:/docker/" + id + "\n11:memory:/docker/" + id + "\n", Container{Runtime: "docker", ID: id}, true},
		{"containerd in a pod, systemd driver", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c3d4e_0000_4111_8222_123456789abc.slice/cri-containerd-" + id + ".scope\n",
			Container{Runtime: "containerd", ID: id, PodUID: "1b2c3d4e-0000-4111-8222-123456789abc"}, true},
		{"a pod, cgroupfs driver", "0::/kubepods/burstable/pod1b2c3d4e-0000-4111-8222-123456789abc/" + id + "\n",
			Container{Runtime: "container", ID: id, PodUID: "1b2c3d4e-0000-4111-8222-123456789abc"}, true},
		{"cri-o", "0::/machine.slice/crio-" + id + ".scope\n", Container{Runtime: "cri-o", ID: id}, true},
		{"podman, rootless, split", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope/container\n", Container{Runtime: "podman", ID: id}, true},
		{"podman, the scope itself", "0::/machine.slice/libpod-" + id + ".scope\n", Container{Runtime: "podman", ID: id}, true},
		{"podman's conmon is no container", "0::/machine.slice/libpod-conmon-" + id + ".scope\n", Container{}, false},
		{"cri-o's conmon is no container", "0::/machine.slice/crio-conmon-" + id + ".scope\n", Container{}, false},
		{"a service", "0::/system.slice/nginx.service\n", Container{}, false},
		{"the root", "0::/\n", Container{}, false},
		{"a short id", "0::/system.slice/docker-0123456789ab.scope\n", Container{}, false},
		{"upper-case hex is no id", "0::/docker/" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef" + "\n", Container{}, false},
		{"garbage", "no colons here\n::\n:::\n", Container{}, false},
		{"empty", "", Container{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCgroup(tt.text)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestShortAndPerfName(t *testing.T) {
	if got := (Container{Runtime: "docker", ID: id}).Short(); got != "docker 0123456789ab" {
		t.Errorf("Short: %q", got)
	}
	for in, want := range map[string]string{
		"blue":                                  "blue",
		"docker 0123456789ab":                   "docker-0123456789ab",
		"pid 42 (nginx: worker)":                "pid-42-nginx-worker",
		"web-1.default":                         "web-1-default",
		"a_b=c'd|e/f\\g":                        "a-b-c-d-e-f-g",
		"  ":                                    "netns",
		"":                                      "netns",
		"ünï":                                   "n",
		"x" + string(make([]byte, 0)) + "--y--": "x-y",
	} {
		if got := PerfName(in); got != want {
			t.Errorf("PerfName(%q) = %q, want %q", in, got, want)
		}
	}
	long := PerfName(string(make([]byte, 100)) + "abc")
	if long != "abc" {
		t.Errorf("PerfName of NULs and abc: %q", long)
	}
	if n := PerfName("a-" + string(bytesOf('b', 100))); len(n) > 64 {
		t.Errorf("PerfName too long: %d", len(n))
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
