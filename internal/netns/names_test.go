//go:build linux

package netns

import (
	"fmt"
	"strings"
	"testing"
)

const (
	id  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	id2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

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
		{"podman, rootless, split", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope/container\n", Container{Runtime: "podman", ID: id, Owner: "1000"}, true},
		{"podman, the scope itself", "0::/machine.slice/libpod-" + id + ".scope\n", Container{Runtime: "podman", ID: id}, true},
		{"podman's conmon is no container", "0::/machine.slice/libpod-conmon-" + id + ".scope\n", Container{}, false},
		{"cri-o's conmon is no container", "0::/machine.slice/crio-conmon-" + id + ".scope\n", Container{}, false},
		{"a service", "0::/system.slice/nginx.service\n", Container{}, false},
		{"the root", "0::/\n", Container{}, false},
		{"a short id", "0::/system.slice/docker-0123456789ab.scope\n", Container{}, false},
		{"upper-case hex is no id", "0::/docker/" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef" + "\n",
			Container{Runtime: "containerd", Namespace: "docker", ID: "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"}, true},
		{"podman, cgroupfs driver", "9:name=systemd:/libpod_parent/libpod-" + id + "\n", Container{Runtime: "podman", ID: id}, true},
		{"podman pod, cgroupfs driver", "9:pids:/libpod_parent/" + id2 + "/libpod-" + id + "\n", Container{Runtime: "podman", ID: id, PodmanPod: id2}, true},
		{"podman pod, systemd driver", "0::/machine.slice/machine-libpod_pod_" + id2 + ".slice/libpod-" + id + ".scope/container\n", Container{Runtime: "podman", ID: id, PodmanPod: id2}, true},
		{"podman's conmon in a pod is no container", "0::/libpod_parent/" + id2 + "/conmon\n", Container{}, false},
		{"containerd, cgroupfs: a candidate only", "12:pids:/rc/rc-ctr-web\n", Container{Runtime: "containerd", Namespace: "rc", ID: "rc-ctr-web"}, true},
		{"a runtime's mark on another line wins over a candidate", "12:pids:/rc/rc-ctr-web\n0::/docker/" + id + "\n", Container{Runtime: "docker", ID: id}, true},
		{"nerdctl, systemd driver", "0::/system.slice/nerdctl-" + id + ".scope\n", Container{Runtime: "nerdctl", ID: id}, true},
		{"cri-o in a pod, cgroupfs driver", "0::/kubepods/besteffort/pod1b2c3d4e-0000-4111-8222-123456789abc/crio-" + id + "\n",
			Container{Runtime: "cri-o", ID: id, PodUID: "1b2c3d4e-0000-4111-8222-123456789abc"}, true},
		{"a static pod: 32 hex, no dashes", "4:memory:/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" + id + "\n",
			Container{Runtime: "container", ID: id, PodUID: "0123456789abcdef0123456789abcdef"}, true},
		{"a static pod, systemd driver", "0::/kubepods.slice/kubepods-pod0123456789abcdef0123456789abcdef.slice/cri-containerd-" + id + ".scope\n",
			Container{Runtime: "containerd", ID: id, PodUID: "0123456789abcdef0123456789abcdef"}, true},
		{"hybrid: v1 lines and the v2 line", "12:pids:/docker/" + id + "\n1:name=systemd:/docker/" + id + "\n0::/\n", Container{Runtime: "docker", ID: id}, true},
		{"a cgroup of three elements is no candidate", "0::/a/b/c\n", Container{}, false},
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
		"blue":           "blue",
		"nc-test-blue":   "nc-test-blue",
		"host":           "netns-host", // never the checker's own
		"docker-web":     "netns-docker-web",
		"pod-a-b":        "netns-pod-a-b",
		"web-1.default":  "netns-web-1-default--70fe4f",
		"a_b=c'd|e/f\\g": "netns-a-b-c-d-e-f-g--a0a2b1",
		"":               "netns--e58956",
	} {
		if got := PerfName(in); got != want {
			t.Errorf("PerfName(%q) = %q, want %q", in, got, want)
		}
	}
	if n := PerfName("a-" + string(bytesOf('b', 100))); len(n) > 64 {
		t.Errorf("PerfName too long: %d", len(n))
	}
}

func TestLabel(t *testing.T) {
	for _, tt := range []struct {
		kind  string
		parts []string
		want  string
	}{
		{"pod", []string{"shop", "api-0"}, "pod-shop-api-0"},
		{"pod", []string{"prod", "postgres-0"}, "pod-prod-postgres-0"},
		{"pod", []string{"kube-system", "coredns"}, "pod-kube-system-coredns--3ec53a"}, // a '-' inside the namespace blurs where it ends
		{"pod", []string{"kube", "system-coredns"}, "pod-kube-system-coredns"},
		{"docker", []string{"rc-dk-web"}, "docker-rc-dk-web"},
		{"docker", []string{"adv3-a.b"}, "docker-adv3-a-b--a33ff2"},
		{"docker", []string{"adv3-a_b"}, "docker-adv3-a-b--3c4f30"},
		{"docker", []string{"adv3-a-b"}, "docker-adv3-a-b"},
		{"podmanpod", []string{"rc-pm-pod"}, "podmanpod-rc-pm-pod"},
		{"containerd", []string{"rc", "rc-ctr-web"}, "containerd-rc-rc-ctr-web"},
		{"pid", []string{"42", "nginx: worker"}, "pid-42-nginx-worker--dc54a3"},
		{"pid", []string{"42", "sleep"}, "pid-42-sleep"},
	} {
		if got := Label(tt.kind, tt.parts...); got != tt.want {
			t.Errorf("Label(%q, %q) = %q, want %q", tt.kind, tt.parts, got, tt.want)
		}
	}
	long := Label("docker", string(bytesOf('w', 100)))
	if len(long) > 64 || !strings.HasPrefix(long, "docker-www") || !strings.Contains(long, "--") {
		t.Errorf("a long name: %q", long)
	}
}

// A label is the same whatever else exists, and no two identities share
// one: every name that cleans to the same letters still gets its own.
func TestLabelInjective(t *testing.T) {
	seen := map[string]string{}
	names := []string{"a-b", "a.b", "a_b", "a b", "a--b", "a-b-", "-a-b", "A-B", "a/b", "ab", "a", "b", "host", "netns-host", "docker-web"}
	check := func(who, label string) {
		if prev, ok := seen[label]; ok && prev != who {
			t.Errorf("%s and %s share the label %q", prev, who, label)
		}
		seen[label] = who
		if len(label) > 64 || strings.ContainsAny(label, " ._/'=|") {
			t.Errorf("%s: label %q", who, label)
		}
	}
	for _, a := range names {
		check("ip netns "+a, ipNetnsLabel(a))
		check("docker "+a, Label("docker", a))
		check("podman "+a, Label("podman", a))
		for _, b := range names {
			check("pod "+a+"/"+b, Label("pod", a, b))
			check("containerd "+a+"/"+b, Label("containerd", a, b))
		}
	}
	check("host", "host")
}

func TestGenerated(t *testing.T) {
	for name, want := range map[string]bool{
		"cni-fe9f02b4-2c8c-4a5d-9a1b-0123456789ab":   true,
		"netns-59fc6b8b-9ae4-9da6-dddc-084d0fb0a8ad": true,
		"fe9f02b4-2c8c-4a5d-9a1b-0123456789ab":       true, // CRI-O
		"blue":                                       false,
		"cni-blue":                                   false,
		"cni-FE9F02B4-2c8c-4a5d-9a1b-0123456789ab":   false,
	} {
		if generated(name) != want {
			t.Errorf("generated(%q) = %v", name, !want)
		}
	}
}

func TestNsfsMounts(t *testing.T) {
	text := `22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw
64 49 0:4 net:[4026532243] /run/netns/blue rw shared:2 - nsfs nsfs rw
65 49 0:4 uts:[4026532250] /run/netns/not-a-netns rw shared:2 - nsfs nsfs rw
66 1 0:4 net:[4026532300] /tmp/a\040dir/pin rw - nsfs nsfs rw
67 1 0:4 net:[4026532301] /run/user/1000/netns/netns-x rw master:3 - nsfs nsfs rw
garbage line
68 1 0:4 net:[1] /short - nsfs
`
	got := nsfsMounts(text)
	want := []string{"/run/netns/blue", "/tmp/a dir/pin", "/run/user/1000/netns/netns-x", "/short"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestTopLevel(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		want string // the raw values of Name and HostConfig, as Go prints the map
	}{
		{`{"Name":"/web","HostConfig":{"NetworkMode":"bridge"}}`, `map[HostConfig:{"NetworkMode":"bridge"} Name:"/web"]`},
		{`{"Config":{"Labels":{"Name":"/forged"}},"Name":"/web"}`, `map[Name:"/web"]`},
		{` { "Env" : ["A=\"Name\":\"/x\"", "B={[\\"] , "Name" : "/w\"e}b" } `, `map[Name:"/w\"e}b"]`},
		{`{"Name":1.5e3,"HostConfig":null}`, `map[HostConfig:null Name:1.5e3]`},
		{`{"Name":"/a","Name":"/b"}`, `map[Name:"/b"]`},
		{`{"Name":"/trunc`, `map[]`},
		{`{"X":{"Y":[1,2,{"Z":"}"}]},"Name":"/n"}`, `map[Name:"/n"]`},
		{`[{"Name":"/in-array"}]`, `map[]`},
		{``, `map[]`},
	} {
		got := map[string]string{}
		for k, v := range topLevel([]byte(tt.doc), "Name", "HostConfig") {
			got[k] = string(v)
		}
		if s := fmt.Sprint(got); s != tt.want {
			t.Errorf("%s: got %s, want %s", tt.doc, s, tt.want)
		}
	}
}
